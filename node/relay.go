package node

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/host/autorelay"
	relayv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	"github.com/libp2p/go-libp2p/p2p/protocol/holepunch"
	ma "github.com/multiformats/go-multiaddr"
)

// Limits of the circuit relay a community node runs. go-libp2p's defaults
// (relayv2.DefaultResources) cut every relayed connection after 2 minutes
// or 128 KiB in either direction, and accept 128 reservations, at most 32
// from one ASN: enough for a hole punch, not for catching up a community
// (GossipSub ignores relayed connections, so catch-up is how records cross
// a relay). Through such a relay a catch-up moves on by a few dozen
// records per relayed connection (32 KiB frames over limited connections,
// reconcile.LimitedFrameBudget, then a new connection): 1 000 records of
// 1.1 KiB took 2 min 8 s on one machine. With the limits below 5 000 took
// one session, 2.2 s from the node's start (TestRelayCatchUpVolume); a
// backlog beyond 16 MiB takes several relayed connections.
const (
	// CommunityRelayDuration is how long a relayed connection may last.
	CommunityRelayDuration = 15 * time.Minute
	// CommunityRelayData is how many bytes a relayed connection may carry
	// in each direction: about 16 000 records of 1 KiB.
	CommunityRelayData = 16 << 20
	// CommunityRelayReservations is how many peers may hold a slot at once.
	CommunityRelayReservations = 1024
)

// communityRelayResources returns the relay limits of a community node.
func communityRelayResources() relayv2.Resources {
	r := relayv2.DefaultResources()
	r.Limit = &relayv2.RelayLimit{Duration: CommunityRelayDuration, Data: CommunityRelayData}
	r.MaxReservations = CommunityRelayReservations
	r.MaxReservationsPerASN = 256 // a city's community often shares an ISP
	r.MaxCircuits = 32
	r.BufferSize = 16 << 10
	return r
}

// Connection manager sizing of a community node: it keeps every member
// that holds a relay slot or gossips with it. The resource manager's
// budget of a community node (communityResources) allows twice the high
// mark, so the connection manager's trimming, not refusal, bounds it.
const (
	communityConnLow  = 200
	communityConnHigh = 400
)

// Reachability values of Options.Reachability.
const (
	ReachabilityAuto    = "auto"
	ReachabilityPrivate = "private"
	ReachabilityPublic  = "public"
)

// natOptions returns the host options for NAT traversal: AutoNAT v2,
// hole punching (DCUtR), AutoRelay drawing on src, and on a community
// node the AutoNAT v1 service (AutoRelay and the DHT's automatic mode
// follow v1's verdict, so some peer must answer it). The relay service of
// a community node is started on the host afterwards (startRelayService).
// tracer, if not nil, is told about every hole punch.
func natOptions(opts Options, src *relaySource, tracer holepunch.EventTracer) ([]libp2p.Option, error) {
	var hpOpts []holepunch.Option
	if tracer != nil {
		hpOpts = append(hpOpts, holepunch.WithTracer(tracer))
	}
	out := []libp2p.Option{
		libp2p.EnableAutoNATv2(),
		libp2p.EnableHolePunching(hpOpts...),
		libp2p.EnableAutoRelayWithPeerSource(src.peerSource,
			autorelay.WithMinCandidates(1), // a community may have a single relay
			autorelay.WithBootDelay(10*time.Second),
			autorelay.WithBackoff(5*time.Minute),
			autorelay.WithNumRelays(2),
		),
	}
	switch opts.Reachability {
	case "", ReachabilityAuto:
	case ReachabilityPrivate:
		out = append(out, libp2p.ForceReachabilityPrivate())
	case ReachabilityPublic:
		out = append(out, libp2p.ForceReachabilityPublic())
	default:
		return nil, fmt.Errorf("--reachability %q: want auto, private or public", opts.Reachability)
	}
	if opts.CommunityNode {
		out = append(out, libp2p.EnableNATService())
	}
	return out, nil
}

// startRelayService runs a circuit v2 relay with the community limits on
// the host, whatever AutoNAT says: a community node is deployed to be
// reachable, and libp2p's own relay manager would wait for AutoNAT to
// confirm it, which never happens on addresses AutoNAT does not test.
func (n *netNode) startRelayService() error {
	r, err := relayv2.New(n.h, relayv2.WithResources(communityRelayResources()))
	if err != nil {
		return fmt.Errorf("starting the relay service: %w", err)
	}
	n.relay = r
	return nil
}

