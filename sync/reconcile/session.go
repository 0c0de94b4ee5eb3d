package reconcile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/mentormesh/mentormesh/sync/ingest"
	"github.com/mentormesh/mentormesh/sync/record"
)

// Scope names the set a session reconciles.
type Scope struct {
	Community string
	// Author, if set, restricts the set to that author's records.
	Author *record.Author
}

// Snapshot is a consistent view of the store for one session.
type Snapshot interface {
	Set(scope Scope) Set
	Close()
}

// Store is what sessions need from storage.
type Store interface {
	Snapshot(ctx context.Context) (Snapshot, error)
	// Records returns the current records among ids, skipping unknown ones.
	Records(ctx context.Context, ids []record.ID) ([]*record.Record, error)
}

// Ingester stores received records after verifying them.
type Ingester interface {
	IngestBatch(ctx context.Context, raws [][]byte, src ingest.Source) []ingest.Outcome
}

// Stats describe one session.
type Stats struct {
	Scope           Scope
	Turns           int
	BytesSent       int64
	BytesReceived   int64
	RecordsSent     int
	RecordsReceived int
	// Accepted counts received records that were new and stored.
	Accepted int
	// Refused counts received records skipped because this node's rules
	// refuse them (their payload, or a kind only the author's own key may
	// sign); see refusedByRules.
	Refused  int
	Duration time.Duration
}

// RoundTrips is the number of request/response exchanges: turns rounded
// up to pairs.
func (s Stats) RoundTrips() int { return (s.Turns + 1) / 2 }

// Limits bound one session.
type Limits struct {
	// MaxTurns ends a session that has not converged (default 64).
	MaxTurns int
	// FrameBudget is the size a sender aims for per frame (default 256 KiB,
	// at most MaxFrameSize less 4 KiB for framing).
	FrameBudget int
	// MaxWants caps the IDs a peer may ask for in one turn (default 65536).
	MaxWants int
}

func (l *Limits) setDefaults() {
	if l.MaxTurns <= 0 {
		l.MaxTurns = 64
	}
	if l.FrameBudget <= 0 || l.FrameBudget > MaxFrameSize-frameSlack {
		l.FrameBudget = 256 << 10
	}
	if l.MaxWants <= 0 {
		l.MaxWants = 1 << 16
	}
}

// frameSlack is room left in a frame for what send does not count against
// the budget: the opening frame's scope, field tags and lengths.
const frameSlack = 4 << 10

// AbortError is returned when the peer ended the session with a reason.
type AbortError struct{ Reason string }

func (e *AbortError) Error() string { return "peer ended the session: " + e.Reason }

// Busy reports whether the peer refused because it runs too many sessions;
// trying again shortly is the right response.
func (e *AbortError) Busy() bool { return e.Reason == ErrBusy.Error() }

// ErrRejectedRecord ends a session whose peer sent a forged or malformed
// record: no honest node does.
var ErrRejectedRecord = errors.New("peer sent a record that failed verification")

// session is one side of one reconciliation.
type session struct {
	store    Store
	ing      Ingester
	limits   Limits
	log      *slog.Logger
	progress func(received int)

	snap  Snapshot
	set   Set
	scope Scope
	r     *frameReader
	w     io.Writer
	stats Stats
	// got holds IDs received this session, so they are not asked for again.
	got map[record.ID]bool
	// sent holds IDs sent this session, so that a peer asking again (with
	// a want or an ID list that omits them) does not get them twice: what
	// one session can make this node send is bounded by its set.
	sent map[record.ID]bool
	// pending is a frame read ahead (the responder reads the opening frame
	// to learn the scope before the turn is processed).
	pending *Frame
}

// turn is what a peer said in one turn.
type turn struct {
	ranges []Range
	want   []record.ID
	ids    int // IDs in the ranges' ID lists
}

func (t turn) final() bool {
	if len(t.want) > 0 {
		return false
	}
	for _, r := range t.ranges {
		if r.Mode != Skip {
			return false
		}
	}
	return true
}

// run drives the session until one side sends a final turn. first is the
// initiator's opening turn (nil for the responder, which reads first).
func (s *session) run(ctx context.Context, first *turn) error {
	if first != nil {
		if err := s.send(ctx, *first, nil, true); err != nil {
			return err
		}
	}
	for {
		in, err := s.receive(ctx)
		if err != nil {
			return err
		}
		if in.final() {
			// Checked too, though nothing is answered: everything a peer
			// sends is held to the protocol.
			return Validate(in.ranges)
		}
		if s.stats.Turns >= s.limits.MaxTurns {
			return fmt.Errorf("%w: no convergence after %d turns", ErrProtocol, s.stats.Turns)
		}
		res, err := Process(s.set, in.ranges)
		if err != nil {
			return err
		}
		// Ask for at most MaxWants records a turn, the most a peer takes:
		// the rest stay different and the next session fetches them.
		var want []record.ID
		for _, id := range res.Need {
			if !s.got[id] && len(want) < s.limits.MaxWants {
				want = append(want, id)
			}
		}
		out := turn{ranges: res.Ranges, want: want}
		send := dedupe(append(res.Have, in.want...))
		if err := s.send(ctx, out, send, false); err != nil {
			return err
		}
		if out.final() {
			return nil
		}
	}
}

