package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	relayv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/gossip"
	"github.com/mentormesh/mentormesh/sync/ingest"
	"github.com/mentormesh/mentormesh/sync/reconcile"
	"github.com/mentormesh/mentormesh/sync/record"
)

// MDNSServiceName is the DNS-SD service mentormesh nodes announce on the LAN.
const MDNSServiceName = "_mentormesh._udp"

// Connection manager sizing for a laptop: keep a few dozen connections,
// trim above a hundred.
const (
	connLow   = 32
	connHigh  = 96
	dialLimit = 20 // remembered peers dialled at start
)

type netConfig struct {
	key     crypto.PrivKey
	self    record.Author
	opts    Options
	store   store.Store
	pipe    *ingest.Pipeline
	log     *slog.Logger
	started time.Time
	events  *hub // may be nil
	members *membership
	mod     *moderation
	bans    *bans  // peers refused for flooding (floods.go)
	pacer   *pacer // paces publication of own records (floods.go)
}

// netNode is the network half of a node: host, gossip, discovery, and the
// publisher that drains the outbox.
type netNode struct {
	cfg       netConfig
	h         host.Host
	g         *gossip.Gossip
	mdns      mdns.Service
	log       *slog.Logger
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	wake      chan struct{}
	remember  chan peer.ID
	bootstrap []peer.AddrInfo
	catchUp   *catchUp
	// Beyond the LAN (discovery_dht.go, relay.go, catchup_relayed.go).
	disc    *discoverer
	relays  *relaySource
	relay   *relayv2.Relay // community nodes only
	relayed *relayedCatchUp
	nat     *natWatch // AutoNAT verdicts and hole punches (nat.go)

	taskMu  sync.Mutex
	closing bool
}

// spawn runs f in a goroutine the node waits for on close, unless the node
// is already closing (callbacks from libp2p can arrive during shutdown).
func (n *netNode) spawn(f func()) {
	n.taskMu.Lock()
	defer n.taskMu.Unlock()
	if n.closing {
		return
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f()
	}()
}

