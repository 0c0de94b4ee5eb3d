package reconcile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/mentormesh/mentormesh/sync/record"
)

// Options configure a Syncer.
type Options struct {
	Limits Limits
	Logger *slog.Logger
	// Joined reports whether this node serves a community; sessions for
	// others are refused.
	Joined func(community string) bool
}

// Syncer runs reconciliation sessions over any byte stream.
type Syncer struct {
	store Store
	ing   Ingester
	opts  Options
}

// New returns a Syncer over store that stores received records with ing.
func New(store Store, ing Ingester, opts Options) *Syncer {
	opts.Limits.setDefaults()
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Joined == nil {
		opts.Joined = func(string) bool { return true }
	}
	return &Syncer{store: store, ing: ing, opts: opts}
}

func (s *Syncer) newSession(rw io.ReadWriter, progress func(int)) *session {
	return &session{
		store:    s.store,
		ing:      s.ing,
		limits:   s.opts.Limits,
		log:      s.opts.Logger,
		progress: progress,
		r:        newFrameReader(rw),
		w:        rw,
		got:      make(map[record.ID]bool),
		sent:     make(map[record.ID]bool),
	}
}

// Initiate reconciles scope with the peer at the other end of rw. progress,
// if set, is called with the number of records received so far.
func (s *Syncer) Initiate(ctx context.Context, rw io.ReadWriter, scope Scope, progress func(int)) (Stats, error) {
	start := time.Now()
	ss := s.newSession(rw, progress)
	ss.scope = scope
	ss.stats.Scope = scope
	err := s.open(ctx, ss, func() error {
		ranges, err := Initial(ss.set)
		if err != nil {
			return err
		}
		return ss.run(ctx, &turn{ranges: ranges})
	})
	ss.stats.Duration = time.Since(start)
	return ss.stats, err
}

// Respond serves a session opened by the peer at the other end of rw.
// progress, if not nil, is called as records arrive, with the session's
// scope (known once the peer's opening frame is read).
func (s *Syncer) Respond(ctx context.Context, rw io.ReadWriter, progress func(scope Scope, received int)) (Stats, error) {
	start := time.Now()
	ss := s.newSession(rw, nil)
	if progress != nil {
		ss.progress = func(n int) { progress(ss.scope, n) }
	}
	f, n, err := ss.r.next()
	if err != nil {
		if errors.Is(err, ErrProtocol) {
			abort(rw, err) // a malformed frame; an I/O error leaves nobody to tell
		}
		return ss.stats, fmt.Errorf("reading the opening frame: %w", err)
	}
	ss.stats.BytesReceived += int64(n)
	if f.Error != "" {
		return ss.stats, &AbortError{Reason: clip(f.Error, maxReason)} // no reply to an error
	}
	if err := record.CheckCommunity(f.Community); err != nil {
		err = fmt.Errorf("%w: opening frame: %w", ErrProtocol, err)
		abort(rw, err)
		return ss.stats, err
	}
	ss.scope = Scope{Community: f.Community, Author: f.Author}
	ss.stats.Scope = ss.scope
	if !s.opts.Joined(f.Community) {
		abort(rw, fmt.Errorf("community not served here"))
		return ss.stats, fmt.Errorf("peer asked for community %q, which this node has not joined", f.Community)
	}
	ss.pending = &f
	err = s.open(ctx, ss, func() error { return ss.run(ctx, nil) })
	ss.stats.Duration = time.Since(start)
	return ss.stats, err
}

// open takes a snapshot for the session, runs fn, and on failure tells the
// peer why before returning the error.
func (s *Syncer) open(ctx context.Context, ss *session, fn func() error) error {
	snap, err := s.store.Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("opening a store snapshot: %w", err)
	}
	defer snap.Close()
	ss.snap, ss.set = snap, snap.Set(ss.scope)
	if err := fn(); err != nil {
		if _, theirs := errors.AsType[*AbortError](err); !theirs {
			abort(ss.w, err) // the peer that ended it needs no reply
		}
		return err
	}
	return nil
}

// abort tells the peer why the session ends, without waiting long: the
// peer may itself be blocked writing, and the caller closes the stream next.
func abort(w io.Writer, err error) {
	if d, ok := w.(interface{ SetWriteDeadline(time.Time) error }); ok {
		_ = d.SetWriteDeadline(time.Now().Add(time.Second))
	}
	_, _ = writeFrame(w, Frame{Error: abortReason(err), EndOfTurn: true})
}

// maxReason caps an error frame's text, sent or received (in bytes, cut
// on a character boundary so the text stays valid UTF-8).
const maxReason = 200

func abortReason(err error) string { return clip(err.Error(), maxReason) }

// clip cuts s to at most n bytes without splitting a UTF-8 character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
