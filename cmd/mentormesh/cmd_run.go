package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mentormesh/mentormesh/internal/memtrim"
	"github.com/mentormesh/mentormesh/node"
)

func runCommand() *cli.Command {
	return &cli.Command{
		Name:     "run",
		Usage:    "run the node in the foreground (initialises a new data directory)",
		Category: "node",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "listen", Usage: "libp2p multiaddr to listen on; repeatable (default: TCP and QUIC on port 4747, all interfaces)", EnvVars: []string{"MENTORMESH_LISTEN"}},
			&cli.StringSliceFlag{Name: "bootstrap", Usage: "multiaddr of a peer to connect to, ending in /p2p/ID; repeatable", EnvVars: []string{"MENTORMESH_BOOTSTRAP"}},
			&cli.StringSliceFlag{Name: "relay", Usage: "multiaddr of a circuit relay (a community node) to be reachable through when behind NAT, ending in /p2p/ID; repeatable", EnvVars: []string{"MENTORMESH_RELAY"}},
			&cli.BoolFlag{Name: "community-node", Usage: "run as an always-on community node: DHT server, relay with raised limits, full replica (see docs/DEPLOYMENT.md)", EnvVars: []string{"MENTORMESH_COMMUNITY_NODE"}},
			&cli.StringFlag{Name: "reachability", Value: node.ReachabilityAuto, Usage: "auto (detect with AutoNAT), private (behind NAT or a firewall: use relays at once) or public", EnvVars: []string{"MENTORMESH_REACHABILITY"}},
			&cli.BoolFlag{Name: "no-mdns", Usage: "do not discover peers on the local network", EnvVars: []string{"MENTORMESH_NO_MDNS"}},
			&cli.StringFlag{Name: "api-addr", Value: node.DefaultAPIAddr, Usage: "loopback host:port of the local API (port 0: any free port)", EnvVars: []string{"MENTORMESH_API_ADDR"}},
			&cli.BoolFlag{Name: "api-allow-remote", Usage: "allow a non-loopback --api-addr (dangerous: the API controls your node)", EnvVars: []string{"MENTORMESH_API_ALLOW_REMOTE"}},
			pprofFlag,
			noTrimFlag,
		},
		Action: runNode,
	}
}

func runNode(c *cli.Context) error {
	log, err := setupLogging(c, slog.LevelInfo)
	if err != nil {
		return err
	}
	dir, err := dataDir(c)
	if err != nil {
		return err
	}
	if addr := c.String(pprofFlag.Name); addr != "" {
		_, stop, err := startPprof(addr, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	if !c.Bool(noTrimFlag.Name) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go memtrim.Run(ctx, memtrim.Options{Logger: log.With("subsystem", "memtrim")})
	}
	n, err := node.Start(node.Options{
		DataDir:             dir,
		Listen:              c.StringSlice("listen"),
		Bootstrap:           c.StringSlice("bootstrap"),
		Communities:         communities(c),
		NoMDNS:              c.Bool("no-mdns"),
		Relays:              c.StringSlice("relay"),
		CommunityNode:       c.Bool("community-node"),
		Reachability:        c.String("reachability"),
		APIAddr:             c.String("api-addr"),
		AllowNonLoopbackAPI: c.Bool("api-allow-remote"),
		Version:             buildVersion(),
		Logger:              log,
	})
	if err != nil {
		return err
	}
	w := c.App.Writer
	printf(w, "mentormesh %s is running.\n", buildVersion())
	printf(w, "peer ID:     %s\n", n.PeerID())
	if id := n.DeviceID(); id != "" {
		printf(w, "device ID:   %s (a linked device of the practitioner above)\n", id)
	}
	printf(w, "data dir:    %s\n", n.Paths().Dir)
	printf(w, "local API:   http://%s (token in %s)\n", n.APIAddr(), n.Paths().TokenFile())
	printf(w, "page:        %s\n             (a one-time login link; 'mentormesh open' prints a new one)\n", n.LoginURL())
	printf(w, "communities: %s\n", strings.Join(n.Communities(), ", "))
	printf(w, "listening on:\n")
	for _, a := range n.Addrs() {
		printf(w, "  %s\n", a)
	}
	if c.Bool("community-node") {
		printf(w, "Community node: DHT server and circuit relay (%v or %d MiB per relayed connection).\n",
			node.CommunityRelayDuration, node.CommunityRelayData>>20)
		printf(w, "Other nodes can join with: mentormesh run --bootstrap <address> --relay <address>\n")
	} else {
		printf(w, "Other nodes can join with: mentormesh run --bootstrap <one of the addresses above>\n")
	}
	printf(w, "Stop with Ctrl-C.\n")

	select {
	case <-c.Context.Done():
		log.Info("signal received, shutting down (press Ctrl-C again to force)")
	case <-n.ShutdownRequested():
		log.Info("shutdown requested through the API")
	}
	// The first signal cancelled c.Context; a second one forces exit.
	force := make(chan os.Signal, 1)
	signal.Notify(force, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(force)
	done := make(chan error, 1)
	go func() { done <- n.Close() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("stopping node: %w", err)
		}
		log.Info("stopped")
		return nil
	case <-force:
		return cli.Exit("forced exit", 130)
	case <-time.After(30 * time.Second):
		return cli.Exit("node did not stop within 30 s; exiting anyway", 1)
	}
}

func shutdownCommand() *cli.Command {
	return &cli.Command{
		Name:     "shutdown",
		Usage:    "stop the running node",
		Category: "node",
		Action: func(c *cli.Context) error {
			_, paths, err := commandSetup(c)
			if err != nil {
				return err
			}
			cl, err := dialNode(c.Context, paths)
			if err != nil {
				if err == errNoNode {
					return cli.Exit(fmt.Sprintf("no node is running on %s", paths.Dir), 1)
				}
				return err
			}
			if err := cl.Shutdown(c.Context); err != nil {
				return err
			}
			// Wait until the node has released the data directory.
			ctx, cancel := context.WithTimeout(c.Context, 35*time.Second)
			defer cancel()
			for {
				if _, err := os.Stat(paths.APIFile()); os.IsNotExist(err) {
					printf(c.App.Writer, "Node stopped.\n")
					return nil
				}
				select {
				case <-ctx.Done():
					return cli.Exit("the node is still stopping; check with 'mentormesh status'", 1)
				case <-time.After(100 * time.Millisecond):
				}
			}
		},
	}
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:     "version",
		Usage:    "print the version",
		Category: "node",
		Flags:    []cli.Flag{jsonFlag},
		Action: func(c *cli.Context) error {
			v := map[string]string{"version": buildVersion()}
			return emit(c, v, func(w io.Writer) { printf(w, "mentormesh %s (%s)\n", v["version"], runtime.Version()) })
		},
	}
}
