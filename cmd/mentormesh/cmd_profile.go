package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
)

func profileCommand() *cli.Command {
	return &cli.Command{
		Name:     "profile",
		Usage:    "set or show practitioner profiles",
		Category: "mentorship",
		Subcommands: []*cli.Command{
			{
				Name:  "set",
				Usage: "set your profile (fields you leave out keep their value)",
				UsageText: "mentormesh profile set [--name NAME] [--bio BIO] [--skill SKILL ...] [--interest TAG ...]\n" +
					"   [--role mentor|mentee|peer ...] [--experience new|practising|experienced|trainer]\n" +
					"   [--capacity N] [--availability open|closed] [--hours N] [--lang CODE ...] [--tz ZONE]\n" +
					"   [--pronouns P] [--location PLACE] [--link URL ...] [--clear-skills] [--clear-interests]\n" +
					"   [--clear-roles] [--clear-languages] [--clear-links]\n\n" +
					"   A repeated flag replaces the whole list; a comma also separates items (not in --link).\n" +
					"   An empty value (--pronouns \"\") clears a text field.",
				Flags:  profileSetFlags(),
				Action: profileSet,
			},
			{
				Name:   "delete",
				Usage:  "delete your profile (a signed deletion that replicates like any update)",
				Action: profileDelete,
			},
			{
				Name:      "show",
				Usage:     "show a profile (yours if no peer ID is given)",
				ArgsUsage: "[PEER_ID]",
				Flags:     []cli.Flag{jsonFlag},
				Action:    profileShow,
			},
			{
				Name:   "list",
				Usage:  "list the practitioners of the community",
				Flags:  []cli.Flag{jsonFlag},
				Action: profileList,
			},
			{
				Name:   "vocabulary",
				Usage:  "list the suggested sociocracy skills and interests (any other tag is allowed too)",
				Flags:  []cli.Flag{jsonFlag},
				Action: profileVocabulary,
			},
		},
	}
}

func profileSetFlags() []cli.Flag {
	env := func(name string) []string { return []string{"MENTORMESH_PROFILE_" + name} }
	return []cli.Flag{
		&cli.StringFlag{Name: "name", Usage: "display name", EnvVars: env("NAME")},
		&cli.StringFlag{Name: "bio", Usage: "a few sentences about you", EnvVars: env("BIO")},
		&cli.StringSliceFlag{Name: "skill", Usage: "a skill; repeat for several (see 'profile vocabulary')", EnvVars: env("SKILLS")},
		&cli.BoolFlag{Name: "clear-skills", Usage: "remove all skills", EnvVars: env("CLEAR_SKILLS")},
		&cli.StringSliceFlag{Name: "interest", Usage: "something you want to learn or explore; repeat for several", EnvVars: env("INTERESTS")},
		&cli.BoolFlag{Name: "clear-interests", Usage: "remove all interests", EnvVars: env("CLEAR_INTERESTS")},
		&cli.StringSliceFlag{Name: "role", Usage: "a role you offer: mentor, mentee or peer; repeat for several", EnvVars: env("ROLES")},
		&cli.BoolFlag{Name: "clear-roles", Usage: "offer no role", EnvVars: env("CLEAR_ROLES")},
		&cli.StringFlag{Name: "experience", Usage: "new, practising, experienced or trainer", EnvVars: env("EXPERIENCE")},
		&cli.IntFlag{Name: "capacity", Usage: fmt.Sprintf("how many mentees you take at once, 0 to %d", mentorship.MaxCapacity), EnvVars: env("CAPACITY")},
		&cli.StringFlag{Name: "availability", Usage: "open (taking mentees) or closed (not for now)", EnvVars: env("AVAILABILITY")},
		&cli.IntFlag{Name: "hours", Usage: fmt.Sprintf("hours per month you can give, 0 to %d", mentorship.MaxHoursPerMonth), EnvVars: env("HOURS")},
		&cli.StringSliceFlag{Name: "lang", Usage: "a language you speak, as an ISO 639 code (en, de, fr...); repeat for several", EnvVars: env("LANGUAGES")},
		&cli.BoolFlag{Name: "clear-languages", Usage: "remove all languages", EnvVars: env("CLEAR_LANGUAGES")},
		&cli.StringFlag{Name: "tz", Usage: "your time zone: an IANA name (Europe/Berlin) or UTC+05:30", EnvVars: env("TZ")},
		&cli.StringFlag{Name: "pronouns", Usage: "your pronouns, e.g. she/her", EnvVars: env("PRONOUNS")},
		&cli.StringFlag{Name: "location", Usage: "where you are, coarsely (a city or a country); optional", EnvVars: env("LOCATION")},
		&cli.GenericFlag{Name: "link", Value: &listValue{}, Usage: fmt.Sprintf("an http(s) link (website, article); repeat for up to %d", mentorship.MaxLinks), EnvVars: env("LINKS")},
		&cli.BoolFlag{Name: "clear-links", Usage: "remove all links", EnvVars: env("CLEAR_LINKS")},
		jsonFlag,
	}
}

