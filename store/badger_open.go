package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// BadgerOptions configure OpenBadger. The zero value is ready to use.
type BadgerOptions struct {
	// Logger receives Badger's own log lines (its Info and Debug at Debug
	// level, Warning at Warn, Error at Error) and the store's. Nil means
	// slog.Default().
	Logger *slog.Logger
	// InMemory keeps everything in memory and ignores dir; nothing survives
	// Close. For tests.
	InMemory bool
	// GCInterval is how often value-log garbage collection runs. Zero (or
	// negative) means DefaultGCInterval. Ignored with InMemory.
	GCInterval time.Duration
}

// DefaultGCInterval is how often value-log garbage collection runs unless
// BadgerOptions.GCInterval says otherwise.
const DefaultGCInterval = 10 * time.Minute

// gcDiscardRatio rewrites a value-log file when at least half of it is
// garbage (Badger's recommendation: lifetime write amplification of 2).
const gcDiscardRatio = 0.5

// badgerOptions tunes Badger for a laptop holding a community's records:
// tens of thousands of records under 32 KiB, not a server database. Badger's
// defaults (5 x 64 MiB memtables, a 256 MiB block cache, 1 GiB value-log
// files) would cost several hundred MiB of RAM and disk for a few MiB of data.
func badgerOptions(dir string, opts BadgerOptions, log *slog.Logger) badger.Options {
	if opts.InMemory {
		dir = "" // Badger refuses a directory in memory mode.
	}
	return badger.DefaultOptions(dir).
		WithInMemory(opts.InMemory).
		// 8 MiB memtables, two of them: writes are small and few; this caps
		// write buffering at 16 MiB. It also caps a transaction at 15% of a
		// memtable (1.2 MiB), far above one record and its index entries.
		WithMemTableSize(8 << 20).
		WithNumMemtables(2).
		// 1 MiB tables at the base level (Badger: 2 MiB), doubling per
		// level. A compaction builds up to 8 + 5 tables at once, each in a
		// buffer of twice the table size: with 2 MiB tables, compacting a
		// store of 100 000 records (45 MB) at start-up took the process to
		// 240 to 310 MB resident at its peak; with 1 MiB, 175 to 245 MB
		// (four and five runs on a loaded machine), writing 100 000 records
		// as fast.
		WithBaseTableSize(1 << 20).
		// Compact level 0 after 2 tables and stall writers only at 8: fewer
		// overlapping tables to search on reads, short stalls.
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(8).
		// Caches: 16 MiB of decompressed blocks (needed because blocks are
		// Snappy-compressed), 8 MiB of table indexes and Bloom filters.
		WithBlockCacheSize(16 << 20).
		WithIndexCacheSize(8 << 20).
		// 64 MiB value-log files instead of 1 GiB, so garbage collection can
		// reclaim space in small steps. Records (at most 32 KiB) stay below
		// the 1 MiB value threshold, so they live in the LSM tree and the
		// value log mostly serves as the write-ahead log.
		WithValueLogFileSize(64 << 20).
		// Two compactors, the minimum Badger accepts short of none, on a
		// machine that has other work to do.
		WithNumCompactors(2).
		// Writes are not synced one by one: records from peers can be
		// fetched again after a crash. Local writes call DB.Sync before
		// Apply returns, because the user was told they succeeded.
		WithSyncWrites(false).
		// Flush level 0 on Close so the next open replays little.
		WithCompactL0OnClose(true).
		WithLogger(badgerLogger{log})
}

// OpenBadger opens (creating if needed) the store in dir.
func OpenBadger(dir string, opts BadgerOptions) (*Badger, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	db, err := badger.Open(badgerOptions(dir, opts, log))
	if err != nil {
		// Badger has no sentinel for a held directory lock; its message is
		// the only way to tell this, the commonest failure, apart.
		if strings.Contains(err.Error(), "Another process is using this Badger database") {
			return nil, fmt.Errorf("opening store in %s: another process (probably a running mentormesh node) is using it; stop that node or choose another data directory: %w", dir, err)
		}
		return nil, fmt.Errorf("opening store in %s: %w", dir, err)
	}
	if err := checkSchema(db); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("opening store in %s: %w", dir, err)
	}
	b := &Badger{
		db:          db,
		log:         log,
		txnMaxCount: db.MaxBatchCount(),
		txnMaxSize:  db.MaxBatchSize(),
		stopGC:      make(chan struct{}),
		gcDone:      make(chan struct{}),
	}
	if opts.InMemory {
		close(b.gcDone) // value-log GC does not apply in memory
	} else {
		interval := opts.GCInterval
		if interval <= 0 {
			interval = DefaultGCInterval
		}
		go b.runGC(interval)
	}
	return b, nil
}

// checkSchema writes the schema version into a new store and refuses a store
// written by a newer mentormesh.
func checkSchema(db *badger.DB) error {
	return db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(schemaKey)
		if errors.Is(err, badger.ErrKeyNotFound) {
			v := binary.BigEndian.AppendUint64(nil, schemaVersion)
			if err := txn.Set(schemaKey, v); err != nil {
				return fmt.Errorf("writing schema version: %w", err)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading schema version: %w", err)
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return fmt.Errorf("reading schema version: %w", err)
		}
		if len(v) != 8 {
			return fmt.Errorf("%w: schema version is %d bytes, want 8", ErrCorrupt, len(v))
		}
		switch ver := binary.BigEndian.Uint64(v); {
		case ver > schemaVersion:
			return fmt.Errorf("%w: the data has schema version %d, this mentormesh understands up to %d; upgrade mentormesh", ErrNewerSchema, ver, schemaVersion)
		case ver < 1:
			return fmt.Errorf("%w: schema version %d", ErrCorrupt, ver)
		}
		return nil
	})
}

// runGC runs value-log garbage collection every interval until Close.
func (b *Badger) runGC(interval time.Duration) {
	defer close(b.gcDone)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-b.stopGC:
			return
		case <-t.C:
		}
		if n, err := b.collectGarbage(b.stopGC); err != nil {
			b.log.Warn("value log garbage collection failed", "err", err)
		} else if n > 0 {
			b.log.Debug("value log garbage collected", "files_rewritten", n)
		}
	}
}

// Close stops garbage collection, closes open sync snapshots, waits for
// operations in progress and closes the database. Calling it again does
// nothing. It must not be called from a callback passed to List, Outbox or
// a snapshot's Items.
func (b *Badger) Close() error {
	b.closeOnce.Do(func() {
		b.mu.Lock()
		b.closed = true
		snapshots := make([]*badgerSnapshot, 0, len(b.snapshots))
		for s := range b.snapshots {
			snapshots = append(snapshots, s)
		}
		b.mu.Unlock()
		// A snapshot left open would keep Close waiting forever; and its
		// transaction must end before the database does.
		for _, s := range snapshots {
			s.Close()
		}
		close(b.stopGC)
		<-b.gcDone
		b.active.Wait()
		if err := b.db.Close(); err != nil {
			b.closeErr = fmt.Errorf("closing store: %w", err)
		}
	})
	return b.closeErr
}

// enter registers an operation in progress, or returns ErrClosed. Every
// method that touches the database calls it and defers leave.
func (b *Badger) enter() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	b.active.Add(1)
	return nil
}

func (b *Badger) leave() { b.active.Done() }

// closeState is embedded in Badger: it lets Close wait for operations in
// progress without holding a lock across them, so a callback may call the
// store while Close waits.
type closeState struct {
	mu        sync.Mutex
	closed    bool
	active    sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
	// snapshots are the open sync snapshots, each counted in active.
	snapshots map[*badgerSnapshot]struct{}
}
