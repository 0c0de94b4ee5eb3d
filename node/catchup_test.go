package node

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/network"

	"github.com/mentormesh/mentormesh/internal/syncstore"
	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/ingest"
	"github.com/mentormesh/mentormesh/sync/reconcile"
	"github.com/mentormesh/mentormesh/sync/record"
)

// Catch-up with real nodes: partitions that heal, a node that was off while
// others wrote, a session cut off half way.

// TestPartitionHealsByCatchUp: five nodes, split into {0,1,2} and {3,4},
// write on both sides of the partition, including new and conflicting
// versions of the same addresses. Once the partition heals, with nothing
// new written and nothing left to gossip, catch-up alone brings all five to
// the same current records: the newest version of every address.
func TestPartitionHealsByCatchUp(t *testing.T) {
	var nodes []*catchUpNode
	for range 5 {
		nodes = append(nodes, startCatchUpNode(t, t.TempDir()))
	}
	groupA, groupB := nodes[:3], nodes[3:]
	// ref is what all should hold in the end; refA and refB what each
	// side should hold during the partition.
	ref, refA, refB := reference{}, reference{}, reference{}
	noteAll := func(recs ...*record.Record) {
		ref.note(recs...)
		refA.note(recs...)
		refB.note(recs...)
	}
	authors := newSynthetic(500)

	// Phase 1, all connected. Records that only catch-up can spread are in
	// place before anyone connects; the owners' profiles go by gossip.
	phase1A := authors.profiles(t, 0, 200, 1, "phase 1 on 0")
	phase1B := authors.profiles(t, 200, 300, 1, "phase 1 on 3")
	inject(t, nodes[0].Node, phase1A)
	inject(t, nodes[3].Node, phase1B)
	noteAll(phase1A...)
	noteAll(phase1B...)
	for i, n := range nodes {
		noteAll(setProfile(t, n.Node, fmt.Sprintf("Owner %d", i)))
	}
	for i := range nodes {
		for j := i + 1; j < len(nodes); j++ {
			connectNodes(t, nodes[i].Node, nodes[j].Node)
		}
	}
	waitDigests(t, 30*time.Second, "phase 1 to converge", ref.digest(), nodes...)

	// Phase 2: partition. Each side blocks the other and drops its
	// connections to it.
	for _, a := range groupA {
		for _, b := range groupB {
			a.gater.block(b.hostID())
			b.gater.block(a.hostID())
		}
	}
	for _, a := range groupA {
		for _, b := range groupB {
			_ = a.net.h.Network().ClosePeer(b.hostID())
			_ = b.net.h.Network().ClosePeer(a.hostID())
		}
	}
	waitFor(t, 10*time.Second, "the groups to lose sight of each other", func() bool {
		for _, a := range groupA {
			for _, b := range groupB {
				if a.net.h.Network().Connectedness(b.hostID()) == network.Connected ||
					slices.Contains(a.net.g.TopicPeers(DefaultCommunity), b.hostID()) ||
					slices.Contains(b.net.g.TopicPeers(DefaultCommunity), a.hostID()) {
					return false
				}
			}
		}
		return true
	})

	// Owners update their profiles (gossiped within each side)...
	lastGossip := time.Now()
	for i, n := range nodes {
		if i == 2 {
			continue // one owner writes nothing
		}
		rec := setProfile(t, n.Node, fmt.Sprintf("Owner %d, partitioned", i))
		ref.note(rec)
		if i < len(groupA) {
			refA.note(rec)
		} else {
			refB.note(rec)
		}
	}
	// ...and both sides get new versions of the same synthetic profiles:
	// 0-29 only on A; 30-59 at version 2 on both (the larger ID wins);
	// 60-79 only on B; 80-89 at version 2 on A and 3 on B; 90-99 at
	// version 3 on both, after version 2 on B. Plus new authors each side.
	onA := slices.Concat(
		authors.profiles(t, 0, 60, 2, "A"),
		authors.profiles(t, 80, 90, 2, "A"),
		authors.profiles(t, 90, 100, 3, "A"),
		authors.profiles(t, 300, 400, 1, "new on A"),
	)
	onB := slices.Concat(
		authors.profiles(t, 30, 80, 2, "B"),
		authors.profiles(t, 80, 100, 3, "B"),
		authors.profiles(t, 400, 500, 1, "new on B"),
	)
	superseded := authors.profiles(t, 90, 100, 2, "B, superseded")
	ref.note(onA...)
	ref.note(onB...)
	refA.note(onA...)
	refB.note(superseded...)
	refB.note(onB...)
	inject(t, nodes[0].Node, onA)
	inject(t, nodes[4].Node, superseded)
	inject(t, nodes[4].Node, onB)
	// Within each side, catch-up (run by hand: no peer joins) spreads them.
	nodes[0].net.catchUp.run(nodes[1].hostID(), community)
	nodes[0].net.catchUp.run(nodes[2].hostID(), community)
	nodes[4].net.catchUp.run(nodes[3].hostID(), community)
	waitDigests(t, 30*time.Second, "side A to converge", refA.digest(), groupA...)
	waitDigests(t, 30*time.Second, "side B to converge", refB.digest(), groupB...)
	for i, n := range nodes {
		if st := status(t, n.Node); st.Outbox != 0 {
			t.Fatalf("node %d still has %d records to publish", i, st.Outbox)
		}
	}
	// Let GossipSub's cache of the owners' updates run out, so that after
	// the heal records can cross only by catch-up. (Not synchronisation:
	// the test needs this much time to pass.)
	time.Sleep(time.Until(lastGossip.Add(gossipCacheWindow)))

	// Phase 3: heal, writing nothing. Every record a node accepts from now
	// on must come from a catch-up session.
	lacking := make([]int, len(nodes))
	accepted := make([]uint64, len(nodes))
	for i, n := range nodes {
		lacking[i] = ref.lacking(t, n.Node)
		accepted[i] = status(t, n.Node).Ingest.Accepted
		n.log.startCounting()
	}
	healedAt := time.Now()
	for _, n := range nodes {
		n.gater.unblockAll()
	}
	for _, a := range groupA {
		for _, b := range groupB {
			connectNodes(t, a.Node, b.Node)
		}
	}
	// Wait for the records, then (briefly) for the sessions that brought
	// them to report.
	deadline := time.Now().Add(60 * time.Second)
	var converged time.Time
	for {
		var problems []string
		stored := true
		for i, n := range nodes {
			st := status(t, n.Node)
			pulled, ended := n.log.counted()
			gotAccepted := int(st.Ingest.Accepted - accepted[i])
			d := st.Digests[DefaultCommunity]
			stored = stored && d == ref.digest() && gotAccepted == lacking[i]
			if d != ref.digest() || gotAccepted != lacking[i] || pulled != lacking[i] {
				problems = append(problems, fmt.Sprintf("node %d: digest %s (want %s), lacked %d, accepted %d since the heal, pulled %d by catch-up in sessions%v",
					i, d, ref.digest(), lacking[i], gotAccepted, pulled, ended))
			}
		}
		if len(problems) == 0 {
			break
		}
		if stored && converged.IsZero() {
			converged = time.Now()
		}
		if time.Now().After(deadline) || !converged.IsZero() && time.Since(converged) > 10*time.Second {
			t.Fatalf("after the heal:\n%s", strings.Join(problems, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	for i, n := range nodes {
		ref.check(t, fmt.Sprintf("node %d", i), n.Node)
		if lacking[i] == 0 {
			t.Errorf("node %d lacked nothing at the heal: the partition tested nothing", i)
		}
		// Status shows it: a community session with the other side pulled.
		pulled := false
		for _, cu := range status(t, n.Node).CatchUp {
			// PulledTotal: after the session that pulled, spreading
			// runs more sessions with the same peer that find nothing
			// (status keeps the last one).
			pulled = pulled || !cu.OwnRecordsOnly && cu.PulledTotal > 0 && cu.At.After(healedAt)
		}
		if !pulled {
			t.Errorf("node %d's status shows no community session that pulled records: %+v", i, status(t, n.Node).CatchUp)
		}
	}
	t.Logf("%d addresses; at the heal the nodes lacked %v records", len(ref), lacking)
}

// TestRestartedNodeGetsTenThousandRecords: a node that was stopped while
// its peer took in 10 000 records gets all of them, by catch-up, when it
// starts again.
func TestRestartedNodeGetsTenThousandRecords(t *testing.T) {
	const n = 10_000
	a := startCatchUpNode(t, t.TempDir())
	dirB := t.TempDir()
	b := startCatchUpNode(t, dirB, a.Addrs()...)
	setProfile(t, a.Node, "Ada")
	setProfile(t, b.Node, "Bea")
	waitFor(t, 20*time.Second, "a and b to hold each other's profiles", func() bool {
		return digestOf(t, a.Node) == digestOf(t, b.Node) && countRecords(t, b.Node) == 2
	})
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	recs := newSynthetic(n).profiles(t, 0, n, 1, "written while b was off")
	inject(t, a.Node, recs)
	t.Logf("signed and stored %d records in %s", n, time.Since(start).Round(time.Millisecond))

	start = time.Now()
	b = startCatchUpNode(t, dirB, a.Addrs()...)
	want := digestOf(t, a.Node)
	// The bound is generous: this test is about getting everything, and
	// under -race on a loaded 2-core machine verifying and storing 10 000
	// records alone can take most of a minute. Speed is measured by the
	// benchmarks (docs/PERFORMANCE.md), not here.
	waitFor(t, 3*time.Minute, "restarted b to catch up", func() bool {
		return digestOf(t, b.Node) == want
	})
	t.Logf("b caught up in %s", time.Since(start).Round(time.Millisecond))
	if got := countRecords(t, b.Node); got != n+2 {
		t.Errorf("b holds %d records, want %d", got, n+2)
	}
	// The community session with a is the one that brought them (its end
	// is recorded just after the last record is stored).
	waitFor(t, 10*time.Second, "b's status to show the session", func() bool {
		for _, cu := range status(t, b.Node).CatchUp {
			if cu.PeerID == a.PeerID() && !cu.OwnRecordsOnly && cu.PulledTotal == n {
				return true
			}
		}
		return false
	})
}

// TestInterruptedSessionResumes: a session cut off half way leaves the
// records that arrived before the cut stored, and a valid store; the next
// session fetches the rest and no more.
func TestInterruptedSessionResumes(t *testing.T) {
	const total = 3000
	ctx := context.Background()
	// The peer is a bare host serving catch-up from an in-memory store, so
	// the test can break its stream.
	mem := store.NewMemory()
	recs := newSynthetic(total).profiles(t, 0, total, 1, "held by the peer")
	if _, err := mem.ApplyBatch(ctx, recs); err != nil {
		t.Fatal(err)
	}
	// No GossipSub on it: no peer-join sessions, only the test's.
	peerHost, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peerHost.Close() })
	pipe := ingest.New(storeAdapter{s: mem}, mentorship.Kinds{}, ingest.Options{})
	syncer := reconcile.New(syncstore.New(mem), pipe, reconcile.Options{})
	var mu sync.Mutex
	cutAfter := 400 << 10 // bytes: some frames of records, not all
	peerHost.SetStreamHandler(reconcile.Protocol, func(str network.Stream) {
		mu.Lock()
		limit := cutAfter
		mu.Unlock()
		var rw = network.Stream(str)
		if limit > 0 {
			rw = &cutStream{Stream: str, left: limit}
		}
		if _, err := syncer.Respond(ctx, rw, nil); err != nil {
			_ = str.Reset()
			return
		}
		_ = str.Close()
	})

	b := startCatchUpNode(t, t.TempDir())
	connectNodesRaw(t, b.Node, peerHost.ID(), peerHost.Addrs())
	b.net.catchUp.run(peerHost.ID(), community)
	first := lastSession(t, b.Node, peerHost.ID())
	got := countRecords(t, b.Node)
	if first.Error == "" || got == 0 || got >= total || first.Pulled != got {
		t.Fatalf("cut session: error %q, pulled %d, b holds %d of %d; want an error after some records were stored",
			first.Error, first.Pulled, got, total)
	}
	checkStore(t, b.Node)

	mu.Lock()
	cutAfter = 0
	mu.Unlock()
	b.net.catchUp.run(peerHost.ID(), community)
	second := lastSession(t, b.Node, peerHost.ID())
	if second.Error != "" || second.Pulled != total-got || second.Received != total-got {
		t.Errorf("second session: error %q, received %d, pulled %d; want no error and exactly the %d missing records",
			second.Error, second.Received, second.Pulled, total-got)
	}
	if got := countRecords(t, b.Node); got != total {
		t.Errorf("b holds %d records after the second session, want %d", got, total)
	}
	ref := reference{}
	ref.note(recs...)
	if d := digestOf(t, b.Node); d != ref.digest() {
		t.Errorf("b's digest %s, want the peer's %s", d, ref.digest())
	}
	checkStore(t, b.Node)
	t.Logf("first session stored %d of %d records before the cut (%s)", got, total, first.Error)
}

// TestCloseDuringStuckSession: a node stops promptly even while one of its
// catch-up sessions waits on a peer that never answers.
func TestCloseDuringStuckSession(t *testing.T) {
	silent, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	opened := make(chan struct{}, 1)
	silent.SetStreamHandler(reconcile.Protocol, func(str network.Stream) {
		opened <- struct{}{}
		_, _ = io.Copy(io.Discard, str) // read, never answer
	})
	b := startCatchUpNode(t, t.TempDir())
	connectNodesRaw(t, b.Node, silent.ID(), silent.Addrs())
	b.net.spawn(func() { b.net.catchUp.run(silent.ID(), community) })
	select {
	case <-opened:
	case <-time.After(10 * time.Second):
		t.Fatal("the session never opened its stream")
	}
	closed := make(chan error, 1)
	start := time.Now()
	go func() { closed <- b.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
		t.Logf("closed in %s", time.Since(start).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		silent.Close() // lets the session, and Close, end
		<-closed
		t.Fatal("Close still waited for the stuck session after 10s")
	}
}