// listValue is a repeatable flag whose values are never split at commas
// (URLs may contain them).
type listValue struct{ items []string }

func (v *listValue) Set(s string) error { v.items = append(v.items, s); return nil }
func (v *listValue) String() string     { return strings.Join(v.items, " ") }

func profileSet(c *cli.Context) error {
	var in api.ProfileInput
	if cs := globalSlice(c, "community"); len(cs) == 1 {
		in.Community = cs[0]
	} else if len(cs) > 1 {
		return cli.Exit("profile set takes one --community, or none for all joined communities", 2)
	}
	text := func(name string) *string {
		if !c.IsSet(name) {
			return nil
		}
		v := c.String(name)
		return &v
	}
	list := func(name string, values []string) *[]string {
		if c.Bool("clear-" + name) {
			return &[]string{}
		}
		if values == nil {
			return nil
		}
		return &values
	}
	number := func(name string) *int {
		if !c.IsSet(name) {
			return nil
		}
		v := c.Int(name)
		return &v
	}
	slice := func(name string) []string {
		if !c.IsSet(name) {
			return nil
		}
		return c.StringSlice(name)
	}
	var links []string
	if c.IsSet("link") {
		links = c.Generic("link").(*listValue).items
	}
	in.Name, in.Bio, in.Pronouns, in.TimeZone, in.Location = text("name"), text("bio"), text("pronouns"), text("tz"), text("location")
	in.Experience, in.Availability = text("experience"), text("availability")
	in.Capacity, in.HoursPerMonth = number("capacity"), number("hours")
	in.Skills = list("skills", slice("skill"))
	in.Interests = list("interests", slice("interest"))
	in.Roles = list("roles", slice("role"))
	in.Languages = list("languages", slice("lang"))
	in.Links = list("links", links)
	if in == (api.ProfileInput{Community: in.Community}) {
		return cli.Exit("nothing to set: give --name, --bio, --skill or another field (see 'mentormesh profile set --help')", 2)
	}
	b, err := openBackend(c, "profile set")
	if err != nil {
		return err
	}
	defer b.close()
	p, err := b.SetProfile(c.Context, in)
	if err != nil {
		return err
	}
	if err := emit(c, p, func(w io.Writer) { printProfile(w, p) }); err != nil {
		return err
	}
	// Hints go to stderr, so they show with --json too.
	for _, tags := range []struct {
		what string
		in   *[]string
	}{{"skill", in.Skills}, {"interest", in.Interests}} {
		if tags.in == nil {
			continue
		}
		for _, t := range *tags.in {
			if s := mentorship.SuggestTags(t); s != nil {
				printf(c.App.ErrWriter, "Note: %s %q is not in the suggested vocabulary; did you mean %s? ('mentormesh profile vocabulary' lists it.)\n",
					tags.what, mentorship.NormalizeTag(t), quoteList(s, " or "))
			}
		}
	}
	if hasString(p.Roles, "mentor") && p.Capacity == 0 {
		printf(c.App.ErrWriter, "Note: you offer the mentor role with capacity 0: mentor searches skip you until you set --capacity N.\n")
	}
	if !b.online {
		printf(c.App.ErrWriter, "Saved. No node is running: it will be published when you run 'mentormesh run'.\n")
	}
	return nil
}

func hasString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func quoteList(items []string, last string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	if len(q) <= 1 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + last + q[len(q)-1]
}

func profileDelete(c *cli.Context) error {
	community := ""
	if cs := globalSlice(c, "community"); len(cs) == 1 {
		community = cs[0]
	} else if len(cs) > 1 {
		return cli.Exit("profile delete takes one --community, or none for all joined communities", 2)
	}
	b, err := openBackend(c, "profile delete")
	if err != nil {
		return err
	}
	defer b.close()
	if err := b.DeleteProfile(c.Context, community); err != nil {
		return err
	}
	printf(c.App.Writer, "Profile deleted.\n")
	return nil
}

