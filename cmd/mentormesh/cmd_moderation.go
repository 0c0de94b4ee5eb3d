package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mentormesh/mentormesh/node/api"
)

func blockCommand() *cli.Command {
	return &cli.Command{
		Name:      "block",
		Usage:     "block a peer: hide its records, stop relaying them, refuse its connections",
		UsageText: "mentormesh block PEER_ID [--reason REASON] [--publish [--community C]]",
		Category:  "moderation",
		ArgsUsage: "PEER_ID",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "reason", Usage: "why, for your own memory (and your followers' with --publish); one line, up to 200 characters", EnvVars: []string{"MENTORMESH_BLOCK_REASON"}},
			&cli.BoolFlag{Name: "publish", Usage: "also list the peer in your signed moderation list in the community, for the nodes that follow you as a steward", EnvVars: []string{"MENTORMESH_BLOCK_PUBLISH"}},
			jsonFlag,
		},
		Action: blockAction,
	}
}

func unblockCommand() *cli.Command {
	return &cli.Command{
		Name:      "unblock",
		Usage:     "undo your block of a peer (and remove it from your published moderation lists)",
		Category:  "moderation",
		ArgsUsage: "PEER_ID",
		Action:    unblockAction,
	}
}

func blocksCommand() *cli.Command {
	return &cli.Command{
		Name:     "blocks",
		Usage:    "list blocked peers and where each block comes from (you, or a steward you follow)",
		Category: "moderation",
		Flags:    []cli.Flag{jsonFlag},
		Action:   blocksAction,
	}
}

func stewardCommand() *cli.Command {
	return &cli.Command{
		Name:     "steward",
		Usage:    "follow community stewards: peers whose signed moderation lists your node applies as your own blocks",
		Category: "moderation",
		Subcommands: []*cli.Command{
			{
				Name:      "follow",
				Usage:     "apply a steward's moderation list in the community (--community, default the first joined)",
				ArgsUsage: "PEER_ID",
				Flags:     []cli.Flag{jsonFlag},
				Action:    stewardFollow,
			},
			{
				Name:      "unfollow",
				Usage:     "stop applying a steward's list (in --community, or in every community without it)",
				ArgsUsage: "PEER_ID",
				Action:    stewardUnfollow,
			},
			{
				Name:   "list",
				Usage:  "list the stewards you follow and the size of their lists",
				Flags:  []cli.Flag{jsonFlag},
				Action: stewardList,
			},
		},
	}
}

func blockAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return cli.Exit("block takes one PEER_ID (their peer ID, as 'mentormesh peers' or their profile shows it)", 2)
	}
	in := api.BlockInput{PeerID: c.Args().First(), Reason: c.String("reason"), Publish: c.Bool("publish")}
	if in.Publish {
		var err error
		if in.Community, err = oneCommunity(c, "block --publish"); err != nil {
			return err
		}
	}
	b, err := openBackend(c, "block")
	if err != nil {
		return err
	}
	defer b.close()
	bp, err := b.Block(c.Context, in)
	if err != nil {
		return err
	}
	err = emit(c, bp, func(w io.Writer) {
		printf(w, "Blocked %s: its records are hidden and no longer relayed, its connections refused.\n", bp.PeerID)
		if len(bp.PublishedIn) > 0 {
			printf(w, "  published in your moderation list in: %s\n", strings.Join(bp.PublishedIn, ", "))
		}
		printf(w, "  'mentormesh unblock %s' reverses it.\n", bp.PeerID)
	})
	savedOffline(c, b)
	return err
}

func unblockAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return cli.Exit("unblock takes one PEER_ID ('mentormesh blocks' lists blocked peers)", 2)
	}
	b, err := openBackend(c, "unblock")
	if err != nil {
		return err
	}
	defer b.close()
	if err := b.Unblock(c.Context, c.Args().First()); err != nil {
		return err
	}
	printf(c.App.Writer, "Unblocked %s.\n", c.Args().First())
	return nil
}

