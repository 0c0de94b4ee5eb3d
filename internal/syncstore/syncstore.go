// Package syncstore adapts the Badger store to what catch-up sessions
// (sync/reconcile) declare they need. The node, the simulation and the
// reconcile benchmarks all use this one adapter.
package syncstore

import (
	"context"

	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/reconcile"
	"github.com/mentormesh/mentormesh/sync/record"
)

// Store serves reconcile sessions from a store.Store.
type Store struct{ S store.Store }

var _ reconcile.Store = Store{}

// New returns the adapter for s.
func New(s store.Store) Store { return Store{S: s} }

// Snapshot implements reconcile.Store.
func (a Store) Snapshot(ctx context.Context) (reconcile.Snapshot, error) {
	snap, err := a.S.SyncSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	return snapshot{snap}, nil
}

// Records implements reconcile.Store.
func (a Store) Records(ctx context.Context, ids []record.ID) ([]*record.Record, error) {
	return a.S.Records(ctx, ids)
}

type snapshot struct{ s store.SyncSnapshot }

func (s snapshot) Set(scope reconcile.Scope) reconcile.Set {
	return set{s.s, store.SyncScope{Community: scope.Community, Author: scope.Author}}
}

func (s snapshot) Close() { s.s.Close() }

type set struct {
	s     store.SyncSnapshot
	scope store.SyncScope
}

func (s set) Items(from reconcile.Item, fn func(reconcile.Item) bool) error {
	return s.s.Items(s.scope, store.SyncItem(from), func(it store.SyncItem) bool { return fn(reconcile.Item(it)) })
}
