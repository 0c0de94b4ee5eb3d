package ingest

import (
	"time"

	"github.com/mentormesh/mentormesh/internal/ratelimit"
	"github.com/mentormesh/mentormesh/sync/record"
)

// RateLimit is a token bucket: an author may have Burst records accepted at
// once, then one more every Every.
type RateLimit = ratelimit.Rate

// DefaultRateLimit is the per-author limit on records arriving by gossip:
// a burst of 50, then one every 2 seconds (30 a minute). A person writes a
// few records a minute at most; a node importing or writing in bulk sees
// the excess delivered by catch-up instead, which is not rate-limited.
var DefaultRateLimit = RateLimit{Burst: 50, Every: 2 * time.Second}

// DefaultLimiterAuthors bounds the authors an AuthorLimiter remembers.
const DefaultLimiterAuthors = 10000

// AuthorLimiter rate-limits records per author with a token bucket each,
// remembering the most recently active authors only, so its memory stays
// bounded whatever the number of authors: an evicted author comes back
// with a full bucket, which gives an attacker who rotates through that
// many keys nothing it could not get by making new keys anyway.
//
// The pipeline peeks before the signature check (so an author over its
// limit costs no signature check) and takes a token after it (so nobody can
// spend an author's tokens with records the author did not sign).
type AuthorLimiter = ratelimit.Limiter[record.Author]

// NewAuthorLimiter returns a limiter enforcing limit (DefaultRateLimit if
// zero) for up to maxAuthors authors at a time (DefaultLimiterAuthors if
// <= 0). now is the clock (time.Now if nil).
func NewAuthorLimiter(limit RateLimit, maxAuthors int, now func() time.Time) *AuthorLimiter {
	if !limit.Valid() {
		limit = DefaultRateLimit
	}
	if maxAuthors <= 0 {
		maxAuthors = DefaultLimiterAuthors
	}
	return ratelimit.New[record.Author](limit, maxAuthors, now)
}