// parseAddrInfos parses multiaddrs ending in /p2p/<peer ID>; flag names
// the option in error messages. Addresses of one peer are merged.
func parseAddrInfos(flag string, addrs []string) ([]peer.AddrInfo, error) {
	var out []peer.AddrInfo
	for _, s := range addrs {
		m, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("%s %q is not a multiaddr: %w", flag, s, err)
		}
		ai, err := peer.AddrInfoFromP2pAddr(m)
		if err != nil {
			return nil, fmt.Errorf("%s %q must end in /p2p/<peer ID>: %w", flag, s, err)
		}
		if i := slices.IndexFunc(out, func(o peer.AddrInfo) bool { return o.ID == ai.ID }); i >= 0 {
			out[i].Addrs = append(out[i].Addrs, ai.Addrs...)
			continue
		}
		out = append(out, *ai)
	}
	return out, nil
}

// relaySource gives AutoRelay its candidates: the configured relays
// first, then community nodes found on the DHT.
type relaySource struct {
	static []peer.AddrInfo

	mu    sync.Mutex
	found map[peer.ID]peer.AddrInfo
}

func newRelaySource(static []peer.AddrInfo) *relaySource {
	return &relaySource{static: static, found: map[peer.ID]peer.AddrInfo{}}
}

// add records a community node found by discovery.
func (s *relaySource) add(ai peer.AddrInfo) {
	if len(ai.Addrs) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.found[ai.ID] = ai
}

// all returns the configured relays, then the found ones in random order.
func (s *relaySource) all() []peer.AddrInfo {
	out := slices.Clone(s.static)
	s.mu.Lock()
	var found []peer.AddrInfo
	for id, ai := range s.found {
		if !slices.ContainsFunc(out, func(o peer.AddrInfo) bool { return o.ID == id }) {
			found = append(found, ai)
		}
	}
	s.mu.Unlock()
	rand.Shuffle(len(found), func(i, j int) { found[i], found[j] = found[j], found[i] })
	return append(out, found...)
}

func (s *relaySource) peerSource(ctx context.Context, num int) <-chan peer.AddrInfo {
	all := s.all()
	if len(all) > num {
		all = all[:num]
	}
	ch := make(chan peer.AddrInfo, len(all))
	for _, ai := range all {
		ch <- ai
	}
	close(ch)
	return ch
}

// connectViaRelays dials p through each relay this node is connected to,
// until one works: the way to reach a peer whose own addresses are not
// reachable from here and that did not (yet) advertise a relay address.
// The peer must hold a reservation on the relay.
func (n *netNode) connectViaRelays(ctx context.Context, p peer.ID) error {
	var errs []error
	for _, r := range n.relays.all() {
		if r.ID == p || n.h.Network().Connectedness(r.ID) != network.Connected {
			continue
		}
		circuit, err := ma.NewMultiaddr("/p2p/" + r.ID.String() + "/p2p-circuit")
		if err != nil {
			return err
		}
		var addrs []ma.Multiaddr
		for _, c := range n.h.Network().ConnsToPeer(r.ID) {
			if !c.Stat().Limited {
				addrs = append(addrs, c.RemoteMultiaddr().Encapsulate(circuit))
			}
		}
		if len(addrs) == 0 {
			continue
		}
		dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err = n.h.Connect(dctx, peer.AddrInfo{ID: p, Addrs: addrs})
		cancel()
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("via %s: %w", r.ID, err))
	}
	if len(errs) == 0 {
		return errors.New("no connected relay")
	}
	return errors.Join(errs...)
}

// relayOnly reports whether every connection to p is limited (relayed):
// GossipSub does not use such connections, so catch-up is the only path.
func (n *netNode) relayOnly(p peer.ID) bool {
	conns := n.h.Network().ConnsToPeer(p)
	if len(conns) == 0 {
		return false
	}
	for _, c := range conns {
		if !c.Stat().Limited {
			return false
		}
	}
	return true
}

// logRelayAddrs reports when this node becomes reachable through a relay,
// or stops being so: the addresses peers can use to reach it behind NAT.
func (n *netNode) logRelayAddrs() {
	defer n.wg.Done()
	sub, err := n.h.EventBus().Subscribe(new(event.EvtAutoRelayAddrsUpdated))
	if err != nil {
		return
	}
	defer sub.Close()
	for {
		select {
		case <-n.ctx.Done():
			return
		case e, ok := <-sub.Out():
			if !ok {
				return
			}
			addrs := e.(event.EvtAutoRelayAddrsUpdated).RelayAddrs
			if len(addrs) == 0 {
				n.log.Info("no longer reachable through a relay")
				continue
			}
			n.log.Info("reachable through a relay", "addrs", addrs)
			n.disc.readvertise() // provider records with the relay addresses
		}
	}
}
