// Command mentormesh runs a mentormesh node and talks to it.
//
// Every flag also reads an environment variable (MENTORMESH_<FLAG>), and the
// global flags (--data-dir, --community, --log-level, --log-format) are accepted before or
// after the subcommand. See README.md for usage.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"syscall"

	"github.com/libp2p/go-libp2p/gologshim"
	"github.com/urfave/cli/v2"

	"github.com/mentormesh/mentormesh/node"
)

// version is set at build time with -ldflags "-X main.version=..."; the
// module version from the build info is used otherwise.
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	app := newApp(os.Stdout, os.Stderr)
	if err := app.RunContext(ctx, hoistFlags(app, os.Args)); err != nil {
		fmt.Fprintln(os.Stderr, "mentormesh:", err)
		var ec cli.ExitCoder
		if errors.As(err, &ec) {
			os.Exit(ec.ExitCode())
		}
		os.Exit(1)
	}
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// globalFlags are accepted both before and after the subcommand.
func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{
			Name:    "data-dir",
			Usage:   "data directory (default: $XDG_DATA_HOME/mentormesh, i.e. ~/.local/share/mentormesh)",
			EnvVars: []string{node.EnvDataDir},
		},
		&cli.StringSliceFlag{
			Name: "community",
			Usage: "community a command acts in (one the node has joined; default: the first joined). " +
				"With run and init: communities to join, remembered; repeatable (a new data directory starts in " + node.DefaultCommunity + ")",
			EnvVars: []string{"MENTORMESH_COMMUNITY"},
		},
		&cli.StringFlag{
			Name:    "log-level",
			Usage:   "debug, info, warn or error (default: info for run, warn otherwise)",
			EnvVars: []string{"MENTORMESH_LOG_LEVEL"},
		},
		&cli.StringFlag{
			Name:    "log-format",
			Value:   "text",
			Usage:   "text or json",
			EnvVars: []string{"MENTORMESH_LOG_FORMAT"},
		},
	}
}

func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:                 "mentormesh",
		Usage:                "a peer-to-peer coaching and mentorship network",
		Version:              buildVersion(),
		Writer:               stdout,
		ErrWriter:            stderr,
		Flags:                globalFlags(),
		EnableBashCompletion: true,
		Suggest:              true,
		Commands: []*cli.Command{
			initCommand(),
			runCommand(),
			idCommand(),
			peersCommand(),
			statusCommand(),
			profileCommand(),
			mentorCommand(),
			pairCommand(),
			resourceCommand(),
			communityCommand(),
			statsCommand(),
			blockCommand(),
			unblockCommand(),
			blocksCommand(),
			stewardCommand(),
			deviceCommand(),
			openCommand(),
			demoCommand(),
			exportCommand(),
			importCommand(),
			backupCommand(),
			restoreCommand(),
			shutdownCommand(),
			versionCommand(),
			completionCommand(),
		},
	}
	for _, c := range app.Commands {
		addGlobalFlags(c)
	}
	app.OnUsageError = onUsageError(&cli.Command{Name: "", HelpName: "mentormesh", Flags: app.Flags})
	// Every error, cli.Exit's included, goes back to main, which prints it
	// with the program's name and exits with its code. urfave/cli's own
	// handler printed exit errors bare and called os.Exit itself.
	app.ExitErrHandler = func(*cli.Context, error) {}
	app.Action = unknownCommand(cli.ShowAppHelp)
	return app
}

func addGlobalFlags(c *cli.Command) {
	c.Flags = append(c.Flags, globalFlags()...)
	c.OnUsageError = onUsageError(c)
	if len(c.Subcommands) > 0 && c.Action == nil {
		c.Action = unknownCommand(cli.ShowSubcommandHelp)
	}
	for _, sub := range c.Subcommands {
		addGlobalFlags(sub)
	}
}

// setIn returns the innermost context in which a flag was given on the
// command line or by environment, so a global flag works before or after
// the subcommand.
func setIn(c *cli.Context, name string) *cli.Context {
	for _, lc := range c.Lineage() {
		if slices.Contains(lc.LocalFlagNames(), name) {
			return lc
		}
	}
	return c
}

func globalString(c *cli.Context, name string) string {
	return setIn(c, name).String(name)
}

func globalSlice(c *cli.Context, name string) []string {
	return setIn(c, name).StringSlice(name)
}

func dataDir(c *cli.Context) (string, error) {
	if d := globalString(c, "data-dir"); d != "" {
		return d, nil
	}
	return node.DefaultDataDir()
}

// commandSetup does what every command that works on a data directory
// without running the node does first: logging at warn level (unless
// --log-level says otherwise), then the data directory's paths.
func commandSetup(c *cli.Context) (*slog.Logger, node.Paths, error) {
	log, err := setupLogging(c, slog.LevelWarn)
	if err != nil {
		return nil, node.Paths{}, err
	}
	dir, err := dataDir(c)
	if err != nil {
		return nil, node.Paths{}, err
	}
	paths, err := node.NewPaths(dir)
	if err != nil {
		return nil, node.Paths{}, err
	}
	return log, paths, nil
}

// communities returns what --community names. With none, the data
// directory's joined communities decide (see node.Options.Communities).
func communities(c *cli.Context) []string { return globalSlice(c, "community") }

// setupLogging routes mentormesh's and go-libp2p's logs to stderr.
func setupLogging(c *cli.Context, defaultLevel slog.Level) (*slog.Logger, error) {
	level := defaultLevel
	if s := globalString(c, "log-level"); s != "" {
		if err := level.UnmarshalText([]byte(s)); err != nil {
			return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", s)
		}
	}
	format := globalString(c, "log-format")
	if format != "text" && format != "json" {
		return nil, fmt.Errorf("--log-format %q: want text or json", format)
	}
	mk := func(l slog.Leveler) slog.Handler {
		opts := &slog.HandlerOptions{Level: l}
		if format == "json" {
			return slog.NewJSONHandler(c.App.ErrWriter, opts)
		}
		return slog.NewTextHandler(c.App.ErrWriter, opts)
	}
	log := slog.New(mk(level))
	slog.SetDefault(log)
	// go-libp2p is chatty at info; show its warnings only unless debugging.
	libLevel := max(level, slog.LevelWarn)
	gologshim.SetDefaultHandler(mk(libLevel))
	routeGoLog(mk(libLevel), libLevel) // the DHT logs through go-log
	return log, nil
}
