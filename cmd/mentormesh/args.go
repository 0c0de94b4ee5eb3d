package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// hoistFlags moves flags that follow positional arguments in front of them.
// urfave/cli v2 stops parsing flags at the first positional argument, so
// without this `mentormesh profile show PEER --json` would treat --json as a
// second peer. Everything after a literal "--" is left alone.
func hoistFlags(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	rest := args[1:]
	cmds := app.Commands
	flags := app.Flags
	// Walk the command path: leading flags (with their values) and command
	// names stay where they are.
	for len(rest) > 0 {
		a := rest[0]
		if a == "--" {
			return append(out, rest...)
		}
		if strings.HasPrefix(a, "-") {
			n := flagArity(flags, a)
			out = append(out, rest[:min(1+n, len(rest))]...)
			rest = rest[min(1+n, len(rest)):]
			continue
		}
		sub := findCommand(cmds, a)
		if sub == nil {
			break
		}
		out = append(out, a)
		rest = rest[1:]
		cmds, flags = sub.Subcommands, sub.Flags
	}
	var moved, positional []string
	for len(rest) > 0 {
		a := rest[0]
		if a == "--" {
			positional = append(positional, rest...)
			break
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			n := min(1+flagArity(flags, a), len(rest))
			moved = append(moved, rest[:n]...)
			rest = rest[n:]
			continue
		}
		positional = append(positional, a)
		rest = rest[1:]
	}
	return append(append(out, moved...), positional...)
}

// flagArity returns 1 if the flag token takes a separate value argument.
func flagArity(flags []cli.Flag, tok string) int {
	name := strings.TrimLeft(tok, "-")
	if strings.Contains(name, "=") {
		return 0
	}
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				if _, ok := f.(*cli.BoolFlag); ok {
					return 0
				}
				return 1
			}
		}
	}
	return 0
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.Name == name {
			return c
		}
		for _, a := range c.Aliases {
			if a == name {
				return c
			}
		}
	}
	return nil
}
