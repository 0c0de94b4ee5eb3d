// Package ingest is the one path by which records from anywhere (gossip,
// catch-up, the local user) enter a node's store. It runs the checks cheapest
// first, so a flood of junk costs as little as possible, and it never stores
// or lets anyone forward a record whose signature it has not verified:
//
//  1. size cap (before decoding anything)
//  2. strict decode: canonical encoding, known fields, address grammar,
//     version bound
//  3. community: the record belongs to a community this node joined, and to
//     the one the message arrived on
//  4. author blocked by this node's user (or a steward it follows): ignored;
//     a record signed by one of the author's linked devices: rejected if
//     its kind is one only the author's root key may sign (device records),
//     ignored if the store holds a revocation of the device by the author
//  5. clock: not more than 10 minutes in the future, not expired
//  6. kind: the domain knows the kind and the payload is valid
//  7. dedupe: seen recently, or the store already holds this or a newer
//     version
//  8. rate limit (gossip only): the author has a token left
//  9. signature: Ed25519 by the author over the exact body bytes (or, for a
//     device-signed record, the author's certificate for the device and the
//     device's signature); then the author's token is taken
//  10. store: applied atomically if still newer
//
// Verdicts follow gossipsub's: Reject for records that no honest node would
// send (the sending peer's score drops), Ignore for records that are honest
// but useless here (stale, duplicate, unknown kind, clock skew, blocked
// author, author over its rate limit), Accept for records that were stored
// and should be forwarded.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mentormesh/mentormesh/sync/record"
)

// Store is what the pipeline needs from storage.
type Store interface {
	CurrentMeta(ctx context.Context, addr record.Addr) (record.Meta, bool, error)
	// ApplyRemote makes rec current at its address if it is newer, in one
	// transaction, and reports whether it did.
	ApplyRemote(ctx context.Context, rec *record.Record) (bool, error)
}

// Kinds validates kind-specific payloads; the domain provides it. It
// returns an error wrapping ErrUnknownKind (as reported by IsUnknownKind)
// for kinds it does not know.
type Kinds interface {
	ValidatePayload(kind, key string, deleted bool, payload []byte) error
}

// Verdict is the outcome class of one ingest.
type Verdict int

// Verdicts.
const (
	Accept Verdict = iota
	Ignore
	Reject
)

func (v Verdict) String() string {
	switch v {
	case Accept:
		return "accept"
	case Ignore:
		return "ignore"
	default:
		return "reject"
	}
}

// Outcome is the result of ingesting one record.
type Outcome struct {
	Verdict Verdict
	// Record is set once decoding succeeded.
	Record *record.Record
	// Err explains Ignore and Reject.
	Err error
}

// Source describes where bytes came from.
type Source struct {
	// Community, if set, is the community the bytes arrived on (a gossip
	// topic); a record of another community is rejected.
	Community string
	// Live marks records arriving by gossip, which the per-author rate
	// limit (Options.Limiter) applies to. Catch-up is not rate-limited per
	// author: a fresh node must get a prolific author's whole history, and
	// sessions have limits of their own.
	Live bool
}

// Options configure a Pipeline.
type Options struct {
	// Joined reports whether the node is a member of a community. Records of
	// other communities are ignored.
	Joined func(community string) bool
	// Now is the clock (default time.Now).
	Now func() time.Time
	// SeenSize bounds the cache of recently seen record IDs (default 16384).
	SeenSize int
	// IsUnknownKind classifies Kinds errors that mean "not known here".
	IsUnknownKind func(error) bool
	// Blocked, if set, reports authors whose records this node refuses
	// (ignored, not rejected: relaying them is no fault of the sender).
	Blocked func(record.Author) bool
	// Limiter, if set, rate-limits each author's records from Live
	// sources. Records over the limit are ignored, not rejected, so the
	// peers that relay them are not punished.
	Limiter *AuthorLimiter
	// RootOnly, if set, reports kinds that only an author's root key may
	// sign: a device-signed record of such a kind is rejected.
	RootOnly func(kind string) bool
	// DeviceRevoked, if set, reports whether the author revoked the device
	// (in any community: a device certificate is not bound to one).
	// Records that device signed are ignored (a relaying peer may not have
	// heard of the revocation yet: not its fault).
	DeviceRevoked func(author, device record.Author) bool
}

