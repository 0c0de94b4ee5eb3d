package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mentormesh/mentormesh/node"
	"github.com/mentormesh/mentormesh/node/api"
)

// backend is what commands use: a running node's API, or the data directory
// opened directly when no node runs (offline first).
type backend struct {
	api.Backend
	// online is true when a running node answered.
	online bool
	client *api.Client
	close  func() error
}

// openBackend finds the running node of the data directory through the
// api.json it wrote, or opens the store itself.
func openBackend(c *cli.Context, command string) (*backend, error) {
	_, paths, err := commandSetup(c)
	if err != nil {
		return nil, err
	}
	if cl, err := dialNode(c.Context, paths); err == nil {
		return &backend{Backend: cl, online: true, client: cl, close: func() error { return nil }}, nil
	} else if !errors.Is(err, errNoNode) {
		return nil, err
	}
	// Offline first: a command works before any node has run, and creates
	// the identity then. Say so, since a mistyped --data-dir does the same.
	_, statErr := os.Stat(paths.KeyFile())
	off, err := node.OpenOffline(paths.Dir, "mentormesh "+command, communities(c))
	if err != nil {
		return nil, err
	}
	if errors.Is(statErr, fs.ErrNotExist) {
		fmt.Fprintf(c.App.ErrWriter, "mentormesh: no identity in %s yet: created a new one (check --data-dir if you meant another)\n", paths.Dir)
	}
	return &backend{Backend: off, close: off.Close}, nil
}

var errNoNode = errors.New("no node running")

// dialNode returns a client for the node running on paths, or errNoNode.
func dialNode(ctx context.Context, paths node.Paths) (*api.Client, error) {
	info, err := node.ReadAPIInfo(paths)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNoNode
	}
	if err != nil {
		return nil, err
	}
	// api.json outlives a node that crashed: send the token only to the
	// node that holds the data directory now, never to whatever listens at
	// an old address.
	if info, err = checkHolder(paths, info); err != nil {
		return nil, err
	}
	token, err := node.LoadToken(paths)
	if err != nil {
		return nil, err
	}
	cl := api.NewClient(info.Addr, token)
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if _, err := cl.ID(pctx); err != nil {
		var apiErr *api.Error
		if errors.As(err, &apiErr) {
			return nil, fmt.Errorf("the node at %s refused the request: %w", info.Addr, err)
		}
		// The node is stopping (it still holds the lock): the offline
		// path then says the directory is in use.
		return nil, errNoNode
	}
	return cl, nil
}

// holderWait is how long dialNode waits for a node that holds the data
// directory to show as the one api.json names: a node starting writes its
// lock holder, then much later a new api.json.
const holderWait = 250 * time.Millisecond

// checkHolder returns api.json's info once the process holding the data
// directory is the node it names, or errNoNode if none holds it or another
// process does (an offline command, or a node still starting after
// holderWait).
func checkHolder(paths node.Paths, info node.APIInfo) (node.APIInfo, error) {
	deadline := time.Now().Add(holderWait)
	for {
		h, locked, err := node.LockedBy(paths)
		if err != nil {
			return info, err
		}
		if !locked {
			return info, errNoNode
		}
		if h.IsNode() && h.PID == info.PID {
			return info, nil
		}
		if time.Now().After(deadline) {
			return info, errNoNode
		}
		time.Sleep(25 * time.Millisecond)
		if info, err = node.ReadAPIInfo(paths); err != nil {
			return info, errNoNode
		}
	}
}
