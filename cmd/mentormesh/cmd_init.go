package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mentormesh/mentormesh/node"
	"github.com/mentormesh/mentormesh/sync/record"
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
			join := globalSlice(c, "community")
			for _, name := range join {
				// Before the identity is created, so a typo creates nothing.
				if err := record.CheckCommunity(name); err != nil {
					return fmt.Errorf("--community: %w", err)
				}
			}
			res, err := node.Init(p)
			if err != nil {
				return err
			}
			communities, err := node.InitCommunities(p, join)
			var locked *node.LockedError
			if errors.As(err, &locked) {
				// The running node owns the list; it joins through its API.
				return cli.Exit(fmt.Sprintf("%s is in use by %s, which owns its list of communities: "+
					"join with 'mentormesh community join NAME' instead", p.Dir, locked.Holder), 1)
			}
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
