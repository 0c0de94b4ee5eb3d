package node

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/discovery"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	drouting "github.com/libp2p/go-libp2p/p2p/discovery/routing"
)

// DHTProtocolPrefix makes mentormesh's Kademlia DHT a network of its own:
// its protocol is /mentormesh/kad/1.0.0, so a node never answers or joins
// the IPFS DHT (/ipfs/kad/1.0.0), and IPFS nodes never enter its routing
// table.
const DHTProtocolPrefix = "/mentormesh"

// CommunityNodesNamespace is the rendezvous namespace community nodes
// advertise: nodes look for relays there.
const CommunityNodesNamespace = "mentormesh/community-nodes"

// CommunityNamespace returns the rendezvous namespace of a community: its
// members advertise it on the DHT and look each other up there.
func CommunityNamespace(community string) string { return "mentormesh/community/" + community }

// Discovery pacing. A round advertises what is due and looks up every
// joined community. Rounds start every few seconds and slow down to one
// every 10 minutes while they find nobody new; a node with an empty
// routing table (alone, or only LAN peers without the DHT) sends nothing
// and waits for a DHT server to connect.
const (
	discoveryMinInterval = 5 * time.Second
	discoveryMaxInterval = 10 * time.Minute
	// discoveryTarget is how many peers of a community a round connects
	// to at most, counting those already connected.
	discoveryTarget = 8
	findTimeout     = 30 * time.Second
	findLimit       = 64
)

// discoverer finds peers beyond the LAN: a Kademlia DHT with mentormesh's
// own protocol prefix, and a rendezvous namespace per community on it
// (provider records under the SHA-256 of the namespace, go-libp2p's
// p2p/discovery/routing).
type discoverer struct {
	n    *netNode
	dht  *dht.IpfsDHT
	rd   *drouting.RoutingDiscovery
	wake chan struct{}

	mu sync.Mutex
	// members holds the communities each peer was found in (or opened a
	// catch-up session for): the peers to reconcile with over a relay.
	members map[peer.ID]map[string]bool
	// nextAd is when each namespace is next advertised.
	nextAd map[string]time.Time
}

func newDiscoverer(n *netNode) (*discoverer, error) {
	mode := dht.ModeAuto // server once AutoNAT confirms the node is public
	if n.cfg.opts.CommunityNode {
		mode = dht.ModeServer
	}
	kad, err := dht.New(context.Background(), n.h, // stopped by close
		dht.ProtocolPrefix(DHTProtocolPrefix),
		dht.Mode(mode),
		dht.DisableValues(), // only provider records (rendezvous) are used
	)
	if err != nil {
		return nil, fmt.Errorf("starting the DHT: %w", err)
	}
	return &discoverer{
		n: n, dht: kad, rd: drouting.NewRoutingDiscovery(kad), wake: make(chan struct{}, 1),
		members: map[peer.ID]map[string]bool{}, nextAd: map[string]time.Time{},
	}, nil
}

// poke starts a round soon: a peer connected, a community was joined.
func (d *discoverer) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// readvertise advertises every namespace again in a round soon: the
// node's addresses changed in a way peers must learn (it became reachable
// through a relay), and its provider records carry the old ones until
// they are renewed, hours later.
func (d *discoverer) readvertise() {
	d.mu.Lock()
	clear(d.nextAd)
	d.mu.Unlock()
	d.poke()
}

// markMember records that p is in community.
func (d *discoverer) markMember(p peer.ID, community string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.members[p] == nil {
		if len(d.members) >= maxMembersKnown {
			d.forgetOne()
		}
		d.members[p] = map[string]bool{}
	}
	d.members[p][community] = true
}

// maxMembersKnown bounds the peers whose communities are remembered (peer
// IDs are free to make).
const maxMembersKnown = 4096

// forgetOne drops one remembered peer, a disconnected one if there is any.
// d.mu is held.
func (d *discoverer) forgetOne() {
	var any peer.ID
	for q := range d.members {
		if d.n.h.Network().Connectedness(q) != network.Connected {
			delete(d.members, q)
			return
		}
		any = q
	}
	delete(d.members, any)
}

