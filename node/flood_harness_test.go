package node

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/record"
)

// probeNet is a network of honest nodes on loopback that measures how long
// each node's profile updates take to reach the others.
type probeNet struct {
	tb    testing.TB
	nodes []*Node

	mu sync.Mutex
	// arrivals are the profile versions that became current on each
	// node, by author: author -> receiving node -> version -> when.
	arrivals map[string]map[int]map[uint64]arrival
	arrived  chan struct{} // signalled on every arrival
}

// probeKey names one profile update.
type probeKey struct {
	author  string
	version uint64
}

// startProbeNet starts n honest nodes, each connected to all the others,
// and returns once each has delivered a first update to all the others.
func startProbeNet(tb testing.TB, n int, opts Options) *probeNet {
	tb.Helper()
	pn := &probeNet{tb: tb, arrivals: map[string]map[int]map[uint64]arrival{}, arrived: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	for i := range n {
		o := opts
		o.DataDir = tb.TempDir()
		o.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
		o.NoMDNS = true
		o.APIAddr = "127.0.0.1:0"
		for _, prev := range pn.nodes {
			o.Bootstrap = append(o.Bootstrap, prev.Addrs()[0])
		}
		nd, err := Start(o)
		if err != nil {
			tb.Fatalf("Start: %v", err)
		}
		tb.Cleanup(func() { _ = nd.Close() })
		events, err := nd.Local().Subscribe(ctx)
		if err != nil {
			tb.Fatal(err)
		}
		go pn.watch(i, events)
		pn.nodes = append(pn.nodes, nd)
	}
	waitForTB(tb, 30*time.Second, "every node to see the others in the topic", func() bool {
		for _, nd := range pn.nodes {
			if len(nd.net.g.TopicPeers(DefaultCommunity)) < n-1 {
				return false
			}
		}
		return true
	})
	// A first update from each, delivered everywhere, proves the paths.
	var keys []probeKey
	for i := range pn.nodes {
		k, _ := pn.probe(i, "warm-up")
		keys = append(keys, k)
	}
	pn.wait(keys, 30*time.Second)
	return pn
}

func (pn *probeNet) watch(i int, events <-chan api.Event) {
	for e := range events {
		if e.Type != api.EventRecord || e.Record.Kind != mentorship.KindProfile {
			continue
		}
		// A local write's event marks when it was stored (and the writer
		// told so): latencies count from there. Its node index is the
		// writer's, which the delivery checks leave out.
		a := arrival{stored: e.At, seen: time.Now()}
		pn.mu.Lock()
		byNode := pn.arrivals[e.Record.Author]
		if byNode == nil {
			byNode = map[int]map[uint64]arrival{}
			pn.arrivals[e.Record.Author] = byNode
		}
		if byNode[i] == nil {
			byNode[i] = map[uint64]arrival{}
		}
		byNode[i][e.Record.Version] = a
		pn.mu.Unlock()
		select {
		case pn.arrived <- struct{}{}:
		default:
		}
	}
}

// probe has node i update its profile and returns the update's key and the
// time just before the write.
func (pn *probeNet) probe(i int, name string) (probeKey, time.Time) {
	pn.tb.Helper()
	nd := pn.nodes[i]
	start := time.Now()
	p, err := nd.Local().SetProfile(context.Background(), api.ProfileInput{Name: &name})
	if err != nil {
		pn.tb.Fatalf("probe write on node %d: %v", i, err)
	}
	if d := time.Since(start); os.Getenv("MENTORMESH_TEST_SLOW_PROBES") != "" && d > 20*time.Millisecond {
		pn.tb.Logf("%s: local write took %v", name, d)
	}
	return probeKey{p.PeerID, p.Version}, start
}

// arrival is when a record became current on a node: when the node
// stored it (the event's time, taken as the store applied it), and when
// the probe's own goroutine read the event (later by however long the
// goroutine waited to run).
type arrival struct{ stored, seen time.Time }

// reached returns when update k, or a newer version of the same profile,
// became current on each node other than its writer: a newer version
// arriving first makes the older one stale (it is never stored), and
// counts as its delivery.
func (pn *probeNet) reached(k probeKey) map[int]arrival {
	pn.mu.Lock()
	defer pn.mu.Unlock()
	out := map[int]arrival{}
	for i, versions := range pn.arrivals[k.author] {
		if pn.nodes[i].PeerID() == k.author {
			continue
		}
		for v, at := range versions {
			if cur, ok := out[i]; v >= k.version && (!ok || at.stored.Before(cur.stored)) {
				out[i] = at
			}
		}
	}
	return out
}

// delivered reports whether k reached every node but its writer.
func (pn *probeNet) delivered(k probeKey) bool { return len(pn.reached(k)) == len(pn.nodes)-1 }

// wait waits until every probe reached every other node.
func (pn *probeNet) wait(keys []probeKey, timeout time.Duration) {
	pn.tb.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		missing := 0
		for _, k := range keys {
			if !pn.delivered(k) {
				missing++
			}
		}
		if missing == 0 {
			return
		}
		select {
		case <-pn.arrived:
		case <-deadline.C:
			ob, qf, th := pn.drops()
			var detail []string
			for _, k := range keys {
				if !pn.delivered(k) {
					detail = append(detail, fmt.Sprintf("%s v%d reached %d nodes", k.author[len(k.author)-6:], k.version, len(pn.reached(k))))
				}
			}
			for i, nd := range pn.nodes {
				st, _ := nd.Local().Status(context.Background())
				detail = append(detail, fmt.Sprintf("node %d %s: ingest %+v", i, nd.PeerID()[len(nd.PeerID())-6:], st.Ingest))
			}
			pn.tb.Fatalf("%d of %d updates not delivered to every node within %s (gossip drops: %d over budget, %d queue full, %d throttled):\n%s",
				missing, len(keys), timeout, ob, qf, th, strings.Join(detail, "\n"))
		}
	}
}

