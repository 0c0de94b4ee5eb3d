package store

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"github.com/dgraph-io/badger/v4"

	"github.com/mentormesh/mentormesh/sync/record"
)

// SyncSnapshot implements Store. The snapshot is a Badger read
// transaction, kept open until the snapshot is closed; the store counts it
// as an operation in progress, and Close closes it (waiting for the calls
// in progress on it) before closing the database.
func (b *Badger) SyncSnapshot(ctx context.Context) (SyncSnapshot, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("opening sync snapshot: %w", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, fmt.Errorf("opening sync snapshot: %w", ErrClosed)
	}
	b.active.Add(1)
	s := &badgerSnapshot{b: b, txn: b.db.NewTransaction(false), counts: make(map[string]int)}
	if b.snapshots == nil {
		b.snapshots = make(map[*badgerSnapshot]struct{})
	}
	b.snapshots[s] = struct{}{}
	return s, nil
}

// badgerSnapshot is a SyncSnapshot over a Badger read transaction.
type badgerSnapshot struct {
	b   *Badger
	txn *badger.Txn

	mu     sync.Mutex
	closed bool
	calls  sync.WaitGroup // Items and Count in progress
	counts map[string]int // by scope prefix: the snapshot never changes
}

// enter registers a call in progress, or returns ErrClosed.
func (s *badgerSnapshot) enter() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	s.calls.Add(1)
	return nil
}

// Items implements SyncSnapshot. It reads keys only.
func (s *badgerSnapshot) Items(scope SyncScope, from SyncItem, fn func(SyncItem) bool) error {
	prefix, err := syncScopePrefix(scope)
	if err != nil {
		return fmt.Errorf("reading reconciliation set: %w", err)
	}
	if err := s.enter(); err != nil {
		return fmt.Errorf("reading reconciliation set of %s: %w", scope.Community, err)
	}
	defer s.calls.Done()
	if err := s.scan(prefix, from, fn); err != nil {
		return fmt.Errorf("reading reconciliation set of %s: %w", scope.Community, err)
	}
	return nil
}

// scan calls fn for the items under prefix from from on.
func (s *badgerSnapshot) scan(prefix []byte, from SyncItem, fn func(SyncItem) bool) error {
	opts := badger.DefaultIteratorOptions
	opts.PrefetchValues = false
	opts.Prefix = prefix
	it := s.txn.NewIterator(opts)
	defer it.Close()
	start := appendSyncItem(bytes.Clone(prefix), from)
	for it.Seek(start); it.ValidForPrefix(prefix); it.Next() {
		item, err := parseSyncItem(prefix, it.Item().Key())
		if err != nil {
			return err
		}
		if !fn(item) {
			return nil
		}
	}
	return nil
}

// Count implements SyncSnapshot. The first count of a scope scans its keys;
// the snapshot remembers it.
func (s *badgerSnapshot) Count(scope SyncScope) (int, error) {
	prefix, err := syncScopePrefix(scope)
	if err != nil {
		return 0, fmt.Errorf("counting reconciliation set: %w", err)
	}
	if err := s.enter(); err != nil {
		return 0, fmt.Errorf("counting reconciliation set of %s: %w", scope.Community, err)
	}
	defer s.calls.Done()
	s.mu.Lock()
	n, ok := s.counts[string(prefix)]
	s.mu.Unlock()
	if ok {
		return n, nil
	}
	err = s.scan(prefix, SyncItem{}, func(SyncItem) bool { n++; return true })
	if err != nil {
		return 0, fmt.Errorf("counting reconciliation set of %s: %w", scope.Community, err)
	}
	s.mu.Lock()
	s.counts[string(prefix)] = n
	s.mu.Unlock()
	return n, nil
}

// Close implements SyncSnapshot. It waits for the calls in progress on the
// snapshot, so it must not be called from an Items callback.
func (s *badgerSnapshot) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	s.calls.Wait()
	s.txn.Discard()
	s.b.mu.Lock()
	delete(s.b.snapshots, s)
	s.b.mu.Unlock()
	s.b.leave()
}

// Records implements Store.
func (b *Badger) Records(ctx context.Context, ids []record.ID) ([]*record.Record, error) {
	var recs []*record.Record
	err := b.view(ctx, func(txn *badger.Txn) error {
		for _, id := range ids {
			if err := ctx.Err(); err != nil {
				return err
			}
			rec, err := txnRecordByID(txn, id)
			if err != nil {
				return fmt.Errorf("record %s: %w", id, err)
			}
			if rec != nil {
				recs = append(recs, rec)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading %d records: %w", len(ids), err)
	}
	return recs, nil
}
