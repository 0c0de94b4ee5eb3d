package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mentormesh/mentormesh/node/api"
)

func communityCommand() *cli.Command {
	return &cli.Command{
		Name:     "community",
		Usage:    "list, join and leave communities (one gossip topic and one set of records each)",
		Category: "mentorship",
		Subcommands: []*cli.Command{
			{
				Name:   "list",
				Usage:  "list joined communities: records, peers (while the node runs) and digest",
				Flags:  []cli.Flag{jsonFlag},
				Action: communityList,
			},
			{
				Name: "join",
				Usage: "join a community; a running node subscribes and catches up at once, " +
					"else it joins when it next starts",
				ArgsUsage: "NAME",
				Flags:     []cli.Flag{jsonFlag},
				Action:    communityJoin,
			},
			{
				Name: "leave",
				Usage: "leave a community; its records stay in your store, unreplicated, " +
					"until you join it again",
				ArgsUsage: "NAME",
				Flags:     []cli.Flag{jsonFlag},
				Action:    communityLeave,
			},
		},
	}
}

func communityList(c *cli.Context) error {
	if c.NArg() > 0 {
		return cli.Exit("community list takes no arguments", 2)
	}
	b, err := openBackend(c, "community list")
	if err != nil {
		return err
	}
	defer b.close()
	l, err := b.Communities(c.Context)
	if err != nil {
		return err
	}
	return emit(c, l, func(w io.Writer) { printCommunities(w, l) })
}

func printCommunities(w io.Writer, l api.CommunityList) {
	width := len("COMMUNITY")
	for _, cm := range append(l.Communities, l.Left...) {
		width = max(width, len(cm.Name)+2)
	}
	printf(w, "%-*s %8s %6s  %s\n", width, "COMMUNITY", "RECORDS", "PEERS", "DIGEST")
	for _, cm := range l.Communities {
		name, peers := cm.Name, "-"
		if cm.Default {
			name += " *"
		}
		if l.Running {
			peers = fmt.Sprint(len(cm.Peers))
		}
		printf(w, "%-*s %8d %6s  %s\n", width, name, cm.Records, peers, cm.Digest)
	}
	printf(w, "* default: commands act there unless given --community\n")
	if !l.Running {
		printf(w, "No node is running: peers are shown while 'mentormesh run' runs.\n")
	}
	if len(l.Left) > 0 {
		var kept []string
		for _, cm := range l.Left {
			n, unit := cm.Records+cm.Tombstones, "records"
			if n == 1 {
				unit = "record"
			}
			kept = append(kept, fmt.Sprintf("%s (%d %s)", cm.Name, n, unit))
		}
		printf(w, "Left, records still stored: %s\n", strings.Join(kept, ", "))
	}
}

// communityArg returns the one NAME argument of join or leave.
func communityArg(c *cli.Context, verb string) (string, error) {
	if c.NArg() != 1 {
		return "", cli.Exit(fmt.Sprintf("community %s takes one NAME, e.g. 'mentormesh community %s sociocracy-fr'", verb, verb), 2)
	}
	return c.Args().First(), nil
}

func communityJoin(c *cli.Context) error {
	name, err := communityArg(c, "join")
	if err != nil {
		return err
	}
	b, err := openBackend(c, "community join")
	if err != nil {
		return err
	}
	defer b.close()
	ch, err := b.JoinCommunity(c.Context, name)
	if err != nil {
		return err
	}
	return emit(c, ch, func(w io.Writer) {
		switch {
		case !ch.Changed:
			printf(w, "Already in community %q; nothing to do.\n", name)
		case ch.Running:
			printf(w, "Joined community %q: the node subscribed to its topic and catches up with the peers in it.\n", name)
		default:
			printf(w, "Joined community %q. No node is running: it joins the topic when you run 'mentormesh run'.\n", name)
		}
		printf(w, "Communities: %s\n", strings.Join(ch.Communities, ", "))
	})
}

func communityLeave(c *cli.Context) error {
	name, err := communityArg(c, "leave")
	if err != nil {
		return err
	}
	b, err := openBackend(c, "community leave")
	if err != nil {
		return err
	}
	defer b.close()
	ch, err := b.LeaveCommunity(c.Context, name)
	if err != nil {
		return err
	}
	return emit(c, ch, func(w io.Writer) {
		printf(w, "Left community %q. Its records stay in this node's store but are no longer replicated; "+
			"'mentormesh community join %s' resumes.\n", name, name)
		printf(w, "Communities: %s (commands act in %s unless given --community)\n",
			strings.Join(ch.Communities, ", "), ch.Communities[0])
	})
}
