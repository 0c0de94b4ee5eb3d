package main

import (
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mentormesh/mentormesh/node/api"
)

func profileCommand() *cli.Command {
	return &cli.Command{
		Name:     "profile",
		Usage:    "set or show practitioner profiles",
		Category: "mentorship",
		Subcommands: []*cli.Command{
			{
				Name:      "set",
				Usage:     "set your profile (fields you leave out keep their value)",
				UsageText: "mentormesh profile set --name NAME [--bio BIO] [--skill SKILL ...]",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "name", Usage: "display name", EnvVars: []string{"MENTORMESH_PROFILE_NAME"}},
					&cli.StringFlag{Name: "bio", Usage: "a few sentences about you", EnvVars: []string{"MENTORMESH_PROFILE_BIO"}},
					&cli.StringSliceFlag{Name: "skill", Usage: "a skill or interest; repeat for several; replaces the list", EnvVars: []string{"MENTORMESH_PROFILE_SKILLS"}},
					&cli.BoolFlag{Name: "clear-skills", Usage: "remove all skills", EnvVars: []string{"MENTORMESH_PROFILE_CLEAR_SKILLS"}},
					jsonFlag,
				},
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
		},
	}
}

func profileSet(c *cli.Context) error {
	var in api.ProfileInput
	if cs := globalSlice(c, "community"); len(cs) == 1 {
		in.Community = cs[0]
	} else if len(cs) > 1 {
		return cli.Exit("profile set takes one --community, or none for all joined communities", 2)
	}
	if c.IsSet("name") {
		v := c.String("name")
		in.Name = &v
	}
	if c.IsSet("bio") {
		v := c.String("bio")
		in.Bio = &v
	}
	if c.IsSet("skill") || c.Bool("clear-skills") {
		v := c.StringSlice("skill")
		if c.Bool("clear-skills") {
			v = []string{}
		}
		in.Skills = &v
	}
	if in.Name == nil && in.Bio == nil && in.Skills == nil {
		return cli.Exit("nothing to set: give --name, --bio or --skill (see 'mentormesh profile set --help')", 2)
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
	if !b.online {
		// Outside emit, so it is printed with --json too.
		printf(c.App.ErrWriter, "Saved. No node is running: it will be published when you run 'mentormesh run'.\n")
	}
	return nil
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
	printf(w, "%s\n  peer ID:   %s\n  community: %s\n", p.Name, p.PeerID, p.Community)
	if p.Bio != "" {
		printf(w, "  bio:       %s\n", strings.ReplaceAll(p.Bio, "\n", "\n             "))
	}
	if len(p.Skills) > 0 {
		printf(w, "  skills:    %s\n", strings.Join(p.Skills, ", "))
	}
	printf(w, "  updated:   %s (version %d)\n", p.UpdatedAt.Local().Format("2006-01-02 15:04"), p.Version)
}
