package node

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/mentormesh/mentormesh/sync/gossip"
	"github.com/mentormesh/mentormesh/sync/ingest"
)

// TestFloodOfInvalidRecords has a peer connected to four honest nodes
// publish invalid records (bad signatures, random bytes, oversized) as fast
// as it can, while the honest nodes keep writing. Every node must graylist
// the flooder and cut it off, store none of its records, and deliver every
// honest update to every other node.
func TestFloodOfInvalidRecords(t *testing.T) {
	pn := startProbeNet(t, 4, Options{Logger: quietLogger()})
	honest := pn.authors()
	f := newFlooder(t, DefaultCommunity)
	f.connect(t, pn.nodes)
	gen, floodAuthor := invalidRecords(t, newKeyTB(t))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.run(ctx, gen)
	}()
	defer func() {
		cancel()
		<-done
	}()
	// Honest updates while the flood starts.
	lat, _ := pn.run(20, 20*time.Millisecond, "during the flood")

	waitForTB(t, 20*time.Second, "every node to graylist and ban the flooder", func() bool {
		for _, nd := range pn.nodes {
			if !nd.net.cfg.bans.banned(f.h.ID()) {
				return false
			}
		}
		return true
	})
	waitForTB(t, 20*time.Second, "every node to drop the flooder's connection", func() bool { return f.connected(pn.nodes) == 0 })
	cancel()
	<-done
	var scores []float64
	for i, nd := range pn.nodes {
		// The node cuts the flooder off at its fourth invalid record, when
		// GossipSub graylists it too; the score read out every half second
		// may or may not show it by then.
		if s, ok := nd.net.g.Score(f.h.ID()); ok {
			scores = append(scores, s)
		}
		byFlooder, others := storedBy(t, nd, floodAuthor, honest)
		if byFlooder != 0 || others != 0 {
			t.Errorf("node %d stores %d records by the flood's author and %d by non-honest authors, want 0", i, byFlooder, others)
		}
		if st := status(t, nd); st.Ingest.Rejected == 0 {
			t.Errorf("node %d rejected nothing: the flood did not reach it", i)
		}
		f.redial(nd)
		if nd.net.h.Network().Connectedness(f.h.ID()) == network.Connected {
			t.Errorf("node %d accepted the banned flooder again", i)
		}
	}
	ob, qf, th := pn.drops()
	t.Logf("dropped before validation: %d over the peer budget, %d queue full, %d throttled; flooder's scores %v (graylist below %d)",
		ob, qf, th, scores, gossip.GraylistThreshold)
	t.Logf("flooder sent %d messages; honest latency during the flood: p50 %v, p99 %v over %d deliveries",
		f.sent.Load(), percentile(lat, 50), percentile(lat, 99), len(lat))
}

