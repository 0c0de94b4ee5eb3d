package node

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/mentormesh/mentormesh/internal/syncstore"
	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/gossip"
	"github.com/mentormesh/mentormesh/sync/ingest"
	"github.com/mentormesh/mentormesh/sync/reconcile"
	"github.com/mentormesh/mentormesh/sync/record"
)

// Joining and leaving communities while nodes run.

// signedIn signs version 1 of n profiles of fresh authors in community.
func signedIn(t *testing.T, community string, n int, name string) []*record.Record {
	t.Helper()
	recs := make([]*record.Record, n)
	for i := range recs {
		key := newKey(t)
		var author record.Author
		copy(author[:], key.Public().(ed25519.PublicKey))
		payload, err := mentorship.Profile{Name: fmt.Sprintf("%s %d", name, i)}.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if recs[i], err = record.Sign(key, record.Body{Community: community, Author: author,
			Kind: mentorship.KindProfile, Version: 1, Timestamp: record.Now(), Payload: payload}); err != nil {
			t.Fatal(err)
		}
	}
	return recs
}

// digestIn is the node's digest of a community (joined or not).
func digestIn(t *testing.T, n *Node, community string) string {
	t.Helper()
	d, err := n.local.digests(context.Background(), []string{community})
	if err != nil {
		t.Fatal(err)
	}
	return d[community]
}

