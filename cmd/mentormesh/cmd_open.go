package main

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"
)

func openCommand() *cli.Command {
	return &cli.Command{
		Name:     "open",
		Usage:    "print a one-time link that opens the running node's page in your browser",
		Category: "node",
		Flags:    []cli.Flag{jsonFlag},
		Action: func(c *cli.Context) error {
			_, paths, err := commandSetup(c)
			if err != nil {
				return err
			}
			cl, err := dialNode(c.Context, paths)
			if err == errNoNode {
				return cli.Exit(fmt.Sprintf("no node is running on %s: start one with 'mentormesh run' (it prints a link too)", paths.Dir), 1)
			}
			if err != nil {
				return err
			}
			link, err := cl.LoginLink(c.Context)
			if err != nil {
				return err
			}
			return emit(c, link, func(w io.Writer) {
				printf(w, "Open this link in your browser (it works once, for 15 minutes):\n  %s\n", link.URL)
			})
		},
	}
}
