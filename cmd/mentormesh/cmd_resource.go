package main

import "github.com/urfave/cli/v2"

func resourceCommand() *cli.Command {
	return &cli.Command{Name: "resource", Hidden: true}
}
