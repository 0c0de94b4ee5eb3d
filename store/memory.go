package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/mentormesh/mentormesh/sync/record"
)

// Memory is the in-memory twin of Badger, for tests of the packages above
// the store. It keeps the same semantics, down to List's address order and
// the copies it hands out: callers may modify what they get back.
type Memory struct {
	mu      sync.RWMutex
	closed  bool
	current map[string]memEntry // by c/ key, as in Badger
	ids     map[record.ID]string
	outbox  map[record.ID]struct{}
	peers   map[string]PeerInfo
}

// memEntry is a current record: its own copy of the signed bytes and what
// Counts, Apply and SyncSnapshot need without decoding them.
type memEntry struct {
	raw       []byte
	meta      record.Meta
	deleted   bool
	community string
	author    record.Author
	timestamp uint64 // SyncItemOf(record).Timestamp
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{
		current: make(map[string]memEntry),
		ids:     make(map[record.ID]string),
		outbox:  make(map[record.ID]struct{}),
		peers:   make(map[string]PeerInfo),
	}
}

// lock takes the write lock if the store is open and ctx is live.
func (m *Memory) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	return nil
}

// rlock takes the read lock if the store is open and ctx is live.
func (m *Memory) rlock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.RLock()
	if m.closed {
		m.mu.RUnlock()
		return ErrClosed
	}
	return nil
}

// Apply implements Store.
func (m *Memory) Apply(ctx context.Context, rec *record.Record, opts ApplyOptions) (ApplyResult, error) {
	if err := m.lock(ctx); err != nil {
		return ApplyResult{}, fmt.Errorf("applying record %s: %w", rec.ID, err)
	}
	defer m.mu.Unlock()
	return m.applyLocked(rec, opts.Local), nil
}

// ApplyBatch implements Store. The whole batch is applied under one lock:
// readers see none of it or all of it.
func (m *Memory) ApplyBatch(ctx context.Context, recs []*record.Record) ([]bool, error) {
	applied := make([]bool, len(recs))
	if err := m.lock(ctx); err != nil {
		return applied, fmt.Errorf("applying %d records: %w", len(recs), err)
	}
	defer m.mu.Unlock()
	for i, rec := range recs {
		applied[i] = m.applyLocked(rec, false).Applied
	}
	return applied, nil
}

// applyLocked applies rec. The caller holds the write lock.
func (m *Memory) applyLocked(rec *record.Record, local bool) ApplyResult {
	ck := string(currentKey(rec.Addr()))
	prev, ok := m.current[ck]
	if ok {
		if rec.Meta().Compare(prev.meta) <= 0 {
			return ApplyResult{}
		}
		delete(m.ids, prev.meta.ID)
	}
	m.current[ck] = memEntry{
		raw:       bytes.Clone(rec.Raw),
		meta:      rec.Meta(),
		deleted:   rec.Deleted,
		community: rec.Community,
		author:    rec.Author,
		timestamp: SyncItemOf(rec).Timestamp,
	}
	m.ids[rec.ID] = ck
	if local {
		m.outbox[rec.ID] = struct{}{}
	}
	return ApplyResult{Applied: true, Previous: prev.meta, HadPrevious: ok}
}

// decode returns a fresh record decoded from a copy of the stored bytes.
func (e memEntry) decode() (*record.Record, error) {
	rec, err := record.Decode(bytes.Clone(e.raw))
	if err != nil {
		return nil, fmt.Errorf("%w: stored record %s does not decode: %w", ErrCorrupt, e.meta.ID, err)
	}
	return rec, nil
}

// Current implements Store.
func (m *Memory) Current(ctx context.Context, addr record.Addr) (*record.Record, error) {
	if err := m.rlock(ctx); err != nil {
		return nil, fmt.Errorf("reading record at %s: %w", fmtAddr(addr), err)
	}
	e, ok := m.current[string(currentKey(addr))]
	m.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("reading record at %s: %w", fmtAddr(addr), ErrNotFound)
	}
	rec, err := e.decode()
	if err != nil {
		return nil, fmt.Errorf("reading record at %s: %w", fmtAddr(addr), err)
	}
	return rec, nil
}

