package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mentormesh/mentormesh/node/api"
)

func statsCommand() *cli.Command {
	return &cli.Command{
		Name:     "stats",
		Usage:    "summarise the community: practitioners, mentors, pairings, ratings, resources",
		Category: "mentorship",
		Flags:    []cli.Flag{jsonFlag},
		Action: func(c *cli.Context) error {
			community, err := oneCommunity(c, "stats")
			if err != nil {
				return err
			}
			b, err := openBackend(c, "stats")
			if err != nil {
				return err
			}
			defer b.close()
			s, err := b.Stats(c.Context, community)
			if err != nil {
				return err
			}
			return emit(c, s, func(w io.Writer) { printStats(w, s) })
		},
	}
}

func printStats(w io.Writer, s api.Stats) {
	printf(w, "Community %s\n", s.Community)
	line := func(label, format string, args ...any) {
		printf(w, "  %-28s %s\n", label+":", fmt.Sprintf(format, args...))
	}
	line("practitioners", "%d (mentors %d, mentees %d, peers %d)", s.Practitioners, s.Mentors, s.Mentees, s.Peers)
	line("mentors with free capacity", "%d (%d places)", s.MentorsWithFreeCapacity, s.FreePlaces)
	pending := "not counted yet"
	if s.Pairings.Pending != nil {
		pending = fmt.Sprint(*s.Pairings.Pending)
	}
	line("pairings", "%d active, %d completed, pending %s", s.Pairings.Active, s.Pairings.Completed, pending)
	if s.Ratings > 0 {
		line("ratings", "%d, average %.1f", s.Ratings, s.AverageRating)
	} else {
		line("ratings", "none yet")
	}
	kinds := make([]string, 0, len(s.Resources))
	for k := range s.Resources {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	var res []string
	for _, k := range kinds {
		res = append(res, fmt.Sprintf("%s %d", k, s.Resources[k]))
	}
	if len(res) == 0 {
		res = []string{"none yet"}
	}
	line("resources", "%s", strings.Join(res, ", "))
	var top []string
	for _, t := range s.TopSkills {
		top = append(top, fmt.Sprintf("%s (%d)", t.Skill, t.Profiles))
	}
	if len(top) == 0 {
		top = []string{"none yet"}
	}
	line("top skills", "%s", strings.Join(top, ", "))
}