// communitiesOf returns the joined communities p is known to be in.
func (d *discoverer) communitiesOf(p peer.ID) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for c := range d.members[p] {
		if d.n.cfg.members.has(c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

// loop runs discovery rounds until the node stops.
func (d *discoverer) loop() {
	defer d.n.wg.Done()
	sub, err := d.n.h.EventBus().Subscribe(new(event.EvtPeerIdentificationCompleted))
	if err != nil {
		d.n.log.Warn("internet discovery unavailable", "err", err)
		return
	}
	defer sub.Close()
	interval, idle := discoveryMinInterval, time.Second
	for {
		alone := d.dht.RoutingTable().Size() == 0
		wait := interval
		if alone {
			wait, idle = idle, min(2*idle, alonePoll)
		}
		if !d.wait(sub.Out(), wait, alone) {
			return
		}
		if d.dht.RoutingTable().Size() == 0 {
			continue
		}
		idle = time.Second
		if d.round(d.n.ctx) {
			interval = discoveryMinInterval
		} else {
			interval = min(2*interval, discoveryMaxInterval)
		}
	}
}

// alonePoll bounds how long a node with an empty routing table goes
// without looking at it again. The look is local (no traffic); it catches
// a DHT peer that was identified before the loop subscribed to the event.
const alonePoll = 30 * time.Second

// wait waits for the next round: d (with jitter), or until poked. A node
// that is alone also stops waiting a second after a peer was identified
// (the DHT takes a server into its table on that event). It returns false
// when the node stops.
func (d *discoverer) wait(identified <-chan any, wait time.Duration, alone bool) bool {
	t := time.NewTimer(wait + rand.N(wait/4+1))
	defer t.Stop()
	for {
		select {
		case <-d.n.ctx.Done():
			return false
		case <-identified:
			if alone {
				alone = false
				t.Reset(time.Second)
			}
		case <-d.wake:
			return true
		case <-t.C:
			return true
		}
	}
}

// round advertises the namespaces that are due and looks up every joined
// community (and, on a node that is not one, community nodes to use as
// relays). It reports whether it found a peer it did not know.
func (d *discoverer) round(ctx context.Context) (foundNew bool) {
	communities := d.n.cfg.members.list()
	namespaces := make([]string, 0, len(communities)+1)
	for _, c := range communities {
		namespaces = append(namespaces, CommunityNamespace(c))
	}
	if d.n.cfg.opts.CommunityNode {
		namespaces = append(namespaces, CommunityNodesNamespace)
	}
	for _, ns := range namespaces {
		d.advertise(ctx, ns)
	}
	for _, c := range communities {
		if d.find(ctx, c) {
			foundNew = true
		}
	}
	if !d.n.cfg.opts.CommunityNode {
		d.findCommunityNodes(ctx)
	}
	return foundNew
}

func (d *discoverer) advertise(ctx context.Context, ns string) {
	d.mu.Lock()
	due := !time.Now().Before(d.nextAd[ns])
	d.mu.Unlock()
	if !due {
		return
	}
	ttl, err := d.rd.Advertise(ctx, ns)
	if err != nil {
		if ctx.Err() == nil {
			d.n.log.Debug("advertising on the DHT", "namespace", ns, "err", err)
		}
		return
	}
	d.mu.Lock()
	d.nextAd[ns] = time.Now().Add(7 * ttl / 8)
	d.mu.Unlock()
	d.n.log.Debug("advertised on the DHT", "namespace", ns, "ttl", ttl)
}

// find looks up a community's namespace, remembers who is in it, and
// connects to some of them: directly if their addresses work, else
// through a relay.
func (d *discoverer) find(ctx context.Context, community string) (foundNew bool) {
	fctx, cancel := context.WithTimeout(ctx, findTimeout)
	defer cancel()
	ch, err := d.rd.FindPeers(fctx, CommunityNamespace(community), discovery.Limit(findLimit))
	if err != nil {
		return false
	}
	var candidates []peer.AddrInfo
	for ai := range ch {
		if ai.ID == d.n.h.ID() || ai.ID == "" {
			continue
		}
		d.mu.Lock()
		known := d.members[ai.ID][community]
		d.mu.Unlock()
		if !known {
			foundNew = true
			d.markMember(ai.ID, community)
		}
		if d.n.h.Network().Connectedness(ai.ID) != network.Connected {
			candidates = append(candidates, ai)
		}
	}
	// Members already connected: in the topic, or known and reached
	// through a relay.
	connected := len(d.n.g.TopicPeers(community)) + len(d.n.relayed.relayPeers(community))
	rand.Shuffle(len(candidates), func(i, j int) { candidates[i], candidates[j] = candidates[j], candidates[i] })
	var wg sync.WaitGroup
	for _, ai := range candidates[:min(len(candidates), max(0, discoveryTarget-connected))] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.connect(ctx, ai, community)
		}()
	}
	wg.Wait()
	return foundNew
}

// connect dials a peer found in a community, through a relay if a direct
// dial fails; a peer reached only through a relay is then caught up with
// over the relay (relayedCatchUp).
func (d *discoverer) connect(ctx context.Context, ai peer.AddrInfo, community string) {
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	err := d.n.h.Connect(cctx, ai)
	cancel()
	if err != nil {
		if rerr := d.n.connectViaRelays(ctx, ai.ID); rerr != nil {
			if ctx.Err() == nil {
				d.n.log.Debug("could not reach a community peer", "community", community, "peer", ai.ID, "err", err, "relay_err", rerr)
			}
			return
		}
	}
	how := "dht"
	if d.n.relayOnly(ai.ID) {
		how = "dht, through a relay"
	}
	d.n.log.Info("connected", "via", how, "community", community, "peer", ai.ID)
}

// findCommunityNodes looks up community nodes and offers them to
// AutoRelay as relay candidates.
func (d *discoverer) findCommunityNodes(ctx context.Context) {
	fctx, cancel := context.WithTimeout(ctx, findTimeout)
	defer cancel()
	ch, err := d.rd.FindPeers(fctx, CommunityNodesNamespace, discovery.Limit(16))
	if err != nil {
		return
	}
	for ai := range ch {
		if ai.ID != d.n.h.ID() {
			d.n.relays.add(ai)
		}
	}
}

func (d *discoverer) close() error { return d.dht.Close() }