func startNet(cfg netConfig) (*netNode, error) {
	bootstrap, err := parseAddrInfos("--bootstrap", cfg.opts.Bootstrap)
	if err != nil {
		return nil, err
	}
	relays, err := parseAddrInfos("--relay", cfg.opts.Relays)
	if err != nil {
		return nil, err
	}
	// Relays are community nodes: dialled like bootstrap peers.
	for _, r := range relays {
		if !slices.ContainsFunc(bootstrap, func(b peer.AddrInfo) bool { return b.ID == r.ID }) {
			bootstrap = append(bootstrap, r)
		}
	}
	src := newRelaySource(relays)
	nat := newNATWatch(cfg.log)
	h, err := newHost(cfg, src, nat)
	if err != nil {
		return nil, err
	}
	if cfg.events != nil {
		h.Network().Notify(peerEvents(cfg.events))
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &netNode{
		cfg: cfg, h: h, log: cfg.log, ctx: ctx, cancel: cancel,
		wake: make(chan struct{}, 1), remember: make(chan peer.ID, 64), bootstrap: bootstrap, relays: src, nat: nat,
	}
	if cfg.opts.CommunityNode {
		if err := n.startRelayService(); err != nil {
			cancel()
			h.Close()
			return nil, err
		}
	}
	if n.disc, err = newDiscoverer(n); err != nil {
		n.close()
		return nil, err
	}
	// Gossip gets its own lifetime: it must outlive the loops below, which
	// publish through it, and stop before the host.
	n.g, err = gossip.New(context.Background(), h, cfg.pipe, gossip.Options{
		Logger:       cfg.log.With("subsystem", "gossip"),
		PubSubLogger: libraryLogger(cfg.log, "pubsub"),
		OnPeerJoin:   n.onPeerJoin,
		OnBadPeer:    n.onMisbehaving,
	})
	if err != nil {
		n.close()
		return nil, err
	}
	// Catch-up before the topics: joining one reports its peers at once.
	n.catchUp = newCatchUp(n, cfg.self, cfg.opts.CatchUpInterval)
	cfg.mod.setOnBlock(n.onBlocked)
	n.relayed = newRelayedCatchUp(n)
	for _, c := range cfg.members.list() {
		if err := n.g.Join(c); err != nil {
			n.close()
			return nil, err
		}
	}
	if !cfg.opts.NoMDNS {
		n.mdns = mdns.NewMdnsService(h, MDNSServiceName, mdnsNotifee{n})
		if err := n.mdns.Start(); err != nil {
			n.log.Warn("LAN discovery (mDNS) unavailable", "err", err)
			n.mdns = nil
		}
	}
	n.wg.Add(8)
	go func() {
		defer n.wg.Done()
		n.nat.watch(n.ctx, h.EventBus())
	}()
	go n.logRelayAddrs()
	go n.disc.loop()
	go n.relayed.loop()
	go n.catchUp.loop()
	go n.publishLoop()
	go n.rememberLoop()
	go n.connectLoop()
	return n, nil
}

func newHost(cfg netConfig, relays *relaySource, nat *natWatch) (host.Host, error) {
	low, high := connLow, connHigh
	if cfg.opts.CommunityNode {
		low, high = communityConnLow, communityConnHigh
	}
	cm, err := connmgr.NewConnManager(low, high, connmgr.WithGracePeriod(time.Minute))
	if err != nil {
		return nil, err
	}
	natOpts, err := natOptions(cfg.opts, relays, nat)
	if err != nil {
		return nil, err
	}
	listen := cfg.opts.Listen
	explicit := len(listen) > 0
	if !explicit {
		listen = DefaultListen
	}
	mk := func(addrs []string) (host.Host, error) {
		opts := []libp2p.Option{
			libp2p.Identity(cfg.key),
			libp2p.ListenAddrStrings(addrs...),
			libp2p.Transport(tcp.NewTCPTransport),
			libp2p.Transport(quic.NewTransport),
			libp2p.Security(noise.ID, noise.New),
			libp2p.Security(libp2ptls.ID, libp2ptls.New),
			libp2p.ConnectionManager(cm),
			libp2p.UserAgent("mentormesh/" + cfg.opts.Version),
		}
		opts = append(opts, natOpts...)
		rm, err := newResourceManager(resourceBudgetFor(cfg.opts))
		if err != nil {
			return nil, err
		}
		if cfg.opts.BandwidthReporter != nil {
			opts = append(opts, libp2p.BandwidthReporter(cfg.opts.BandwidthReporter))
		}
		opts = append(opts, libp2p.ResourceManager(rm), libp2p.ConnectionGater(peerGater{cfg.mod, cfg.bans, cfg.opts.ConnectionGater}))
		h, err := libp2p.New(opts...)
		if err != nil {
			_ = rm.Close()
		}
		return h, err
	}
	var h host.Host
	if explicit {
		h, err = mk(listen)
	} else {
		h, err = listenOrFree(cfg.log, listen, mk)
	}
	if err != nil {
		return nil, fmt.Errorf("starting libp2p host (listen %v): %w", listen, err)
	}
	return h, nil
}

func (n *netNode) close() error {
	var errs []error
	if n.mdns != nil {
		errs = append(errs, n.mdns.Close())
	}
	if n.catchUp != nil {
		n.catchUp.svc.Close()
	}
	n.taskMu.Lock()
	n.closing = true
	n.taskMu.Unlock()
	n.cancel()
	n.wg.Wait()
	if n.disc != nil {
		errs = append(errs, n.disc.close())
	}
	if n.relay != nil {
		errs = append(errs, n.relay.Close())
	}
	if n.g != nil {
		errs = append(errs, n.g.Close())
	}
	errs = append(errs, n.h.Close())
	return errors.Join(errs...)
}

func (n *netNode) communities() []string { return n.g.Communities() }

// joinCommunity subscribes to a community's topic. GossipSub then tells the
// peers already connected, and reports those already in the topic as
// joining, which starts catch-up with each of them (onPeerJoin). There,
// only the lower peer ID of a pair reconciles the whole community, and a
// peer that saw this node leave and come back in an instant may report
// nothing; but this node is the one behind, so it reconciles the community
// itself with the peers whose ID is lower (with the others, onPeerJoin
// does).
func (n *netNode) joinCommunity(community string) error {
	if err := n.g.Join(community); err != nil {
		return err
	}
	n.disc.poke() // advertise it and look its members up
	for _, p := range n.g.TopicPeers(community) {
		if p < n.h.ID() {
			n.spawn(func() { n.catchUp.run(p, reconcile.Scope{Community: community}) })
		}
	}
	return nil
}

// leaveCommunity unsubscribes from a community's topic and ends the
// catch-up sessions this node runs for it.
func (n *netNode) leaveCommunity(community string) error {
	err := n.g.Leave(community)
	n.catchUp.left(community)
	return err
}

// communityPeers returns the peers subscribed to a community's topic.
func (n *netNode) communityPeers(community string) []string {
	out := []string{}
	for _, p := range n.g.TopicPeers(community) {
		out = append(out, p.String())
	}
	slices.Sort(out)
	return out
}

func (n *netNode) startedAt() time.Time { return n.cfg.started }

func (n *netNode) ingestStats() api.IngestStats {
	s := n.cfg.pipe.Stats()
	return api.IngestStats{Accepted: s.Accepted.Load(), Ignored: s.Ignored.Load(), Rejected: s.Rejected.Load(),
		RateLimited: s.RateLimited.Load(), OverBudget: n.g.Stats().OverBudget.Load()}
}

func (n *netNode) addrs() []string {
	suffix := "/p2p/" + n.h.ID().String()
	out := []string{}
	for _, a := range n.h.Addrs() {
		out = append(out, a.String()+suffix)
	}
	return out
}

func (n *netNode) peers() []api.Peer {
	out := []api.Peer{}
	topicsOf := map[peer.ID][]string{}
	for _, c := range n.g.Communities() {
		for _, p := range n.g.TopicPeers(c) {
			topicsOf[p] = append(topicsOf[p], c)
		}
	}
	for _, p := range n.h.Network().Peers() {
		conns := n.h.Network().ConnsToPeer(p)
		if len(conns) == 0 {
			continue
		}
		ap := api.Peer{PeerID: p.String(), Addrs: []string{}, Communities: topicsOf[p], Direction: conns[0].Stat().Direction.String(),
			Relayed: n.relayOnly(p)}
		if ap.Communities == nil {
			ap.Communities = []string{}
		}
		for _, c := range conns {
			ap.Addrs = append(ap.Addrs, c.RemoteMultiaddr().String())
		}
		if rtt := n.h.Peerstore().LatencyEWMA(p); rtt > 0 {
			ap.LatencyMS = float64(rtt.Microseconds()) / 1000
		}
		out = append(out, ap)
	}
	slices.SortFunc(out, func(a, b api.Peer) int { return strings.Compare(a.PeerID, b.PeerID) })
	return out
}

// published wakes the publisher after a local write.
func (n *netNode) published(rec *record.Record) {
	n.poke()
	n.relayed.localWrite(rec.Community) // gossip does not reach relay-only peers
}

func (n *netNode) poke() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

func (n *netNode) onPeerJoin(community string, p peer.ID) {
	n.log.Debug("peer joined community", "community", community, "peer", p)
	n.poke() // a new listener: publish what was waiting for one
	n.catchUp.peerJoined(community, p)
	n.rememberLater(p) // floods.go
}

// publishLoop drains the outbox whenever there may be something to send:
// after a local write, when a peer joins a topic, and every 30 s.
func (n *netNode) publishLoop() {
	defer n.wg.Done()
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	n.flushOutbox()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-n.wake:
		case <-t.C:
		}
		n.flushOutbox()
	}
}

