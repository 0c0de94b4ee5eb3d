package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
)

const resourceRefUsage = "ID"

func resourceCommand() *cli.Command {
	types := strings.Join(mentorship.ResourceTypeNames(), ", ")
	return &cli.Command{
		Name:     "resource",
		Usage:    "share, find and endorse resources: articles, videos, books, guides, case studies, events, templates",
		Category: "mentorship",
		Subcommands: []*cli.Command{
			{
				Name:  "add",
				Usage: "share a resource (it needs a --url or a --text; an event needs --starts and a --place or --link)",
				UsageText: "mentormesh resource add --type TYPE --title TITLE [--url URL] [--text TEXT] [--description D] [--tag TAG ...] [--lang CODE]\n" +
					"   [--starts TIME [--ends TIME] --place PLACE --link URL]   (events)",
				Flags:  append(resourceContentFlags(types), jsonFlag),
				Action: resourceAdd,
			},
			{
				Name:      "edit",
				Usage:     "change one of your resources (fields you leave out keep their value; an empty value clears one)",
				ArgsUsage: resourceRefUsage,
				Flags: append(resourceContentFlags(types),
					&cli.BoolFlag{Name: "clear-tags", Usage: "remove all tags"}, jsonFlag),
				Action: resourceEdit,
			},
			{
				Name:   "list",
				Usage:  "list resources, most endorsed first",
				Flags:  resourceQueryFlags(types),
				Action: resourceList,
			},
			{
				Name:      "search",
				Usage:     "search resources by text (title, tags, description, text) and filters; best matches first",
				ArgsUsage: "[TEXT ...]",
				Flags:     resourceQueryFlags(types),
				Action:    resourceSearch,
			},
			{
				Name:      "show",
				Usage:     "show a resource and who endorses it",
				ArgsUsage: resourceRefUsage,
				Flags:     []cli.Flag{jsonFlag},
				Action:    resourceShow,
			},
			{
				Name:      "endorse",
				Usage:     "endorse someone's resource (once per resource; again to change the comment)",
				ArgsUsage: resourceRefUsage,
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "comment", Usage: "a short comment, at most 280 characters"},
					jsonFlag,
				},
				Action: resourceEndorse,
			},
			{
				Name:      "unendorse",
				Usage:     "withdraw your endorsement",
				ArgsUsage: resourceRefUsage,
				Action:    resourceUnendorse,
			},
			{
				Name:      "rm",
				Aliases:   []string{"delete"},
				Usage:     "delete one of your resources (a signed deletion that replicates like any update)",
				ArgsUsage: resourceRefUsage,
				Action:    resourceRemove,
			},
		},
	}
}

func resourceContentFlags(types string) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "type", Usage: "one of: " + types},
		&cli.StringFlag{Name: "title", Usage: "title, at most 200 characters"},
		&cli.StringFlag{Name: "url", Usage: "where to find it (http or https)"},
		&cli.StringFlag{Name: "text", Usage: "short inline text, at most 4000 characters"},
		&cli.StringFlag{Name: "description", Usage: "what it is and why it helps, at most 2000 characters"},
		&cli.StringSliceFlag{Name: "tag", Usage: "a tag; repeat for several (at most 20); replaces the list"},
		&cli.StringFlag{Name: "lang", Usage: "language, as an ISO 639 code (en, de, fra...)"},
		&cli.StringFlag{Name: "starts", Usage: "event start: 2026-12-01T18:00Z, 2026-12-01T18:00+01:00, or 2026-12-01 18:00 in local time"},
		&cli.StringFlag{Name: "ends", Usage: "event end, in the same forms"},
		&cli.StringFlag{Name: "place", Usage: "where the event takes place"},
		&cli.StringFlag{Name: "link", Usage: "the event's online link (http or https)"},
	}
}