func recordsIn(t *testing.T, n *Node, community string) int {
	t.Helper()
	count := 0
	err := n.store.List(context.Background(), store.Query{Community: community}, func(*record.Record) error { count++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	return count
}

func inTopic(n *Node, community string, p peer.ID) bool {
	return slices.Contains(n.net.g.TopicPeers(community), p)
}

func join(t *testing.T, n *Node, community string) {
	t.Helper()
	ch, err := n.Local().JoinCommunity(context.Background(), community)
	if err != nil || !ch.Changed || !ch.Running {
		t.Fatalf("JoinCommunity(%s) = %+v, %v; want a change on the running node", community, ch, err)
	}
}

func leave(t *testing.T, n *Node, community string) {
	t.Helper()
	ch, err := n.Local().LeaveCommunity(context.Background(), community)
	if err != nil || !ch.Changed || !ch.Running {
		t.Fatalf("LeaveCommunity(%s) = %+v, %v; want a change on the running node", community, ch, err)
	}
}

func profileIn(t *testing.T, n *Node, community, name string) {
	t.Helper()
	if _, err := n.Local().SetProfile(context.Background(), api.ProfileInput{Community: community, Name: &name}); err != nil {
		t.Fatal(err)
	}
}

func hasProfile(n *Node, author, community, name string) bool {
	p, err := n.Local().Profile(context.Background(), author, community)
	return err == nil && p.Name == name
}

// TestJoinAndLeaveWhileRunning: two nodes share the default community.
// Node 1 joins B at runtime and writes there, alone; node 2 joins B later
// and gets what was written before by catch-up (peers already connected
// are reconciled as soon as the topic is joined), then new writes by
// gossip. When node 2 leaves B, B stops reaching it: its topic is left,
// catch-up for B is refused both ways, and B records are refused by the
// pipeline, while the B records it has stay. The default community keeps
// flowing throughout.
func TestJoinAndLeaveWhileRunning(t *testing.T) {
	const b = "circle-b"
	ctx := context.Background()
	n1 := startCatchUpNode(t, t.TempDir()) // catch-up only when peers join
	n2 := startCatchUpNode(t, t.TempDir(), n1.Addrs()...)
	id1 := n1.PeerID()
	waitFor(t, 20*time.Second, "both nodes in the default topic", func() bool {
		return inTopic(n1.Node, DefaultCommunity, n2.hostID()) && inTopic(n2.Node, DefaultCommunity, n1.hostID())
	})

	// Node 1 joins B and writes there while no peer is in B: a profile of
	// its own (waits in the outbox) and records of others (only catch-up
	// can spread them).
	join(t, n1.Node, b)
	profileIn(t, n1.Node, b, "Ada in B")
	before := signedIn(t, b, 40, "written before node 2 joined")
	inject(t, n1.Node, before)
	if got := recordsIn(t, n2.Node, b); got != 0 {
		t.Fatalf("node 2 holds %d B records before joining B", got)
	}

	// Node 2 joins B: catch-up with node 1 brings everything.
	joinedAt := time.Now()
	join(t, n2.Node, b)
	want := digestIn(t, n1.Node, b)
	waitFor(t, 30*time.Second, "node 2 to catch up on B", func() bool { return digestIn(t, n2.Node, b) == want })
	t.Logf("node 2 caught up on %d B records %v after joining", len(before)+1, time.Since(joinedAt).Round(time.Millisecond))
	if !hasProfile(n2.Node, id1, b, "Ada in B") {
		t.Error("node 1's B profile did not reach node 2")
	}
	caughtUp := false
	for _, cu := range status(t, n2.Node).CatchUp {
		caughtUp = caughtUp || cu.Community == b && cu.PeerID == id1 && cu.Error == "" && cu.At.After(joinedAt)
	}
	if !caughtUp {
		t.Errorf("node 2's status shows no catch-up session for %s with node 1: %+v", b, status(t, n2.Node).CatchUp)
	}

	// New writes in B now go by gossip (no peer joins, and the periodic
	// catch-up is an hour away).
	waitFor(t, 20*time.Second, "both nodes in B's topic", func() bool {
		return inTopic(n1.Node, b, n2.hostID()) && inTopic(n2.Node, b, n1.hostID())
	})
	written := time.Now()
	profileIn(t, n1.Node, b, "Ada in B, v2")
	waitFor(t, 10*time.Second, "node 1's new B profile to reach node 2 by gossip", func() bool {
		return hasProfile(n2.Node, id1, b, "Ada in B, v2")
	})
	t.Logf("a B write reached node 2 by gossip in %v", time.Since(written).Round(time.Millisecond))

	// Node 2 leaves B.
	leave(t, n2.Node, b)
	if slices.Contains(n2.net.g.Communities(), b) {
		t.Errorf("node 2 still subscribed to B: %v", n2.net.g.Communities())
	}
	waitFor(t, 10*time.Second, "node 1 to see node 2 leave B's topic", func() bool { return !inTopic(n1.Node, b, n2.hostID()) })
	kept := digestIn(t, n2.Node, b)
	if kept != digestIn(t, n1.Node, b) {
		t.Errorf("node 2's B records changed when it left")
	}
	// Records of B are refused, whatever the path.
	late := signedIn(t, b, 3, "written after node 2 left")
	out := n2.net.cfg.pipe.Ingest(ctx, late[0].Raw, ingest.Source{Community: b})
	if out.Verdict != ingest.Ignore || !errors.Is(out.Err, ingest.ErrNotJoined) {
		t.Errorf("node 2 ingesting a B record: %v %v, want ignore (not joined)", out.Verdict, out.Err)
	}
	outs := n2.net.cfg.pipe.IngestBatch(ctx, [][]byte{late[1].Raw}, ingest.Source{Community: b})
	if outs[0].Verdict != ingest.Ignore || !errors.Is(outs[0].Err, ingest.ErrNotJoined) {
		t.Errorf("node 2 ingesting a B batch: %v %v, want ignore (not joined)", outs[0].Verdict, outs[0].Err)
	}
	inject(t, n1.Node, late)
	profileIn(t, n1.Node, b, "Ada in B, v3")
	_, err := n1.net.catchUp.svc.Sync(ctx, n2.hostID(), reconcile.Scope{Community: b})
	if err == nil {
		t.Error("node 2 served a catch-up session for B after leaving it")
	}
	n2.net.catchUp.run(n1.hostID(), reconcile.Scope{Community: b}) // does nothing: not joined
	// A write in the default community after those in B reaches node 2;
	// the B writes do not.
	profileIn(t, n1.Node, DefaultCommunity, "Ada, after node 2 left B")
	waitFor(t, 10*time.Second, "node 1's default profile to reach node 2", func() bool {
		return hasProfile(n2.Node, id1, DefaultCommunity, "Ada, after node 2 left B")
	})
	if d := digestIn(t, n2.Node, b); d != kept {
		t.Errorf("B records reached node 2 after it left B")
	}
	if got := countRecords(t, n2.Node); got != 1+1+len(before) {
		t.Errorf("node 2 holds %d records, want %d (node 1's profiles in both communities and %d others)", got, 2+len(before), len(before))
	}
	for _, cu := range status(t, n2.Node).CatchUp {
		if cu.Community == b {
			t.Errorf("node 2's status still lists a session for the left community: %+v", cu)
		}
	}
}

// TestJoinLeaveChurnIsRaceFree: one node joins and leaves a community over
// and over while the other writes in it and catch-up runs; once it stays,
// it converges. Run with -race.
func TestJoinLeaveChurnIsRaceFree(t *testing.T) {
	const c = "churn"
	n1 := startCatchUpNode(t, t.TempDir())
	n2 := startCatchUpNode(t, t.TempDir(), n1.Addrs()...)
	join(t, n1.Node, c)
	waitFor(t, 20*time.Second, "both nodes in the default topic", func() bool {
		return inTopic(n1.Node, DefaultCommunity, n2.hostID()) && inTopic(n2.Node, DefaultCommunity, n1.hostID())
	})
	others := signedIn(t, c, 300, "other")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // node 1 writes in c: its profile by gossip, others' records for catch-up
		defer wg.Done()
		for i := 0; i < len(others)/5; i++ {
			select {
			case <-stop:
				return
			default:
			}
			name := fmt.Sprintf("Ada %d", i)
			if _, err := n1.Local().SetProfile(context.Background(), api.ProfileInput{Community: c, Name: &name}); err != nil {
				t.Error(err)
				return
			}
			if _, err := n1.store.ApplyBatch(context.Background(), others[5*i:5*i+5]); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	go func() { // node 2 reads what it has
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := n2.Local().Communities(context.Background()); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for i := range 8 {
		join(t, n2.Node, c)
		if i%2 == 0 {
			// Sometimes long enough for sessions to start.
			waitFor(t, 10*time.Second, "node 2 to see node 1 in the topic", func() bool { return inTopic(n2.Node, c, n1.hostID()) })
		}
		leave(t, n2.Node, c)
	}
	// Writes stop; node 2 joins for good. The join alone must bring it
	// everything, even if sessions of its last membership are still being
	// cancelled (the records of others reach it only by catch-up).
	close(stop)
	wg.Wait()
	want := digestIn(t, n1.Node, c)
	join(t, n2.Node, c)
	waitFor(t, 30*time.Second, "node 2 to converge on the churned community", func() bool {
		return digestIn(t, n2.Node, c) == want
	})
	if got := n2.Communities(); !slices.Equal(got, []string{DefaultCommunity, c}) {
		t.Errorf("node 2's communities = %v, want [%s %s]", got, DefaultCommunity, c)
	}
}

// TestCommunitiesPersistAcrossRestart: what a node joined and left while
// running is what it runs with after a restart; --community adds to it;
// a community joined offline is joined when the node starts, and its
// records arrive.
func TestCommunitiesPersistAcrossRestart(t *testing.T) {
	ctx := context.Background()
	peerDir := t.TempDir()
	other := startCatchUpNode(t, peerDir)
	join(t, other.Node, "offline-joined")
	profileIn(t, other.Node, "offline-joined", "Written before the offline join")

	dir := t.TempDir()
	n, err := Start(Options{DataDir: dir, Listen: []string{"/ip4/127.0.0.1/tcp/0"}, NoMDNS: true, APIAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	join(t, n, "kept")
	join(t, n, "dropped")
	leave(t, n, "dropped")
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	n, err = Start(Options{DataDir: dir, Listen: []string{"/ip4/127.0.0.1/tcp/0"}, NoMDNS: true, APIAddr: "127.0.0.1:0",
		Communities: []string{"from-flag"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{DefaultCommunity, "kept", "from-flag"}
	if got := n.Communities(); !slices.Equal(got, want) {
		t.Errorf("after restart with --community from-flag: communities = %v, want %v", got, want)
	}
	topics := n.net.g.Communities()
	slices.Sort(want)
	if !slices.Equal(topics, want) {
		t.Errorf("after restart: topics = %v, want %v", topics, want)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	// Offline: join one, leave one; the next start acts on it.
	off, err := OpenOffline(dir, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := off.JoinCommunity(ctx, "offline-joined"); err != nil {
		t.Fatal(err)
	}
	if _, err := off.LeaveCommunity(ctx, "from-flag"); err != nil {
		t.Fatal(err)
	}
	if err := off.Close(); err != nil {
		t.Fatal(err)
	}
	n2 := startCatchUpNode(t, dir, other.Addrs()...)
	want = []string{DefaultCommunity, "kept", "offline-joined"}
	if got := n2.Communities(); !slices.Equal(got, want) {
		t.Errorf("after the offline join: communities = %v, want %v", got, want)
	}
	waitFor(t, 20*time.Second, "the record of the offline-joined community to arrive", func() bool {
		return hasProfile(n2.Node, other.PeerID(), "offline-joined", "Written before the offline join")
	})
}

// TestJoinPullsFromPeerThatDoesNotInitiate: when two nodes meet in a topic
// only the lower peer ID reconciles the whole community. A node joining a
// community at runtime does it itself with such peers, since it is the one
// behind and the peer may never notice the join (GossipSub folds a leave
// and a quick rejoin into nothing). The peer here serves catch-up but never
// starts a session, and has the lower ID.
func TestJoinPullsFromPeerThatDoesNotInitiate(t *testing.T) {
	const c = "passive"
	ctx := context.Background()
	n := startCatchUpNode(t, t.TempDir())
	var key crypto.PrivKey
	for {
		k, _, err := crypto.GenerateEd25519Key(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		id, err := peer.IDFromPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		if id < n.hostID() {
			key = k
			break
		}
	}
	h, err := libp2p.New(libp2p.Identity(key), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	psCtx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	ps, err := pubsub.NewGossipSub(psCtx, h, pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
		pubsub.WithMessageIdFn(func(m *pb.Message) string { return gossip.MessageID(m.Data) }))
	if err != nil {
		t.Fatal(err)
	}
	for _, topic := range []string{DefaultCommunity, c} {
		tp, err := ps.Join(gossip.Topic(topic))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tp.Subscribe(); err != nil {
			t.Fatal(err)
		}
	}
	mem := store.NewMemory()
	recs := signedIn(t, c, 30, "held by the passive peer")
	if _, err := mem.ApplyBatch(ctx, recs); err != nil {
		t.Fatal(err)
	}
	syncer := reconcile.New(syncstore.New(mem), ingest.New(storeAdapter{s: mem}, mentorship.Kinds{}, ingest.Options{}), reconcile.Options{})
	h.SetStreamHandler(reconcile.Protocol, func(str network.Stream) {
		if _, err := syncer.Respond(ctx, str, nil); err != nil {
			_ = str.Reset()
			return
		}
		_ = str.Close()
	})

	connectNodesRaw(t, n.Node, h.ID(), h.Addrs())
	// Its subscriptions arrive together: once it shows in the default
	// topic, the node knows it is in c too.
	waitFor(t, 10*time.Second, "the peer in the default topic", func() bool { return inTopic(n.Node, DefaultCommunity, h.ID()) })
	t.Cleanup(func() {
		if t.Failed() { // what the sessions did, to tell a slow session from a failed one
			for _, s := range n.net.catchUp.sessions() {
				t.Logf("catch-up session: %+v", s)
			}
		}
	})
	join(t, n.Node, c)
	ref := reference{}
	ref.note(recs...)
	waitFor(t, 10*time.Second, "the node to pull the community from the peer", func() bool {
		return digestIn(t, n.Node, c) == ref.digest()
	})
}

// TestRejoinRunsSessionAgain: a catch-up session of a community the node
// has left may still be ending when the node joins again; the session the
// rejoin asks for is not dropped as a duplicate but runs once the old one
// ends, with a live context.
func TestRejoinRunsSessionAgain(t *testing.T) {
	const c = "rejoined"
	n := startCatchUpNode(t, t.TempDir()) // no peers: no sessions but the test's
	cu := n.net.catchUp
	type call struct{ live bool }
	calls := make(chan call, 4)
	release := make(chan struct{})
	first := true
	cu.sessionFn = func(ctx context.Context, _ peer.ID, _ reconcile.Scope) {
		if first {
			first = false
			<-release // a session slow to notice it was cancelled
		}
		calls <- call{live: ctx.Err() == nil}
	}
	p := newRawPeer(t, c).h.ID()
	scope := reconcile.Scope{Community: c}
	join(t, n.Node, c)
	done := make(chan struct{})
	go func() {
		defer close(done)
		cu.run(p, scope)
	}()
	waitFor(t, 10*time.Second, "the first session to start", func() bool {
		cu.mu.Lock()
		defer cu.mu.Unlock()
		_, ok := cu.running[keyOf(p, scope)]
		return ok
	})
	leave(t, n.Node, c)
	join(t, n.Node, c)
	cu.run(p, scope) // the rejoin's session: the old one is still running
	close(release)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the first run did not return")
	}
	var got []call
	for len(calls) > 0 {
		got = append(got, <-calls)
	}
	if len(got) != 2 || got[0].live || !got[1].live {
		t.Errorf("sessions ran with live contexts %v, want the cancelled one then a live one", got)
	}
}