func (n *netNode) flushOutbox() {
	var sent []record.ID
	err := n.cfg.store.Outbox(n.ctx, func(rec *record.Record) error {
		if !n.cfg.pacer.ready(rec.Author, n.poke) {
			return nil // published when the author's rate limit allows
		}
		err := n.g.Publish(n.ctx, rec)
		switch {
		case err == nil:
			n.cfg.pacer.sent(rec.Author)
			sent = append(sent, rec.ID)
		case errors.Is(err, gossip.ErrNoPeers):
			// Kept for when a peer joins.
			n.log.Debug("no peers yet; record stays in the outbox", "id", rec.ID)
		case errors.Is(err, ingest.ErrNotJoined):
			// A community left (or being joined): kept, and published if
			// the node joins it again.
			n.log.Debug("community not joined; record stays in the outbox", "id", rec.ID, "community", rec.Community)
		default:
			n.log.Warn("publishing record", "id", rec.ID, "err", err)
		}
		return nil
	})
	if err != nil && n.ctx.Err() == nil {
		n.log.Warn("reading outbox", "err", err)
	}
	if len(sent) > 0 {
		if err := n.cfg.store.RemoveFromOutbox(n.ctx, sent...); err != nil && n.ctx.Err() == nil {
			n.log.Warn("updating outbox", "err", err)
		}
		n.log.Debug("published local records", "count", len(sent))
	}
}

