package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/mentormesh/mentormesh/sync/record"
)

// Outbox implements Store. Entries whose record has been superseded are
// skipped, then deleted.
func (b *Badger) Outbox(ctx context.Context, fn func(*record.Record) error) error {
	var stale []record.ID
	var fnErr error
	err := b.view(ctx, func(txn *badger.Txn) error {
		return scan(ctx, txn, outboxPrefix, false, func(item *badger.Item) error {
			var id record.ID
			k := item.Key()
			if len(k) != len(outboxPrefix)+len(id) {
				return fmt.Errorf("%w: outbox key %q", ErrCorrupt, k)
			}
			copy(id[:], k[len(outboxPrefix):])
			rec, err := txnRecordByID(txn, id)
			if err != nil {
				return err
			}
			if rec == nil {
				stale = append(stale, id)
				return nil
			}
			fnErr = fn(rec)
			return fnErr
		})
	})
	if len(stale) > 0 && !errors.Is(err, ErrClosed) {
		// A superseded record never becomes current again, so its entry
		// can go even if the scan stopped early.
		if rerr := b.RemoveFromOutbox(ctx, stale...); rerr != nil && err == nil {
			err = rerr
		}
	}
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("reading outbox: %w", err)
	}
	return nil
}

// txnRecordByID returns the current record with this ID, or nil if the
// record is not current.
func txnRecordByID(txn *badger.Txn, id record.ID) (*record.Record, error) {
	item, err := txn.Get(idKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ck, err := item.ValueCopy(nil)
	if err != nil {
		return nil, err
	}
	item, err = txn.Get(ck)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, fmt.Errorf("%w: record %s is indexed but not stored", ErrCorrupt, id)
	}
	if err != nil {
		return nil, err
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		return nil, err
	}
	rec, err := decodeCurrent(ck, v)
	if err != nil {
		return nil, err
	}
	if rec.ID != id {
		return nil, fmt.Errorf("%w: record %s is indexed at an address holding %s", ErrCorrupt, id, rec.ID)
	}
	return rec, nil
}

// outboxBatch bounds the deletes in one transaction, well below Badger's
// transaction size limit.
const outboxBatch = 1000

// RemoveFromOutbox implements Store. Removing an ID that is not in the
// outbox does nothing.
func (b *Badger) RemoveFromOutbox(ctx context.Context, ids ...record.ID) error {
	if err := b.enter(); err != nil {
		return fmt.Errorf("removing from outbox: %w", err)
	}
	defer b.leave()
	for len(ids) > 0 {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("removing from outbox: %w", err)
		}
		batch := ids[:min(len(ids), outboxBatch)]
		ids = ids[len(batch):]
		err := b.db.Update(func(txn *badger.Txn) error {
			for _, id := range batch {
				if err := txn.Delete(outboxKey(id)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("removing from outbox: %w", err)
		}
	}
	return nil
}

// PutPeer implements Store.
func (b *Badger) PutPeer(ctx context.Context, p PeerInfo) error {
	if p.ID == "" {
		return errors.New("remembering peer: peer has no ID")
	}
	v, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("remembering peer %s: %w", p.ID, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("remembering peer %s: %w", p.ID, err)
	}
	if err := b.enter(); err != nil {
		return fmt.Errorf("remembering peer %s: %w", p.ID, err)
	}
	defer b.leave()
	if err := b.db.Update(func(txn *badger.Txn) error { return txn.Set(peerKey(p.ID), v) }); err != nil {
		return fmt.Errorf("remembering peer %s: %w", p.ID, err)
	}
	return nil
}

// Peers implements Store.
func (b *Badger) Peers(ctx context.Context) ([]PeerInfo, error) {
	var peers []PeerInfo
	err := b.view(ctx, func(txn *badger.Txn) error {
		return scan(ctx, txn, peerPrefix, true, func(item *badger.Item) error {
			return item.Value(func(v []byte) error {
				var p PeerInfo
				if err := json.Unmarshal(v, &p); err != nil {
					return fmt.Errorf("%w: peer %q: %w", ErrCorrupt, item.Key()[len(peerPrefix):], err)
				}
				peers = append(peers, p)
				return nil
			})
		})
	})
	if err != nil {
		return nil, fmt.Errorf("reading peers: %w", err)
	}
	sortPeers(peers)
	return peers, nil
}
