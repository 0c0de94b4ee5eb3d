package node

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/reconcile"
	"github.com/mentormesh/mentormesh/sync/record"
)

// Helpers for the catch-up tests: a gater to partition nodes, a log handler
// that adds up what sessions pulled, and a reference of what every node
// should hold.

// gater is a connmgr.ConnectionGater that refuses connections with the
// peers it is told to block, both ways.
type gater struct {
	mu      sync.Mutex
	blocked map[peer.ID]bool
}

func newGater() *gater { return &gater{blocked: map[peer.ID]bool{}} }

func (g *gater) block(ps ...peer.ID) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, p := range ps {
		g.blocked[p] = true
	}
}

func (g *gater) unblockAll() {
	g.mu.Lock()
	defer g.mu.Unlock()
	clear(g.blocked)
}

func (g *gater) allowed(p peer.ID) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return !g.blocked[p]
}

var _ connmgr.ConnectionGater = (*gater)(nil)

func (g *gater) InterceptPeerDial(p peer.ID) bool                 { return g.allowed(p) }
func (g *gater) InterceptAddrDial(p peer.ID, _ ma.Multiaddr) bool { return g.allowed(p) }
func (g *gater) InterceptAccept(network.ConnMultiaddrs) bool      { return true }
func (g *gater) InterceptSecured(_ network.Direction, p peer.ID, _ network.ConnMultiaddrs) bool {
	return g.allowed(p)
}
func (g *gater) InterceptUpgraded(c network.Conn) (bool, control.DisconnectReason) {
	return g.allowed(c.RemotePeer()), 0
}

// sessionLog is a node's log handler that keeps only the ends of catch-up
// sessions (logged at info level or above when they pulled records or
// failed), adding up the records pulled once counting is on.
type sessionLog struct {
	mu       sync.Mutex
	counting bool
	pulled   int
	ended    []string
}

func (l *sessionLog) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelInfo }
func (l *sessionLog) WithAttrs([]slog.Attr) slog.Handler            { return l }
func (l *sessionLog) WithGroup(string) slog.Handler                 { return l }

func (l *sessionLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "catch-up session ended" {
		return nil
	}
	var pulled int64
	var desc strings.Builder
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "pulled" {
			pulled = a.Value.Int64()
		}
		fmt.Fprintf(&desc, " %s=%v", a.Key, a.Value)
		return true
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.counting {
		l.pulled += int(pulled)
		l.ended = append(l.ended, desc.String())
	}
	return nil
}

func (l *sessionLog) startCounting() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counting = true
}

func (l *sessionLog) counted() (int, []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pulled, slices.Clone(l.ended)
}

// catchUpNode is a node under test with its gater and session log.
type catchUpNode struct {
	*Node
	gater *gater
	log   *sessionLog
}

// startCatchUpNode starts a node on loopback whose only catch-up sessions
// are those peers joining trigger (and those the test runs itself).
func startCatchUpNode(t *testing.T, dir string, bootstrap ...string) *catchUpNode {
	t.Helper()
	cn := &catchUpNode{gater: newGater(), log: &sessionLog{}}
	n, err := Start(Options{
		DataDir:         dir,
		Listen:          []string{"/ip4/127.0.0.1/tcp/0"},
		Bootstrap:       bootstrap,
		NoMDNS:          true,
		APIAddr:         "127.0.0.1:0",
		CatchUpInterval: time.Hour,
		ConnectionGater: cn.gater,
		Logger:          slog.New(cn.log),
	})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { n.Close() })
	cn.Node = n
	return cn
}

func (n *Node) hostID() peer.ID { return n.net.h.ID() }

func connectNodes(t *testing.T, a, b *Node) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.net.h.Connect(ctx, peer.AddrInfo{ID: b.hostID(), Addrs: b.net.h.Addrs()}); err != nil {
		t.Fatalf("connecting %s to %s: %v", a.hostID().ShortString(), b.hostID().ShortString(), err)
	}
}