// rememberLoop stores peers that share a community, so the node can find
// them again after a restart without discovery.
func (n *netNode) rememberLoop() {
	defer n.wg.Done()
	for {
		select {
		case <-n.ctx.Done():
			return
		case p := <-n.remember:
			var addrs []string
			for _, a := range n.h.Peerstore().Addrs(p) {
				if manet := a.String(); !strings.Contains(manet, "/p2p-circuit") {
					addrs = append(addrs, manet)
				}
			}
			if len(addrs) == 0 {
				continue
			}
			err := n.cfg.store.PutPeer(n.ctx, store.PeerInfo{ID: p.String(), Addrs: addrs, LastSeen: time.Now().UTC()})
			if err != nil && n.ctx.Err() == nil {
				n.log.Warn("remembering peer", "peer", p, "err", err)
			}
		}
	}
}

// connectLoop dials bootstrap and remembered peers at start, then keeps
// bootstrap peers connected, and falls back to remembered peers whenever
// the node finds itself alone.
func (n *netNode) connectLoop() {
	defer n.wg.Done()
	n.dialBootstrap()
	n.dialRemembered()
	backoff := 5 * time.Second
	for {
		t := time.NewTimer(backoff + rand.N(backoff/2))
		select {
		case <-n.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		n.dialBootstrap()
		if len(n.h.Network().Peers()) == 0 {
			n.dialRemembered()
			backoff = min(2*backoff, 5*time.Minute)
		} else {
			backoff = 30 * time.Second
		}
	}
}

func (n *netNode) dialBootstrap() {
	var wg sync.WaitGroup
	for _, ai := range n.bootstrap {
		if n.h.Network().Connectedness(ai.ID) == network.Connected {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.connect(ai, "bootstrap")
		}()
	}
	wg.Wait()
}

func (n *netNode) dialRemembered() {
	known, err := n.cfg.store.Peers(n.ctx)
	if err != nil {
		if n.ctx.Err() == nil {
			n.log.Warn("reading remembered peers", "err", err)
		}
		return
	}
	var wg sync.WaitGroup
	for i, kp := range known {
		if i == dialLimit {
			break
		}
		id, err := peer.Decode(kp.ID)
		if err != nil || id == n.h.ID() || n.h.Network().Connectedness(id) == network.Connected {
			continue
		}
		ai := peer.AddrInfo{ID: id}
		for _, s := range kp.Addrs {
			if m, err := ma.NewMultiaddr(s); err == nil {
				ai.Addrs = append(ai.Addrs, m)
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.connect(ai, "remembered")
		}()
	}
	wg.Wait()
}

func (n *netNode) connect(ai peer.AddrInfo, how string) {
	if ai.ID == n.h.ID() {
		return
	}
	ctx, cancel := context.WithTimeout(n.ctx, 15*time.Second)
	defer cancel()
	if err := n.h.Connect(ctx, ai); err != nil {
		if n.ctx.Err() == nil {
			n.log.Debug("could not connect", "via", how, "peer", ai.ID, "err", err)
		}
		return
	}
	n.log.Info("connected", "via", how, "peer", ai.ID)
}

type mdnsNotifee struct{ n *netNode }

func (m mdnsNotifee) HandlePeerFound(ai peer.AddrInfo) {
	if ai.ID == m.n.h.ID() || m.n.h.Network().Connectedness(ai.ID) == network.Connected {
		return
	}
	m.n.spawn(func() { m.n.connect(ai, "mdns") })
}

func (n *netNode) catchUpSessions() []api.CatchUp { return n.catchUp.sessions() }

func (n *netNode) natStatus() *api.NAT { return n.nat.status() }