// CurrentMeta implements Store.
func (m *Memory) CurrentMeta(ctx context.Context, addr record.Addr) (record.Meta, bool, error) {
	if err := m.rlock(ctx); err != nil {
		return record.Meta{}, false, fmt.Errorf("reading record at %s: %w", fmtAddr(addr), err)
	}
	defer m.mu.RUnlock()
	e, ok := m.current[string(currentKey(addr))]
	return e.meta, ok, nil
}

// Has implements Store.
func (m *Memory) Has(ctx context.Context, id record.ID) (bool, error) {
	if err := m.rlock(ctx); err != nil {
		return false, fmt.Errorf("looking up record %s: %w", id, err)
	}
	defer m.mu.RUnlock()
	_, ok := m.ids[id]
	return ok, nil
}

// List implements Store. It takes a snapshot, then calls fn without holding
// the lock, so fn may call the store.
func (m *Memory) List(ctx context.Context, q Query, fn func(*record.Record) error) error {
	prefix, err := queryPrefix(q)
	if err != nil {
		return fmt.Errorf("listing records: %w", err)
	}
	if err := m.rlock(ctx); err != nil {
		return fmt.Errorf("listing records in %s: %w", q.Community, err)
	}
	var keys []string
	for k := range m.current {
		if strings.HasPrefix(k, string(prefix)) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	entries := make([]memEntry, len(keys))
	for i, k := range keys {
		entries[i] = m.current[k]
	}
	m.mu.RUnlock()
	return callEach(ctx, entries, fn, "listing records in "+q.Community)
}

// callEach decodes entries and calls fn on each, checking ctx before each.
func callEach(ctx context.Context, entries []memEntry, fn func(*record.Record) error, what string) error {
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		rec, err := e.decode()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if err := fn(rec); err != nil {
			return err // the caller's own error, unwrapped
		}
	}
	return nil
}

// Counts implements Store.
func (m *Memory) Counts(ctx context.Context) ([]KindCount, error) {
	if err := m.rlock(ctx); err != nil {
		return nil, fmt.Errorf("counting records: %w", err)
	}
	defer m.mu.RUnlock()
	var c counter
	for k, e := range m.current {
		a, err := parseCurrentKey([]byte(k))
		if err != nil {
			return nil, fmt.Errorf("counting records: %w", err)
		}
		c.add(a.Community, a.Kind, e.deleted)
	}
	return c.result(), nil
}

// Outbox implements Store. Entries whose record has been superseded are
// skipped and deleted.
func (m *Memory) Outbox(ctx context.Context, fn func(*record.Record) error) error {
	if err := m.lock(ctx); err != nil {
		return fmt.Errorf("reading outbox: %w", err)
	}
	ids := slices.SortedFunc(maps.Keys(m.outbox), record.ID.Compare)
	var entries []memEntry
	for _, id := range ids {
		ck, ok := m.ids[id]
		if !ok {
			delete(m.outbox, id)
			continue
		}
		entries = append(entries, m.current[ck])
	}
	m.mu.Unlock()
	return callEach(ctx, entries, fn, "reading outbox")
}

// RemoveFromOutbox implements Store.
func (m *Memory) RemoveFromOutbox(ctx context.Context, ids ...record.ID) error {
	if err := m.lock(ctx); err != nil {
		return fmt.Errorf("removing from outbox: %w", err)
	}
	defer m.mu.Unlock()
	for _, id := range ids {
		delete(m.outbox, id)
	}
	return nil
}

// PutPeer implements Store.
func (m *Memory) PutPeer(ctx context.Context, p PeerInfo) error {
	if p.ID == "" {
		return errors.New("remembering peer: peer has no ID")
	}
	if err := m.lock(ctx); err != nil {
		return fmt.Errorf("remembering peer %s: %w", p.ID, err)
	}
	defer m.mu.Unlock()
	p.Addrs = slices.Clone(p.Addrs)
	m.peers[p.ID] = p
	return nil
}

// Peers implements Store.
func (m *Memory) Peers(ctx context.Context) ([]PeerInfo, error) {
	if err := m.rlock(ctx); err != nil {
		return nil, fmt.Errorf("reading peers: %w", err)
	}
	defer m.mu.RUnlock()
	var peers []PeerInfo
	for _, p := range m.peers {
		p.Addrs = slices.Clone(p.Addrs)
		peers = append(peers, p)
	}
	sortPeers(peers)
	return peers, nil
}

// Close implements Store. Calling it again does nothing.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}
