package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/record"
)

// StoreReport is what a store holds, as Restore reports it.
type StoreReport = store.CheckReport

// RestoreOptions qualify Restore.
type RestoreOptions struct {
	// Force replaces a store that holds records. Without it, Restore only
	// fills a fresh data directory (no store, or a store with no records).
	Force bool
	// Replacing, if set, is called when Force replaces a store holding
	// records, with what it holds, before anything is changed: the CLI
	// prints its warning there.
	Replacing func(existing StoreReport)
	Logger    *slog.Logger
}

// RestoreResult says what Restore did.
type RestoreResult struct {
	// Backup is the backup's header.
	Backup store.BackupMeta `json:"backup"`
	// Restored is what the restored store holds.
	Restored store.CheckReport `json:"restored"`
	// KeptAt is where the replaced store was moved, if it held records
	// (delete it once the restored data looks right).
	KeptAt string `json:"kept_at,omitempty"`
	// PeerID is this data directory's identity ("" if it has none yet).
	PeerID string `json:"peer_id"`
}

// VerifyBackup checks that file is a complete, undamaged backup this
// mentormesh can restore, and returns its header.
func VerifyBackup(file string) (store.BackupMeta, error) { return store.VerifyBackup(file) }

// ErrNotEmpty is returned by Restore when the data directory's store holds
// records and RestoreOptions.Force is not set.
var ErrNotEmpty = errors.New("the data directory already holds records")

// Restore replaces the store of the data directory dataDir with the
// backup file at file. It needs the data directory to itself: it fails
// with a *LockedError (naming the process) while a node or another command
// uses it. The backup is verified in full and loaded into a new store
// beside the old one, whose records' signatures are all checked, before
// the old store is touched; a damaged file leaves the data directory as it
// was. The identity key and API token are not part of a backup and are
// left alone.
func Restore(ctx context.Context, dataDir, file string, opts RestoreOptions) (RestoreResult, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p, err := NewPaths(dataDir)
	if err != nil {
		return RestoreResult{}, err
	}
	if err := os.MkdirAll(p.Dir, 0o700); err != nil {
		return RestoreResult{}, fmt.Errorf("creating data directory: %w", err)
	}
	lock, err := lockDir(p, "mentormesh restore")
	if err != nil {
		var le *LockedError
		if errors.As(err, &le) {
			who := "another mentormesh process"
			if le.Holder.PID > 0 {
				who = fmt.Sprintf("mentormesh process %d (%q, since %s)", le.Holder.PID, le.Holder.Command,
					le.Holder.Since.Local().Format(time.DateTime))
			}
			return RestoreResult{}, fmt.Errorf("%w: restore works only while no node runs, and %s is in use by %s; "+
				"stop it (for a node: 'mentormesh shutdown') and run restore again", ErrLocked, le.Dir, who)
		}
		return RestoreResult{}, err
	}
	defer lock.unlock()

	var res RestoreResult
	if key, err := LoadKey(p); err == nil {
		if _, author, err := edKeys(key); err == nil {
			res.PeerID = author.String()
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return RestoreResult{}, err
	}
	if res.Backup, err = store.VerifyBackup(file); err != nil {
		return RestoreResult{}, err
	}
	existing, hasStore, inspectErr := inspectStore(ctx, p, log)
	switch {
	case inspectErr != nil && !opts.Force:
		return RestoreResult{}, fmt.Errorf("%w; rerun with --force to replace it with the backup (it is kept aside)", inspectErr)
	case inspectErr != nil:
		log.Warn("replacing a store that does not open", "err", inspectErr)
	case existing.Records > 0 && !opts.Force:
		return RestoreResult{}, fmt.Errorf("%w: %s holds %d records (%d not yet published); restoring replaces them all. "+
			"Export or back them up first, then rerun with --force", ErrNotEmpty, p.StoreDir(), existing.Records, existing.Outbox)
	case existing.Records > 0 && opts.Replacing != nil:
		opts.Replacing(existing)
	}

	tmp := p.StoreDir() + ".restoring"
	if err := os.RemoveAll(tmp); err != nil {
		return RestoreResult{}, fmt.Errorf("removing an earlier unfinished restore: %w", err)
	}
	if _, res.Restored, err = store.RestoreBackup(ctx, file, tmp, log); err != nil {
		return RestoreResult{}, err
	}
	if hasStore {
		old := p.StoreDir() + ".before-restore-" + time.Now().Format("20060102-150405")
		if err := os.Rename(p.StoreDir(), old); err != nil {
			_ = os.RemoveAll(tmp)
			return RestoreResult{}, fmt.Errorf("moving the old store aside: %w", err)
		}
		if inspectErr == nil && existing.Records == 0 {
			defer os.RemoveAll(old) // nothing worth keeping
		} else {
			res.KeptAt = old
		}
	}
	if err := os.Rename(tmp, p.StoreDir()); err != nil {
		return RestoreResult{}, fmt.Errorf("putting the restored store in place (it is in %s): %w", tmp, err)
	}
	if err := syncDir(p.Dir); err != nil {
		return RestoreResult{}, err
	}
	return res, nil
}

// inspectStore reports what the data directory's store holds, and whether
// there is one.
func inspectStore(ctx context.Context, p Paths, log *slog.Logger) (store.CheckReport, bool, error) {
	if _, err := os.Stat(p.StoreDir()); errors.Is(err, fs.ErrNotExist) {
		return store.CheckReport{}, false, nil
	}
	s, err := store.OpenBadger(p.StoreDir(), store.BadgerOptions{Logger: log})
	if err != nil {
		return store.CheckReport{}, true, fmt.Errorf("the existing store does not open: %w", err)
	}
	defer s.Close()
	var rep store.CheckReport
	counts, err := s.Counts(ctx)
	if err != nil {
		return rep, true, fmt.Errorf("the existing store cannot be read: %w", err)
	}
	for _, c := range counts {
		rep.Records += c.Live + c.Tombstones
		rep.Tombstones += c.Tombstones
	}
	err = s.Outbox(ctx, func(*record.Record) error { rep.Outbox++; return nil })
	if err != nil {
		return rep, true, fmt.Errorf("the existing store cannot be read: %w", err)
	}
	return rep, true, nil
}

// WriteFileAtomic writes path through write: into a temporary file beside
// it (mode 0600), synced, then renamed over path, so a crash or an error
// leaves either the old file or the complete new one, never part of it.
// If check is not nil it vets the temporary file before the rename.
func WriteFileAtomic(path string, write func(w io.Writer) error, check func(tmp string) error) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path))
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename, there is nothing to remove
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if check != nil {
		if err := check(tmp.Name()); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return syncDir(dir)
}

// syncDir flushes a directory's entries (renames) to disk.
func syncDir(dir string) error {
	if isWindows() {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}
