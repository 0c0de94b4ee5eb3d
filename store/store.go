// Package store keeps mentormesh's records on disk in Badger, plus the few
// pieces of node state that must survive a restart (known peers, the outbox
// of local writes not yet published).
//
// The store holds only the current record of each address
// (community, author, kind, key): applying a newer version replaces the older
// one in the same transaction, so storage grows with the number of keys, not
// with the number of updates. Tombstones are current records too and are
// kept, so a stale peer cannot resurrect what was deleted.
//
// Memory is the in-memory twin; both are held to the suite in store/storetest.
package store

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"time"

	"github.com/mentormesh/mentormesh/sync/record"
)

// ErrNotFound is returned when no record exists at an address or ID.
var ErrNotFound = errors.New("not found")

// ApplyOptions qualify a write.
type ApplyOptions struct {
	// Local marks a record written by this node's own user. Local writes are
	// flushed to stable storage before Apply returns (the user is told the
	// write succeeded), and the record is put in the outbox in the same
	// transaction, to be published when the node has peers.
	Local bool
}

// ApplyResult says what Apply did.
type ApplyResult struct {
	// Applied is true if the record became the current one at its address.
	Applied bool
	// Previous is the record it replaced, if any (zero Meta otherwise).
	Previous record.Meta
	// HadPrevious tells whether Previous is set.
	HadPrevious bool
}

// Query selects current records. Community is required; Kind and Author
// narrow the scan (Author requires Kind).
type Query struct {
	Community string
	Kind      string
	Author    *record.Author
}

// PeerInfo is a peer the node has been connected to, remembered so the node
// can reconnect after a restart.
type PeerInfo struct {
	ID       string    `json:"id"`
	Addrs    []string  `json:"addrs"`
	LastSeen time.Time `json:"last_seen"`
}

// KindCount is the number of current records of one kind in one community,
// tombstones counted apart.
type KindCount struct {
	Community  string
	Kind       string
	Live       int
	Tombstones int
}

// SyncItem is one element of a reconciliation set: a current record's
// timestamp (Unix ms) and ID. Sets are ordered by (Timestamp, ID).
type SyncItem struct {
	Timestamp uint64
	ID        record.ID
}

// Compare orders items by timestamp, then ID bytewise. The result is -1, 0
// or +1 as a sorts before, equal to, or after b.
func (a SyncItem) Compare(b SyncItem) int {
	return cmp.Or(cmp.Compare(a.Timestamp, b.Timestamp), bytes.Compare(a.ID[:], b.ID[:]))
}

// SyncItemOf returns rec's item: its timestamp in Unix milliseconds (at
// least 1 for a valid record, whose version is at least 1 and at most its
// timestamp) and its ID.
func SyncItemOf(rec *record.Record) SyncItem {
	return SyncItem{Timestamp: uint64(rec.Timestamp.UnixMilli()), ID: rec.ID}
}

// SyncScope selects a reconciliation set: the current records of a
// community (tombstones included), or only those of one author.
// Community is required.
type SyncScope struct {
	Community string
	Author    *record.Author
}

// SyncSnapshot is a consistent read-only view of reconciliation sets, for
// the length of one catch-up session. Close it when done: an open Badger
// snapshot holds back the removal of data it can see. Its methods are safe
// for concurrent use; after Close (of the snapshot or of its store) they
// return ErrClosed.
type SyncSnapshot interface {
	// Items calls fn for each item of scope with from <= item, in order,
	// until fn returns false or the items run out. fn may call the store
	// and the snapshot's other methods, but must not close either.
	Items(scope SyncScope, from SyncItem, fn func(SyncItem) bool) error
	// Count returns the number of items in scope (used for progress and
	// small-set shortcuts).
	Count(scope SyncScope) (int, error)
	// Close releases the snapshot. Calling it again does nothing.
	Close()
}

// Store is what both implementations provide. All methods are safe for
// concurrent use.
type Store interface {
	// Apply makes rec the current record at its address if it is newer
	// (record.Meta.Compare) than the current one, atomically with every
	// index update. Applying the same or an older record is a no-op that
	// returns Applied=false and no error. rec must already be verified.
	Apply(ctx context.Context, rec *record.Record, opts ApplyOptions) (ApplyResult, error)
	// ApplyBatch applies recs as Apply would (non-local), in as few
	// transactions as fit Badger's transaction size limit, and reports for
	// each record whether it became current. Records later in the batch see
	// the effect of earlier ones (two versions of one address in one batch:
	// the newer wins, whatever their order). All records must be verified.
	//
	// The outcome is exactly that of calling Apply (non-local) on each
	// record in slice order, and applied[i] is what that call would have
	// returned as Applied: true if recs[i] became current when its turn
	// came, even if a later record of the batch then replaced it (it is
	// then neither current nor Has when ApplyBatch returns). Duplicates and
	// records no newer than the current one report false.
	//
	// Each record is applied atomically with its index updates, but the
	// batch as a whole need not be: Badger commits it in consecutive
	// transactions (checking ctx between them), so a concurrent reader may
	// see part of it applied, and an error may come after part of it was
	// committed. applied always has len(recs) entries; on error, those that
	// are true were applied, and the records whose transaction did not
	// commit report false. Applying the batch again is safe. If ctx is done
	// before the call, nothing is applied.
	ApplyBatch(ctx context.Context, recs []*record.Record) (applied []bool, err error)
	// Current returns the current record at addr, or ErrNotFound.
	Current(ctx context.Context, addr record.Addr) (*record.Record, error)
	// CurrentMeta returns the version and ID of the current record at addr;
	// ok is false if there is none.
	CurrentMeta(ctx context.Context, addr record.Addr) (meta record.Meta, ok bool, err error)
	// Has reports whether the record with this ID is current in the store.
	Has(ctx context.Context, id record.ID) (bool, error)
	// List calls fn for each current record matching q (tombstones
	// included), in address order, stopping at the first error fn returns.
	List(ctx context.Context, q Query, fn func(*record.Record) error) error
	// Counts returns the number of current records per community and kind.
	Counts(ctx context.Context) ([]KindCount, error)

	// SyncSnapshot opens a consistent read-only view of the reconciliation
	// sets (in Badger, a read transaction), for one catch-up session.
	// Writes applied after it opened do not show in it. The caller must
	// close it; closing the store closes it too.
	SyncSnapshot(ctx context.Context) (SyncSnapshot, error)
	// Records returns the current records among ids, in the order of ids,
	// skipping IDs that are not (or no longer) current. An ID given twice
	// is returned twice.
	Records(ctx context.Context, ids []record.ID) ([]*record.Record, error)

	// Outbox calls fn for each record in the outbox (local writes not yet
	// published). Records superseded since are no longer listed.
	Outbox(ctx context.Context, fn func(*record.Record) error) error
	// RemoveFromOutbox removes the records with these IDs from the outbox.
	RemoveFromOutbox(ctx context.Context, ids ...record.ID) error

	// PutPeer remembers (or refreshes) a peer.
	PutPeer(ctx context.Context, p PeerInfo) error
	// Peers returns remembered peers, most recently seen first.
	Peers(ctx context.Context) ([]PeerInfo, error)

	// Close releases the store.
	Close() error
}
