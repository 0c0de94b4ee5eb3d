package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
)

// pairPrivateSubcommands are the `pair` subcommands for what is private to a
// pairing: goals, sessions, notes, contact details.
func pairPrivateSubcommands() []*cli.Command {
	return []*cli.Command{
		{
			Name:  "goal",
			Usage: "add or change the pairing's goals (private to the pair)",
			Subcommands: []*cli.Command{
				{
					Name:      "add",
					Usage:     "add a goal to an active pairing",
					UsageText: "mentormesh pair goal add PAIRING_ID --title TITLE|- [--due YYYY-MM-DD] [--status STATUS]",
					Flags: []cli.Flag{
						&cli.StringFlag{Name: "title", Usage: "what the goal is (up to 200 characters)" + stdinHint, Required: true},
						&cli.StringFlag{Name: "due", Usage: "due date, YYYY-MM-DD"},
						&cli.StringFlag{Name: "status", Usage: "open (default), in-progress, done or dropped"},
						jsonFlag,
					},
					Action: pairGoalAdd,
				},
				{
					Name:      "set",
					Usage:     "change one of your goals: its status, title or due date",
					UsageText: "mentormesh pair goal set PAIRING_ID GOAL_ID [--status STATUS] [--title TITLE|-] [--due YYYY-MM-DD]",
					Flags: []cli.Flag{
						&cli.StringFlag{Name: "status", Usage: "open, in-progress, done or dropped"},
						&cli.StringFlag{Name: "title", Usage: "new title (up to 200 characters)" + stdinHint},
						&cli.StringFlag{Name: "due", Usage: "new due date, YYYY-MM-DD"},
						jsonFlag,
					},
					Action: pairGoalSet,
				},
			},
		},
		{
			Name:  "session",
			Usage: "keep the pairing's session log (private to the pair)",
			Subcommands: []*cli.Command{
				{
					Name:      "log",
					Usage:     "record a session",
					UsageText: "mentormesh pair session log PAIRING_ID --date DATE --duration DURATION [--notes NOTES|-]",
					Flags: []cli.Flag{
						&cli.StringFlag{Name: "date", Usage: "when: YYYY-MM-DD, 'YYYY-MM-DD HH:MM' (local time) or RFC 3339", Required: true},
						&cli.StringFlag{Name: "duration", Usage: "how long: 60m, 1h30m, or minutes (90); up to 24h", Required: true},
						&cli.StringFlag{Name: "notes", Usage: "what you worked on (up to 4000 characters)" + stdinHint},
						jsonFlag,
					},
					Action: pairSessionLog,
				},
			},
		},
		{
			Name:  "note",
			Usage: "write private notes in a pairing (readable by the pair only)",
			Subcommands: []*cli.Command{
				{
					Name:      "add",
					Usage:     "add a note",
					UsageText: "mentormesh pair note add PAIRING_ID --text TEXT|-",
					Flags: []cli.Flag{
						&cli.StringFlag{Name: "text", Usage: "the note (up to 4000 characters)" + stdinHint, Required: true},
						jsonFlag,
					},
					Action: pairNoteAdd,
				},
			},
		},
		{
			Name:  "contact",
			Usage: "share your contact details with your partner (readable by the pair only)",
			Subcommands: []*cli.Command{
				{
					Name:      "set",
					Usage:     "set (or replace) your contact details for this pairing",
					UsageText: "mentormesh pair contact set PAIRING_ID --text TEXT|-",
					Flags: []cli.Flag{
						&cli.StringFlag{Name: "text", Usage: "how to reach you: e-mail, phone, video link... (up to 500 characters)" + stdinHint, Required: true},
						jsonFlag,
					},
					Action: pairContactSet,
				},
			},
		},
		{
			Name:      "items",
			Usage:     "show a pairing's goals, sessions, notes and contact details, from both partners",
			ArgsUsage: "PAIRING_ID",
			Flags:     []cli.Flag{jsonFlag},
			Action:    pairItemsShow,
		},
	}
}

// privateCommunityFlag is the one community a pair command acts in ("" for
// the joined community that has the pairing).
func privateCommunityFlag(c *cli.Context, command string) (string, error) {
	cs := globalSlice(c, "community")
	if len(cs) > 1 {
		return "", cli.Exit(fmt.Sprintf("%s takes one --community (default: the joined community that has the pairing)", command), 2)
	}
	if len(cs) == 1 {
		return cs[0], nil
	}
	return "", nil
}

