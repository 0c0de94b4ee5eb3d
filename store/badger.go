package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/dgraph-io/badger/v4"

	"github.com/mentormesh/mentormesh/sync/record"
)

// Badger is the on-disk store. keys.go documents its key layout.
type Badger struct {
	db  *badger.DB
	log *slog.Logger

	// txnMaxCount and txnMaxSize are the limits on a transaction's entries
	// and size by which ApplyBatch plans its transactions: Badger's own,
	// which tests may raise to make ApplyBatch overflow a transaction.
	txnMaxCount, txnMaxSize int64

	stopGC chan struct{} // closed by Close
	gcDone chan struct{} // closed when the GC goroutine has returned

	closeState
}

var _ Store = (*Badger)(nil)

// maxApplyAttempts bounds the retries of an Apply whose transaction
// conflicted with a concurrent write to the same address.
const maxApplyAttempts = 16

// Apply implements Store.
func (b *Badger) Apply(ctx context.Context, rec *record.Record, opts ApplyOptions) (ApplyResult, error) {
	if err := ctx.Err(); err != nil {
		return ApplyResult{}, fmt.Errorf("applying record %s: %w", rec.ID, err)
	}
	if err := b.enter(); err != nil {
		return ApplyResult{}, fmt.Errorf("applying record %s: %w", rec.ID, err)
	}
	defer b.leave()

	ck := currentKey(rec.Addr())
	var res ApplyResult
	var err error
	for attempt := 1; ; attempt++ {
		res, err = b.applyTxn(ck, rec, opts.Local)
		if !errors.Is(err, badger.ErrConflict) || attempt == maxApplyAttempts {
			break
		}
	}
	if err != nil {
		return ApplyResult{}, fmt.Errorf("applying record %s: %w", rec.ID, err)
	}
	// Sync even when the record was already current: an earlier non-local
	// apply of the same bytes may not have reached the disk yet.
	if opts.Local {
		if err := b.db.Sync(); err != nil {
			return ApplyResult{}, fmt.Errorf("applying record %s: flushing to disk: %w", rec.ID, err)
		}
	}
	return res, nil
}

// applyTxn is one attempt at Apply, in one transaction: the read of the
// current version and every write it decides.
func (b *Badger) applyTxn(ck []byte, rec *record.Record, local bool) (ApplyResult, error) {
	var res ApplyResult
	err := b.db.Update(func(txn *badger.Txn) error {
		var err error
		res, err = applyInTxn(txn, ck, rec, local)
		return err
	})
	return res, err
}

// applyInTxn applies rec, whose c/ key is ck, inside txn: it reads the
// current version (which, inside an update transaction, includes what txn
// itself has written) and, if rec is newer, writes the record and its index
// entries and removes those of the record it replaces. It makes at most the
// writes recordTxnEntries counts (one more if local). On error, some of
// them may have been made: txn must then be discarded.
func applyInTxn(txn *badger.Txn, ck []byte, rec *record.Record, local bool) (ApplyResult, error) {
	prev, prevItem, ok, err := txnPrevious(txn, ck, rec)
	if err != nil {
		return ApplyResult{}, err
	}
	if ok {
		if rec.Meta().Compare(prev) <= 0 {
			return ApplyResult{}, nil
		}
		sk, ak := syncKeys(rec.Addr(), prevItem)
		for _, k := range [][]byte{idKey(prev.ID), sk, ak} {
			if err := txn.Delete(k); err != nil {
				return ApplyResult{}, fmt.Errorf("unindexing record %s: %w", prev.ID, err)
			}
		}
	}
	e := badger.NewEntry(ck, encodeCurrent(rec)).WithMeta(flagsOf(rec))
	if err := txn.SetEntry(e); err != nil {
		return ApplyResult{}, fmt.Errorf("writing record: %w", err)
	}
	if err := txn.Set(idKey(rec.ID), ck); err != nil {
		return ApplyResult{}, fmt.Errorf("indexing record: %w", err)
	}
	sk, ak := syncKeys(rec.Addr(), SyncItemOf(rec))
	for _, k := range [][]byte{sk, ak} {
		if err := txn.Set(k, nil); err != nil {
			return ApplyResult{}, fmt.Errorf("indexing record for sync: %w", err)
		}
	}
	if local {
		if err := txn.Set(outboxKey(rec.ID), nil); err != nil {
			return ApplyResult{}, fmt.Errorf("adding record to outbox: %w", err)
		}
	}
	return ApplyResult{Applied: true, Previous: prev, HadPrevious: ok}, nil
}