// Pipeline is safe for concurrent use.
type Pipeline struct {
	store Store
	kinds Kinds
	opts  Options
	seen  *seenCache
	stats Stats
}

// Stats counts outcomes since the pipeline was made.
type Stats struct {
	Accepted, Ignored, Rejected atomic.Uint64
	// RateLimited counts the Ignored records that were over their
	// author's rate limit.
	RateLimited atomic.Uint64
}

// New returns a pipeline over store and kinds.
func New(store Store, kinds Kinds, opts Options) *Pipeline {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SeenSize <= 0 {
		opts.SeenSize = 16384
	}
	if opts.Joined == nil {
		opts.Joined = func(string) bool { return true }
	}
	if opts.IsUnknownKind == nil {
		opts.IsUnknownKind = func(error) bool { return false }
	}
	return &Pipeline{store: store, kinds: kinds, opts: opts, seen: newSeenCache(opts.SeenSize)}
}

// Stats returns the pipeline's counters.
func (p *Pipeline) Stats() *Stats { return &p.stats }

// Ingest runs raw through the pipeline.
func (p *Pipeline) Ingest(ctx context.Context, raw []byte, src Source) Outcome {
	out := p.ingest(ctx, raw, src)
	p.count(out.Verdict)
	return out
}

func (p *Pipeline) count(v Verdict) {
	switch v {
	case Accept:
		p.stats.Accepted.Add(1)
	case Ignore:
		p.stats.Ignored.Add(1)
	default:
		p.stats.Rejected.Add(1)
	}
}

// ErrDuplicate and ErrStale explain Ignore verdicts for records the node
// already has or has something newer than.
var (
	ErrDuplicate    = errors.New("duplicate record")
	ErrStale        = errors.New("a newer version is already stored")
	ErrNotJoined    = errors.New("community not joined")
	ErrWrongTopic   = errors.New("record belongs to another community than the one it arrived on")
	ErrInvalidKind  = errors.New("invalid payload")
	ErrKnownInvalid = errors.New("record was rejected before")
	ErrBlocked      = errors.New("author is blocked on this node")
	ErrRateLimited  = errors.New("author is over its rate limit")
	ErrRevoked      = errors.New("signed by a device its author revoked")
	ErrRootOnly     = errors.New("only the author's own key may sign this kind, not a linked device")
)

func (p *Pipeline) ingest(ctx context.Context, raw []byte, src Source) Outcome {
	out, ok := p.precheck(ctx, raw, src)
	if !ok {
		return out
	}
	rec := out.Record
	if err := rec.Verify(); err != nil {
		p.seen.put(rec.ID, seenRejected)
		out.Verdict, out.Err = Reject, err
		return out
	}
	if src.Live && p.opts.Limiter != nil && !p.opts.Limiter.Allow(rec.Author) {
		// Not remembered as seen: catch-up may still bring it.
		p.stats.RateLimited.Add(1)
		out.Verdict, out.Err = Ignore, ErrRateLimited
		return out
	}
	applied, err := p.store.ApplyRemote(ctx, rec)
	return p.finish(rec, applied, err)
}

