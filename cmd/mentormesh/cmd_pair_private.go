package main

import "github.com/urfave/cli/v2"

// pairPrivateSubcommands are the `pair` subcommands for what is private to a
// pairing: goals, sessions, notes, contact details.
func pairPrivateSubcommands() []*cli.Command { return nil }
