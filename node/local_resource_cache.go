package node

import (
	"context"
	"sync"
	"time"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/sync/record"
)

// Listing and searching resources read a decoded copy of a community's
// live resources and endorsement counts (a resourceSet), built by one scan
// of the store and used until something it depends on changes:
//
//   - a resource or endorsement record applied in the community (local
//     writes, gossip, catch-up: observedStore reports them);
//   - a block or unblock (the moderation generation);
//   - a device revocation (its records are hidden from every view);
//   - the earliest expiry among the records it holds.
//
// With 20 000 resources and as many endorsements the scan takes about a
// third of a second (docs/PERFORMANCE.md); a query of the copy takes a few
// milliseconds. Unlike the profile directory it is rebuilt rather than
// updated in place: resources change far less often than they are listed,
// and a rebuild is one scan. A set nobody has read for resourceIdleDrop is
// dropped, so a node whose library was listed once does not keep it in
// memory (about 1.3 KB per resource) for the rest of its run.

// resourceIdleDrop is how long a kept set may go unread.
const resourceIdleDrop = 5 * time.Minute

// resourceCache holds the resource sets built so far. Its zero value is
// ready to use. Safe for concurrent use.
type resourceCache struct {
	mu sync.Mutex
	// changes counts the resource and endorsement records applied, per
	// community; epoch counts resets.
	changes map[string]uint64
	epoch   uint64
	sets    map[string]*cachedResources
	// scans are the scans in progress, per community: callers that need
	// the same set wait for it rather than scan too.
	scans map[string]*resourceScan
	// idle is how long a set may go unread (0: resourceIdleDrop); sweep
	// is the timer that drops such sets, set while any set is kept.
	idle  time.Duration
	sweep *time.Timer
}

// resourceScan is a scan in progress; set and err are written before done
// closes.
type resourceScan struct {
	stamp resourceStamp
	done  chan struct{}
	set   resourceSet
	err   error
}

// cachedResources is one community's set and what it was built from.
type cachedResources struct {
	stamp resourceStamp
	// expires is the earliest expiry of a record in set (zero: none).
	expires time.Time
	set     resourceSet
	// used is when the set was last read.
	used time.Time
}

// resourceStamp is what a set depends on, read before its scan starts.
type resourceStamp struct{ changes, epoch, modGen uint64 }

// applied is called after the store made rec current.
func (c *resourceCache) applied(rec *record.Record) {
	if rec.Kind != mentorship.KindResource && rec.Kind != mentorship.KindEndorsement {
		return
	}
	c.mu.Lock()
	if c.changes == nil {
		c.changes = map[string]uint64{}
	}
	c.changes[rec.Community]++
	c.mu.Unlock()
}

// reset drops every set.
func (c *resourceCache) reset() {
	c.mu.Lock()
	c.epoch++
	c.sets = nil
	c.mu.Unlock()
}

// stamp returns community's current stamp, given the moderation
// generation.
func (c *resourceCache) stamp(community string, modGen uint64) resourceStamp {
	c.mu.Lock()
	defer c.mu.Unlock()
	return resourceStamp{changes: c.changes[community], epoch: c.epoch, modGen: modGen}
}

// lookup returns community's set if it was built at stamp and nothing in
// it has expired by now; otherwise the scan in progress for stamp, or a new
// one that the caller must run and finish. The caller holds c.mu.
func (c *resourceCache) lookup(community string, stamp resourceStamp, now time.Time) (set resourceSet, ok bool, sc *resourceScan, run bool) {
	if cr := c.sets[community]; cr != nil && cr.stamp == stamp && (cr.expires.IsZero() || cr.expires.After(now)) {
		cr.used = now
		return cr.set, true, nil, false
	}
	if sc := c.scans[community]; sc != nil && sc.stamp == stamp {
		return resourceSet{}, false, sc, false
	}
	if c.scans == nil {
		c.scans = map[string]*resourceScan{}
	}
	sc = &resourceScan{stamp: stamp, done: make(chan struct{})}
	c.scans[community] = sc
	return resourceSet{}, false, sc, true
}

// finish records the result of sc and wakes its waiters. The set is kept
// unless the cache was reset or a record was applied in the community
// since the scan started: such a set would never be used.
func (c *resourceCache) finish(community string, sc *resourceScan, expires time.Time) {
	c.mu.Lock()
	if c.scans[community] == sc {
		delete(c.scans, community)
	}
	if sc.err == nil && sc.stamp.epoch == c.epoch && sc.stamp.changes == c.changes[community] {
		if c.sets == nil {
			c.sets = map[string]*cachedResources{}
		}
		c.sets[community] = &cachedResources{stamp: sc.stamp, expires: expires, set: sc.set, used: time.Now()}
		if c.sweep == nil {
			c.sweep = time.AfterFunc(c.idleDrop(), c.dropIdle)
		}
	}
	c.mu.Unlock()
	close(sc.done)
}

func (c *resourceCache) idleDrop() time.Duration {
	if c.idle > 0 {
		return c.idle
	}
	return resourceIdleDrop
}

// dropIdle drops the sets unread for idleDrop, and runs again while any
// set is kept.
func (c *resourceCache) dropIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	idle := c.idleDrop()
	now := time.Now()
	for community, cr := range c.sets {
		if now.Sub(cr.used) >= idle {
			delete(c.sets, community)
		}
	}
	if len(c.sets) == 0 {
		c.sweep = nil
		return
	}
	c.sweep.Reset(idle)
}

// kept returns how many sets are kept.
func (c *resourceCache) kept() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sets)
}

// cachedResourceLibrary returns community's live resources with their
// endorsement counts, from the cache or a scan (one at a time per
// community and stamp). The set is shared: callers must not modify it.
func (l *Local) cachedResourceLibrary(ctx context.Context, community string) (resourceSet, error) {
	c := &l.resources
	stamp := c.stamp(community, l.mod.generation())
	now := time.Now()
	c.mu.Lock()
	set, ok, sc, run := c.lookup(community, stamp, now)
	c.mu.Unlock()
	switch {
	case ok:
		return set, nil
	case run:
		// Not cancelled with this caller: others may wait for it.
		var expires time.Time
		sc.set, expires, sc.err = l.resourceLibrary(context.WithoutCancel(ctx), community, now)
		c.finish(community, sc, expires)
	default:
		select {
		case <-sc.done:
		case <-ctx.Done():
			return resourceSet{}, ctx.Err()
		}
	}
	return sc.set, sc.err
}

// earlier returns the earlier of a and b, a zero time counting as none.
func earlier(a, b time.Time) time.Time {
	if a.IsZero() || !b.IsZero() && b.Before(a) {
		return b
	}
	return a
}
