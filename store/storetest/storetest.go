// Package storetest is the conformance suite every store.Store
// implementation must pass. Run it from the implementation's tests:
//
//	func TestBadger(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { ... })
//	}
package storetest

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"slices"
	"testing"

	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/record"
)

// Opener returns a new, empty store. It should register its own cleanup
// (the suite may already have closed the store).
type Opener func(t *testing.T) store.Store

// Run runs the whole suite, each test on a fresh store from open.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, open Opener)
	}{
		{"ApplyOrder", testApplyOrder},
		{"NotFound", testNotFound},
		{"ConcurrentApply", testConcurrentApply},
		{"CopiesOut", testCopiesOut},
		{"BatchNew", testBatchNew},
		{"BatchVersions", testBatchVersions},
		{"BatchStale", testBatchStale},
		{"BatchDuplicates", testBatchDuplicates},
		{"BatchLarge", testBatchLarge},
		{"BatchMatchesApply", testBatchMatchesApply},
		{"BatchContext", testBatchContext},
		{"BatchConcurrent", testBatchConcurrent},
		{"List", testList},
		{"ListInvalidQuery", testListInvalidQuery},
		{"ListStopsOnError", testListStopsOnError},
		{"ListContext", testListContext},
		{"ListCallbackMayUseStore", testListCallbackMayUseStore},
		{"Counts", testCounts},
		{"Outbox", testOutbox},
		{"OutboxStops", testOutboxStops},
		{"Peers", testPeers},
		{"SyncOrder", testSyncOrder},
		{"SyncReplace", testSyncReplace},
		{"SyncScopes", testSyncScopes},
		{"SyncFrom", testSyncFrom},
		{"SyncSnapshot", testSyncSnapshot},
		{"SyncConcurrent", testSyncConcurrent},
		{"SyncBatchMatchesApply", testSyncBatchMatchesApply},
		{"SyncRecords", testSyncRecords},
		{"SyncClose", testSyncClose},
		{"Close", testClose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, open) })
	}
}

// Author is a test author: a deterministic key pair.
type Author struct {
	Key ed25519.PrivateKey
	ID  record.Author
}

// NewAuthor derives an author's key from name, so the same name gives the
// same author in every run.
func NewAuthor(name string) Author {
	seed := sha256.Sum256([]byte("storetest author " + name))
	key := ed25519.NewKeyFromSeed(seed[:])
	var a Author
	a.Key = key
	copy(a.ID[:], key.Public().(ed25519.PublicKey))
	return a
}

// Sign makes a record by a. Zero fields of b default to community
// "sociocracy", kind "profile", version 1 and the current time; the author
// is always a.
func (a Author) Sign(t testing.TB, b record.Body) *record.Record {
	t.Helper()
	b.Author = a.ID
	if b.Community == "" {
		b.Community = "sociocracy"
	}
	if b.Kind == "" {
		b.Kind = "profile"
	}
	if b.Version == 0 {
		b.Version = 1
	}
	if b.Timestamp.IsZero() {
		b.Timestamp = record.Now()
	}
	rec, err := record.Sign(a.Key, b)
	if err != nil {
		t.Fatalf("record.Sign(%+v): %v", b, err)
	}
	return rec
}

var (
	alice = NewAuthor("alice")
	bob   = NewAuthor("bob")
)

func apply(t *testing.T, s store.Store, rec *record.Record, local bool) store.ApplyResult {
	t.Helper()
	res, err := s.Apply(context.Background(), rec, store.ApplyOptions{Local: local})
	if err != nil {
		t.Fatalf("Apply(%s v%d, local=%v): %v", rec.Key, rec.Version, local, err)
	}
	return res
}

// list returns the IDs List yields for q.
func list(t *testing.T, s store.Store, q store.Query) []record.ID {
	t.Helper()
	var ids []record.ID
	err := s.List(context.Background(), q, func(r *record.Record) error {
		ids = append(ids, r.ID)
		return nil
	})
	if err != nil {
		t.Fatalf("List(%+v): %v", q, err)
	}
	return ids
}

// outbox returns the IDs in the outbox, sorted.
func outbox(t *testing.T, s store.Store) []record.ID {
	t.Helper()
	var ids []record.ID
	if err := s.Outbox(context.Background(), func(r *record.Record) error {
		ids = append(ids, r.ID)
		return nil
	}); err != nil {
		t.Fatalf("Outbox: %v", err)
	}
	slices.SortFunc(ids, record.ID.Compare)
	return ids
}

// idsOf returns the records' IDs, sorted.
func idsOf(recs ...*record.Record) []record.ID {
	ids := make([]record.ID, 0, len(recs))
	for _, r := range recs {
		ids = append(ids, r.ID)
	}
	slices.SortFunc(ids, record.ID.Compare)
	return ids
}

func sortedIDs(ids []record.ID) []record.ID {
	ids = slices.Clone(ids)
	slices.SortFunc(ids, record.ID.Compare)
	return ids
}
