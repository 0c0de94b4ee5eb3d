package store

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/mentormesh/mentormesh/sync/record"
)

// SyncSnapshot implements Store. It copies every current record's item
// (with its community and author) under the read lock, so later writes do
// not show; each scope's set is sorted on first use and kept.
func (m *Memory) SyncSnapshot(ctx context.Context) (SyncSnapshot, error) {
	if err := m.rlock(ctx); err != nil {
		return nil, fmt.Errorf("opening sync snapshot: %w", err)
	}
	defer m.mu.RUnlock()
	s := &memSnapshot{
		m:           m,
		byCommunity: make(map[string][]memSyncEntry),
		sets:        make(map[string][]SyncItem),
	}
	for _, e := range m.current {
		s.byCommunity[e.community] = append(s.byCommunity[e.community], memSyncEntry{
			author: e.author,
			item:   SyncItem{Timestamp: e.timestamp, ID: e.meta.ID},
		})
	}
	return s, nil
}

// memSyncEntry is an item of a community's set and its record's author.
type memSyncEntry struct {
	author record.Author
	item   SyncItem
}

// memSnapshot is Memory's SyncSnapshot.
type memSnapshot struct {
	m *Memory

	mu          sync.Mutex
	closed      bool
	byCommunity map[string][]memSyncEntry // in no order; never modified
	sets        map[string][]SyncItem     // sorted, by scope prefix; never modified once set
}

// set returns scope's items, sorted.
func (s *memSnapshot) set(scope SyncScope) ([]SyncItem, error) {
	prefix, err := syncScopePrefix(scope)
	if err != nil {
		return nil, err
	}
	// The store's state does not matter to the snapshot's content, but a
	// closed store closes its snapshots, as Badger's does.
	s.m.mu.RLock()
	storeClosed := s.m.closed
	s.m.mu.RUnlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || storeClosed {
		return nil, ErrClosed
	}
	if set, ok := s.sets[string(prefix)]; ok {
		return set, nil
	}
	var set []SyncItem
	for _, e := range s.byCommunity[scope.Community] {
		if scope.Author == nil || e.author == *scope.Author {
			set = append(set, e.item)
		}
	}
	slices.SortFunc(set, SyncItem.Compare)
	s.sets[string(prefix)] = set
	return set, nil
}

// Items implements SyncSnapshot.
func (s *memSnapshot) Items(scope SyncScope, from SyncItem, fn func(SyncItem) bool) error {
	set, err := s.set(scope)
	if err != nil {
		return fmt.Errorf("reading reconciliation set of %s: %w", scope.Community, err)
	}
	start := sort.Search(len(set), func(i int) bool { return set[i].Compare(from) >= 0 })
	for _, it := range set[start:] {
		if !fn(it) {
			return nil
		}
	}
	return nil
}

// Count implements SyncSnapshot.
func (s *memSnapshot) Count(scope SyncScope) (int, error) {
	set, err := s.set(scope)
	if err != nil {
		return 0, fmt.Errorf("counting reconciliation set of %s: %w", scope.Community, err)
	}
	return len(set), nil
}

// Close implements SyncSnapshot.
func (s *memSnapshot) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.byCommunity, s.sets = nil, nil
}

// Records implements Store.
func (m *Memory) Records(ctx context.Context, ids []record.ID) ([]*record.Record, error) {
	if err := m.rlock(ctx); err != nil {
		return nil, fmt.Errorf("reading %d records: %w", len(ids), err)
	}
	var entries []memEntry
	for _, id := range ids {
		if ck, ok := m.ids[id]; ok {
			entries = append(entries, m.current[ck])
		}
	}
	m.mu.RUnlock()
	recs := make([]*record.Record, 0, len(entries))
	for _, e := range entries {
		rec, err := e.decode()
		if err != nil {
			return nil, fmt.Errorf("reading %d records: %w", len(ids), err)
		}
		recs = append(recs, rec)
	}
	return recs, nil
}
