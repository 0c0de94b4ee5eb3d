package store

import (
	"context"
	"errors"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/mentormesh/mentormesh/sync/record"
)

// TestCorruptRecord damages stored bytes behind the store's back: every
// read must fail with ErrCorrupt, never panic or return a wrong record.
func TestCorruptRecord(t *testing.T) {
	tests := []struct {
		name   string
		damage func(v []byte) []byte // the c/ value to write instead of v
	}{
		{"empty", func([]byte) []byte { return nil }},
		{"truncated header", func(v []byte) []byte { return v[:valueHeaderLen-1] }},
		{"header only", func(v []byte) []byte { return v[:valueHeaderLen] }},
		{"truncated record", func(v []byte) []byte { return v[:len(v)-10] }},
		{"flipped byte", func(v []byte) []byte { v[valueHeaderLen+5] ^= 0xff; return v }},
		{"wrong ID", func(v []byte) []byte { v[8] ^= 1; return v }},
		{"wrong version", func(v []byte) []byte { v[7]++; return v }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkCorrupt(t, func(t *testing.T, b *Badger, rec *record.Record) {
				k := currentKey(rec.Addr())
				v := tt.damage(encodeCurrent(rec))
				if err := b.db.Update(func(txn *badger.Txn) error { return txn.Set(k, v) }); err != nil {
					t.Fatalf("damaging record: %v", err)
				}
			})
		})
	}
	t.Run("filed under another address", func(t *testing.T) {
		checkCorrupt(t, func(t *testing.T, b *Badger, rec *record.Record) {
			other := testRecord(t, record.Body{Key: "other", Payload: []byte("x")})
			k := currentKey(rec.Addr())
			if err := b.db.Update(func(txn *badger.Txn) error {
				return txn.Set(k, encodeCurrent(other))
			}); err != nil {
				t.Fatalf("damaging record: %v", err)
			}
		})
	})
}

// checkCorrupt stores a local record, lets damage alter it, and checks
// every read path reports ErrCorrupt.
func checkCorrupt(t *testing.T, damage func(t *testing.T, b *Badger, rec *record.Record)) {
	t.Helper()
	ctx := context.Background()
	b := openTest(t, t.TempDir(), BadgerOptions{})
	rec := testRecord(t, record.Body{Payload: []byte("some payload")})
	if _, err := b.Apply(ctx, rec, ApplyOptions{Local: true}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	damage(t, b, rec)

	if _, err := b.Current(ctx, rec.Addr()); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Current: err = %v, want ErrCorrupt", err)
	}
	err := b.List(ctx, Query{Community: rec.Community}, func(*record.Record) error { return nil })
	if !errors.Is(err, ErrCorrupt) {
		t.Errorf("List: err = %v, want ErrCorrupt", err)
	}
	if err := b.Outbox(ctx, func(*record.Record) error { return nil }); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Outbox: err = %v, want ErrCorrupt", err)
	}
}

func TestCorruptPeer(t *testing.T) {
	b := openTest(t, t.TempDir(), BadgerOptions{})
	if err := b.db.Update(func(txn *badger.Txn) error { return txn.Set(peerKey("p1"), []byte("{not json")) }); err != nil {
		t.Fatalf("damaging peer: %v", err)
	}
	if _, err := b.Peers(context.Background()); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Peers: err = %v, want ErrCorrupt", err)
	}
}

// TestCorruptSyncKey plants a reconciliation key of the wrong length:
// Items and Count must report ErrCorrupt.
func TestCorruptSyncKey(t *testing.T) {
	b := openTest(t, t.TempDir(), BadgerOptions{})
	rec := testRecord(t, record.Body{Payload: []byte("x")})
	if _, err := b.Apply(context.Background(), rec, ApplyOptions{}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	scope := SyncScope{Community: rec.Community}
	prefix, err := syncScopePrefix(scope)
	if err != nil {
		t.Fatalf("syncScopePrefix: %v", err)
	}
	bad := append(prefix, 0xff) // sorts after the record's key
	if err := b.db.Update(func(txn *badger.Txn) error { return txn.Set(bad, nil) }); err != nil {
		t.Fatalf("planting key: %v", err)
	}
	snap, err := b.SyncSnapshot(context.Background())
	if err != nil {
		t.Fatalf("SyncSnapshot: %v", err)
	}
	defer snap.Close()
	var n int
	err = snap.Items(scope, SyncItem{}, func(SyncItem) bool { n++; return true })
	if !errors.Is(err, ErrCorrupt) || n != 1 {
		t.Errorf("Items = %d items, %v; want the good one, then ErrCorrupt", n, err)
	}
	if _, err := snap.Count(scope); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Count: err = %v, want ErrCorrupt", err)
	}
}

// TestCorruptReplace damages a stored record, then applies a newer version:
// the store cannot tell which reconciliation keys to remove, so the apply
// must fail with ErrCorrupt rather than leave a stale item behind.
func TestCorruptReplace(t *testing.T) {
	ctx := context.Background()
	b := openTest(t, t.TempDir(), BadgerOptions{})
	v1 := testRecord(t, record.Body{Payload: []byte("one")})
	if _, err := b.Apply(ctx, v1, ApplyOptions{}); err != nil {
		t.Fatalf("Apply(v1): %v", err)
	}
	v := encodeCurrent(v1)
	v[valueHeaderLen+5] ^= 0xff
	if err := b.db.Update(func(txn *badger.Txn) error { return txn.Set(currentKey(v1.Addr()), v) }); err != nil {
		t.Fatalf("damaging record: %v", err)
	}
	v2 := testRecord(t, record.Body{Version: 2, Payload: []byte("two")})
	if _, err := b.Apply(ctx, v2, ApplyOptions{}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Apply(v2) over a damaged v1: err = %v, want ErrCorrupt", err)
	}
	if _, err := b.ApplyBatch(ctx, []*record.Record{v2}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("ApplyBatch(v2) over a damaged v1: err = %v, want ErrCorrupt", err)
	}
	// An older or equal version still needs only the header.
	if res, err := b.Apply(ctx, v1, ApplyOptions{}); err != nil || res.Applied {
		t.Errorf("Apply(v1) again = %+v, %v; want a no-op", res, err)
	}
}
