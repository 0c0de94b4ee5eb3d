package main

import "github.com/urfave/cli/v2"

func mentorCommand() *cli.Command {
	return &cli.Command{Name: "mentor", Hidden: true}
}
