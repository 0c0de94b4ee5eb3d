package sim

import (
	"context"
	"fmt"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/mentormesh/mentormesh/sync/reconcile"
	"github.com/mentormesh/mentormesh/sync/record"
)

// via is the path by which a record reached a node's store.
type via int

const (
	viaLocal   via = iota // written by the node itself
	viaGossip             // the GossipSub validator (ingest.Pipeline.Ingest)
	viaCatchUp            // a catch-up session (ingest.Pipeline.IngestBatch)
)

// observer collects what the simulation measures. Nodes report to it from
// their own goroutines; waiters block until a condition on its state holds.
type observer struct {
	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change

	recs map[record.ID]*recState
	// held counts the records each node stores; complete is when it first
	// held want of them (zero until then).
	held     []int
	want     int
	complete []time.Time
	// mesh is each node's GossipSub mesh, from Graft and Prune, to wait
	// for the meshes to form at the start (GossipSub traces no prune when
	// a peer disconnects, so it is not kept up to date after that).
	mesh []map[peer.ID]bool

	// Counters since the last reset.
	delays      []time.Duration // publish to store, per (record, node) by gossip
	byPath      [3]int          // stores by path
	firsts      int             // messages received that were new to the node
	dups        int             // messages received that the node had seen
	dropped     int             // messages dropped from a full outbound queue
	sessions    int             // catch-up sessions (initiator side)
	sessionErrs int
	sessionIn   int64 // bytes the initiators received
	sessionOut  int64 // bytes the initiators sent
}

// recState follows one record written during the simulation.
type recState struct {
	published time.Time
	stored    int // nodes holding it, the origin included
	last      time.Time
}

func newObserver(nodes int) *observer {
	o := &observer{
		changed:  make(chan struct{}),
		recs:     map[record.ID]*recState{},
		held:     make([]int, nodes),
		complete: make([]time.Time, nodes),
		mesh:     make([]map[peer.ID]bool, nodes),
	}
	for i := range o.mesh {
		o.mesh[i] = map[peer.ID]bool{}
	}
	return o
}

// notify wakes the waiters; called with o.mu held.
func (o *observer) notify() {
	close(o.changed)
	o.changed = make(chan struct{})
}

// wait blocks until cond (called with o.mu held) is true, ctx ends or
// timeout passes.
func (o *observer) wait(ctx context.Context, timeout time.Duration, what string, cond func() bool) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		o.mu.Lock()
		ok, ch := cond(), o.changed
		o.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return fmt.Errorf("%s: not done after %s", what, timeout)
		}
	}
}

// resetCounters starts a new phase.
func (o *observer) resetCounters() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.delays = nil
	o.byPath = [3]int{}
	o.firsts, o.dups, o.dropped = 0, 0, 0
	o.sessions, o.sessionErrs, o.sessionIn, o.sessionOut = 0, 0, 0, 0
}

// setWant sets the number of records that makes a node complete and
// forgets earlier completions. It returns how many records the nodes lack
// in all, and which nodes lack some.
func (o *observer) setWant(n int) (missing int, lacking []bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.want = n
	now := time.Now()
	lacking = make([]bool, len(o.held))
	for i, h := range o.held {
		o.complete[i] = time.Time{}
		if h >= n {
			o.complete[i] = now
		}
		lacking[i] = h < n
		missing += max(0, n-h)
	}
	return missing, lacking
}

// published registers a record just before it is handed to GossipSub;
// the origin has stored it.
func (o *observer) published(origin int, rec *record.Record) *recState {
	o.mu.Lock()
	defer o.mu.Unlock()
	rs := &recState{published: time.Now(), stored: 1}
	o.recs[rec.ID] = rs
	o.storedLocked(origin, viaLocal)
	return rs
}

// records returns the number of records written so far.
func (o *observer) records() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.recs)
}

// stored is called when a node stored a record from a peer.
func (o *observer) stored(node int, rec *record.Record, path via) {
	now := time.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	if rs, ok := o.recs[rec.ID]; ok {
		rs.stored++
		rs.last = now
		if path == viaGossip {
			o.delays = append(o.delays, now.Sub(rs.published))
		}
	}
	o.storedLocked(node, path)
}

func (o *observer) storedLocked(node int, path via) {
	o.held[node]++
	o.byPath[path]++
	if o.want > 0 && o.held[node] == o.want {
		o.complete[node] = time.Now()
	}
	o.notify()
}

func (o *observer) session(initiated bool, st reconcile.Stats, err error) {
	if !initiated {
		return // counted once, by the initiator
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sessions++
	if err != nil {
		o.sessionErrs++
	}
	o.sessionIn += st.BytesReceived
	o.sessionOut += st.BytesSent
}

// tracer is a GossipSub RawTracer for one node: it counts the record
// messages the node receives (new or duplicate) and drops, and follows its
// mesh.
type tracer struct {
	node int
	self peer.ID
	obs  *observer
}

var _ pubsub.RawTracer = (*tracer)(nil)

func (t *tracer) ValidateMessage(msg *pubsub.Message) {
	if msg.ReceivedFrom == t.self {
		return // our own publication
	}
	t.obs.mu.Lock()
	t.obs.firsts++
	t.obs.mu.Unlock()
}

func (t *tracer) DuplicateMessage(*pubsub.Message) {
	t.obs.mu.Lock()
	t.obs.dups++
	t.obs.mu.Unlock()
}

func (t *tracer) DropRPC(rpc *pubsub.RPC, _ peer.ID) {
	if n := len(rpc.GetPublish()); n > 0 {
		t.obs.mu.Lock()
		t.obs.dropped += n
		t.obs.mu.Unlock()
	}
}

func (t *tracer) Graft(p peer.ID, _ string) {
	t.obs.mu.Lock()
	defer t.obs.mu.Unlock()
	t.obs.mesh[t.node][p] = true
	t.obs.notify()
}

func (t *tracer) Prune(p peer.ID, _ string) {
	t.obs.mu.Lock()
	defer t.obs.mu.Unlock()
	delete(t.obs.mesh[t.node], p)
	t.obs.notify()
}

func (t *tracer) OnNewOutboundStream(peer.ID, protocol.ID)             {}
func (t *tracer) OnClosedOutboundStream(peer.ID)                       {}
func (t *tracer) Join(string)                                          {}
func (t *tracer) Leave(string)                                         {}
func (t *tracer) DeliverMessage(*pubsub.Message)                       {}
func (t *tracer) RejectMessage(*pubsub.Message, string)                {}
func (t *tracer) ThrottlePeer(peer.ID)                                 {}
func (t *tracer) RecvRPC(*pubsub.RPC)                                  {}
func (t *tracer) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (t *tracer) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
func (t *tracer) UndeliverableMessage(*pubsub.Message)                 {}
