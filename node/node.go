// Package node is mentormesh's composition root: it opens the data
// directory, builds the libp2p host, the store, the ingest pipeline, gossip
// and discovery, serves the local API, and stops them all in order.
package node

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/metrics"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/ingest"
	"github.com/mentormesh/mentormesh/sync/record"
)

// Defaults.
const (
	DefaultCommunity = "sociocracy"
	DefaultAPIAddr   = "127.0.0.1:4748"
	DefaultPort      = 4747
)

// DefaultListen are the addresses a node listens on unless told otherwise:
// TCP and QUIC on all interfaces, IPv4 and IPv6.
var DefaultListen = []string{
	fmt.Sprintf("/ip4/0.0.0.0/tcp/%d", DefaultPort),
	fmt.Sprintf("/ip4/0.0.0.0/udp/%d/quic-v1", DefaultPort),
	fmt.Sprintf("/ip6/::/tcp/%d", DefaultPort),
	fmt.Sprintf("/ip6/::/udp/%d/quic-v1", DefaultPort),
}

// Options configure a node. Zero values take the documented defaults.
type Options struct {
	// DataDir is the data directory; it is initialised if new.
	DataDir string
	// Listen are libp2p multiaddrs to listen on (default DefaultListen; if
	// the default port is taken a free one is used).
	Listen []string
	// Bootstrap are multiaddrs (ending in /p2p/ID) of peers to connect to.
	Bootstrap []string
	// Communities to join on top of those the data directory has joined
	// before (communities.json); they are remembered. A new data directory
	// starts with these, or [DefaultCommunity] if there are none.
	Communities []string
	// NoMDNS turns LAN discovery off.
	NoMDNS bool
	// Relays are multiaddrs (ending in /p2p/ID) of circuit relays, usually
	// community nodes, to reserve a slot on when this node is not reachable
	// (AutoRelay), and to dial like bootstrap peers. See node/relay.go.
	Relays []string
	// CommunityNode makes this an always-on node for its communities: DHT
	// server, circuit relay with raised limits, AutoNAT service, a larger
	// connection manager, and an advertisement as a community node.
	CommunityNode bool
	// Reachability overrides AutoNAT: "private" (behind NAT or a firewall:
	// reserve relay slots at once), "public", or "" / "auto" (detect).
	Reachability string
	// CatchUpInterval is how often each community is reconciled with a
	// random peer (default DefaultCatchUpInterval).
	CatchUpInterval time.Duration
	// APIAddr is the local API's host:port (default DefaultAPIAddr); port 0
	// picks a free one. It must be a loopback address unless
	// AllowNonLoopbackAPI is set.
	APIAddr             string
	AllowNonLoopbackAPI bool
	// ConnectionGater, if set, vets every connection (tests use it to
	// partition a network).
	ConnectionGater connmgr.ConnectionGater
	// GossipRateLimit is the per-author limit on records arriving by
	// gossip (default ingest.DefaultRateLimit); the node paces its own
	// publications to it.
	GossipRateLimit ingest.RateLimit
	// Version is reported to peers in the libp2p user agent.
	Version string
	Logger  *slog.Logger
	// BandwidthReporter, if set, counts the bytes of every libp2p stream
	// and protocol (the benchmark suite in bench/ reads it).
	BandwidthReporter metrics.Reporter
	// OnRecordStored, if set, is called with every record from a peer (by
	// gossip or catch-up) once it was verified and stored as current. It
	// runs on the ingest path, so it must return quickly (the benchmark
	// suite uses it to time propagation).
	OnRecordStored func(*record.Record)
}