// privateArgs checks the positional arguments: want names them.
func privateArgs(c *cli.Context, command string, want ...string) ([]string, error) {
	if c.NArg() != len(want) {
		return nil, cli.Exit(fmt.Sprintf("%s takes %s (see 'mentormesh pair %s --help')", command, strings.Join(want, " and "), strings.TrimPrefix(command, "pair ")), 2)
	}
	return c.Args().Slice(), nil
}

// parseDueDate parses a YYYY-MM-DD date as midnight UTC (a calendar date that
// reads the same in every time zone).
func parseDueDate(flag, s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, cli.Exit(fmt.Sprintf("--%s %q: want a date as YYYY-MM-DD", flag, s), 2)
	}
	return t, nil
}

// parseSessionDate parses a session date: a calendar date (midnight UTC),
// a local date and time, or RFC 3339.
func parseSessionDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, cli.Exit(fmt.Sprintf("--date %q: want YYYY-MM-DD, 'YYYY-MM-DD HH:MM' or RFC 3339", s), 2)
}

// parseSessionMinutes parses a duration (60m, 1h30m) or a plain number of
// minutes.
func parseSessionMinutes(s string) (int, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		return n, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d%time.Minute != 0 {
		return 0, cli.Exit(fmt.Sprintf("--duration %q: want whole minutes, as 60m, 1h30m or 90", s), 2)
	}
	return int(d / time.Minute), nil
}

// runPairWrite opens the backend, runs write and prints the item.
func runPairWrite(c *cli.Context, command string, write func(b *backend) (api.PairItem, error)) error {
	b, err := openBackend(c, command)
	if err != nil {
		return err
	}
	defer b.close()
	it, err := write(b)
	if err != nil {
		return err
	}
	if err := emit(c, it, func(w io.Writer) { printPairItem(w, it, true) }); err != nil {
		return err
	}
	if !b.online {
		printf(c.App.ErrWriter, "Saved. No node is running: it will be published when you run 'mentormesh run'.\n")
	}
	return nil
}

func pairGoalAdd(c *cli.Context) error {
	args, err := privateArgs(c, "pair goal add", "PAIRING_ID")
	if err != nil {
		return err
	}
	in := api.GoalInput{Status: c.String("status")}
	if in.Community, err = privateCommunityFlag(c, "pair goal add"); err != nil {
		return err
	}
	if in.Title, err = privateTextFlag(c, "title", mentorship.MaxGoalTitleLen); err != nil {
		return err
	}
	if c.IsSet("due") {
		d, err := parseDueDate("due", c.String("due"))
		if err != nil {
			return err
		}
		in.Due = &d
	}
	return runPairWrite(c, "pair goal add", func(b *backend) (api.PairItem, error) {
		return b.AddGoal(c.Context, args[0], in)
	})
}

func pairGoalSet(c *cli.Context) error {
	args, err := privateArgs(c, "pair goal set", "PAIRING_ID", "GOAL_ID")
	if err != nil {
		return err
	}
	var in api.GoalUpdate
	if in.Community, err = privateCommunityFlag(c, "pair goal set"); err != nil {
		return err
	}
	if c.IsSet("status") {
		v := c.String("status")
		in.Status = &v
	}
	if c.IsSet("title") {
		v, err := privateTextFlag(c, "title", mentorship.MaxGoalTitleLen)
		if err != nil {
			return err
		}
		in.Title = &v
	}
	if c.IsSet("due") {
		d, err := parseDueDate("due", c.String("due"))
		if err != nil {
			return err
		}
		in.Due = &d
	}
	if in.Status == nil && in.Title == nil && in.Due == nil {
		return cli.Exit("nothing to change: give --status, --title or --due", 2)
	}
	return runPairWrite(c, "pair goal set", func(b *backend) (api.PairItem, error) {
		return b.UpdateGoal(c.Context, args[0], args[1], in)
	})
}

func pairSessionLog(c *cli.Context) error {
	args, err := privateArgs(c, "pair session log", "PAIRING_ID")
	if err != nil {
		return err
	}
	var in api.SessionInput
	if in.Community, err = privateCommunityFlag(c, "pair session log"); err != nil {
		return err
	}
	if in.Date, err = parseSessionDate(c.String("date")); err != nil {
		return err
	}
	if in.DurationMinutes, err = parseSessionMinutes(c.String("duration")); err != nil {
		return err
	}
	if in.Notes, err = privateTextFlag(c, "notes", mentorship.MaxSessionNotesLen); err != nil {
		return err
	}
	return runPairWrite(c, "pair session log", func(b *backend) (api.PairItem, error) {
		return b.LogSession(c.Context, args[0], in)
	})
}

