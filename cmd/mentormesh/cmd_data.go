package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mentormesh/mentormesh/node"
	"github.com/mentormesh/mentormesh/node/api"
)

func exportCommand() *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "write your records (with --all, every record this node holds) as JSON",
		UsageText: "mentormesh export [--all] [--out FILE]",
		Category:  "data",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Usage: "export every record this node holds, not only yours", EnvVars: []string{"MENTORMESH_EXPORT_ALL"}},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "write to FILE (atomically, mode 0600) instead of standard output", EnvVars: []string{"MENTORMESH_EXPORT_OUT"}},
		},
		Action: exportAction,
	}
}

func exportAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return cli.Exit("export takes no arguments; write to a file with --out FILE", 2)
	}
	b, err := openBackend(c, "export")
	if err != nil {
		return err
	}
	defer b.close()
	opts := api.ExportOptions{All: c.Bool("all")}
	out := c.String("out")
	var res api.ExportResult
	if out == "" || out == "-" {
		if res, err = b.Export(c.Context, opts, c.App.Writer); err != nil {
			return err
		}
		out = "standard output"
	} else {
		err := node.WriteFileAtomic(out, func(w io.Writer) error {
			var xerr error
			res, xerr = b.Export(c.Context, opts, w)
			return xerr
		}, func(tmp string) error {
			// Read back what was written: a damaged export is found now,
			// not on the day it is needed.
			f, err := os.Open(tmp)
			if err != nil {
				return err
			}
			defer f.Close()
			if _, n, err := node.CheckExport(f); err != nil || n != res.Records {
				return fmt.Errorf("the export written to %s does not read back (%d of %d records): %v", out, n, res.Records, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	what := "record(s) of yours"
	if opts.All {
		what = "record(s)"
	}
	printf(c.App.ErrWriter, "Exported %d %s to %s.\n", res.Records, what, out)
	if !opts.All {
		printf(c.App.ErrWriter, "Only your identity key can update them: keep a copy of identity.key (in the data directory) somewhere safe.\n")
	}
	return nil
}

func importCommand() *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "import the records of an export file (each checked as if it came from a peer)",
		UsageText: "mentormesh import FILE",
		ArgsUsage: "FILE",
		Category:  "data",
		Flags:     []cli.Flag{jsonFlag},
		Action:    importAction,
	}
}

func importAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return cli.Exit("import takes one FILE (made by 'mentormesh export')", 2)
	}
	file := c.Args().First()
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("reading the import: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() > api.MaxImportSize {
		return fmt.Errorf("%s is %d bytes, above the import limit of %d bytes; export one community at a time (--community) and import the files one by one", file, fi.Size(), api.MaxImportSize)
	}
	// Read the whole file once before importing anything: a truncated or
	// malformed file is refused with nothing written.
	hdr, n, err := node.CheckExport(f)
	if err != nil {
		return fmt.Errorf("%s: %w; nothing was imported", file, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	b, err := openBackend(c, "import")
	if err != nil {
		return err
	}
	defer b.close()
	sum, err := b.Import(c.Context, f)
	if err != nil {
		return err
	}
	id, err := b.ID(c.Context)
	if err != nil {
		return err
	}
	if err := emit(c, sum, func(w io.Writer) { printImport(w, file, n, sum) }); err != nil {
		return err
	}
	if hdr.PeerID != "" && hdr.PeerID != id.PeerID && hdr.Scope == api.ScopeOwn {
		printf(c.App.ErrWriter, "Note: %s was exported by %s, not by this node (%s). Its records were imported as "+
			"someone else's: only %s's identity key can update them. To be %s again, stop the node and copy that "+
			"identity.key into the data directory.\n", file, hdr.PeerID, id.PeerID, hdr.PeerID, hdr.PeerID)
	}
	if sum.Republished > 0 && !b.online {
		printf(c.App.ErrWriter, "No node is running: your %d restored record(s) will be published when you run 'mentormesh run'.\n", sum.Republished)
	}
	if sum.Rejected > 0 {
		return cli.Exit(fmt.Sprintf("%d record(s) were rejected (see the problems listed)", sum.Rejected), 1)
	}
	return nil
}

func printImport(w io.Writer, file string, n int, s api.ImportSummary) {
	printf(w, "Read %d record(s) from %s", n, file)
	if s.ExportedBy != "" {
		printf(w, " (exported by %s)", s.ExportedBy)
	}
	printf(w, ":\n")
	printf(w, "  imported:        %d", s.Imported)
	if s.Republished > 0 {
		printf(w, " (%d of them yours, queued to be published again)", s.Republished)
	}
	printf(w, "\n  already current: %d\n", s.AlreadyCurrent)
	printf(w, "  stale:           %d (this node holds newer versions)\n", s.Stale)
	printf(w, "  skipped:         %d\n", s.Skipped)
	printf(w, "  rejected:        %d\n", s.Rejected)
	if len(s.Problems) > 0 {
		printf(w, "problems:\n")
		for _, p := range s.Problems {
			printf(w, "  record %d", p.Index)
			if p.ID != "" {
				printf(w, " (%s)", p.ID[:16])
			}
			printf(w, ": %s: %s\n", p.Outcome, p.Reason)
		}
		if more := s.Skipped + s.Rejected - len(s.Problems); more > 0 {
			printf(w, "  ... and %d more\n", more)
		}
	}
}

func backupCommand() *cli.Command {
	return &cli.Command{
		Name:      "backup",
		Usage:     "write a backup of the whole store (records, outbox, known peers) to FILE",
		UsageText: "mentormesh backup FILE",
		ArgsUsage: "FILE",
		Category:  "data",
		Action:    backupAction,
	}
}

func backupAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return cli.Exit("backup takes one FILE to write", 2)
	}
	file := c.Args().First()
	b, err := openBackend(c, "backup")
	if err != nil {
		return err
	}
	defer b.close()
	var res api.BackupResult
	err = node.WriteFileAtomic(file, func(w io.Writer) error {
		var xerr error
		res, xerr = b.Backup(c.Context, w)
		return xerr
	}, func(tmp string) error {
		if _, err := node.VerifyBackup(tmp); err != nil {
			return fmt.Errorf("the backup written to %s does not verify: %w", file, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	how := "no node running"
	if b.online {
		how = "taken from the running node"
	}
	printf(c.App.Writer, "Backed up the store to %s (%d bytes, %s).\n", file, res.Bytes, how)
	printf(c.App.ErrWriter, "The backup holds records, unpublished writes and known peers, not your identity key: keep a copy of identity.key (in the data directory) somewhere safe too.\n")
	return nil
}

func restoreCommand() *cli.Command {
	return &cli.Command{
		Name:  "restore",
		Usage: "replace the store with a backup (only while no node runs)",
		Description: "Restores a backup made by 'mentormesh backup' into the data directory. The backup is verified " +
			"in full (checksum, and every record's signature) before anything is changed. Without --force, restore " +
			"only fills a data directory whose store holds no records; with --force, the current store is moved " +
			"aside (store.before-restore-TIME) and replaced. The identity key is not part of a backup.",
		UsageText: "mentormesh restore [--force] FILE",
		ArgsUsage: "FILE",
		Category:  "data",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Usage: "replace a store that holds records (it is kept aside)", EnvVars: []string{"MENTORMESH_RESTORE_FORCE"}},
			jsonFlag,
		},
		Action: restoreAction,
	}
}

func restoreAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return cli.Exit("restore takes one FILE (made by 'mentormesh backup')", 2)
	}
	file := c.Args().First()
	log, paths, err := commandSetup(c)
	if err != nil {
		return err
	}
	if _, err := dialNode(c.Context, paths); err == nil {
		pid := 0
		if info, err := node.ReadAPIInfo(paths); err == nil {
			pid = info.PID
		}
		return cli.Exit(fmt.Sprintf("a node is running on %s (process %d): restore works only while no node runs. "+
			"Stop it with 'mentormesh shutdown', then run restore again", paths.Dir, pid), 1)
	} else if !errors.Is(err, errNoNode) {
		return err
	}
	res, err := node.Restore(c.Context, paths.Dir, file, node.RestoreOptions{
		Force:  c.Bool("force"),
		Logger: log,
		Replacing: func(existing node.StoreReport) {
			printf(c.App.ErrWriter, "WARNING: replacing the store of %s, which holds %d records (%d not yet published), "+
				"with the backup %s. The current store is moved aside, not deleted.\n", paths.Dir, existing.Records, existing.Outbox, file)
		},
	})
	if err != nil {
		return err
	}
	err = emit(c, res, func(w io.Writer) {
		printf(w, "Restored %d records (%d deleted), %d unpublished writes and %d known peers from %s\n",
			res.Restored.Records, res.Restored.Tombstones, res.Restored.Outbox, res.Restored.Peers, file)
		printf(w, "  (a backup of %s made %s) into %s.\n", res.Backup.PeerID, res.Backup.CreatedAt.Local().Format(time.DateTime), paths.Dir)
		if res.KeptAt != "" {
			printf(w, "The previous store is in %s; delete it once the restored data looks right.\n", filepath.Base(res.KeptAt))
		}
	})
	if err != nil {
		return err
	}
	switch {
	case res.Backup.PeerID == "" || res.Backup.PeerID == res.PeerID:
	case res.PeerID == "":
		printf(c.App.ErrWriter, "This data directory has no identity yet. To be %s again, copy that identity.key into %s "+
			"before 'mentormesh run' (which would otherwise create a new identity).\n", res.Backup.PeerID, paths.Dir)
	default:
		printf(c.App.ErrWriter, "Note: the backup is of %s, but this data directory's identity is %s: %s's records "+
			"are restored, but only %s's identity key can update them.\n", res.Backup.PeerID, res.PeerID, res.Backup.PeerID, res.Backup.PeerID)
	}
	return nil
}