// txnPrevious reads the version and ID stored under the c/ key ck and, if
// rec is newer, the sync item of the stored record, which applying rec
// must unindex. Only then does it decode the stored record: applying a
// duplicate or an older version, the common case in gossip, reads just the
// value's header.
func txnPrevious(txn *badger.Txn, ck []byte, rec *record.Record) (record.Meta, SyncItem, bool, error) {
	item, err := txn.Get(ck)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return record.Meta{}, SyncItem{}, false, nil
	}
	if err != nil {
		return record.Meta{}, SyncItem{}, false, fmt.Errorf("reading current record: %w", err)
	}
	var m record.Meta
	var it SyncItem
	err = item.Value(func(v []byte) error {
		var verr error
		if m, verr = decodeMeta(v); verr != nil || rec.Meta().Compare(m) <= 0 {
			return verr
		}
		// The decoded record aliases v, which is valid only in this
		// function; only its item is kept.
		stored, verr := decodeCurrent(ck, v)
		if verr != nil {
			return verr
		}
		it = SyncItemOf(stored)
		return nil
	})
	if err != nil {
		return record.Meta{}, SyncItem{}, false, fmt.Errorf("reading current record: %w", err)
	}
	return m, it, true, nil
}

// txnMeta reads the version and ID stored under the c/ key ck.
func txnMeta(txn *badger.Txn, ck []byte) (record.Meta, bool, error) {
	item, err := txn.Get(ck)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return record.Meta{}, false, nil
	}
	if err != nil {
		return record.Meta{}, false, fmt.Errorf("reading current record: %w", err)
	}
	var m record.Meta
	err = item.Value(func(v []byte) error {
		m, err = decodeMeta(v)
		return err
	})
	if err != nil {
		return record.Meta{}, false, fmt.Errorf("reading current record: %w", err)
	}
	return m, true, nil
}

// Current implements Store.
func (b *Badger) Current(ctx context.Context, addr record.Addr) (*record.Record, error) {
	var rec *record.Record
	err := b.view(ctx, func(txn *badger.Txn) error {
		k := currentKey(addr)
		item, err := txn.Get(k)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		rec, err = decodeCurrent(k, v)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading record at %s: %w", fmtAddr(addr), err)
	}
	return rec, nil
}

// CurrentMeta implements Store.
func (b *Badger) CurrentMeta(ctx context.Context, addr record.Addr) (meta record.Meta, ok bool, err error) {
	err = b.view(ctx, func(txn *badger.Txn) error {
		meta, ok, err = txnMeta(txn, currentKey(addr))
		return err
	})
	if err != nil {
		return record.Meta{}, false, fmt.Errorf("reading record at %s: %w", fmtAddr(addr), err)
	}
	return meta, ok, nil
}

// Has implements Store.
func (b *Badger) Has(ctx context.Context, id record.ID) (bool, error) {
	var ok bool
	err := b.view(ctx, func(txn *badger.Txn) error {
		_, err := txn.Get(idKey(id))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		ok = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("looking up record %s: %w", id, err)
	}
	return ok, nil
}

// List implements Store. fn runs inside a read transaction; it may call the
// store.
func (b *Badger) List(ctx context.Context, q Query, fn func(*record.Record) error) error {
	prefix, err := queryPrefix(q)
	if err != nil {
		return fmt.Errorf("listing records: %w", err)
	}
	var fnErr error
	err = b.view(ctx, func(txn *badger.Txn) error {
		return scan(ctx, txn, prefix, true, func(item *badger.Item) error {
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			rec, err := decodeCurrent(item.Key(), v)
			if err != nil {
				return err
			}
			fnErr = fn(rec)
			return fnErr
		})
	})
	if fnErr != nil {
		return fnErr // the caller's own error, unwrapped
	}
	if err != nil {
		return fmt.Errorf("listing records in %s: %w", q.Community, err)
	}
	return nil
}

// Counts implements Store. It reads keys and flags only, not records.
func (b *Badger) Counts(ctx context.Context) ([]KindCount, error) {
	var c counter
	err := b.view(ctx, func(txn *badger.Txn) error {
		return scan(ctx, txn, currentPrefix, false, func(item *badger.Item) error {
			a, err := parseCurrentKey(item.Key())
			if err != nil {
				return err
			}
			c.add(a.Community, a.Kind, item.UserMeta()&flagDeleted != 0)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("counting records: %w", err)
	}
	return c.result(), nil
}

// view runs fn in a read transaction, after checking ctx and that the store
// is open.
func (b *Badger) view(ctx context.Context, fn func(*badger.Txn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := b.enter(); err != nil {
		return err
	}
	defer b.leave()
	return b.db.View(fn)
}

// scan calls fn for each item under prefix, checking ctx before each.
func scan(ctx context.Context, txn *badger.Txn, prefix []byte, values bool, fn func(*badger.Item) error) error {
	opts := badger.DefaultIteratorOptions
	opts.PrefetchValues = values
	opts.Prefix = prefix
	it := txn.NewIterator(opts)
	defer it.Close()
	for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(it.Item()); err != nil {
			return err
		}
	}
	return nil
}