func profileShow(c *cli.Context) error {
	if c.NArg() > 1 {
		return cli.Exit("profile show takes at most one PEER_ID", 2)
	}
	community := ""
	if cs := globalSlice(c, "community"); len(cs) > 0 {
		community = cs[0]
	}
	b, err := openBackend(c, "profile show")
	if err != nil {
		return err
	}
	defer b.close()
	p, err := b.Profile(c.Context, c.Args().First(), community)
	if err != nil {
		return err
	}
	return emit(c, p, func(w io.Writer) { printProfile(w, p) })
}

func printProfile(w io.Writer, p api.Profile) {
	title := p.Name
	if p.Pronouns != "" {
		title += " (" + p.Pronouns + ")"
	}
	printf(w, "%s\n", title)
	line := func(label, value string) {
		if value != "" {
			printf(w, "  %-13s %s\n", label+":", value)
		}
	}
	line("peer ID", p.PeerID)
	line("community", p.Community)
	line("bio", strings.ReplaceAll(p.Bio, "\n", "\n"+strings.Repeat(" ", 16)))
	line("roles", strings.Join(p.Roles, ", "))
	line("experience", p.Experience)
	line("skills", strings.Join(p.Skills, ", "))
	line("interests", strings.Join(p.Interests, ", "))
	line("languages", strings.Join(p.Languages, ", "))
	line("time zone", p.TimeZone)
	line("location", p.Location)
	avail := p.Availability
	if p.HoursPerMonth > 0 {
		avail += fmt.Sprintf(", %d hours per month", p.HoursPerMonth)
	}
	line("availability", avail)
	m := p.Mentorships
	if hasString(p.Roles, "mentor") || m.ActiveAsMentor > 0 {
		line("mentees", fmt.Sprintf("%d active of %d (%d places free)", m.ActiveAsMentor, p.Capacity, m.FreePlaces))
	}
	done := fmt.Sprintf("%d completed as mentor, %d as mentee", m.CompletedAsMentor, m.CompletedAsMentee)
	if m.ActiveAsMentee > 0 {
		done += fmt.Sprintf("; %d active as mentee", m.ActiveAsMentee)
	}
	line("mentorships", done)
	rating := "none yet"
	if m.Ratings > 0 {
		rating = fmt.Sprintf("%.1f average from %d ratings", m.AverageRating, m.Ratings)
	}
	line("rating", rating)
	for i, l := range p.Links {
		label := "links:"
		if i > 0 {
			label = ""
		}
		printf(w, "  %-13s %s\n", label, l)
	}
	line("updated", fmt.Sprintf("%s (version %d)", p.UpdatedAt.Local().Format("2006-01-02 15:04"), p.Version))
}

func profileList(c *cli.Context) error {
	community, err := oneCommunity(c, "profile list")
	if err != nil {
		return err
	}
	b, err := openBackend(c, "profile list")
	if err != nil {
		return err
	}
	defer b.close()
	ps, err := b.ListProfiles(c.Context, community)
	if err != nil {
		return err
	}
	return emit(c, ps, func(w io.Writer) {
		if len(ps) == 0 {
			printf(w, "No profiles yet. Create yours with 'mentormesh profile set --name NAME'.\n")
			return
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		printf(tw, "NAME\tROLES\tEXPERIENCE\tSKILLS\tPEER ID\n")
		for _, p := range ps {
			printf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Name, dash(strings.Join(p.Roles, ",")), dash(p.Experience),
				dash(shorten(strings.Join(p.Skills, ", "), 40)), p.PeerID)
		}
		_ = tw.Flush()
		if len(ps) == 1 {
			printf(w, "1 practitioner\n")
		} else {
			printf(w, "%d practitioners\n", len(ps))
		}
	})
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneCommunity returns the --community given (at most one), or "" for the
// first joined.
func oneCommunity(c *cli.Context, command string) (string, error) {
	cs := globalSlice(c, "community")
	if len(cs) > 1 {
		return "", cli.Exit(command+" takes one --community, or none for the first joined community", 2)
	}
	if len(cs) == 1 {
		return cs[0], nil
	}
	return "", nil
}

func profileVocabulary(c *cli.Context) error {
	v := mentorship.Vocabulary()
	return emit(c, v, func(w io.Writer) {
		printf(w, "Suggested skills and interests (any other tag is allowed too):\n")
		for _, t := range v {
			printf(w, "  %s\n", t)
		}
	})
}