func (o *Options) setDefaults() {
	if o.APIAddr == "" {
		o.APIAddr = DefaultAPIAddr
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Version == "" {
		o.Version = "dev"
	}
}

// Node is a running mentormesh node.
type Node struct {
	opts    Options
	paths   Paths
	log     *slog.Logger
	lock    *dirLock
	store   *store.Badger
	net     *netNode
	local   *Local
	apiLn   net.Listener
	apiSrv  *http.Server
	apiH    *api.Server
	events  *hub
	started time.Time

	shutdownOnce sync.Once
	shutdownReq  chan struct{}
	closeOnce    sync.Once
	closeErr     error
}

// Start opens the data directory and starts the node. It returns once the
// node is ready: API listening, communities joined. Close stops it.
func Start(opts Options) (*Node, error) {
	opts.setDefaults()
	paths, err := NewPaths(opts.DataDir)
	if err != nil {
		return nil, err
	}
	for _, c := range opts.Communities {
		if err := record.CheckCommunity(c); err != nil {
			return nil, fmt.Errorf("--community: %w", err)
		}
	}
	apiAddr, err := checkAPIAddr(opts.APIAddr, opts.AllowNonLoopbackAPI)
	if err != nil {
		return nil, err
	}
	n := &Node{opts: opts, paths: paths, log: opts.Logger, started: time.Now(), shutdownReq: make(chan struct{})}
	if err := n.start(apiAddr); err != nil {
		_ = n.Close()
		return nil, err
	}
	return n, nil
}

func (n *Node) start(apiAddr string) (err error) {
	paths, opts := n.paths, n.opts
	if _, err := Init(paths); err != nil {
		return err
	}
	if n.lock, err = lockDir(paths, runCommand); err != nil {
		return err
	}
	key, err := LoadKey(paths)
	if err != nil {
		return err
	}
	token, err := LoadToken(paths)
	if err != nil {
		return err
	}
	if n.store, err = store.OpenBadger(paths.StoreDir(), store.BadgerOptions{Logger: n.log.With("subsystem", "badger")}); err != nil {
		return fmt.Errorf("opening store: %w", err)
	}
	edKey, author, linked, err := loadIdentity(paths, key)
	if err != nil {
		return err
	}
	if opts, err = withFileConfig(paths, opts); err != nil {
		return err
	}
	members, err := loadMembership(paths, opts.Communities, true)
	if err != nil {
		return err
	}
	n.events = newHub()
	mod, err := loadModeration(context.Background(), paths, n.store, author, n.log.With("subsystem", "moderation"))
	if err != nil {
		return err
	}
	n.local = &Local{paths: paths, key: edKey, author: author, store: n.store, communities: members, events: n.events, mod: mod}
	n.local.observeStore()
	if err := n.local.watchDevices(context.Background(), linked); err != nil {
		return err
	}
	var ingestStore ingest.BatchStore = storeAdapter{n.local.store, n.events}
	if opts.OnRecordStored != nil {
		ingestStore = reportingStore{storeAdapter{n.local.store, n.events}, opts.OnRecordStored}
	}
	limiter := ingest.NewAuthorLimiter(opts.GossipRateLimit, 0, nil)
	pipe := ingest.New(moderatedStore{ingestStore, mod}, mentorship.Kinds{}, ingest.Options{
		Joined:        members.has,
		IsUnknownKind: mentorship.IsUnknownKind,
		Blocked:       mod.blocked,
		Limiter:       limiter,
		RootOnly:      mentorship.RootOnly,
		DeviceRevoked: n.local.dev.isRevoked,
	})
	if n.net, err = startNet(netConfig{
		key: key, self: author, opts: opts, store: n.store, pipe: pipe, log: n.log, started: n.started, events: n.events, members: members,
		mod: mod, bans: newBans(), pacer: &pacer{lim: ingest.NewAuthorLimiter(limiter.Rate(), 16, nil)},
	}); err != nil {
		return err
	}
	n.local.net = n.net
	n.net.h.SetStreamHandler(DeviceLinkProtocol, n.local.serveDeviceLink)
	if err := n.startAPI(apiAddr, token); err != nil {
		return err
	}
	return nil
}

// edKeys returns the raw Ed25519 key and author of a libp2p key.
func edKeys(key crypto.PrivKey) (ed25519.PrivateKey, record.Author, error) {
	raw, err := key.Raw()
	if err != nil || len(raw) != ed25519.PrivateKeySize {
		return nil, record.Author{}, fmt.Errorf("identity is not an Ed25519 key")
	}
	author, err := record.AuthorFromPubKey(key.GetPublic())
	if err != nil {
		return nil, record.Author{}, err
	}
	return ed25519.PrivateKey(raw), author, nil
}

// Local returns the node's API backend.
func (n *Node) Local() *Local { return n.local }

// PeerID returns the node's peer ID.
func (n *Node) PeerID() string { return n.local.author.String() }

// Addrs returns the node's full multiaddrs.
func (n *Node) Addrs() []string { return n.net.addrs() }

// APIAddr returns the address the API listens on.
func (n *Node) APIAddr() string { return n.apiLn.Addr().String() }

// LoginURL returns a fresh one-time link that opens the node's page in a
// browser (valid for 15 minutes, once).
func (n *Node) LoginURL() string { return n.apiH.NewLoginLink(n.APIAddr()).URL }

// Paths returns the node's data directory layout.
func (n *Node) Paths() Paths { return n.paths }

// ShutdownRequested is closed when a client asks the node to stop
// (POST /api/v1/shutdown). The owner of the node then calls Close.
func (n *Node) ShutdownRequested() <-chan struct{} { return n.shutdownReq }

// Close stops the node: API first (no new writes), then the network, then
// the store, then the lock. It is safe to call more than once.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		var errs []error
		if n.events != nil {
			n.events.close() // ends the API's event streams
		}
		if n.apiSrv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			errs = append(errs, n.apiSrv.Shutdown(ctx))
			cancel()
		}
		if n.net != nil {
			errs = append(errs, n.net.close())
		}
		if n.store != nil {
			errs = append(errs, n.store.Close())
		}
		// api.json goes last but one: `mentormesh shutdown` waits for it to
		// disappear and then reports the data directory free. Removing it
		// before the lock is released keeps a node that starts next from
		// having its api.json removed by this one.
		if n.apiSrv != nil {
			removeAPIFile(n.paths)
		}
		errs = append(errs, n.lock.unlock())
		n.closeErr = errors.Join(errs...)
	})
	return n.closeErr
}

