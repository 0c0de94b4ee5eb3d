package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mentormesh/mentormesh/node"
)

func demoCommand() *cli.Command {
	return &cli.Command{
		Name:  "demo",
		Usage: "start a small demo network on this machine, seeded with practitioners and resources",
		Description: "Starts --nodes nodes on 127.0.0.1, each with its own temporary data directory and page,\n" +
			"joined to each other only (no LAN discovery, a community of their own), seeds them with\n" +
			"practitioners, resources and a pairing request, and prints each page's login link.\n" +
			"Every few seconds one of them changes something, so you can watch records sync.\n" +
			"Ctrl-C stops the nodes and removes their data (unless --keep).",
		Category: "node",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "nodes", Value: 3, Usage: "how many nodes (1 to 10)", EnvVars: []string{"MENTORMESH_DEMO_NODES"}},
			&cli.DurationFlag{Name: "activity", Value: 20 * time.Second, Usage: "how often a node changes something (0: never)", EnvVars: []string{"MENTORMESH_DEMO_ACTIVITY"}},
			&cli.BoolFlag{Name: "keep", Usage: "keep the data directories on exit (their paths are printed)", EnvVars: []string{"MENTORMESH_DEMO_KEEP"}},
			jsonFlag,
		},
		Action: runDemo,
	}
}

// demoInfo is what `demo --json` prints once the network is up.
type demoInfo struct {
	Root  string     `json:"root"`
	Nodes []demoNode `json:"nodes"`
}

type demoNode struct {
	Name     string `json:"name"`
	PeerID   string `json:"peer_id"`
	DataDir  string `json:"data_dir"`
	APIAddr  string `json:"api_addr"`
	LoginURL string `json:"login_url"`
}

func runDemo(c *cli.Context) error {
	count := c.Int("nodes")
	if count < 1 || count > 10 {
		return cli.Exit(fmt.Sprintf("--nodes %d: want 1 to 10", count), 2)
	}
	log, err := setupLogging(c, slog.LevelWarn)
	if err != nil {
		return err
	}
	root, err := os.MkdirTemp("", "mentormesh-demo-")
	if err != nil {
		return fmt.Errorf("creating the demo directory: %w", err)
	}
	keep := c.Bool("keep")
	defer func() {
		if !keep {
			_ = os.RemoveAll(root)
		}
	}()
	printf(c.App.ErrWriter, "Starting %d demo nodes in %s ...\n", count, root)

	var nodes []*node.Node
	defer func() {
		for _, n := range nodes {
			_ = n.Close()
		}
	}()
	info := demoInfo{Root: root}
	for i := range count {
		seed := demoPractitioners[i%len(demoPractitioners)]
		opts := node.Options{
			DataDir:     filepath.Join(root, fmt.Sprintf("node%d", i+1)),
			Listen:      []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"},
			Communities: []string{demoCommunity},
			NoMDNS:      true,
			APIAddr:     "127.0.0.1:0",
			Version:     buildVersion(),
			Logger:      log.With("node", seed.Name),
		}
		if len(nodes) > 0 {
			opts.Bootstrap = nodes[0].Addrs()
		}
		n, err := node.Start(opts)
		if err != nil {
			return fmt.Errorf("starting demo node %d: %w", i+1, err)
		}
		nodes = append(nodes, n)
		info.Nodes = append(info.Nodes, demoNode{
			Name: seed.Name, PeerID: n.PeerID(), DataDir: opts.DataDir, APIAddr: n.APIAddr(), LoginURL: n.LoginURL(),
		})
	}
	ctx, cancel := context.WithTimeout(c.Context, time.Minute)
	defer cancel()
	if err := seedDemo(ctx, nodes); err != nil {
		return fmt.Errorf("seeding the demo: %w", err)
	}

	if c.Bool("json") {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		if err := enc.Encode(info); err != nil {
			return err
		}
	} else {
		w := c.App.Writer
		printf(w, "mentormesh demo: %d nodes in community %q, data in %s\n\n", count, demoCommunity, root)
		for _, n := range info.Nodes {
			printf(w, "%s\n  page:    %s\n  peer ID: %s\n  CLI:     mentormesh --data-dir %s status\n\n", n.Name, n.LoginURL, n.PeerID, n.DataDir)
		}
		printf(w, "Open two pages side by side: what you do on one appears on the other within a second.\n")
		printf(w, "Login links work once; 'mentormesh --data-dir DIR open' prints a new one. Stop with Ctrl-C.\n")
	}

	var tick <-chan time.Time
	if d := c.Duration("activity"); d > 0 {
		t := time.NewTicker(d)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-c.Context.Done():
			printf(c.App.ErrWriter, "Stopping the demo nodes ...\n")
			if keep {
				printf(c.App.ErrWriter, "Data kept in %s\n", root)
			}
			return nil
		case <-tick:
			actx, cancel := context.WithTimeout(c.Context, 10*time.Second)
			i := rand.IntN(len(nodes))
			if err := demoChange(actx, nodes[i], demoPractitioners[i%len(demoPractitioners)]); err != nil {
				log.Warn("demo activity failed", "err", err)
			}
			cancel()
		}
	}
}

// demoCommunity keeps the demo's records apart from a real community, even
// if a demo node were to meet a real one.
const demoCommunity = "sociocracy-demo"
