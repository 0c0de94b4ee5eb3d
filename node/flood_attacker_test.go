package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/sync/gossip"
	"github.com/mentormesh/mentormesh/sync/record"
)

// flooder is a bare libp2p host speaking GossipSub with none of
// mentormesh's checks: it publishes whatever it is given, as fast as its
// connections take it.
type flooder struct {
	h      host.Host
	topic  *pubsub.Topic
	cancel context.CancelFunc
	sent   atomic.Int64
}

func newFlooder(tb testing.TB, community string) *flooder {
	return newFlooderAt(tb, community, "127.0.0.1")
}

// newFlooderAt is newFlooder listening (and so dialling, as TCP ports are
// reused) from ip.
func newFlooderAt(tb testing.TB, community, ip string) *flooder {
	tb.Helper()
	f, err := startFlooder(community, ip)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(f.close)
	return f
}

// startFlooder starts a flooder host with what an attacker needs and no
// more (TCP, Noise, yamux), so that making many costs little.
func startFlooder(community, ip string) (*flooder, error) {
	h, err := libp2p.New(
		libp2p.ListenAddrStrings("/ip4/"+ip+"/tcp/0"),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.ResourceManager(&network.NullResourceManager{}),
		libp2p.DisableMetrics(),
		libp2p.DisableRelay(),
	)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	ps, err := pubsub.NewGossipSub(ctx, h,
		pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
		pubsub.WithMessageIdFn(func(m *pb.Message) string { return gossip.MessageID(m.Data) }),
		pubsub.WithFloodPublish(true),
		pubsub.WithPeerOutboundQueueSize(4096),
		pubsub.WithMaxMessageSize(gossip.MaxMessageSize),
	)
	var topic *pubsub.Topic
	var sub *pubsub.Subscription
	if err == nil {
		topic, err = ps.Join(gossip.Topic(community))
	}
	if err == nil {
		sub, err = topic.Subscribe()
	}
	if err != nil {
		cancel()
		_ = h.Close()
		return nil, err
	}
	go func() {
		for {
			if _, err := sub.Next(ctx); err != nil {
				return
			}
		}
	}()
	return &flooder{h: h, topic: topic, cancel: cancel}, nil
}

func (f *flooder) close() {
	f.cancel()
	_ = f.h.Close()
}

// connect connects the flooder to every node and waits until each node
// has it in the community's topic.
func (f *flooder) connect(tb testing.TB, nodes []*Node) {
	tb.Helper()
	for _, nd := range nodes {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := f.h.Connect(ctx, peer.AddrInfo{ID: nd.net.h.ID(), Addrs: nd.net.h.Addrs()})
		cancel()
		if err != nil {
			tb.Fatalf("flooder connecting to a node: %v", err)
		}
	}
	waitForTB(tb, 20*time.Second, "the flooder to be in every node's topic, and them in its", func() bool {
		for _, nd := range nodes {
			if !slices.Contains(nd.net.g.TopicPeers(DefaultCommunity), f.h.ID()) || !slices.Contains(f.topic.ListPeers(), nd.net.h.ID()) {
				return false
			}
		}
		return true
	})
}

// run publishes next(i) for i = 0, 1, ... until ctx ends or no node takes
// its connections any more.
func (f *flooder) run(ctx context.Context, next func(i int) []byte) { f.runPaced(ctx, next, 0) }

// runPaced is run with a message every gap at most (none if gap is 0).
func (f *flooder) runPaced(ctx context.Context, next func(i int) []byte, gap time.Duration) {
	f.runPacedWhile(ctx, next, gap, nil)
}

// runPacedWhile is runPaced that also stops once more(sent) is false (more
// nil: never).
func (f *flooder) runPacedWhile(ctx context.Context, next func(i int) []byte, gap time.Duration, more func(sent int) bool) {
	var tick <-chan time.Time
	if gap > 0 {
		t := time.NewTicker(gap)
		defer t.Stop()
		tick = t.C
	}
	for i := 0; ctx.Err() == nil && (more == nil || more(i)); i++ {
		if tick != nil {
			select {
			case <-tick:
			case <-ctx.Done():
				return
			}
		}
		if i%256 == 0 && len(f.h.Network().Peers()) == 0 {
			return // every node cut it off
		}
		if err := f.topic.Publish(ctx, next(i)); err != nil {
			return
		}
		f.sent.Add(1)
	}
}