// TestFloodOfValidSpam has two authors publish valid records (new
// versions of their profiles) without pause: one from a peer that sends
// within its message budget (50 a second), one from a peer that sends as
// fast as it can. Each node accepts at most each author's rate limit from
// gossip and ignores the rest without penalising anyone (the honest relays
// keep their scores; the paced spammer's peer stays connected). Every
// honest update is still delivered. (Whether the fast spammer exceeds its
// peer's message budget enough to be cut off depends on how fast this
// machine signs; TestAdmission in sync/gossip tests that part.)
//
// A node need not rate-limit anything itself: the relays' copies of the
// spammer's later versions are validated before its own messages (it is a
// new peer, priority.go), and a version older than the one stored is
// ignored as stale before it costs a token. But while a new peer's
// messages are validated one at a time and in order (on up to three cores,
// as on the machines this runs on), the first node to validate a version
// gets it straight from the spammer after every earlier one, so it cannot
// be stale there: once the spammer has sent more versions than all the
// nodes' limits together allow, some node must have rate-limited it. (The
// fast spammer's records are rate-limited too, which only adds to it.)
// Without the limiter nothing is ever rate-limited, and the test fails.
func TestFloodOfValidSpam(t *testing.T) {
	limit := ingest.RateLimit{Burst: 14, Every: time.Second}
	pn := startProbeNet(t, 4, Options{Logger: quietLogger(), GossipRateLimit: limit})
	paced, fast := newFlooder(t, DefaultCommunity), newFlooder(t, DefaultCommunity)
	paced.connect(t, pn.nodes)
	fast.connect(t, pn.nodes)
	pacedGen, pacedAuthor := spamRecords(t, newKeyTB(t))
	fastGen, fastAuthor := spamRecords(t, newKeyTB(t))

	start := time.Now()
	// maxAccepted bounds what one node may accept of one author by now.
	maxAccepted := func() int { return limit.Burst + int(time.Since(start)/limit.Every) + 1 }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var honestDone atomic.Bool
	// pacedBound is what the nodes could accept of the paced spammer
	// together when it stopped; written before pacedDone closes.
	var pacedBound int
	pacedDone, fastDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(pacedDone)
		// Until the honest writes are done and the spammer has sent more
		// than every node's limit together.
		paced.runPacedWhile(ctx, pacedGen, 20*time.Millisecond, func(sent int) bool {
			if !honestDone.Load() {
				return true
			}
			pacedBound = len(pn.nodes) * maxAccepted()
			return sent <= pacedBound
		})
	}()
	go func() {
		defer close(fastDone)
		fast.run(ctx, fastGen)
	}()
	// 40 updates, 10 per honest author (within the burst of 14).
	lat, _ := pn.run(40, 20*time.Millisecond, "during the spam")
	honestDone.Store(true)
	select {
	case <-pacedDone:
	case <-time.After(30 * time.Second):
		t.Fatal("the paced spammer is still sending 30 s after the honest writes")
	}
	if n := int(paced.sent.Load()); n <= pacedBound {
		t.Fatalf("the paced spammer stopped after %d messages, not more than the nodes' limits together (%d)", n, pacedBound)
	}
	cancel()
	<-fastDone
	sending := time.Since(start)
	// On a loaded machine, some of the spammers' messages may still wait
	// for validation.
	var limited []uint64
	waitForTB(t, 30*time.Second, "some node to rate-limit the spam, and every node to accept some", func() bool {
		limited = limited[:0]
		var sum uint64
		for i, nd := range pn.nodes {
			if pn.receivedFrom(pacedAuthor, i) == 0 {
				return false
			}
			n := nd.net.cfg.pipe.Stats().RateLimited.Load()
			limited = append(limited, n)
			sum += n
		}
		return sum > 0
	})
	elapsed := time.Since(start)

	bound := limit.Burst + int(elapsed/limit.Every) + 1
	for i, nd := range pn.nodes {
		if got := pn.receivedFrom(pacedAuthor, i); got == 0 || got > bound {
			t.Errorf("node %d accepted %d of the paced spammer's records in %v, want 1 to %d (burst %d, one a second)",
				i, got, elapsed.Round(time.Millisecond), bound, limit.Burst)
		}
		// The fast one may be cut off before any of its records is
		// validated.
		if got := pn.receivedFrom(fastAuthor, i); got > bound {
			t.Errorf("node %d accepted %d of the fast spammer's records in %v, want at most %d", i, got, elapsed.Round(time.Millisecond), bound)
		}
		if nd.net.cfg.bans.banned(paced.h.ID()) {
			t.Errorf("node %d banned the paced spammer's peer: valid records within the peer budget must not be punished", i)
		}
		for j, other := range pn.nodes {
			if s, ok := nd.net.g.Score(other.net.h.ID()); ok && s < 0 {
				t.Errorf("node %d scores honest node %d %.1f, want >= 0: relaying spam must not be punished", i, j, s)
			}
			if nd.net.cfg.bans.banned(other.net.h.ID()) {
				t.Errorf("node %d banned honest node %d", i, j)
			}
		}
	}
	if n := paced.connected(pn.nodes); n != len(pn.nodes) {
		t.Errorf("the paced spammer's peer is connected to %d nodes, want all %d (rate-limited, not cut off)", n, len(pn.nodes))
	}
	ob, qf, th := pn.drops()
	t.Logf("dropped before validation: %d over the peer budget, %d queue full, %d throttled", ob, qf, th)
	t.Logf("the fast spammer's peer is connected to %d of %d nodes", fast.connected(pn.nodes), len(pn.nodes))
	t.Logf("records of both spammers rate-limited by each node: %v", limited)
	t.Logf("spammers sent %d (paced) and %d (fast) messages in %v; honest latency during the spam: p50 %v, p99 %v over %d deliveries",
		paced.sent.Load(), fast.sent.Load(), sending.Round(time.Millisecond), percentile(lat, 50), percentile(lat, 99), len(lat))
}