func resourceQueryFlags(types string) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "type", Usage: "only this type: " + types, EnvVars: []string{"MENTORMESH_RESOURCE_TYPE"}},
		&cli.StringFlag{Name: "tag", Usage: "only resources with this tag", EnvVars: []string{"MENTORMESH_RESOURCE_TAG"}},
		&cli.StringFlag{Name: "lang", Usage: "only this language (ISO 639 code)", EnvVars: []string{"MENTORMESH_RESOURCE_LANG"}},
		&cli.StringFlag{Name: "author", Usage: "only this author's (a peer ID, or self)", EnvVars: []string{"MENTORMESH_RESOURCE_AUTHOR"}},
		&cli.IntFlag{Name: "limit", Value: 50, Usage: "show at most this many (0: all)", EnvVars: []string{"MENTORMESH_RESOURCE_LIMIT"}},
		jsonFlag,
	}
}

// resourceCommunityArg is the community a resource command acts in: the
// one --community given, or "" for the first joined.
func resourceCommunityArg(c *cli.Context, command string) (string, error) {
	cs := globalSlice(c, "community")
	if len(cs) > 1 {
		return "", cli.Exit(fmt.Sprintf("%s acts in one community: give one --community (or none for the first joined)", command), 2)
	}
	if len(cs) == 1 {
		return cs[0], nil
	}
	return "", nil
}

// resourceRefArg returns the one ID argument.
func resourceRefArg(c *cli.Context, command string) (string, error) {
	if c.NArg() != 1 {
		return "", cli.Exit(fmt.Sprintf("%s takes one resource ID ('mentormesh resource list' shows them); see 'mentormesh %s --help'", command, command), 2)
	}
	return c.Args().First(), nil
}

// resourceInput reads the content flags that were given.
func resourceInput(c *cli.Context) (api.ResourceInput, error) {
	var in api.ResourceInput
	str := func(name string, dst **string) {
		if c.IsSet(name) {
			v := c.String(name)
			*dst = &v
		}
	}
	str("type", &in.Type)
	str("title", &in.Title)
	str("url", &in.URL)
	str("text", &in.Text)
	str("description", &in.Description)
	str("lang", &in.Language)
	str("place", &in.Place)
	str("link", &in.Link)
	if c.IsSet("tag") || c.Bool("clear-tags") {
		v := c.StringSlice("tag")
		if c.Bool("clear-tags") {
			v = []string{}
		}
		in.Tags = &v
	}
	for _, f := range []struct {
		name string
		dst  **time.Time
	}{{"starts", &in.StartsAt}, {"ends", &in.EndsAt}} {
		if !c.IsSet(f.name) {
			continue
		}
		t, err := parseWhen(c.String(f.name))
		if err != nil {
			return in, cli.Exit(fmt.Sprintf("--%s: %v", f.name, err), 2)
		}
		*f.dst = &t
	}
	return in, nil
}

// parseWhen parses an event time. Without a zone it is local time; ""
// is the zero time (which clears the field in an edit).
func parseWhen(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use 2026-12-01T18:00Z, 2026-12-01T18:00+01:00, or 2026-12-01 18:00 (local time)", s)
}

func resourceAdd(c *cli.Context) error {
	if c.NArg() > 0 {
		return cli.Exit("resource add takes no arguments, only flags (did you forget quotes around the title?)", 2)
	}
	in, err := resourceInput(c)
	if err != nil {
		return err
	}
	if in.Type == nil || in.Title == nil {
		return cli.Exit("resource add needs --type and --title (see 'mentormesh resource add --help')", 2)
	}
	if in.Community, err = resourceCommunityArg(c, "resource add"); err != nil {
		return err
	}
	b, err := openBackend(c, "resource add")
	if err != nil {
		return err
	}
	defer b.close()
	r, err := b.AddResource(c.Context, in)
	if err != nil {
		return err
	}
	if err := emit(c, r, func(w io.Writer) { printResource(w, api.ResourceDetail{Resource: r}) }); err != nil {
		return err
	}
	if !b.online {
		printf(c.App.ErrWriter, "Saved. No node is running: it will be published when you run 'mentormesh run'.\n")
	}
	return nil
}

