package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mentormesh/mentormesh/node"
)

func initCommand() *cli.Command {
	return &cli.Command{
		Name:     "init",
		Usage:    "create the data directory and this node's identity (idempotent); --community sets the communities to join",
		Category: "node",
		Flags:    []cli.Flag{jsonFlag},
		Action: func(c *cli.Context) error {
			dir, err := dataDir(c)
			if err != nil {
				return err
			}
			p, err := node.NewPaths(dir)
			if err != nil {
				return err
			}
			res, err := node.Init(p)
			if err != nil {
				return err
			}
			join := globalSlice(c, "community")
			if len(join) > 0 {
				// The running node owns the list; it joins through its API.
				if _, err := dialNode(c.Context, p); err == nil {
					return cli.Exit(fmt.Sprintf("a node is running on %s: join communities with 'mentormesh community join NAME'", p.Dir), 1)
				} else if !errors.Is(err, errNoNode) {
					return err
				}
			}
			communities, err := node.InitCommunities(p, join)
			if err != nil {
				return err
			}
			out := map[string]any{"peer_id": res.PeerID.String(), "data_dir": res.DataDir, "created": res.Created, "communities": communities}
			return emit(c, out, func(w io.Writer) {
				if res.Created {
					printf(w, "Created a new identity.\n")
				} else {
					printf(w, "Already initialised.\n")
				}
				printf(w, "peer ID:     %s\ndata dir:    %s\ncommunities: %s\n\nStart the node with: mentormesh run\n",
					res.PeerID, res.DataDir, strings.Join(communities, ", "))
			})
		},
	}
}
