package main

import "github.com/urfave/cli/v2"

func pairCommand() *cli.Command {
	return &cli.Command{Name: "pair", Hidden: true, Subcommands: pairPrivateSubcommands()}
}
