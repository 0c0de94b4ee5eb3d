package node

import (
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	xrate "github.com/libp2p/go-libp2p/x/rate"

	"github.com/mentormesh/mentormesh/sync/reconcile"
)

// resourceBudget is what the libp2p stack of a node may hold. go-libp2p's
// defaults scale with the machine (1/8 of its memory, half its file
// descriptors); a node on a laptop should stay small whatever the laptop,
// so the limits are scaled from a fixed budget and capped explicitly. A
// community node gets a larger fixed budget, sized to its connection
// manager (resourceBudgetFor).
type resourceBudget struct {
	// memory is what the whole stack (buffers, stream windows) may reserve.
	memory int64
	// fds is the file descriptors libp2p may hold (sockets).
	fds int
	// conns caps connections: the connection manager trims to its low mark
	// above its high mark; this is the hard ceiling while it does, twice
	// the high mark so that trimming, not refusing, is what keeps the
	// count down.
	conns, connsInbound, connsOutbound int
	// streams caps streams over all connections (about five per
	// connection: gossip both ways, identify, catch-up, DHT or relay).
	streams, streamsInbound, streamsOutbound int
	// transient caps connections and streams not yet tied to a peer or a
	// protocol (handshakes in progress).
	transientConns, transientConnsInbound int
	transientStreams                      int
}

// laptopResources is the budget of an ordinary node (connection manager
// connLow/connHigh, 32/96).
var laptopResources = resourceBudget{
	memory: 256 << 20, fds: 512,
	conns: 192, connsInbound: 128, connsOutbound: 128,
	streams: 2048, streamsInbound: 1024, streamsOutbound: 2048,
	transientConns: 64, transientConnsInbound: 32, transientStreams: 256,
}

// communityResources is the budget of a community node (connection manager
// communityConnLow/communityConnHigh, 200/400): most of its connections are
// members dialling in, and it relays circuits (relay.go). The systemd unit
// allows 8192 file descriptors (docs/DEPLOYMENT.md), leaving Badger and
// the API plenty beside libp2p's 2048.
var communityResources = resourceBudget{
	memory: 1 << 30, fds: 2048,
	conns: 2 * communityConnHigh, connsInbound: 768, connsOutbound: 384,
	streams: 8192, streamsInbound: 4096, streamsOutbound: 8192,
	transientConns: 128, transientConnsInbound: 64, transientStreams: 1024,
}

// resourceBudgetFor returns the budget of a node started with opts.
func resourceBudgetFor(opts Options) resourceBudget {
	if opts.CommunityNode {
		return communityResources
	}
	return laptopResources
}

const (
	// rcPeerConns caps connections per peer (TCP and QUIC dialled at once
	// make two; a few more cover reconnects).
	rcPeerConns = 4
	// rcPeerMemory is what one peer's connections may reserve.
	rcPeerMemory = 32 << 20
)

// gossipProtocols are the GossipSub protocol IDs a node speaks.
var gossipProtocols = []protocol.ID{pubsub.GossipSubID_v13, pubsub.GossipSubID_v12, pubsub.GossipSubID_v11, pubsub.GossipSubID_v10, pubsub.FloodSubID}

