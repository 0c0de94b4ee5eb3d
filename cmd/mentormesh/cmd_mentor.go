package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
)

func mentorCommand() *cli.Command {
	return &cli.Command{
		Name:     "mentor",
		Usage:    "find mentors",
		Category: "mentorship",
		Subcommands: []*cli.Command{
			{
				Name:  "find",
				Usage: "rank the community's available mentors for what you want to learn",
				UsageText: "mentormesh mentor find --skill SKILL ... [--lang CODE ...] [--tz ZONE] [--experience LEVEL] [--limit N] [--json]\n\n" +
					"   Scores (0 to 100) add skill overlap (40), a shared language (15), time-zone overlap (15),\n" +
					"   free places (10), experience (10) and completed mentorships with their ratings (10);\n" +
					"   see docs/MATCHING.md. --lang and --tz default to your profile's.",
				Flags: []cli.Flag{
					&cli.StringSliceFlag{Name: "skill", Usage: "a skill you want to learn; repeat for several", EnvVars: []string{"MENTORMESH_MENTOR_SKILLS"}},
					&cli.StringSliceFlag{Name: "lang", Usage: "a language you speak (ISO 639 code); repeat for several (default: your profile's)", EnvVars: []string{"MENTORMESH_MENTOR_LANGUAGES"}},
					&cli.StringFlag{Name: "tz", Usage: "your time zone, e.g. Europe/Berlin or UTC+05:30 (default: your profile's)", EnvVars: []string{"MENTORMESH_MENTOR_TZ"}},
					&cli.StringFlag{Name: "experience", Usage: "the least experience: new, practising, experienced or trainer", EnvVars: []string{"MENTORMESH_MENTOR_EXPERIENCE"}},
					&cli.IntFlag{Name: "limit", Value: mentorship.DefaultMatchLimit, Usage: fmt.Sprintf("how many mentors to show, 1 to %d", mentorship.MaxMatchLimit), EnvVars: []string{"MENTORMESH_MENTOR_LIMIT"}},
					jsonFlag,
				},
				Action: mentorFind,
			},
		},
	}
}

func mentorFind(c *cli.Context) error {
	if c.NArg() > 0 {
		return cli.Exit(fmt.Sprintf("mentor find takes no arguments (got %q): give skills with --skill", c.Args().Slice()), 2)
	}
	if l := c.Int("limit"); l < 1 || l > mentorship.MaxMatchLimit {
		return cli.Exit(fmt.Sprintf("--limit %d: want 1 to %d", l, mentorship.MaxMatchLimit), 2)
	}
	community, err := oneCommunity(c, "mentor find")
	if err != nil {
		return err
	}
	q := api.MentorQuery{
		Community:  community,
		Skills:     c.StringSlice("skill"),
		Languages:  c.StringSlice("lang"),
		TimeZone:   c.String("tz"),
		Experience: c.String("experience"),
		Limit:      c.Int("limit"),
	}
	b, err := openBackend(c, "mentor find")
	if err != nil {
		return err
	}
	defer b.close()
	res, err := b.FindMentors(c.Context, q)
	if err != nil {
		return err
	}
	return emit(c, res, func(w io.Writer) { printMentors(w, res) })
}

func printMentors(w io.Writer, res api.MentorResults) {
	q := res.Query
	var asked []string
	if len(q.Skills) > 0 {
		asked = append(asked, "skills "+strings.Join(q.Skills, ", "))
	}
	if len(q.Languages) > 0 {
		asked = append(asked, "languages "+strings.Join(q.Languages, ", "))
	}
	if q.TimeZone != "" {
		asked = append(asked, "time zone "+q.TimeZone)
	}
	if q.Experience != "" {
		asked = append(asked, "experience "+q.Experience+" or more")
	}
	if len(asked) == 0 {
		asked = append(asked, "any mentor")
	}
	printf(w, "Mentors in %s for %s:\n", res.Community, strings.Join(asked, "; "))
	if len(res.Mentors) == 0 {
		printf(w, "  No available mentor matches.\n")
	}
	for _, m := range res.Mentors {
		printf(w, "\n%2d. %s  score %.1f\n    %s\n", m.Rank, m.Name, m.Score, m.PeerID)
		for _, r := range m.Reasons {
			printf(w, "    %-11s %5.1f  %s\n", strings.ReplaceAll(r.Factor, "_", " "), r.Points, r.Text)
		}
	}
	if res.Eligible > len(res.Mentors) {
		printf(w, "\n%d of %d matching mentors shown; --limit shows more.\n", len(res.Mentors), res.Eligible)
	}
	skills := make([]string, 0, len(res.Suggestions))
	for s := range res.Suggestions {
		skills = append(skills, s)
	}
	slices.Sort(skills)
	for _, s := range skills {
		if sugg := res.Suggestions[s]; len(sugg) > 0 {
			printf(w, "No available mentor lists %q; did you mean %s?\n", s, quoteList(sugg, " or "))
		} else {
			printf(w, "No available mentor lists %q.\n", s)
		}
	}
	if len(res.Mentors) == 0 {
		printf(w, "Try fewer or other skills ('mentormesh profile vocabulary' suggests some), or see 'mentormesh stats'.\n")
	}
}