// written returns when k was stored on its writer.
func (pn *probeNet) written(k probeKey) arrival {
	pn.mu.Lock()
	defer pn.mu.Unlock()
	for i, versions := range pn.arrivals[k.author] {
		if pn.nodes[i].PeerID() == k.author {
			return versions[k.version]
		}
	}
	return arrival{}
}

// run writes count probes, one every gap, rotating over the nodes, waits
// for all of them, and returns every (probe, receiver) latency, sorted:
// from the moment the update was stored on its writer (the user told it
// is saved) to the moment it was current on the receiver. seen is the
// same measured where the probe's goroutine read the events, which adds
// that goroutine's wait for a CPU at both ends.
func (pn *probeNet) run(count int, gap time.Duration, label string) (lat, seen []time.Duration) {
	pn.tb.Helper()
	keys := make([]probeKey, count)
	starts := make([]time.Time, count)
	tick := time.NewTicker(gap)
	defer tick.Stop()
	for j := range count {
		keys[j], starts[j] = pn.probe(j%len(pn.nodes), fmt.Sprintf("%s %d", label, j))
		<-tick.C
	}
	pn.wait(keys, 60*time.Second)
	for j, k := range keys {
		from := pn.written(k)
		if from.stored.IsZero() {
			pn.tb.Fatalf("no event for the local write of %s v%d", k.author, k.version)
		}
		for _, at := range pn.reached(k) {
			lat = append(lat, max(0, at.stored.Sub(from.stored)))
			seen = append(seen, max(0, at.seen.Sub(from.seen)))
			if os.Getenv("MENTORMESH_TEST_SLOW_PROBES") != "" && at.stored.Sub(from.stored) > 30*time.Millisecond {
				pn.tb.Logf("%s: probe %d at +%v took %v", label, j, starts[j].Sub(starts[0]).Round(time.Millisecond), at.stored.Sub(from.stored).Round(time.Millisecond))
			}
		}
	}
	slices.Sort(lat)
	slices.Sort(seen)
	return lat, seen
}

// percentile returns the p-th percentile (nearest rank) of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// addrInfos returns where to reach the nodes.
func (pn *probeNet) addrInfos() []peer.AddrInfo {
	var out []peer.AddrInfo
	for _, nd := range pn.nodes {
		out = append(out, peer.AddrInfo{ID: nd.net.h.ID(), Addrs: nd.net.h.Addrs()})
	}
	return out
}

func (pn *probeNet) authors() map[record.Author]bool {
	out := map[record.Author]bool{}
	for _, nd := range pn.nodes {
		out[nd.local.author] = true
	}
	return out
}

// storedBy counts the current records of author on nd, and those of
// anyone not in honest.
func storedBy(tb testing.TB, nd *Node, author record.Author, honest map[record.Author]bool) (byAuthor, others int) {
	tb.Helper()
	err := nd.store.List(context.Background(), store.Query{Community: DefaultCommunity}, func(r *record.Record) error {
		if r.Author == author {
			byAuthor++
		}
		if !honest[r.Author] {
			others++
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return byAuthor, others
}

// receivedFrom counts the records by author that became current on node i
// (each one a distinct version).
func (pn *probeNet) receivedFrom(author record.Author, i int) int {
	pn.mu.Lock()
	defer pn.mu.Unlock()
	return len(pn.arrivals[author.String()][i])
}

// drops sums the gossip drop counters of the nodes.
func (pn *probeNet) drops() (overBudget, queueFull, throttled uint64) {
	for _, nd := range pn.nodes {
		st := nd.net.g.Stats()
		overBudget += st.OverBudget.Load()
		queueFull += st.QueueFull.Load()
		throttled += st.Throttled.Load()
	}
	return
}

// quietLogger drops the nodes' logs (a flood makes them loud).
func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