// tryConnect connects the flooder to the nodes and waits (a few seconds
// at most) until it sees them in the topic; it reports whether it could.
func (f *flooder) tryConnect(ctx context.Context, nodes []peer.AddrInfo) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for _, ai := range nodes {
		if err := f.h.Connect(ctx, ai); err != nil {
			return false
		}
	}
	for len(f.topic.ListPeers()) < len(nodes) {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(5 * time.Millisecond):
		}
	}
	return true
}

// redial tries to connect to nd again (a banned flooder should fail).
func (f *flooder) redial(nd *Node) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = f.h.Connect(ctx, peer.AddrInfo{ID: nd.net.h.ID(), Addrs: nd.net.h.Addrs()})
}

// connected reports how many of nodes still hold a connection to the
// flooder.
func (f *flooder) connected(nodes []*Node) int {
	n := 0
	for _, nd := range nodes {
		if nd.net.h.Network().Connectedness(f.h.ID()) == network.Connected {
			n++
		}
	}
	return n
}

// invalidRecords returns a generator of records that fail verification,
// each different, in three flavours: well-formed profile records whose
// signature does not match (they pass every check but the signature, the
// most expensive kind), random bytes, and oversized messages.
func invalidRecords(tb testing.TB, key ed25519.PrivateKey) (func(i int) []byte, record.Author) {
	tb.Helper()
	tmpl := signProfileTB(tb, key, "Flood 0000000000")
	at := bytes.Index(tmpl.Raw, []byte("0000000000"))
	junk := make([]byte, 1<<20)
	if _, err := rand.Read(junk); err != nil {
		tb.Fatal(err)
	}
	return func(i int) []byte {
		switch i % 64 {
		case 63: // over the record size cap
			return junk[i%1024 : i%1024+40<<10]
		case 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31:
			off := (i * 131) % (len(junk) - 1024)
			return junk[off : off+300+i%700]
		}
		raw := bytes.Clone(tmpl.Raw)
		copy(raw[at:], fmt.Sprintf("%010d", i+1)) // never the signed zeros
		return raw
	}, tmpl.Author
}

// spamRecords returns a generator of valid records, all by one author:
// successive versions of its profile, each signed as it is asked for (a
// spammer must sign every record it sends; resending one is a duplicate
// everyone drops).
func spamRecords(tb testing.TB, key ed25519.PrivateKey) (func(i int) []byte, record.Author) {
	tb.Helper()
	var author record.Author
	copy(author[:], key.Public().(ed25519.PublicKey))
	payload, err := mentorship.Profile{Name: "Spammer"}.Encode()
	if err != nil {
		tb.Fatal(err)
	}
	ts := record.Now()
	return func(i int) []byte {
		rec, err := record.Sign(key, record.Body{
			Community: DefaultCommunity, Author: author, Kind: mentorship.KindProfile,
			Version: uint64(i + 1), Timestamp: ts, Payload: payload,
		})
		if err != nil {
			panic(err)
		}
		return rec.Raw
	}, author
}

func signProfileTB(tb testing.TB, key ed25519.PrivateKey, name string) *record.Record {
	tb.Helper()
	var author record.Author
	copy(author[:], key.Public().(ed25519.PublicKey))
	payload, err := mentorship.Profile{Name: name}.Encode()
	if err != nil {
		tb.Fatal(err)
	}
	rec, err := record.Sign(key, record.Body{
		Community: DefaultCommunity, Author: author, Kind: mentorship.KindProfile,
		Version: 1, Timestamp: record.Now(), Payload: payload,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return rec
}

func newKeyTB(tb testing.TB) ed25519.PrivateKey {
	tb.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// waitForTB polls cond until it holds or the deadline passes.
func waitForTB(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
