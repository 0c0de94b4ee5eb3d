package node

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/record"
)

// Finding mentors and computing statistics read an in-memory directory of
// each community's decoded profiles (mentorship.Directory) instead of
// decoding every profile from the store per query: at 100 000 profiles
// decoding alone takes far longer than the 20 ms a query may take.
//
// The directory of a community is built on first use, by one scan of the
// store, and then kept current incrementally: every record the store
// applies (local writes, gossip and catch-up alike) passes through
// observedStore, which hands profile records to the directory. Keeping it
// current costs one profile decode per applied profile, which ingest has
// just done anyway; the alternative, a change counter that invalidates the
// directory, would make the first query after any change rebuild it from
// 100 000 records, and in a lively community that is most queries.
//
// Pairing outcomes (for free capacity and ratings) come from Local.outcomes
// and are cached in the directory until a record of another kind is applied
// in the community, or for at most outcomesMaxAge.

// outcomesMaxAge bounds how long cached pairing outcomes are used when no
// record has changed (outcomes may depend on time, e.g. expiring requests).
const outcomesMaxAge = time.Minute

// profileDirs holds the directories of the communities used so far. Its
// zero value is ready to use.
type profileDirs struct {
	mu sync.Mutex
	m  map[string]*profileDir
}

// profileDir is one community's directory.
type profileDir struct {
	ready chan struct{} // closed when the initial scan is done
	err   error         // the initial scan's error, set before ready closes

	// otherChanges counts records of other kinds applied in the community
	// (pairings change outcomes).
	otherChanges atomic.Uint64

	mu   sync.RWMutex
	dir  *mentorship.Directory
	meta map[record.Author]dirEntry
	// nextExpiry is the earliest expiry of a profile in dir (zero: none).
	nextExpiry time.Time

	outcomesSet     bool
	outcomesChanges uint64 // otherChanges when the outcomes were read
	outcomesModGen  uint64 // the moderation generation then (blocks hide pairings)
	outcomesAt      time.Time
}

// dirEntry is the current record of an author's profile, tombstones
// included, so an older version arriving late cannot replace it.
type dirEntry struct {
	meta    record.Meta
	expires time.Time
}

// reset drops every directory: the next query rebuilds its community's from
// the store (a device revocation hides records the directories hold).
func (ds *profileDirs) reset() {
	ds.mu.Lock()
	ds.m = nil
	ds.mu.Unlock()
}

// applied is called after the store made rec current.
func (ds *profileDirs) applied(rec *record.Record) {
	ds.mu.Lock()
	pd := ds.m[rec.Community]
	ds.mu.Unlock()
	if pd == nil {
		// Not built: the scan that builds it starts later and sees rec.
		return
	}
	if rec.Kind != mentorship.KindProfile {
		pd.otherChanges.Add(1)
		return
	}
	pd.mu.Lock()
	pd.apply(rec, time.Now())
	pd.mu.Unlock()
}