// resourceLimits returns the node's resource limits: go-libp2p's defaults
// (with its service limits for identify, ping, the relay and the like)
// scaled to b's memory and file descriptors, per-protocol limits for
// mentormesh's own protocols, and b's explicit caps.
func resourceLimits(b resourceBudget) rcmgr.ConcreteLimitConfig {
	limits := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&limits)
	// Catch-up: the service admits 8 inbound sessions at a time, one per
	// peer (reconcile.ServiceOptions.MaxInbound); a session is one stream.
	limits.AddProtocolLimit(reconcile.Protocol,
		rcmgr.BaseLimit{StreamsInbound: 16, StreamsOutbound: 16, Streams: 32, Memory: 64 << 20}, rcmgr.BaseLimitIncrease{})
	limits.AddProtocolPeerLimit(reconcile.Protocol,
		rcmgr.BaseLimit{StreamsInbound: 2, StreamsOutbound: 2, Streams: 4, Memory: 16 << 20}, rcmgr.BaseLimitIncrease{})
	// GossipSub keeps one long-lived stream each way per peer.
	for _, p := range gossipProtocols {
		limits.AddProtocolPeerLimit(p,
			rcmgr.BaseLimit{StreamsInbound: 2, StreamsOutbound: 2, Streams: 4, Memory: 16 << 20}, rcmgr.BaseLimitIncrease{})
	}
	caps := rcmgr.PartialLimitConfig{
		System: rcmgr.ResourceLimits{
			Conns: rcmgr.LimitVal(b.conns), ConnsInbound: rcmgr.LimitVal(b.connsInbound), ConnsOutbound: rcmgr.LimitVal(b.connsOutbound),
			Streams: rcmgr.LimitVal(b.streams), StreamsInbound: rcmgr.LimitVal(b.streamsInbound), StreamsOutbound: rcmgr.LimitVal(b.streamsOutbound),
			Memory: rcmgr.LimitVal64(b.memory), FD: rcmgr.LimitVal(b.fds),
		},
		Transient: rcmgr.ResourceLimits{
			Conns: rcmgr.LimitVal(b.transientConns), ConnsInbound: rcmgr.LimitVal(b.transientConnsInbound), ConnsOutbound: rcmgr.LimitVal(b.transientConns),
			Streams: rcmgr.LimitVal(b.transientStreams), StreamsInbound: rcmgr.LimitVal(b.transientStreams / 2), StreamsOutbound: rcmgr.LimitVal(b.transientStreams),
			Memory: rcmgr.LimitVal64(b.memory / 8), FD: rcmgr.LimitVal(b.fds / 8),
		},
		PeerDefault: rcmgr.ResourceLimits{
			Conns: rcPeerConns, ConnsInbound: rcPeerConns, ConnsOutbound: rcPeerConns,
			Streams: 256, StreamsInbound: 128, StreamsOutbound: 256,
			Memory: rcPeerMemory,
		},
	}
	return caps.Build(limits.Scale(b.memory, b.fds))
}

// Per-IP connection limits: go-libp2p's defaults (8 connections at a time
// per IPv4 address or IPv6 /56, 64 per IPv6 /48; new connections at 0.2 a
// second after a burst of 16 per address), which go-libp2p waives for the
// whole loopback range. The node waives them only for 127.0.0.1 and ::1
// (several nodes on one machine), so tests can stand an attacker on
// another loopback address and see the limits apply to it.
var sameHost = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}

// newConnRateLimiter returns a limiter of new connections per address (a
// limiter keeps state, so each host needs its own).
func newConnRateLimiter() *xrate.Limiter {
	return &xrate.Limiter{
		NetworkPrefixLimits: []xrate.PrefixLimit{{Prefix: sameHost[0]}, {Prefix: sameHost[1]}}, // zero: unlimited
		SubnetRateLimiter: xrate.SubnetLimiter{
			IPv4SubnetLimits: []xrate.SubnetLimit{{PrefixLength: 32, Limit: xrate.Limit{RPS: 0.2, Burst: 16}}},
			IPv6SubnetLimits: []xrate.SubnetLimit{
				{PrefixLength: 56, Limit: xrate.Limit{RPS: 0.2, Burst: 16}},
				{PrefixLength: 48, Limit: xrate.Limit{RPS: 0.5, Burst: 80}},
			},
			GracePeriod: time.Minute,
		},
	}
}

// newResourceManager returns a resource manager enforcing b's limits
// (resourceLimits) and the per-IP connection limits.
func newResourceManager(b resourceBudget) (network.ResourceManager, error) {
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(resourceLimits(b)),
		rcmgr.WithConnRateLimiters(newConnRateLimiter()),
		rcmgr.WithNetworkPrefixLimit(
			[]rcmgr.NetworkPrefixLimit{{Network: sameHost[0], ConnCount: math.MaxInt}},
			[]rcmgr.NetworkPrefixLimit{{Network: sameHost[1], ConnCount: math.MaxInt}}),
	)
	if err != nil {
		return nil, fmt.Errorf("starting the libp2p resource manager: %w", err)
	}
	return rm, nil
}
