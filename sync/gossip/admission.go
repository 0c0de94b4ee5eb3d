package gossip

import (
	"sync/atomic"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/mentormesh/mentormesh/internal/ratelimit"
)

// DefaultPeerMessageRate is how many messages one peer may hand to
// validation: 128 at once, then 32 a second; a newly connected peer starts
// with 16 and earns the rest in a few seconds. GossipSub validates
// messages from every peer through one queue, first come first served: a
// peer that sends faster than the node validates fills it, and GossipSub
// then drops whatever arrives next, honest records included, silently; a
// peer that sends a burst delays every message behind it. Honest peers
// relay what their community writes, which the per-author rate limit keeps
// far below this; a node's own burst of writes is paced to that limit (50),
// and those of a node that just connected reach its peers by the catch-up
// session of its own records that starts at once.
var DefaultPeerMessageRate = ratelimit.Rate{Burst: 128, Every: time.Second / 32, Initial: 16}

// maxBudgetPeers bounds the peers whose message budget is remembered.
const maxBudgetPeers = 1024

// floodExcess is how many messages over its budget a peer may send (on top
// of the budget's refill rate) before it is reported as flooding, as many
// as the burst: a peer that sends twice its budget's burst at once, or
// twice its rate for a couple of seconds. No honest peer comes near it.
const floodExcess = 128

// Stats count what GossipSub dropped before the pipeline saw it.
type Stats struct {
	// OverBudget counts messages dropped because their peer exceeded its
	// message rate (DefaultPeerMessageRate).
	OverBudget atomic.Uint64
	// QueueFull and Throttled count messages GossipSub itself dropped: its
	// validation queue was full, or too many validations were running.
	QueueFull, Throttled atomic.Uint64
}

// admission drops the messages of a peer beyond its budget, before they
// reach the validation queue. It runs on GossipSub's event loop, for every
// RPC, before the graylist check.
type admission struct {
	lim *ratelimit.Limiter[peer.ID]
	// excess tolerates floodExcess dropped messages per peer (refilling
	// at the budget's rate); a peer that exhausts it is reported to
	// onFlood.
	excess  *ratelimit.Limiter[peer.ID]
	onFlood func(peer.ID)
	stats   *Stats
}

func newAdmission(rate ratelimit.Rate, onFlood func(peer.ID), stats *Stats) *admission {
	return &admission{
		lim:     ratelimit.New[peer.ID](rate, maxBudgetPeers, nil),
		excess:  ratelimit.New[peer.ID](ratelimit.Rate{Burst: floodExcess, Every: rate.Every}, maxBudgetPeers, nil),
		onFlood: onFlood,
		stats:   stats,
	}
}

func (a *admission) inspect(from peer.ID, rpc *pubsub.RPC) error {
	n := len(rpc.Publish)
	if n == 0 {
		return nil
	}
	ok := a.lim.AllowN(from, n)
	if ok == n {
		return nil
	}
	// Keep the RPC (its control part matters) without the excess.
	rpc.Publish = rpc.Publish[:ok]
	over := n - ok
	a.stats.OverBudget.Add(uint64(over))
	if a.excess.AllowN(from, over) < over && a.onFlood != nil {
		a.onFlood(from)
	}
	return nil
}

// dropTracer counts GossipSub's own drops (pubsub.RawTracer).
type dropTracer struct{ stats *Stats }

var _ pubsub.RawTracer = dropTracer{}

func (t dropTracer) RejectMessage(_ *pubsub.Message, reason string) {
	switch reason {
	case pubsub.RejectValidationQueueFull:
		t.stats.QueueFull.Add(1)
	case pubsub.RejectValidationThrottled:
		t.stats.Throttled.Add(1)
	}
}

func (dropTracer) AddPeer(peer.ID, protocol.ID)                         {}
func (dropTracer) RemovePeer(peer.ID)                                   {}
func (dropTracer) OnNewOutboundStream(peer.ID, protocol.ID)             {}
func (dropTracer) OnClosedOutboundStream(peer.ID)                       {}
func (dropTracer) OnClosedIncomingStream(peer.ID, protocol.ID)          {}
func (dropTracer) Join(string)                                          {}
func (dropTracer) Leave(string)                                         {}
func (dropTracer) Graft(peer.ID, string)                                {}
func (dropTracer) Prune(peer.ID, string)                                {}
func (dropTracer) ValidateMessage(*pubsub.Message)                      {}
func (dropTracer) DeliverMessage(*pubsub.Message)                       {}
func (dropTracer) DuplicateMessage(*pubsub.Message)                     {}
func (dropTracer) ThrottlePeer(peer.ID)                                 {}
func (dropTracer) RecvRPC(*pubsub.RPC)                                  {}
func (dropTracer) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (dropTracer) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
func (dropTracer) DropRPC(*pubsub.RPC, peer.ID)                         {}
func (dropTracer) UndeliverableMessage(*pubsub.Message)                 {}