func blocksAction(c *cli.Context) error {
	if c.NArg() != 0 {
		return cli.Exit("blocks takes no arguments", 2)
	}
	b, err := openBackend(c, "blocks")
	if err != nil {
		return err
	}
	defer b.close()
	bps, err := b.Blocks(c.Context)
	if err != nil {
		return err
	}
	return emit(c, bps, func(w io.Writer) {
		if len(bps) == 0 {
			printf(w, "No blocked peers.\n")
			return
		}
		for _, bp := range bps {
			printf(w, "%s\n", bp.PeerID)
			for _, s := range bp.Sources {
				printf(w, "  %s\n", blockSourceText(s))
			}
			if len(bp.Sources) == 0 {
				printf(w, "  not blocked here (listed for your followers only)\n")
			}
			if len(bp.PublishedIn) > 0 {
				printf(w, "  in your published moderation list in: %s\n", strings.Join(bp.PublishedIn, ", "))
			}
		}
	})
}

func blockSourceText(s api.BlockSource) string {
	var b strings.Builder
	if s.Source == api.BlockSourceSteward {
		fmt.Fprintf(&b, "by steward %s in %s", s.Steward, s.Community)
	} else {
		b.WriteString("blocked by you")
	}
	if s.Since != nil {
		fmt.Fprintf(&b, " since %s", localTime(*s.Since))
	}
	if s.Reason != "" {
		fmt.Fprintf(&b, ": %s", s.Reason)
	}
	return b.String()
}

func stewardFollow(c *cli.Context) error {
	if c.NArg() != 1 {
		return cli.Exit("steward follow takes one PEER_ID (the steward's peer ID)", 2)
	}
	community, err := oneCommunity(c, "steward follow")
	if err != nil {
		return err
	}
	b, err := openBackend(c, "steward follow")
	if err != nil {
		return err
	}
	defer b.close()
	s, err := b.FollowSteward(c.Context, api.StewardInput{PeerID: c.Args().First(), Community: community})
	if err != nil {
		return err
	}
	return emit(c, s, func(w io.Writer) {
		printf(w, "Following steward %s in %s.\n", s.PeerID, s.Community)
		printStewardList(w, s)
	})
}

func stewardUnfollow(c *cli.Context) error {
	if c.NArg() != 1 {
		return cli.Exit("steward unfollow takes one PEER_ID ('mentormesh steward list' shows whom you follow)", 2)
	}
	community, err := oneCommunity(c, "steward unfollow")
	if err != nil {
		return err
	}
	b, err := openBackend(c, "steward unfollow")
	if err != nil {
		return err
	}
	defer b.close()
	if err := b.UnfollowSteward(c.Context, c.Args().First(), community); err != nil {
		return err
	}
	printf(c.App.Writer, "No longer following steward %s; the peers only it listed are unblocked.\n", c.Args().First())
	return nil
}

func stewardList(c *cli.Context) error {
	b, err := openBackend(c, "steward list")
	if err != nil {
		return err
	}
	defer b.close()
	ss, err := b.Stewards(c.Context)
	if err != nil {
		return err
	}
	return emit(c, ss, func(w io.Writer) {
		if len(ss) == 0 {
			printf(w, "You follow no steward ('mentormesh steward follow PEER_ID').\n")
			return
		}
		for _, s := range ss {
			printf(w, "%s in %s (since %s)\n", s.PeerID, s.Community, localTime(s.Since))
			printStewardList(w, s)
		}
	})
}

func printStewardList(w io.Writer, s api.Steward) {
	if s.ListUpdatedAt == nil {
		printf(w, "  no moderation list from this steward on this node yet\n")
		return
	}
	printf(w, "  its list: %d peers (version %d, %s)\n", s.Listed, s.ListVersion, localTime(*s.ListUpdatedAt))
}
