package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/dgraph-io/badger/v4"

	"github.com/mentormesh/mentormesh/sync/record"
)

// CheckReport is what Check found in a consistent store.
type CheckReport struct {
	// Records counts current records, tombstones included.
	Records int `json:"records"`
	// Tombstones counts the current records that are deletions.
	Tombstones int `json:"tombstones"`
	// Outbox counts the records waiting in the outbox (entries of
	// superseded records are not counted).
	Outbox int `json:"outbox"`
	// Peers counts remembered peers.
	Peers int `json:"peers"`
}

// CheckOptions qualify Check.
type CheckOptions struct {
	// VerifySignatures also checks every record's Ed25519 signature, as
	// ingest would. Records in the store were verified before they were
	// stored; data that did not come through ingest (a backup file from
	// elsewhere) must be checked again.
	VerifySignatures bool
}

// Check reads the whole store in one read transaction and verifies that it
// is consistent: every record decodes, lives at its address and is indexed
// exactly once in i/, s/ and a/ (and nothing else is), remembered peers
// decode, and no key lies outside the layout of keys.go. It returns an
// error wrapping ErrCorrupt for the first problem found.
func (b *Badger) Check(ctx context.Context, opts CheckOptions) (CheckReport, error) {
	var rep CheckReport
	err := b.view(ctx, func(txn *badger.Txn) error {
		return checkTxn(ctx, txn, opts, &rep)
	})
	if err != nil {
		return CheckReport{}, fmt.Errorf("checking store: %w", err)
	}
	return rep, nil
}

// verifyBatch is how many records Check verifies at a time, on every core.
const verifyBatch = 1024

func checkTxn(ctx context.Context, txn *badger.Txn, opts CheckOptions, rep *CheckReport) error {
	var pending []*record.Record
	flush := func() error {
		err := verifyParallel(pending)
		pending = pending[:0]
		return err
	}
	err := scan(ctx, txn, currentPrefix, true, func(item *badger.Item) error {
		k := item.KeyCopy(nil)
		v, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		rec, err := decodeCurrent(k, v)
		if err != nil {
			return err
		}
		if (item.UserMeta()&flagDeleted != 0) != rec.Deleted {
			return fmt.Errorf("%w: record %s: tombstone flag disagrees with the record", ErrCorrupt, rec.ID)
		}
		if err := checkIndexed(txn, k, rec); err != nil {
			return err
		}
		rep.Records++
		if rec.Deleted {
			rep.Tombstones++
		}
		if opts.VerifySignatures {
			pending = append(pending, rec)
			if len(pending) == verifyBatch {
				return flush()
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	// Every record has its i/, s/ and a/ entries; equal counts mean there
	// are no others.
	for _, ns := range []struct {
		prefix []byte
		what   string
	}{{idPrefix, "ID index"}, {syncPrefix, "reconciliation set"}, {authorPrefix, "per-author reconciliation set"}} {
		n, err := countKeys(ctx, txn, ns.prefix)
		if err != nil {
			return err
		}
		if n != rep.Records {
			return fmt.Errorf("%w: the %s has %d entries for %d records", ErrCorrupt, ns.what, n, rep.Records)
		}
	}
	err = scan(ctx, txn, outboxPrefix, false, func(item *badger.Item) error {
		// Entries of superseded records are skipped, as Outbox does.
		id := item.Key()[len(outboxPrefix):]
		if _, err := txn.Get(append(append([]byte(nil), idPrefix...), id...)); err == nil {
			rep.Outbox++
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = scan(ctx, txn, peerPrefix, true, func(item *badger.Item) error {
		return item.Value(func(v []byte) error {
			var p PeerInfo
			if err := json.Unmarshal(v, &p); err != nil || p.ID == "" {
				return fmt.Errorf("%w: remembered peer %q does not decode", ErrCorrupt, item.Key()[len(peerPrefix):])
			}
			rep.Peers++
			return nil
		})
	})
	if err != nil {
		return err
	}
	return checkNamespaces(ctx, txn)
}

// checkIndexed checks that rec, stored under the c/ key ck, has its i/, s/
// and a/ entries.
func checkIndexed(txn *badger.Txn, ck []byte, rec *record.Record) error {
	item, err := txn.Get(idKey(rec.ID))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return fmt.Errorf("%w: record %s is not in the ID index", ErrCorrupt, rec.ID)
	}
	if err != nil {
		return err
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		return err
	}
	if !bytes.Equal(v, ck) {
		return fmt.Errorf("%w: the ID index files record %s under another address", ErrCorrupt, rec.ID)
	}
	sk, ak := syncKeys(rec.Addr(), SyncItemOf(rec))
	for _, k := range [][]byte{sk, ak} {
		if _, err := txn.Get(k); errors.Is(err, badger.ErrKeyNotFound) {
			return fmt.Errorf("%w: record %s is missing from a reconciliation set", ErrCorrupt, rec.ID)
		} else if err != nil {
			return err
		}
	}
	return nil
}

func countKeys(ctx context.Context, txn *badger.Txn, prefix []byte) (int, error) {
	n := 0
	err := scan(ctx, txn, prefix, false, func(*badger.Item) error { n++; return nil })
	return n, err
}

// checkNamespaces refuses keys outside the layout of keys.go.
func checkNamespaces(ctx context.Context, txn *badger.Txn) error {
	known := [][]byte{currentPrefix, idPrefix, syncPrefix, authorPrefix, outboxPrefix, peerPrefix}
	return scan(ctx, txn, nil, false, func(item *badger.Item) error {
		k := item.Key()
		if bytes.Equal(k, schemaKey) {
			return nil
		}
		for _, p := range known {
			if bytes.HasPrefix(k, p) {
				return nil
			}
		}
		return fmt.Errorf("%w: unknown key %q", ErrCorrupt, k)
	})
}

// verifyParallel checks the signatures of recs on every core.
func verifyParallel(recs []*record.Record) error {
	if len(recs) == 0 {
		return nil
	}
	workers := min(runtime.GOMAXPROCS(0), len(recs))
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(recs); i += workers {
				if err := recs[i].Verify(); err != nil {
					errs[w] = fmt.Errorf("%w: record %s: %w", ErrCorrupt, recs[i].ID, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
