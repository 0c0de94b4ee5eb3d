package ingest

import (
	"container/list"
	"sync"
	"time"

	"github.com/mentormesh/mentormesh/sync/record"
)

// RateLimit is a token bucket: an author may have Burst records accepted at
// once, then one more every Every.
type RateLimit struct {
	Burst int
	Every time.Duration
}

// DefaultRateLimit is the per-author limit on records arriving by gossip:
// a burst of 100, then one every 2 seconds (30 a minute). A person writes
// a few records a minute at most; a node importing or writing in bulk sees
// the excess delivered by catch-up instead, which is not rate-limited.
var DefaultRateLimit = RateLimit{Burst: 100, Every: 2 * time.Second}

// DefaultLimiterAuthors bounds the authors an AuthorLimiter remembers.
const DefaultLimiterAuthors = 10000

// AuthorLimiter rate-limits records per author with a token bucket each.
// It remembers the most recently active authors only (least recently used
// evicted first), so its memory stays bounded whatever the number of
// authors: an evicted author comes back with a full bucket, which costs an
// attacker who rotates through that many keys nothing it could not get by
// making new keys anyway. Safe for concurrent use.
type AuthorLimiter struct {
	limit RateLimit
	max   int
	now   func() time.Time

	mu    sync.Mutex
	lru   *list.List // of *bucket, most recently used first
	index map[record.Author]*list.Element
}

type bucket struct {
	author record.Author
	tokens float64
	at     time.Time
}

// NewAuthorLimiter returns a limiter enforcing limit (DefaultRateLimit if
// zero) for up to maxAuthors authors at a time (DefaultLimiterAuthors if
// <= 0). now is the clock (time.Now if nil).
func NewAuthorLimiter(limit RateLimit, maxAuthors int, now func() time.Time) *AuthorLimiter {
	if limit.Burst <= 0 || limit.Every <= 0 {
		limit = DefaultRateLimit
	}
	if maxAuthors <= 0 {
		maxAuthors = DefaultLimiterAuthors
	}
	if now == nil {
		now = time.Now
	}
	return &AuthorLimiter{limit: limit, max: maxAuthors, now: now, lru: list.New(), index: map[record.Author]*list.Element{}}
}

// Limit returns the limit enforced.
func (l *AuthorLimiter) Limit() RateLimit { return l.limit }

// Peek reports whether author has a token, without taking it. The pipeline
// peeks before the signature check (so an author over its limit costs no
// signature check) and takes after it (so nobody can spend an author's
// tokens with records the author did not sign).
func (l *AuthorLimiter) Peek(author record.Author) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.index[author]
	if !ok {
		return true
	}
	return l.refill(e.Value.(*bucket)) >= 1
}

// Allow takes a token of author's and reports whether there was one.
func (l *AuthorLimiter) Allow(author record.Author) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b *bucket
	if e, ok := l.index[author]; ok {
		l.lru.MoveToFront(e)
		b = e.Value.(*bucket)
		l.refill(b)
	} else {
		if l.lru.Len() >= l.max {
			old := l.lru.Back()
			delete(l.index, old.Value.(*bucket).author)
			l.lru.Remove(old)
		}
		b = &bucket{author: author, tokens: float64(l.limit.Burst), at: l.now()}
		l.index[author] = l.lru.PushFront(b)
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// Wait returns how long until author has a token: 0 if it has one now.
func (l *AuthorLimiter) Wait(author record.Author) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.index[author]
	if !ok {
		return 0
	}
	t := l.refill(e.Value.(*bucket))
	if t >= 1 {
		return 0
	}
	return time.Duration((1 - t) * float64(l.limit.Every))
}

// Len returns the number of authors remembered.
func (l *AuthorLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// refill adds the tokens earned since b was last refilled and returns the
// balance.
func (l *AuthorLimiter) refill(b *bucket) float64 {
	now := l.now()
	if d := now.Sub(b.at); d > 0 {
		b.tokens = min(float64(l.limit.Burst), b.tokens+float64(d)/float64(l.limit.Every))
		b.at = now
	}
	return b.tokens
}
