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

// libp2p resource limits for a laptop. go-libp2p's defaults scale with the
// machine (1/8 of its memory, half its file descriptors); a node on a
// laptop should stay small whatever the laptop, so the limits are scaled
// from a fixed budget and capped explicitly.
const (
	// rcMemory is what the whole libp2p stack (buffers, stream windows)
	// may reserve.
	rcMemory = 256 << 20
	// rcFDs is the file descriptors libp2p may hold (sockets).
	rcFDs = 512
	// rcConns caps connections: the connection manager trims to connLow
	// above connHigh (96); this is the hard ceiling while it does.
	rcConns         = 192
	rcConnsInbound  = 128
	rcConnsOutbound = 128
	// rcPeerConns caps connections per peer (TCP and QUIC dialled at once
	// make two; a few more cover reconnects).
	rcPeerConns = 4
	// rcPeerMemory is what one peer's connections may reserve.
	rcPeerMemory = 32 << 20
)

// gossipProtocols are the GossipSub protocol IDs a node speaks.
var gossipProtocols = []protocol.ID{pubsub.GossipSubID_v13, pubsub.GossipSubID_v12, pubsub.GossipSubID_v11, pubsub.GossipSubID_v10, pubsub.FloodSubID}

// resourceLimits returns the node's resource limits: go-libp2p's defaults
// (with its service limits for identify, ping and the like) scaled to
// rcMemory and rcFDs, per-protocol limits for mentormesh's own protocols,
// and the explicit caps above.
func resourceLimits() rcmgr.ConcreteLimitConfig {
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
			Conns: rcConns, ConnsInbound: rcConnsInbound, ConnsOutbound: rcConnsOutbound,
			Streams: 2048, StreamsInbound: 1024, StreamsOutbound: 2048,
			Memory: rcMemory, FD: rcFDs,
		},
		Transient: rcmgr.ResourceLimits{
			Conns: 64, ConnsInbound: 32, ConnsOutbound: 64,
			Streams: 256, StreamsInbound: 128, StreamsOutbound: 256,
			Memory: 32 << 20, FD: 64,
		},
		PeerDefault: rcmgr.ResourceLimits{
			Conns: rcPeerConns, ConnsInbound: rcPeerConns, ConnsOutbound: rcPeerConns,
			Streams: 256, StreamsInbound: 128, StreamsOutbound: 256,
			Memory: rcPeerMemory,
		},
	}
	return caps.Build(limits.Scale(rcMemory, rcFDs))
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

// newResourceManager returns a resource manager enforcing resourceLimits
// and the per-IP connection limits.
func newResourceManager() (network.ResourceManager, error) {
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(resourceLimits()),
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