func resourceEdit(c *cli.Context) error {
	ref, err := resourceRefArg(c, "resource edit")
	if err != nil {
		return err
	}
	in, err := resourceInput(c)
	if err != nil {
		return err
	}
	if in == (api.ResourceInput{}) {
		return cli.Exit("nothing to change: give the flags to change (see 'mentormesh resource edit --help')", 2)
	}
	if in.Community, err = resourceCommunityArg(c, "resource edit"); err != nil {
		return err
	}
	b, err := openBackend(c, "resource edit")
	if err != nil {
		return err
	}
	defer b.close()
	r, err := b.EditResource(c.Context, ref, in)
	if err != nil {
		return err
	}
	if err := emit(c, r, func(w io.Writer) { printResource(w, api.ResourceDetail{Resource: r}) }); err != nil {
		return err
	}
	if !b.online {
		printf(c.App.ErrWriter, "Saved. No node is running: it will be published when you run 'mentormesh run'.\n")
	}
	return nil
}

func resourceList(c *cli.Context) error {
	if c.NArg() > 0 {
		return cli.Exit("resource list takes no arguments; to search by text use 'mentormesh resource search TEXT'", 2)
	}
	return resourceQuery(c, "resource list", "")
}

func resourceSearch(c *cli.Context) error {
	return resourceQuery(c, "resource search", strings.Join(c.Args().Slice(), " "))
}

func resourceQuery(c *cli.Context, command, text string) error {
	community, err := resourceCommunityArg(c, command)
	if err != nil {
		return err
	}
	if c.Int("limit") < 0 {
		return cli.Exit("--limit must be 0 (all) or more", 2)
	}
	b, err := openBackend(c, command)
	if err != nil {
		return err
	}
	defer b.close()
	list, err := b.Resources(c.Context, api.ResourceQuery{
		Community: community, Text: text, Tag: c.String("tag"), Type: c.String("type"),
		Language: c.String("lang"), Author: c.String("author"), Limit: c.Int("limit"),
	})
	if err != nil {
		return err
	}
	return emit(c, list, func(w io.Writer) { printResourceList(w, list) })
}

func resourceShow(c *cli.Context) error {
	ref, err := resourceRefArg(c, "resource show")
	if err != nil {
		return err
	}
	community, err := resourceCommunityArg(c, "resource show")
	if err != nil {
		return err
	}
	b, err := openBackend(c, "resource show")
	if err != nil {
		return err
	}
	defer b.close()
	d, err := b.Resource(c.Context, ref, community)
	if err != nil {
		return err
	}
	return emit(c, d, func(w io.Writer) { printResource(w, d) })
}

func resourceEndorse(c *cli.Context) error {
	ref, err := resourceRefArg(c, "resource endorse")
	if err != nil {
		return err
	}
	in := api.EndorseInput{Comment: c.String("comment")}
	if in.Community, err = resourceCommunityArg(c, "resource endorse"); err != nil {
		return err
	}
	b, err := openBackend(c, "resource endorse")
	if err != nil {
		return err
	}
	defer b.close()
	d, err := b.EndorseResource(c.Context, ref, in)
	if err != nil {
		return err
	}
	return emit(c, d, func(w io.Writer) {
		printf(w, "Endorsed %q (%s).\n", d.Title, resourcePlural(d.Endorsements, "endorsement"))
	})
}

func resourceUnendorse(c *cli.Context) error {
	return resourceRefAction(c, "resource unendorse", "Endorsement withdrawn.", func(b *backend, ref, community string) error {
		return b.UnendorseResource(c.Context, ref, community)
	})
}

func resourceRemove(c *cli.Context) error {
	return resourceRefAction(c, "resource rm", "Resource deleted.", func(b *backend, ref, community string) error {
		return b.DeleteResource(c.Context, ref, community)
	})
}

// resourceRefAction runs a subcommand that acts on one resource and
// prints a fixed confirmation: unendorse and rm.
func resourceRefAction(c *cli.Context, name, done string, act func(b *backend, ref, community string) error) error {
	ref, err := resourceRefArg(c, name)
	if err != nil {
		return err
	}
	community, err := resourceCommunityArg(c, name)
	if err != nil {
		return err
	}
	b, err := openBackend(c, name)
	if err != nil {
		return err
	}
	defer b.close()
	if err := act(b, ref, community); err != nil {
		return err
	}
	printf(c.App.Writer, "%s\n", done)
	return nil
}