func status(t *testing.T, n *Node) api.Status {
	t.Helper()
	st, err := n.Local().Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// current returns the ID of each current record of the default community.
func current(t *testing.T, n *Node) map[record.Addr]record.ID {
	t.Helper()
	out := map[record.Addr]record.ID{}
	err := n.store.List(context.Background(), store.Query{Community: DefaultCommunity}, func(r *record.Record) error {
		out[r.Addr()] = r.ID
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// reference tracks what every node should end up with: for each address,
// the newest of all the versions written anywhere.
type reference map[record.Addr]*record.Record

func (ref reference) note(recs ...*record.Record) {
	for _, r := range recs {
		if cur, ok := ref[r.Addr()]; !ok || r.Meta().Compare(cur.Meta()) > 0 {
			ref[r.Addr()] = r
		}
	}
}

// digest is Status's digest of a set holding exactly the reference.
func (ref reference) digest() string {
	items := make([]store.SyncItem, 0, len(ref))
	for _, r := range ref {
		items = append(items, store.SyncItemOf(r))
	}
	slices.SortFunc(items, store.SyncItem.Compare)
	h := sha256.New()
	for _, it := range items {
		h.Write(binary.BigEndian.AppendUint64(nil, it.Timestamp))
		h.Write(it.ID[:])
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// lacking counts the reference records n does not hold as current.
func (ref reference) lacking(t *testing.T, n *Node) int {
	t.Helper()
	cur := current(t, n)
	missing := 0
	for a, r := range ref {
		if cur[a] != r.ID {
			missing++
		}
	}
	return missing
}

func (ref reference) check(t *testing.T, name string, n *Node) {
	t.Helper()
	cur := current(t, n)
	if len(cur) != len(ref) {
		t.Errorf("%s holds %d addresses, want %d", name, len(cur), len(ref))
	}
	for a, r := range ref {
		if got := cur[a]; got != r.ID {
			t.Errorf("%s: %s/%s is %x, want version %d (%x)", name, a.Author, a.Kind, got[:4], r.Version, r.ID[:4])
			return
		}
	}
}

// synthetic are fresh authors whose profiles the test writes into nodes'
// stores directly, as if they had arrived from peers long gone.
type synthetic []ed25519.PrivateKey

func newSynthetic(n int) synthetic {
	keys := make(synthetic, n)
	parallel(n, func(i int) {
		seed := sha256.Sum256(fmt.Appendf(nil, "catch-up test author %d %d", i, time.Now().UnixNano()))
		keys[i] = ed25519.NewKeyFromSeed(seed[:])
	})
	return keys
}

// profiles signs version of the profiles of keys[from:to], named name.
func (s synthetic) profiles(t *testing.T, from, to int, version uint64, name string) []*record.Record {
	t.Helper()
	recs := make([]*record.Record, to-from)
	errs := make([]error, to-from)
	ts := record.Now()
	parallel(to-from, func(i int) {
		k := s[from+i]
		var author record.Author
		copy(author[:], k.Public().(ed25519.PublicKey))
		payload, err := mentorship.Profile{Name: fmt.Sprintf("%s %d", name, from+i)}.Encode()
		if err != nil {
			errs[i] = err
			return
		}
		recs[i], errs[i] = record.Sign(k, record.Body{Community: DefaultCommunity, Author: author,
			Kind: mentorship.KindProfile, Version: version, Timestamp: ts, Payload: payload})
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return recs
}

// parallel runs fn(0..n-1) on every core.
func parallel(n int, fn func(i int)) {
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// inject stores records in n directly, bypassing gossip: only catch-up can
// spread them.
func inject(t *testing.T, n *Node, recs []*record.Record) {
	t.Helper()
	for batch := range slices.Chunk(recs, 1000) {
		if _, err := n.store.ApplyBatch(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
}

// setProfile writes n's own profile and returns the record.
func setProfile(t *testing.T, n *Node, name string) *record.Record {
	t.Helper()
	ctx := context.Background()
	if _, err := n.Local().SetProfile(ctx, api.ProfileInput{Name: &name}); err != nil {
		t.Fatal(err)
	}
	rec, err := n.store.Current(ctx, record.Addr{Community: DefaultCommunity, Author: n.local.author, Kind: mentorship.KindProfile})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func digestOf(t *testing.T, n *Node) string {
	t.Helper()
	return status(t, n).Digests[DefaultCommunity]
}

// waitDigests waits until every node's digest is want.
func waitDigests(t *testing.T, timeout time.Duration, what, want string, nodes ...*catchUpNode) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var got []string
		done := true
		for _, n := range nodes {
			d := digestOf(t, n.Node)
			got = append(got, d)
			done = done && d == want
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s: digests %v, want all %s", timeout, what, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// gossipCacheWindow is how long GossipSub keeps announcing (IHAVE) and
// serving (IWANT) a message after it was published: the message cache's
// history, plus a heartbeat for luck.
var gossipCacheWindow = time.Duration(pubsub.GossipSubHistoryLength+1) * pubsub.GossipSubHeartbeatInterval

var community = reconcile.Scope{Community: DefaultCommunity}

// cutStream is a catch-up stream that breaks after a number of bytes
// written, like a peer that crashes or loses its network mid-session.
type cutStream struct {
	network.Stream
	left int
}

func (c *cutStream) Write(p []byte) (int, error) {
	if len(p) > c.left {
		n, _ := c.Stream.Write(p[:c.left])
		c.left = 0
		_ = c.Stream.Reset()
		return n, network.ErrReset
	}
	c.left -= len(p)
	return c.Stream.Write(p)
}

func connectNodesRaw(t *testing.T, n *Node, id peer.ID, addrs []ma.Multiaddr) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.net.h.Connect(ctx, peer.AddrInfo{ID: id, Addrs: addrs}); err != nil {
		t.Fatal(err)
	}
}

// lastSession returns n's last community session with p.
func lastSession(t *testing.T, n *Node, p peer.ID) api.CatchUp {
	t.Helper()
	for _, cu := range status(t, n).CatchUp {
		if cu.PeerID == p.String() && !cu.OwnRecordsOnly {
			return cu
		}
	}
	t.Fatalf("no community session with %s in status", p.ShortString())
	return api.CatchUp{}
}

// checkStore checks that every record the reconciliation set lists is
// there, verifies, and is counted, and that nothing else is.
func checkStore(t *testing.T, n *Node) {
	t.Helper()
	ctx := context.Background()
	snap, err := n.store.SyncSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	var ids []record.ID
	err = snap.Items(store.SyncScope{Community: DefaultCommunity}, store.SyncItem{}, func(it store.SyncItem) bool {
		ids = append(ids, it.ID)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := n.store.Records(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(ids) {
		t.Errorf("the sync index lists %d records, the store returns %d of them", len(ids), len(recs))
	}
	for _, r := range recs {
		if err := r.Verify(); err != nil {
			t.Errorf("stored record %x does not verify: %v", r.ID[:4], err)
		}
	}
	if listed := len(current(t, n)); listed != len(ids) || countRecords(t, n) != len(ids) {
		t.Errorf("store lists %d records and counts %d; the sync index holds %d", listed, countRecords(t, n), len(ids))
	}
}
