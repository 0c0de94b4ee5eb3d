package main

import (
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mentormesh/mentormesh/node/api"
)

func idCommand() *cli.Command {
	return &cli.Command{
		Name:     "id",
		Usage:    "print this node's peer ID and addresses",
		Category: "node",
		Flags:    []cli.Flag{jsonFlag},
		Action: func(c *cli.Context) error {
			b, err := openBackend(c, "id")
			if err != nil {
				return err
			}
			defer b.close()
			id, err := b.ID(c.Context)
			if err != nil {
				return err
			}
			if !b.online {
				printf(c.App.ErrWriter, "No node is running: addresses are known once 'mentormesh run' is started.\n")
			}
			if id.DeviceID != "" {
				printf(c.App.ErrWriter, "This is a linked device of the practitioner below; its own device ID (in the addresses) is %s.\n", id.DeviceID)
			}
			return emit(c, id, func(w io.Writer) {
				printf(w, "%s\n", id.PeerID)
				for _, a := range id.Addrs {
					printf(w, "  %s\n", a)
				}
			})
		},
	}
}

func peersCommand() *cli.Command {
	return &cli.Command{
		Name:     "peers",
		Usage:    "list connected peers",
		Category: "node",
		Flags:    []cli.Flag{jsonFlag},
		Action: func(c *cli.Context) error {
			b, err := openBackend(c, "peers")
			if err != nil {
				return err
			}
			defer b.close()
			peers, err := b.Peers(c.Context)
			if err != nil {
				return err
			}
			if !b.online {
				printf(c.App.ErrWriter, "No node is running; start one with 'mentormesh run'.\n")
			}
			return emit(c, peers, func(w io.Writer) {
				if len(peers) == 0 && b.online {
					printf(w, "No peers connected.\n")
					return
				}
				for _, p := range peers {
					printf(w, "%s  %s  communities=%s", p.PeerID, p.Direction, strings.Join(p.Communities, ","))
					if p.LatencyMS > 0 {
						printf(w, "  rtt=%.1fms", p.LatencyMS)
					}
					if p.Relayed {
						printf(w, "  relayed (records by catch-up)")
					}
					printf(w, "\n")
					for _, a := range p.Addrs {
						printf(w, "    %s\n", a)
					}
				}
			})
		},
	}
}

func statusCommand() *cli.Command {
	return &cli.Command{
		Name:     "status",
		Usage:    "show records by kind, peers and communities",
		Category: "node",
		Flags:    []cli.Flag{jsonFlag},
		Action: func(c *cli.Context) error {
			b, err := openBackend(c, "status")
			if err != nil {
				return err
			}
			defer b.close()
			st, err := b.Status(c.Context)
			if err != nil {
				return err
			}
			return emit(c, st, func(w io.Writer) { printStatus(w, st) })
		},
	}
}

func printStatus(w io.Writer, st api.Status) {
	state := "not running (showing the data directory)"
	if st.Running {
		state = "running since " + st.StartedAt.Local().Format("2006-01-02 15:04:05")
	}
	printf(w, "peer ID:     %s\ndata dir:    %s\nnode:        %s\ncommunities: %s\npeers:       %d\n",
		st.PeerID, st.DataDir, state, strings.Join(st.Communities, ", "), st.Peers)
	printf(w, "unpublished: %d local write(s) waiting for a peer\n", st.Outbox)
	if st.Running {
		printf(w, "received:    %d accepted, %d ignored, %d rejected\n", st.Ingest.Accepted, st.Ingest.Ignored, st.Ingest.Rejected)
		if st.Ingest.RateLimited+st.Ingest.OverBudget > 0 {
			printf(w, "             %d over their author's rate limit (ignored), %d dropped from peers over their budget\n", st.Ingest.RateLimited, st.Ingest.OverBudget)
		}
	}
	if st.NAT != nil {
		hp := st.NAT.HolePunches
		printf(w, "NAT:         reachability %s (AutoNAT); hole punches: %d of %d succeeded\n", st.NAT.Reachability, hp.Succeeded, hp.Attempts)
	}
	printf(w, "records:\n")
	if len(st.Records) == 0 {
		printf(w, "  none yet\n")
	}
	for _, k := range st.Records {
		printf(w, "  %-20s %-12s %6d", k.Community, k.Kind, k.Records)
		if k.Tombstones > 0 {
			printf(w, "  (+%d deleted)", k.Tombstones)
		}
		printf(w, "\n")
	}
	printf(w, "digests (equal on two nodes = same records):\n")
	for _, c := range st.Communities {
		printf(w, "  %-20s %s\n", c, st.Digests[c])
	}
	if st.Running {
		printf(w, "catch-up (last session per peer):\n")
		if len(st.CatchUp) == 0 {
			printf(w, "  none yet\n")
		}
		for _, cu := range st.CatchUp {
			what := "community"
			switch {
			case cu.OwnRecordsOnly && cu.Initiated:
				what = "my records"
			case cu.OwnRecordsOnly:
				what = "their records"
			}
			printf(w, "  %s  %s (%s)  %s ago: pulled %d (%d since start), sent %d, %d round trips",
				cu.PeerID, cu.Community, what, time.Since(cu.At).Round(time.Second), cu.Pulled, cu.PulledTotal, cu.Sent, cu.RoundTrips)
			if cu.Error != "" {
				printf(w, "  error: %s", cu.Error)
			}
			printf(w, "\n")
		}
	}
}
