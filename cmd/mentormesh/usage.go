package main

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/urfave/cli/v2"
)

// badValue matches the standard flag package's message for a value that
// does not parse, and captures the flag's name.
var badValue = regexp.MustCompile(`^invalid value "(.*)" for flag -([^:]+): `)

// onUsageError returns cmd's answer to a flag that does not parse: one line
// on stderr that names the flag with its two dashes, says what it wants and
// where the help is, and exit code 2 like every other usage error.
// urfave/cli's default printed the whole help on stdout, where scripts read
// results, then the error again, and exited 1.
func onUsageError(cmd *cli.Command) cli.OnUsageErrorFunc {
	return func(_ *cli.Context, err error, _ bool) error {
		msg := err.Error()
		if m := badValue.FindStringSubmatch(msg); m != nil {
			msg = fmt.Sprintf("--%s %q: %s", m[2], m[1], wantFor(cmd.Flags, m[2], strings.TrimPrefix(msg, m[0])))
		} else {
			msg = strings.Replace(msg, " -", " --", 1)
		}
		help := strings.TrimSpace(cmd.HelpName)
		if help == "" {
			help = "mentormesh " + cmd.Name
		}
		return cli.Exit(fmt.Sprintf("%s (see '%s --help')", msg, help), 2)
	}
}

// wantFor says what a flag of name takes, from its type; why is the
// parser's own reason, kept when the type says nothing more.
func wantFor(flags []cli.Flag, name, why string) string {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n != name {
				continue
			}
			switch f.(type) {
			case *cli.DurationFlag:
				return "want a duration such as 90m, 36h or 168h"
			case *cli.IntFlag, *cli.Int64Flag, *cli.UintFlag, *cli.Uint64Flag:
				return "want a whole number"
			case *cli.Float64Flag:
				return "want a number"
			case *cli.BoolFlag:
				return "want true or false"
			}
		}
	}
	return why
}

// unknownCommand answers a command group (the app itself, or one such as
// pair) given a word that names none of its commands: an error saying so,
// with the closest command, and exit code 2. urfave/cli's default said "No
// help topic for 'X'" and exited 3. With no word, show is the group's help,
// as before.
func unknownCommand(show cli.ActionFunc) cli.ActionFunc {
	return func(c *cli.Context) error {
		if c.NArg() == 0 {
			return show(c)
		}
		group, cmds := "mentormesh", c.App.Commands
		if c.Command != nil && len(c.Command.Subcommands) > 0 {
			cmds = c.Command.Subcommands
			if c.Command.HelpName != "" {
				group = c.Command.HelpName
			}
		}
		// main puts "mentormesh: " before the message.
		msg := fmt.Sprintf("no command %q", c.Args().First())
		if sub := strings.TrimPrefix(group, "mentormesh "); sub != group {
			msg = fmt.Sprintf("%s has no command %q", sub, c.Args().First())
		}
		if s := cli.SuggestCommand(cmds, c.Args().First()); s != "" && !strings.Contains(s, `""`) {
			msg += ". " + s
		}
		return cli.Exit(fmt.Sprintf("%s (see '%s --help')", msg, group), 2)
	}
}
