package main

import "github.com/urfave/cli/v2"

func communityCommand() *cli.Command {
	return &cli.Command{Name: "community", Hidden: true}
}
