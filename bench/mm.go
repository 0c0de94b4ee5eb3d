package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/mentormesh/mentormesh/node"
	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/sync/record"
)

// mmNode is a real mentormesh node (node.Start, as `mentormesh run` starts
// it) on 127.0.0.1, in this process, with a bandwidth counter.
type mmNode struct {
	*node.Node
	bw     *counter
	author record.Author
}

// nodeLogger keeps only errors: the nodes' info logs would drown the
// progress lines.
var nodeLogger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))

// startMM starts a node with its data in dir, dialling bootstrap (full
// multiaddrs), calling onStored for every record it stores from a peer.
func startMM(dir string, bootstrap []string, onStored func(*record.Record)) (*mmNode, error) {
	bw := newCounter()
	n, err := node.Start(node.Options{
		DataDir:           dir,
		Listen:            []string{"/ip4/127.0.0.1/tcp/0"},
		Bootstrap:         bootstrap,
		NoMDNS:            true,
		APIAddr:           "127.0.0.1:0",
		Logger:            nodeLogger,
		BandwidthReporter: bw,
		OnRecordStored:    onStored,
	})
	if err != nil {
		return nil, fmt.Errorf("starting mentormesh node: %w", err)
	}
	a, err := record.ParseAuthor(n.PeerID())
	if err != nil {
		n.Close()
		return nil, err
	}
	return &mmNode{Node: n, bw: bw, author: a}, nil
}

// mmCluster is a mentormesh network for the propagation and steady-state
// workloads.
type mmCluster struct {
	nodes []*mmNode
	top   topology
}

func startMMCluster(ctx context.Context, root string, top topology, obs *observer) (*mmCluster, error) {
	c := &mmCluster{top: top}
	for i := range top.n {
		var boot []string
		for _, j := range top.dials[i] {
			boot = append(boot, c.nodes[j].Addrs()...)
		}
		onStored := func(r *record.Record) { obs.arrived(i, probeID{r.Author, r.Version}) }
		n, err := startMM(fmt.Sprintf("%s/mm%02d", root, i), boot, onStored)
		if err != nil {
			c.close()
			return nil, err
		}
		c.nodes = append(c.nodes, n)
		if err := ctx.Err(); err != nil {
			c.close()
			return nil, err
		}
	}
	return c, nil
}

func (c *mmCluster) size() int                  { return len(c.nodes) }
func (c *mmCluster) author(i int) record.Author { return c.nodes[i].author }

// ready waits until every node sees each of its neighbours in the
// community's topic.
func (c *mmCluster) ready(ctx context.Context) error {
	for i, n := range c.nodes {
		want := len(c.top.neighbours(i))
		for {
			peers, err := n.Local().Peers(ctx)
			if err != nil {
				return err
			}
			got := 0
			for _, p := range peers {
				for _, cm := range p.Communities {
					if cm == community {
						got++
					}
				}
			}
			if got >= want {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("node %d sees %d of its %d neighbours in the topic: %w", i, got, want, ctx.Err())
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return nil
}

// write makes node at write version of its profile through the local API
// backend, as `mentormesh profile set` does: sign, store, fsync, publish.
func (c *mmCluster) write(ctx context.Context, at int, version uint64) error {
	name := fmt.Sprintf("Bench node %d v%d", at, version)
	b := bio
	p, err := c.nodes[at].Local().SetProfile(ctx, api.ProfileInput{Name: &name, Bio: &b})
	if err != nil {
		return err
	}
	if p.Version != version {
		return fmt.Errorf("node %d wrote version %d, want %d", at, p.Version, version)
	}
	return nil
}

func (c *mmCluster) counters() []*counter {
	var out []*counter
	for _, n := range c.nodes {
		out = append(out, n.bw)
	}
	return out
}

func (c *mmCluster) close() {
	parallel(len(c.nodes), func(i int) { c.nodes[i].Close() })
}
