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
// and a rebuild is one scan.

// resourceCache holds the resource sets built so far. Its zero value is
// ready to use. Safe for concurrent use.
type resourceCache struct {
	mu sync.Mutex
	// changes counts the resource and endorsement records applied, per
	// community; epoch counts resets.
	changes map[string]uint64
	epoch   uint64
	sets    map[string]*cachedResources
}

// cachedResources is one community's set and what it was built from.
type cachedResources struct {
	stamp resourceStamp
	// expires is the earliest expiry of a record in set (zero: none).
	expires time.Time
	set     resourceSet
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

// get returns community's set if it was built at stamp and nothing in it
// has expired by now. The set is shared: callers must not modify it.
func (c *resourceCache) get(community string, stamp resourceStamp, now time.Time) (resourceSet, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cr := c.sets[community]
	if cr == nil || cr.stamp != stamp || !cr.expires.IsZero() && !cr.expires.After(now) {
		return resourceSet{}, false
	}
	return cr.set, true
}

// put keeps set, built from a scan that started at stamp, unless a newer
// one is already kept.
func (c *resourceCache) put(community string, stamp resourceStamp, expires time.Time, set resourceSet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if stamp.epoch != c.epoch {
		return // reset during the scan
	}
	if c.sets == nil {
		c.sets = map[string]*cachedResources{}
	}
	if old := c.sets[community]; old != nil && old.stamp.changes > stamp.changes {
		return
	}
	c.sets[community] = &cachedResources{stamp: stamp, expires: expires, set: set}
}

// cachedResourceLibrary returns community's live resources with their
// endorsement counts, from the cache or a new scan.
func (l *Local) cachedResourceLibrary(ctx context.Context, community string) (resourceSet, error) {
	stamp := l.resources.stamp(community, l.mod.generation())
	now := time.Now()
	if set, ok := l.resources.get(community, stamp, now); ok {
		return set, nil
	}
	set, expires, err := l.resourceLibrary(ctx, community, now)
	if err != nil {
		return resourceSet{}, err
	}
	l.resources.put(community, stamp, expires, set)
	return set, nil
}

// earlier returns the earlier of a and b, a zero time counting as none.
func earlier(a, b time.Time) time.Time {
	if a.IsZero() || !b.IsZero() && b.Before(a) {
		return b
	}
	return a
}
