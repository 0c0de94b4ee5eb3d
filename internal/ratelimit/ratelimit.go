// Package ratelimit provides token buckets per key (an author, a peer) with
// bounded memory: only the most recently active keys are remembered.
package ratelimit

import (
	"container/list"
	"sync"
	"time"
)

// Rate is a token bucket: Burst tokens at once, then one more every Every.
type Rate struct {
	Burst int
	Every time.Duration
	// Initial, if positive, is what a new key's bucket starts with
	// (instead of a full Burst): a key earns the rest of its burst over
	// time.
	Initial int
}

// Valid reports whether r limits anything (both fields positive).
func (r Rate) Valid() bool { return r.Burst > 0 && r.Every > 0 }

// Limiter holds a token bucket per key. It remembers at most max keys, the
// least recently used evicted first: an evicted key comes back with a full
// bucket. Safe for concurrent use.
type Limiter[K comparable] struct {
	rate Rate
	max  int
	now  func() time.Time

	mu    sync.Mutex
	lru   *list.List // of *bucket[K], most recently used first
	index map[K]*list.Element
}

type bucket[K comparable] struct {
	key    K
	tokens float64
	at     time.Time
}

// New returns a limiter enforcing rate (which must be Valid) for up to
// maxKeys keys (at least 1). now is the clock (time.Now if nil).
func New[K comparable](rate Rate, maxKeys int, now func() time.Time) *Limiter[K] {
	if now == nil {
		now = time.Now
	}
	return &Limiter[K]{rate: rate, max: max(1, maxKeys), now: now, lru: list.New(), index: map[K]*list.Element{}}
}

// Rate returns the rate enforced.
func (l *Limiter[K]) Rate() Rate { return l.rate }

// Peek reports whether key has a token, without taking it.
func (l *Limiter[K]) Peek(key K) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.index[key]
	if !ok {
		return true
	}
	return l.refill(e.Value.(*bucket[K])) >= 1
}

// Allow takes a token of key's and reports whether there was one.
func (l *Limiter[K]) Allow(key K) bool { return l.AllowN(key, 1) == 1 }

// AllowN takes up to n tokens of key's and returns how many it took.
func (l *Limiter[K]) AllowN(key K, n int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b *bucket[K]
	if e, ok := l.index[key]; ok {
		l.lru.MoveToFront(e)
		b = e.Value.(*bucket[K])
		l.refill(b)
	} else {
		if l.lru.Len() >= l.max {
			old := l.lru.Back()
			delete(l.index, old.Value.(*bucket[K]).key)
			l.lru.Remove(old)
		}
		start := l.rate.Burst
		if l.rate.Initial > 0 {
			start = min(l.rate.Initial, l.rate.Burst)
		}
		b = &bucket[K]{key: key, tokens: float64(start), at: l.now()}
		l.index[key] = l.lru.PushFront(b)
	}
	took := min(n, int(b.tokens))
	b.tokens -= float64(took)
	return took
}

// Wait returns how long until key has a token: 0 if it has one now.
func (l *Limiter[K]) Wait(key K) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.index[key]
	if !ok {
		return 0
	}
	t := l.refill(e.Value.(*bucket[K]))
	if t >= 1 {
		return 0
	}
	return time.Duration((1 - t) * float64(l.rate.Every))
}

// Len returns the number of keys remembered.
func (l *Limiter[K]) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// refill adds the tokens earned since b was last refilled and returns the
// balance.
func (l *Limiter[K]) refill(b *bucket[K]) float64 {
	now := l.now()
	if d := now.Sub(b.at); d > 0 {
		b.tokens = min(float64(l.rate.Burst), b.tokens+float64(d)/float64(l.rate.Every))
		b.at = now
	}
	return b.tokens
}