// precheck runs every step before the signature check. It returns ok=true
// with out.Record set when the record is a candidate for storing; otherwise
// out is the final outcome.
func (p *Pipeline) precheck(ctx context.Context, raw []byte, src Source) (out Outcome, ok bool) {
	if len(raw) > record.MaxRecordSize {
		return Outcome{Verdict: Reject, Err: fmt.Errorf("%w: %d bytes", record.ErrTooLarge, len(raw))}, false
	}
	rec, err := record.Decode(raw)
	if err != nil {
		return Outcome{Verdict: Reject, Err: err}, false
	}
	out = Outcome{Record: rec}
	if src.Community != "" && rec.Community != src.Community {
		out.Verdict, out.Err = Reject, fmt.Errorf("%w: %q on %q", ErrWrongTopic, rec.Community, src.Community)
		return out, false
	}
	if !p.opts.Joined(rec.Community) {
		out.Verdict, out.Err = Ignore, fmt.Errorf("%w: %q", ErrNotJoined, rec.Community)
		return out, false
	}
	if p.opts.Blocked != nil && p.opts.Blocked(rec.Author) {
		out.Verdict, out.Err = Ignore, ErrBlocked
		return out, false
	}
	if rec.SignedByDevice() {
		if p.opts.RootOnly != nil && p.opts.RootOnly(rec.Kind) {
			out.Verdict, out.Err = Reject, fmt.Errorf("%w: kind %q", ErrRootOnly, rec.Kind)
			return out, false
		}
		if p.opts.DeviceRevoked != nil && p.opts.DeviceRevoked(rec.Author, rec.Signer) {
			out.Verdict, out.Err = Ignore, fmt.Errorf("%w: device %s", ErrRevoked, rec.Signer)
			return out, false
		}
	}
	if err := rec.CheckTime(p.opts.Now()); err != nil {
		// A relaying peer may have a different clock: not its fault.
		out.Verdict, out.Err = Ignore, err
		return out, false
	}
	if err := p.kinds.ValidatePayload(rec.Kind, rec.Key, rec.Deleted, rec.Payload); err != nil {
		if p.opts.IsUnknownKind(err) {
			out.Verdict, out.Err = Ignore, err
		} else {
			out.Verdict, out.Err = Reject, fmt.Errorf("%w: %w", ErrInvalidKind, err)
		}
		return out, false
	}
	switch p.seen.get(rec.ID) {
	case seenAccepted:
		out.Verdict, out.Err = Ignore, ErrDuplicate
		return out, false
	case seenRejected:
		out.Verdict, out.Err = Reject, ErrKnownInvalid
		return out, false
	}
	if src.Live && p.opts.Limiter != nil && !p.opts.Limiter.Peek(rec.Author) {
		// Over the limit: skip the store lookup and the signature check.
		// The token is taken only after the signature verified.
		p.stats.RateLimited.Add(1)
		out.Verdict, out.Err = Ignore, ErrRateLimited
		return out, false
	}
	cur, found, err := p.store.CurrentMeta(ctx, rec.Addr())
	if err != nil {
		out.Verdict, out.Err = Ignore, fmt.Errorf("reading store: %w", err)
		return out, false
	}
	if found {
		if c := cur.Compare(rec.Meta()); c >= 0 {
			out.Verdict, out.Err = Ignore, ErrStale
			if c == 0 {
				out.Err = ErrDuplicate
			}
			return out, false
		}
	}
	return out, true
}

// finish turns the store's answer for a verified record into the outcome.
func (p *Pipeline) finish(rec *record.Record, applied bool, err error) Outcome {
	out := Outcome{Record: rec}
	if err != nil {
		out.Verdict, out.Err = Ignore, fmt.Errorf("storing record: %w", err)
		return out
	}
	p.seen.put(rec.ID, seenAccepted)
	if !applied {
		// A newer version won a race with this one.
		out.Verdict, out.Err = Ignore, ErrStale
		return out
	}
	out.Verdict = Accept
	return out
}

type seenState uint8

const (
	seenNone seenState = iota
	seenAccepted
	seenRejected
)

// seenCache remembers recent IDs in two generations: when the current one
// fills up it becomes the previous one, so memory stays bounded at twice
// the size and recent entries survive a rotation.
type seenCache struct {
	mu        sync.Mutex
	size      int
	cur, prev map[record.ID]seenState
}

func newSeenCache(size int) *seenCache {
	return &seenCache{size: size, cur: make(map[record.ID]seenState, size)}
}

func (c *seenCache) get(id record.ID) seenState {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.cur[id]; ok {
		return s
	}
	return c.prev[id]
}

func (c *seenCache) put(id record.ID, s seenState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.cur) >= c.size {
		c.prev, c.cur = c.cur, make(map[record.ID]seenState, c.size)
	}
	c.cur[id] = s
}