// get returns community's directory, building it on first use.
func (ds *profileDirs) get(ctx context.Context, st store.Store, community string) (*profileDir, error) {
	ds.mu.Lock()
	if ds.m == nil {
		ds.m = map[string]*profileDir{}
	}
	pd := ds.m[community]
	build := pd == nil
	if build {
		// Registered before the scan starts, so a record applied after
		// the scan's snapshot reaches it through applied.
		pd = &profileDir{ready: make(chan struct{}), dir: mentorship.NewDirectory(), meta: map[record.Author]dirEntry{}}
		ds.m[community] = pd
	}
	ds.mu.Unlock()
	if build {
		// Not cancelled with the first caller: others may wait for it.
		pd.err = pd.scan(context.WithoutCancel(ctx), st, community)
		if pd.err != nil {
			ds.mu.Lock()
			delete(ds.m, community)
			ds.mu.Unlock()
		}
		close(pd.ready)
	}
	select {
	case <-pd.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if pd.err != nil {
		return nil, pd.err
	}
	return pd, nil
}

func (pd *profileDir) scan(ctx context.Context, st store.Store, community string) error {
	now := time.Now()
	err := st.List(ctx, store.Query{Community: community, Kind: mentorship.KindProfile}, func(rec *record.Record) error {
		pd.mu.Lock()
		pd.apply(rec, now)
		pd.mu.Unlock()
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading profiles: %w", err)
	}
	return nil
}

// apply makes rec the author's profile if it is newer than the one held.
// The caller holds pd.mu.
func (pd *profileDir) apply(rec *record.Record, now time.Time) {
	if cur, ok := pd.meta[rec.Author]; ok && rec.Meta().Compare(cur.meta) <= 0 {
		return
	}
	pd.meta[rec.Author] = dirEntry{meta: rec.Meta(), expires: rec.Expires}
	key := [32]byte(rec.Author)
	if rec.Deleted || rec.Expired(now) {
		pd.dir.Remove(key)
		return
	}
	p, err := mentorship.DecodeProfile(rec.Payload)
	if err != nil {
		// Every stored profile passed the same check at ingest.
		pd.dir.Remove(key)
		return
	}
	p = p.Normalize()
	// Matching and statistics need neither; they are the largest fields.
	p.Bio, p.Links = "", nil
	pd.dir.Put(key, &p)
	pd.nextExpiry = earlier(pd.nextExpiry, rec.Expires)
}

// expire removes profiles whose record expired by now. The caller holds
// pd.mu for writing.
func (pd *profileDir) expire(now time.Time) {
	pd.nextExpiry = time.Time{}
	for a, e := range pd.meta {
		if e.expires.IsZero() {
			continue
		}
		if !e.expires.After(now) {
			pd.dir.Remove([32]byte(a))
			continue
		}
		pd.nextExpiry = earlier(pd.nextExpiry, e.expires)
	}
}

// profileDirectory returns community's directory, current as of now, with
// pairing outcomes read. The caller reads it under pd.mu.RLock.
func (l *Local) profileDirectory(ctx context.Context, community string) (*profileDir, error) {
	pd, err := l.dirs.get(ctx, l.store, community)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	changes := pd.otherChanges.Load()
	modGen := l.mod.generation()
	pd.mu.RLock()
	stale := !pd.outcomesSet || pd.outcomesChanges != changes || pd.outcomesModGen != modGen || now.Sub(pd.outcomesAt) > outcomesMaxAge
	expired := !pd.nextExpiry.IsZero() && !pd.nextExpiry.After(now)
	pd.mu.RUnlock()
	var outcomes map[[32]byte]mentorship.Outcome
	if stale {
		outs, err := l.outcomes(ctx, community)
		if err != nil {
			return nil, fmt.Errorf("reading pairing outcomes: %w", err)
		}
		outcomes = make(map[[32]byte]mentorship.Outcome, len(outs))
		for a, o := range outs {
			outcomes[[32]byte(a)] = o
		}
	}
	if stale || expired {
		pd.mu.Lock()
		if stale {
			pd.dir.SetOutcomes(outcomes)
			pd.outcomesSet, pd.outcomesChanges, pd.outcomesModGen, pd.outcomesAt = true, changes, modGen, now
		}
		if expired {
			pd.expire(now)
		}
		pd.mu.Unlock()
	}
	return pd, nil
}

// observedStore is the store as Local and the ingest pipeline use it: it
// tells the profile directories and the resource cache about every record
// it makes current.
type observedStore struct {
	store.Store
	applied func(*record.Record)
}

// Unwrap returns the store it wraps.
func (s observedStore) Unwrap() store.Store { return s.Store }

// Apply implements store.Store.
func (s observedStore) Apply(ctx context.Context, rec *record.Record, opts store.ApplyOptions) (store.ApplyResult, error) {
	res, err := s.Store.Apply(ctx, rec, opts)
	if err == nil && res.Applied {
		s.applied(rec)
	}
	return res, err
}

// ApplyBatch implements store.Store. A record reported applied may have
// been replaced by a later one of the batch; the directory keeps the newer
// whatever the order it hears of them.
func (s observedStore) ApplyBatch(ctx context.Context, recs []*record.Record) ([]bool, error) {
	applied, err := s.Store.ApplyBatch(ctx, recs)
	for i, ok := range applied {
		if ok {
			s.applied(recs[i])
		}
	}
	return applied, err
}

// observeStore routes l's store through the directories' and the resource
// cache's hook. Call it once, before the store is shared with the ingest
// pipeline.
func (l *Local) observeStore() {
	l.store = observedStore{Store: l.store, applied: func(rec *record.Record) {
		l.dirs.applied(rec)
		l.resources.applied(rec)
	}}
}
