package sim

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/mentormesh/mentormesh/store"
)

// DefaultTimeout bounds a wait for records: long enough for the periodic
// catch-up to run twice.
const DefaultTimeout = 3 * time.Minute

// Config describes a simulation. Zero fields take the defaults given.
type Config struct {
	// Nodes is the number of nodes (default 500).
	Nodes int
	// Dials is how many random peers each node connects to (default 5),
	// as discovery would give it; with the connections other nodes open to
	// it, a node has 2*Dials peers on average.
	Dials int
	// Latency is the one-way delay of every link (default 50 ms).
	Latency time.Duration
	// Records is the number of records of the propagation phase, each
	// written at a random node (default 100).
	Records int
	// PublishInterval separates two writes (default 100 ms).
	PublishInterval time.Duration
	// PartitionWrites is the number of records written on each side while
	// the network is split (default 20).
	PartitionWrites int
	// CatchUpInterval is the period of catch-up with a random peer
	// (default DefaultCatchUpInterval; negative: none).
	CatchUpInterval time.Duration
	// NoSpreadPulled turns off what the node does after a catch-up session
	// that pulled new records: reconcile with its other peers at once
	// (node/catchup.go, spread). Set it to measure the schedule without.
	NoSpreadPulled bool
	// Timeout bounds each wait for records to arrive (default
	// DefaultTimeout).
	Timeout time.Duration
	// Community is the community all nodes join (default "sim").
	Community string
	// Seed makes the topology, writers and partition reproducible.
	Seed uint64
	// Logger receives the nodes' logs (default: none).
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Nodes <= 0 {
		c.Nodes = 500
	}
	if c.Dials <= 0 {
		c.Dials = 5
	}
	if c.Latency <= 0 {
		c.Latency = 50 * time.Millisecond
	}
	if c.Records <= 0 {
		c.Records = 100
	}
	if c.PublishInterval <= 0 {
		c.PublishInterval = 100 * time.Millisecond
	}
	if c.PartitionWrites <= 0 {
		c.PartitionWrites = 20
	}
	if c.CatchUpInterval == 0 {
		c.CatchUpInterval = DefaultCatchUpInterval
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Community == "" {
		c.Community = "sim"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

// Network is a running simulation: nodes on a mocknet, linked in a random
// topology.
type Network struct {
	cfg   Config
	rng   *rand.Rand
	mn    mocknet.Mocknet
	nodes []*simNode
	ids   []peer.ID
	edges [][2]int
	adj   [][]int
	obs   *observer
}

// Start builds the network: the nodes, each joined to the community, and
// the links between them, and waits until every node has formed its
// GossipSub mesh.
func Start(ctx context.Context, cfg Config) (*Network, error) {
	cfg.setDefaults()
	if cfg.Nodes < 2 || cfg.Dials >= cfg.Nodes {
		return nil, fmt.Errorf("need at least 2 nodes and fewer dials than nodes, got %d nodes and %d dials", cfg.Nodes, cfg.Dials)
	}
	net := &Network{
		cfg: cfg,
		rng: rand.New(rand.NewPCG(cfg.Seed, 0x6d656e746f726d65)),
		mn:  mocknet.New(),
		obs: newObserver(cfg.Nodes),
	}
	net.mn.SetLinkDefaults(mocknet.LinkOptions{Latency: cfg.Latency})
	ok := false
	defer func() {
		if !ok {
			_ = net.Close()
		}
	}()
	if err := net.addNodes(); err != nil {
		return nil, err
	}
	if err := net.topology(); err != nil {
		return nil, err
	}
	for _, e := range net.edges {
		if err := net.connect(e); err != nil {
			return nil, err
		}
	}
	if err := net.waitMesh(ctx); err != nil {
		return nil, err
	}
	ok = true
	return net, nil
}

// addNodes starts the nodes, with keys drawn from the seed so that peer
// IDs, and so which side starts each catch-up session, are reproducible.
func (net *Network) addNodes() error {
	for i := range net.cfg.Nodes {
		var seed [ed25519.SeedSize]byte
		binary.LittleEndian.PutUint64(seed[:], net.rng.Uint64())
		binary.LittleEndian.PutUint64(seed[8:], net.rng.Uint64())
		binary.LittleEndian.PutUint64(seed[16:], net.rng.Uint64())
		binary.LittleEndian.PutUint64(seed[24:], net.rng.Uint64())
		key := ed25519.NewKeyFromSeed(seed[:])
		pk, err := crypto.UnmarshalEd25519PrivateKey(key)
		if err != nil {
			return err
		}
		addr, err := ma.NewMultiaddr(fmt.Sprintf("/ip4/10.%d.%d.%d/tcp/4748", i>>16&255, i>>8&255, i&255))
		if err != nil {
			return err
		}
		h, err := net.mn.AddPeer(pk, addr)
		if err != nil {
			return fmt.Errorf("adding node %d: %w", i, err)
		}
		n, err := startNode(i, newGatedHost(h), key, &net.cfg, net.obs)
		if err != nil {
			_ = h.Close()
			return err
		}
		net.nodes = append(net.nodes, n)
		net.ids = append(net.ids, h.ID())
	}
	return nil
}

// topology draws the links: each node dials cfg.Dials distinct random
// peers it has no link with yet. The graph is drawn again (a few times at
// most) if it is not connected.
func (net *Network) topology() error {
	n := net.cfg.Nodes
	for range 10 {
		linked := make([]map[int]bool, n)
		for i := range linked {
			linked[i] = map[int]bool{}
		}
		net.edges = net.edges[:0]
		for i := range n {
			for d := 0; d < net.cfg.Dials; {
				j := net.rng.IntN(n)
				if j == i || linked[i][j] {
					if len(linked[i]) >= n-1 {
						break
					}
					continue
				}
				linked[i][j], linked[j][i] = true, true
				net.edges = append(net.edges, [2]int{i, j})
				d++
			}
		}
		net.adj = make([][]int, n)
		for _, e := range net.edges {
			net.adj[e[0]] = append(net.adj[e[0]], e[1])
			net.adj[e[1]] = append(net.adj[e[1]], e[0])
		}
		if len(components(net.adj, nil)) == 1 {
			return nil
		}
	}
	return errors.New("could not draw a connected topology: raise Dials")
}

// components returns the connected components of the graph, keeping only
// the edges for which keep (if not nil) is true.
func components(adj [][]int, keep func(i, j int) bool) [][]int {
	seen := make([]bool, len(adj))
	var out [][]int
	for s := range adj {
		if seen[s] {
			continue
		}
		comp := []int{s}
		seen[s] = true
		for k := 0; k < len(comp); k++ {
			for _, j := range adj[comp[k]] {
				if !seen[j] && (keep == nil || keep(comp[k], j)) {
					seen[j] = true
					comp = append(comp, j)
				}
			}
		}
		out = append(out, comp)
	}
	return out
}

// connect links two nodes (50 ms each way) and connects them.
func (net *Network) connect(e [2]int) error {
	a, b := net.ids[e[0]], net.ids[e[1]]
	if _, err := net.mn.LinkPeers(a, b); err != nil {
		return fmt.Errorf("linking nodes %d and %d: %w", e[0], e[1], err)
	}
	if _, err := net.mn.ConnectPeers(a, b); err != nil {
		return fmt.Errorf("connecting nodes %d and %d: %w", e[0], e[1], err)
	}
	return nil
}

// disconnect cuts the link between two nodes, as a network partition
// would: streams between them are refused, the link is removed, and the
// connection is closed on both sides.
func (net *Network) disconnect(e [2]int) error {
	a, b := net.ids[e[0]], net.ids[e[1]]
	net.nodes[e[0]].h.block(b, true)
	net.nodes[e[1]].h.block(a, true)
	if err := net.mn.UnlinkPeers(a, b); err != nil {
		return fmt.Errorf("unlinking nodes %d and %d: %w", e[0], e[1], err)
	}
	if err := net.mn.DisconnectPeers(a, b); err != nil {
		return fmt.Errorf("disconnecting nodes %d and %d: %w", e[0], e[1], err)
	}
	if err := net.mn.DisconnectPeers(b, a); err != nil {
		return fmt.Errorf("disconnecting nodes %d and %d: %w", e[1], e[0], err)
	}
	return nil
}

// reconnect restores a link cut by disconnect and connects the nodes again.
func (net *Network) reconnect(e [2]int) error {
	net.nodes[e[0]].h.block(net.ids[e[1]], false)
	net.nodes[e[1]].h.block(net.ids[e[0]], false)
	return net.connect(e)
}

// waitMesh waits until every node has a full GossipSub mesh: as many mesh
// peers as it has links, up to GossipSub's lower bound D_lo.
func (net *Network) waitMesh(ctx context.Context) error {
	return net.obs.wait(ctx, net.cfg.Timeout, "forming the GossipSub mesh", func() bool {
		for i, m := range net.obs.mesh {
			if len(m) < min(len(net.adj[i]), pubsub.GossipSubDlo) {
				return false
			}
		}
		return true
	})
}

// Close stops every node and the mocknet.
func (net *Network) Close() error {
	errs := make([]error, len(net.nodes))
	var wg sync.WaitGroup
	for i, n := range net.nodes {
		wg.Go(func() { errs[i] = n.close() })
	}
	wg.Wait()
	return errors.Join(append(errs, net.mn.Close())...)
}

// digest fingerprints a node's set of current records of the community as
// `mentormesh status` does (node.Local.digests): equal digests, same
// records.
func (net *Network) digest(ctx context.Context, i int) (string, error) {
	snap, err := net.nodes[i].st.SyncSnapshot(ctx)
	if err != nil {
		return "", err
	}
	defer snap.Close()
	h := sha256.New()
	var buf [8]byte
	err = snap.Items(store.SyncScope{Community: net.cfg.Community}, store.SyncItem{}, func(it store.SyncItem) bool {
		binary.BigEndian.PutUint64(buf[:], it.Timestamp)
		h.Write(buf[:])
		h.Write(it.ID[:])
		return true
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)[:16]), nil
}
