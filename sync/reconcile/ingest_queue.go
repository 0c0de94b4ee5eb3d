package reconcile

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/mentormesh/mentormesh/sync/ingest"
)

// framesInFlight is how many received frames a session ingests at once.
// With two, one frame's Badger write (one core) overlaps the next frame's
// checks and signature verification (every core); more would only hold
// more memory (MaxFrameSize per frame).
const framesInFlight = 2

// ingestQueue ingests the record frames of one turn, up to framesInFlight
// at a time, while the session reads the next frame. The records of
// concurrent frames are distinct in an honest session; if they are not, the
// store keeps the newest version either way.
type ingestQueue struct {
	s   *session
	sem chan struct{}
	wg  sync.WaitGroup
	mu  sync.Mutex
	err error
}

func newIngestQueue(s *session) *ingestQueue {
	return &ingestQueue{s: s, sem: make(chan struct{}, framesInFlight)}
}

// add starts ingesting raws once fewer than framesInFlight frames are in
// progress. It returns the error of an earlier frame, if any, so that the
// session stops reading from a peer that sent a bad record.
func (q *ingestQueue) add(ctx context.Context, raws [][]byte) error {
	select {
	case q.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := q.failed(); err != nil {
		<-q.sem
		return err
	}
	q.wg.Add(1)
	go func() {
		defer q.wg.Done()
		defer func() { <-q.sem }()
		outs := q.s.ing.IngestBatch(ctx, raws, ingest.Source{Community: q.s.scope.Community})
		q.record(raws, outs)
	}()
	return nil
}

func (q *ingestQueue) failed() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.err
}

// record counts a frame's outcomes into the session, in the order frames
// finish.
func (q *ingestQueue) record(raws [][]byte, outs []ingest.Outcome) {
	q.mu.Lock()
	defer q.mu.Unlock()
	s := q.s
	s.stats.RecordsReceived += len(raws)
	for _, o := range outs {
		if o.Record != nil {
			s.got[o.Record.ID] = true
		}
		switch o.Verdict {
		case ingest.Accept:
			s.stats.Accepted++
		case ingest.Reject:
			if refusedByRules(o.Err) {
				s.stats.Refused++
				continue
			}
			if q.err == nil {
				q.err = fmt.Errorf("%w: %w", ErrRejectedRecord, o.Err)
			}
		}
	}
	if s.progress != nil {
		s.progress(s.stats.RecordsReceived)
	}
}

// refusedByRules reports a rejection that nodes of different versions may
// not agree on: a payload this node's rules refuse, or a kind that only the
// author's own key may sign now. The peer may be an honest node of another
// version that stored the record, so the record is skipped and the session
// goes on; ending it would stop every session with that peer at the same
// record, and nothing after it would ever arrive.
func refusedByRules(err error) bool {
	return errors.Is(err, ingest.ErrInvalidKind) || errors.Is(err, ingest.ErrRootOnly)
}

// wait waits for every frame in progress and returns the first error.
func (q *ingestQueue) wait() error {
	q.wg.Wait()
	return q.failed()
}
