package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	ds "github.com/ipfs/go-datastore"

	"github.com/mentormesh/mentormesh/sync/record"
)

// topology is who dials whom: node i dials up to `degree` random earlier
// nodes, so the graph is connected and sparse, as in a community where each
// member knows a few others. Both systems get the same graph.
type topology struct {
	n     int
	dials [][]int
}

func newTopology(n, degree int, seed uint64) topology {
	rng := rand.New(rand.NewPCG(seed, seed))
	t := topology{n: n, dials: make([][]int, n)}
	for i := 1; i < n; i++ {
		t.dials[i] = rng.Perm(i)[:min(i, degree)]
		slices.Sort(t.dials[i])
	}
	return t
}

// neighbours of i: the nodes it dialled and those that dialled it.
func (t topology) neighbours(i int) []int {
	out := slices.Clone(t.dials[i])
	for j := i + 1; j < t.n; j++ {
		if slices.Contains(t.dials[j], i) {
			out = append(out, j)
		}
	}
	return out
}

// distances are the hop counts from node from to every node.
func (t topology) distances(from int) []int {
	d := make([]int, t.n)
	for i := range d {
		d[i] = -1
	}
	d[from] = 0
	queue := []int{from}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		for _, j := range t.neighbours(i) {
			if d[j] < 0 {
				d[j] = d[i] + 1
				queue = append(queue, j)
			}
		}
	}
	return d
}

// cluster is a network of nodes of one system.
type cluster interface {
	size() int
	// author is who signs node i's records.
	author(i int) record.Author
	// ready waits until every node can send to its neighbours.
	ready(ctx context.Context) error
	// write makes node at write the given version of its record.
	write(ctx context.Context, at int, version uint64) error
	// counters are the nodes' bandwidth counters.
	counters() []*counter
	close()
}

// probeID names one written record: its author and version.
type probeID struct {
	author  record.Author
	version uint64
}

// probe follows one record until every node but its writer has it, or a
// newer version of it: a register keeps only the newest version, and
// go-ds-crdt's PutHook fires only for the value that prevails, so a node
// that received versions out of order never reports the older one.
type probe struct {
	version   uint64
	writer    int
	start     time.Time
	arrivals  []atomic.Int64 // ns after start; 0 = not yet
	remaining atomic.Int32
	done      chan struct{}
}

// observer receives "node i stored record id" from every node's hook.
type observer struct {
	mu     sync.Mutex
	probes map[record.Author][]*probe // outstanding, by author
}

func (o *observer) expect(id probeID, writer, nodes int) *probe {
	p := &probe{version: id.version, writer: writer, arrivals: make([]atomic.Int64, nodes), done: make(chan struct{})}
	p.remaining.Store(int32(nodes - 1))
	p.start = time.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.probes == nil {
		o.probes = map[record.Author][]*probe{}
	}
	o.probes[id.author] = append(o.probes[id.author], p)
	return p
}

func (o *observer) forget(id probeID) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.probes[id.author] = slices.DeleteFunc(o.probes[id.author], func(p *probe) bool { return p.version == id.version })
}

// arrived notes that node stored id, and so holds every older version.
func (o *observer) arrived(node int, id probeID) {
	o.mu.Lock()
	ps := slices.Clone(o.probes[id.author])
	o.mu.Unlock()
	for _, p := range ps {
		if p.version > id.version || node == p.writer {
			continue
		}
		at := max(1, int64(time.Since(p.start)))
		if p.arrivals[node].CompareAndSwap(0, at) && p.remaining.Add(-1) == 0 {
			close(p.done)
		}
	}
}

// crdtHook decodes a go-ds-crdt value (a signed mentormesh record, not
// verified) to tell the observer which record arrived.
func crdtHook(obs *observer, node int) func(ds.Key, []byte) {
	return func(_ ds.Key, v []byte) {
		if r, err := record.Decode(v); err == nil {
			obs.arrived(node, probeID{r.Author, r.Version})
		}
	}
}

// crdtCluster is a go-ds-crdt network for the propagation and steady-state
// workloads. Node i's records are signed by a synthetic author and stored
// under one key per author, as mentormesh keeps one profile per author.
type crdtCluster struct {
	nodes   []*crdtNode
	authors []author
	top     topology
}

func startCRDTCluster(ctx context.Context, root string, top topology, obs *observer) (*crdtCluster, error) {
	c := &crdtCluster{top: top}
	for i := range top.n {
		n, err := startCRDT(fmt.Sprintf("%s/crdt%02d", root, i), crdtConfig{putHook: crdtHook(obs, i)})
		if err != nil {
			c.close()
			return nil, err
		}
		c.nodes = append(c.nodes, n)
		c.authors = append(c.authors, newAuthor(fmt.Sprintf("crdt node %s %d", root, i)))
		for _, j := range top.dials[i] {
			if err := n.connect(ctx, c.nodes[j]); err != nil {
				c.close()
				return nil, fmt.Errorf("connecting node %d to %d: %w", i, j, err)
			}
		}
	}
	return c, nil
}

func (c *crdtCluster) size() int                  { return len(c.nodes) }
func (c *crdtCluster) author(i int) record.Author { return c.authors[i].id }

func (c *crdtCluster) ready(ctx context.Context) error {
	for i, n := range c.nodes {
		want := len(c.top.neighbours(i))
		for len(n.ps.ListPeers(crdtTopic)) < want {
			select {
			case <-ctx.Done():
				return fmt.Errorf("node %d sees %d of its %d neighbours in the topic: %w", i, len(n.ps.ListPeers(crdtTopic)), want, ctx.Err())
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return nil
}

// write signs the record outside go-ds-crdt (an application would) and
// puts it: go-ds-crdt makes a delta, stores it as a DAG block, merges it and
// broadcasts the new head's CID; peers fetch the block over bitswap.
func (c *crdtCluster) write(ctx context.Context, at int, version uint64) error {
	r, err := c.authors[at].profile(version, fmt.Sprintf("Bench node %d v%d", at, version))
	if err != nil {
		return err
	}
	return c.nodes[at].store.Put(ctx, ds.NewKey(crdtKey(r)), r.Raw)
}

func (c *crdtCluster) counters() []*counter {
	var out []*counter
	for _, n := range c.nodes {
		out = append(out, n.bw)
	}
	return out
}

// bytesIn is what all nodes of c received so far; on loopback between
// them, that is also what they sent.
func bytesIn(c cluster) int64 {
	var t int64
	for _, n := range c.counters() {
		t += n.in.Load()
	}
	return t
}

// dropped counts the head broadcasts the nodes' subscriptions had no room
// for.
func (c *crdtCluster) dropped() int64 {
	var t int64
	for _, n := range c.nodes {
		t += n.drops.dropped.Load()
	}
	return t
}

func (c *crdtCluster) close() {
	parallel(len(c.nodes), func(i int) { c.nodes[i].close() })
}
