package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mentormesh/mentormesh/node"
	"github.com/mentormesh/mentormesh/node/api"
)

func deviceCommand() *cli.Command {
	return &cli.Command{
		Name:     "device",
		Usage:    "use one identity on several devices: link a new device, list and revoke devices",
		Category: "node",
		Subcommands: []*cli.Command{
			{
				Name:      "link",
				Usage:     "on the primary device (its node running): print a one-time code for 'mentormesh device join' on the new device (valid 10 minutes)",
				UsageText: "mentormesh device link [--name NAME]",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "name", Usage: "what to call the new device (up to 64 characters)", EnvVars: []string{"MENTORMESH_DEVICE_NAME"}},
					jsonFlag,
				},
				Action: deviceLink,
			},
			{
				Name: "join",
				Usage: "on the new device (no node running): link this data directory to the practitioner whose primary made CODE; " +
					"it receives the certificate and the practitioner's records, then writes as them",
				ArgsUsage: "CODE",
				Flags:     []cli.Flag{jsonFlag},
				Action:    deviceJoin,
			},
			{
				Name:      "list",
				Usage:     "list a practitioner's devices (yours without PEER_ID) from their signed device records",
				ArgsUsage: "[PEER_ID]",
				Flags:     []cli.Flag{jsonFlag},
				Action:    deviceList,
			},
			{
				Name: "revoke",
				Usage: "on the primary device: revoke a linked device (by device ID or name); nodes refuse its records from now on, " +
					"and the primary signs again the records of yours it had written",
				ArgsUsage: "DEVICE",
				Flags:     []cli.Flag{jsonFlag},
				Action:    deviceRevoke,
			},
		},
	}
}

func deviceLink(c *cli.Context) error {
	if c.NArg() != 0 {
		return cli.Exit("device link takes no arguments (name the device with --name)", 2)
	}
	b, err := openBackend(c, "device link")
	if err != nil {
		return err
	}
	defer b.close()
	code, err := b.LinkDevice(c.Context, api.DeviceLinkInput{Name: c.String("name")})
	if err != nil {
		return err
	}
	return emit(c, code, func(w io.Writer) {
		printf(w, "%s\n", code.Code)
		printf(c.App.ErrWriter, "On the new device, with no node running there, run:\n  mentormesh device join %s\n"+
			"The code links %q to %s, works once, and expires at %s. Keep this node running until the join finishes.\n",
			code.Code, code.Name, code.Practitioner, code.ExpiresAt.Local().Format(time.TimeOnly))
	})
}

func deviceJoin(c *cli.Context) error {
	if c.NArg() != 1 {
		return cli.Exit("device join takes one CODE (printed by 'mentormesh device link' on the primary device)", 2)
	}
	log, paths, err := commandSetup(c)
	if err != nil {
		return err
	}
	if _, err := dialNode(c.Context, paths); err == nil {
		return cli.Exit(fmt.Sprintf("a node is running on %s: joining changes the identity this data directory writes as, so it runs while no node runs. "+
			"Stop it with 'mentormesh shutdown', then run 'mentormesh device join' again", paths.Dir), 1)
	} else if !errors.Is(err, errNoNode) {
		return err
	}
	res, err := node.JoinDevice(c.Context, paths.Dir, c.Args().First(), log)
	if err != nil {
		return err
	}
	return emit(c, res, func(w io.Writer) {
		printf(w, "Linked as device %q of %s.\n", res.Name, res.Practitioner)
		printf(w, "  device ID:   %s\n", res.Device)
		printf(w, "  communities: %s\n", strings.Join(res.Communities, ", "))
		printf(w, "  records:     %d received, %d new\n", res.Records, res.Stored)
		printf(w, "Start the node with 'mentormesh run': what you write now counts as %s's.\n", res.Practitioner)
	})
}

func deviceList(c *cli.Context) error {
	if c.NArg() > 1 {
		return cli.Exit("device list takes at most one PEER_ID", 2)
	}
	b, err := openBackend(c, "device list")
	if err != nil {
		return err
	}
	defer b.close()
	devs, err := b.Devices(c.Context, c.Args().First())
	if err != nil {
		return err
	}
	return emit(c, devs, func(w io.Writer) { printDevices(w, devs) })
}

func printDevices(w io.Writer, devs []api.Device) {
	printf(w, "%-24s %-8s %-20s %-20s %s\n", "NAME", "STATE", "LINKED", "REVOKED", "DEVICE ID")
	marked := false
	for _, d := range devs {
		name := d.Name
		if d.ThisDevice {
			name += " *"
			marked = true
		}
		printf(w, "%-24s %-8s %-20s %-20s %s\n", name, d.State, fmtTimePtr(d.LinkedAt), fmtTimePtr(d.RevokedAt), d.DeviceID)
	}
	if marked { // not in someone else's list
		printf(w, "* this device\n")
	}
}

func fmtTimePtr(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Local().Format(time.DateTime)
}

func deviceRevoke(c *cli.Context) error {
	if c.NArg() != 1 {
		return cli.Exit("device revoke takes one DEVICE (its device ID or name, as 'mentormesh device list' shows)", 2)
	}
	b, err := openBackend(c, "device revoke")
	if err != nil {
		return err
	}
	defer b.close()
	rv, err := b.RevokeDevice(c.Context, c.Args().First())
	if err != nil {
		return err
	}
	err = emit(c, rv, func(w io.Writer) {
		printf(w, "Revoked %q (%s): nodes refuse its records from now on and hide those they hold.\n", rv.Device.Name, rv.Device.DeviceID)
		printf(w, "  %d of your records it had signed were signed again with your own key.\n", rv.Resigned)
	})
	savedOffline(c, b)
	return err
}