func pairNoteAdd(c *cli.Context) error {
	return pairTextWrite(c, "pair note add", mentorship.MaxNoteLen, func(b *backend, id, community, text string) (api.PairItem, error) {
		return b.AddNote(c.Context, id, api.NoteInput{Community: community, Text: text})
	})
}

func pairContactSet(c *cli.Context) error {
	return pairTextWrite(c, "pair contact set", mentorship.MaxContactLen, func(b *backend, id, community, text string) (api.PairItem, error) {
		return b.SetContact(c.Context, id, api.ContactInput{Community: community, Text: text})
	})
}

// pairTextWrite runs a subcommand whose only input is the pairing ID and
// --text, of at most max characters: notes and contact details.
func pairTextWrite(c *cli.Context, name string, max int, write func(b *backend, id, community, text string) (api.PairItem, error)) error {
	args, err := privateArgs(c, name, "PAIRING_ID")
	if err != nil {
		return err
	}
	community, err := privateCommunityFlag(c, name)
	if err != nil {
		return err
	}
	text, err := privateTextFlag(c, "text", max)
	if err != nil {
		return err
	}
	return runPairWrite(c, name, func(b *backend) (api.PairItem, error) {
		return write(b, args[0], community, text)
	})
}

func pairItemsShow(c *cli.Context) error {
	args, err := privateArgs(c, "pair items", "PAIRING_ID")
	if err != nil {
		return err
	}
	community, err := privateCommunityFlag(c, "pair items")
	if err != nil {
		return err
	}
	b, err := openBackend(c, "pair items")
	if err != nil {
		return err
	}
	defer b.close()
	items, err := b.PairItems(c.Context, community, args[0])
	if err != nil {
		return err
	}
	return emit(c, items, func(w io.Writer) { printPairItems(w, items) })
}

// itemDate prints a date that is midnight UTC as the calendar date, any
// other time in local time.
func itemDate(t time.Time) string {
	if u := t.UTC(); u.Hour() == 0 && u.Minute() == 0 && u.Second() == 0 && u.Nanosecond() == 0 {
		return u.Format(time.DateOnly)
	}
	return t.Local().Format("2006-01-02 15:04")
}

func itemBy(it api.PairItem) string {
	if it.Mine {
		return it.Role + " (you)"
	}
	return it.Role
}

func indentText(s, indent string) string {
	return indent + strings.ReplaceAll(s, "\n", "\n"+indent)
}

// printPairItem prints one item; added says it was just written.
func printPairItem(w io.Writer, it api.PairItem, added bool) {
	if added {
		printf(w, "Saved %s %s (version %d).\n", it.Type, it.ID, it.Version)
	}
	switch it.Type {
	case "goal":
		due := ""
		if it.Due != nil {
			due = ", due " + itemDate(*it.Due)
		}
		printf(w, "  [%s] %s%s\n      by %s, id %s\n", it.Status, it.Title, due, itemBy(it), it.ID)
	case "session":
		printf(w, "  %s, %d min, by %s, id %s\n", itemDate(*it.Date), it.DurationMinutes, itemBy(it), it.ID)
		if it.Text != "" {
			printf(w, "%s\n", indentText(it.Text, "      "))
		}
	default:
		printf(w, "  by %s, %s, id %s\n%s\n", itemBy(it), it.UpdatedAt.Local().Format("2006-01-02 15:04"), it.ID, indentText(it.Text, "      "))
	}
}

func printPairItems(w io.Writer, p api.PairItems) {
	you := map[string]string{p.YourRole: " (you)"}
	printf(w, "Pairing %s in %s (%s)\n  mentor: %s%s\n  mentee: %s%s\n", p.PairingID, p.Community, p.State, p.Mentor, you["mentor"], p.Mentee, you["mentee"])
	for _, sec := range []struct {
		title string
		items []api.PairItem
	}{{"Goals", p.Goals}, {"Sessions", p.Sessions}, {"Notes", p.Notes}, {"Contact details", p.Contacts}} {
		printf(w, "\n%s (%d)\n", sec.title, len(sec.items))
		for _, it := range sec.items {
			printPairItem(w, it, false)
		}
	}
	if p.Unreadable > 0 {
		printf(w, "\n%d item(s) of this pairing could not be read (altered, or written by an incompatible client).\n", p.Unreadable)
	}
}