// receive reads one turn, ingesting its records frame by frame (up to
// framesInFlight frames at once, while it reads the next), and returns
// once every record of the turn is ingested.
func (s *session) receive(ctx context.Context) (turn, error) {
	q := newIngestQueue(s)
	t, err := s.receiveFrames(ctx, q)
	if werr := q.wait(); err == nil {
		err = werr
	}
	return t, err
}

func (s *session) receiveFrames(ctx context.Context, q *ingestQueue) (turn, error) {
	var t turn
	for frames := 1; ; frames++ {
		if frames > MaxFramesPerTurn {
			return t, fmt.Errorf("%w: more than %d frames in one turn", ErrProtocol, MaxFramesPerTurn)
		}
		if err := ctx.Err(); err != nil {
			return t, err
		}
		var f Frame
		if s.pending != nil {
			f, s.pending = *s.pending, nil
		} else {
			var n int
			var err error
			f, n, err = s.r.next()
			if err != nil {
				if errors.Is(err, io.EOF) {
					return t, fmt.Errorf("%w: peer closed the stream mid-session", ErrProtocol)
				}
				return t, err
			}
			s.stats.BytesReceived += int64(n)
		}
		if f.Error != "" {
			return t, &AbortError{Reason: clip(f.Error, maxReason)}
		}
		if len(t.ranges)+len(f.Ranges) > MaxRangesPerTurn {
			return t, fmt.Errorf("%w: more than %d ranges in one turn", ErrProtocol, MaxRangesPerTurn)
		}
		t.ranges = append(t.ranges, f.Ranges...)
		for _, r := range f.Ranges {
			t.ids += len(r.IDs)
		}
		if t.ids > MaxIDsPerTurn {
			return t, fmt.Errorf("%w: more than %d IDs in one turn", ErrProtocol, MaxIDsPerTurn)
		}
		if len(t.want)+len(f.Want) > s.limits.MaxWants {
			return t, fmt.Errorf("%w: more than %d wanted records in one turn", ErrProtocol, s.limits.MaxWants)
		}
		t.want = append(t.want, f.Want...)
		if len(f.Records) > 0 {
			if err := q.add(ctx, f.Records); err != nil {
				return t, err
			}
		}
		if f.EndOfTurn {
			s.stats.Turns++
			return t, nil
		}
	}
}

// send writes one turn: its ranges and wants, then the records for ids,
// split into frames of about FrameBudget bytes; the last frame ends the
// turn. opening adds the scope to the first frame.
func (s *session) send(ctx context.Context, t turn, ids []record.ID, opening bool) error {
	f := Frame{}
	if opening {
		f.Community, f.Author = s.scope.Community, s.scope.Author
	}
	size := 0
	flush := func() error {
		n, err := writeFrame(s.w, f)
		s.stats.BytesSent += int64(n)
		f, size = Frame{}, 0
		return err
	}
	for _, r := range t.ranges {
		rs := len(encodeRange(r)) + 4
		if size+rs > s.limits.FrameBudget && (len(f.Ranges) > 0 || f.Community != "") {
			if err := flush(); err != nil {
				return err
			}
		}
		f.Ranges = append(f.Ranges, r)
		size += rs
	}
	for len(t.want) > 0 {
		room := max(1, (s.limits.FrameBudget-size)/len(record.ID{}))
		n := min(room, len(t.want))
		f.Want, t.want = t.want[:n], t.want[n:]
		size += n * len(record.ID{})
		if len(t.want) > 0 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	const chunk = 256
	for len(ids) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(chunk, len(ids))
		recs, err := s.store.Records(ctx, ids[:n])
		if err != nil {
			return fmt.Errorf("reading records to send: %w", err)
		}
		ids = ids[n:]
		for _, rec := range recs {
			// A peer may ask by ID for anything; only the session's own set
			// is served, each record once.
			if !s.inScope(rec) || s.sent[rec.ID] {
				continue
			}
			s.sent[rec.ID] = true
			full := len(f.Records) >= MaxRecordsPerFrame ||
				size+len(rec.Raw)+8 > s.limits.FrameBudget && (len(f.Records) > 0 || len(f.Ranges) > 0 || len(f.Want) > 0)
			if full {
				if err := flush(); err != nil {
					return err
				}
			}
			f.Records = append(f.Records, rec.Raw)
			size += len(rec.Raw) + 8
			s.stats.RecordsSent++
		}
	}
	f.EndOfTurn = true
	s.stats.Turns++
	return flush()
}

// inScope reports whether rec belongs to the session's set.
func (s *session) inScope(rec *record.Record) bool {
	return rec.Community == s.scope.Community && (s.scope.Author == nil || rec.Author == *s.scope.Author)
}

func dedupe(ids []record.ID) []record.ID {
	seen := make(map[record.ID]bool, len(ids))
	out := ids[:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
