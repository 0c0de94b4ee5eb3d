package gossip

import (
	"sync/atomic"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/mentormesh/mentormesh/internal/netaddr"
	"github.com/mentormesh/mentormesh/internal/ratelimit"
)

// DefaultPeerMessageRate is how many messages one peer may hand to
// validation: 512 at once, then 128 a second; a newly connected peer starts
// with 16 and earns the rest over a few seconds. GossipSub validates
// messages from every peer through one queue, first come first served: a
// peer that sends faster than the node validates fills it, and GossipSub
// then drops whatever arrives next, honest records included, silently; a
// peer that sends a burst delays every message behind it. Honest peers
// relay what their community writes, which the per-author rate limit
// bounds (a spammer's burst is relayed once by each peer: 50 records);
// a node's own burst of writes is paced to that limit, and those of a
// node that just connected reach its peers by the catch-up session of its
// own records that starts at once.
var DefaultPeerMessageRate = ratelimit.Rate{Burst: 512, Every: time.Second / 128, Initial: 16}

// DefaultAddrMessageRate is the same budget for all the peers connected
// from one IP address (IPv4, or IPv6 /64) together, so that an attacker
// cannot multiply its budget by making peer IDs; several honest laptops
// behind one router share it, far below it. Peers on the same host
// (127.0.0.1, ::1) have none.
var DefaultAddrMessageRate = ratelimit.Rate{Burst: 1024, Every: time.Second / 256}

// maxBudgetPeers bounds the peers (and addresses) whose message budget is
// remembered.
const maxBudgetPeers = 1024

// floodExcess is how many messages over its own budget a peer may send (on
// top of the budget's refill rate) before it is reported as flooding. No
// honest peer comes near it. Messages dropped because the peer's address
// is over its budget do not count: an honest peer may share an address
// with an attacker.
const floodExcess = 128

// Stats count what GossipSub dropped before the pipeline saw it.
type Stats struct {
	// OverBudget counts messages dropped because their peer, or its
	// address, exceeded its message rate.
	OverBudget atomic.Uint64
	// QueueFull and Throttled count messages GossipSub itself dropped: its
	// validation queue was full, or too many validations were running.
	QueueFull, Throttled atomic.Uint64
}

// admission drops the messages of a peer beyond its budget, or beyond its
// address's, before they reach the validation queue. It runs on
// GossipSub's event loop, for every RPC, before the graylist check.
type admission struct {
	lim     *ratelimit.Limiter[peer.ID]
	addrLim *ratelimit.Limiter[string]
	// addrOf returns the budget key of a peer's address ("" for none).
	addrOf func(peer.ID) string
	// excess tolerates floodExcess dropped messages per peer (refilling
	// at the budget's rate); a peer that exhausts it is reported to
	// onFlood.
	excess  *ratelimit.Limiter[peer.ID]
	onFlood func(peer.ID)
	stats   *Stats
}

func newAdmission(rate, addrRate ratelimit.Rate, addrOf func(peer.ID) string, onFlood func(peer.ID), stats *Stats) *admission {
	if addrOf == nil {
		addrOf = func(peer.ID) string { return "" }
	}
	return &admission{
		lim:     ratelimit.New[peer.ID](rate, maxBudgetPeers, nil),
		addrLim: ratelimit.New[string](addrRate, maxBudgetPeers, nil),
		addrOf:  addrOf,
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
	if over := n - ok; over > 0 && a.excess.AllowN(from, over) < over && a.onFlood != nil {
		a.onFlood(from)
	}
	if addr := a.addrOf(from); addr != "" && ok > 0 {
		ok = a.addrLim.AllowN(addr, ok)
	}
	if ok < n {
		// Keep the RPC (its control part matters) without the excess.
		rpc.Publish = rpc.Publish[:ok]
		a.stats.OverBudget.Add(uint64(n - ok))
	}
	return nil
}

// addrKey returns the budget key of a peer's remote address (netaddr.Key
// of its first connection's), "" for peers on this host or without an IP
// address.
func addrKey(h host.Host, p peer.ID) string {
	conns := h.Network().ConnsToPeer(p)
	if len(conns) == 0 {
		return ""
	}
	return netaddr.Key(conns[0].RemoteMultiaddr())
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