func (n *Node) requestShutdown() {
	n.shutdownOnce.Do(func() { close(n.shutdownReq) })
}

// storeAdapter gives the ingest pipeline the narrow view it declares.
type storeAdapter struct {
	s      store.Store
	events *hub
}

func (a storeAdapter) CurrentMeta(ctx context.Context, addr record.Addr) (record.Meta, bool, error) {
	return a.s.CurrentMeta(ctx, addr)
}

func (a storeAdapter) ApplyRemote(ctx context.Context, rec *record.Record) (bool, error) {
	res, err := a.s.Apply(ctx, rec, store.ApplyOptions{})
	if res.Applied {
		a.events.records([]*record.Record{rec}, false)
	}
	return res.Applied, err
}

func (a storeAdapter) ApplyRemoteBatch(ctx context.Context, recs []*record.Record) ([]bool, error) {
	applied, err := a.s.ApplyBatch(ctx, recs)
	if a.events != nil {
		for i, ok := range applied {
			if ok {
				a.events.records(recs[i:i+1], false)
			}
		}
	}
	return applied, err
}

var _ ingest.BatchStore = storeAdapter{}

// reportingStore is a storeAdapter that reports every record it stored
// (Options.OnRecordStored).
type reportingStore struct {
	storeAdapter
	onStored func(*record.Record)
}

func (a reportingStore) ApplyRemote(ctx context.Context, rec *record.Record) (bool, error) {
	applied, err := a.storeAdapter.ApplyRemote(ctx, rec)
	if applied && err == nil {
		a.onStored(rec)
	}
	return applied, err
}

func (a reportingStore) ApplyRemoteBatch(ctx context.Context, recs []*record.Record) ([]bool, error) {
	applied, err := a.storeAdapter.ApplyRemoteBatch(ctx, recs)
	if err == nil {
		for i, ok := range applied {
			if ok {
				a.onStored(recs[i])
			}
		}
	}
	return applied, err
}

var _ ingest.BatchStore = reportingStore{}
