package gossip

import (
	"context"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/mentormesh/mentormesh/internal/ratelimit"
)

// Validation order. GossipSub hands messages to validation first come,
// first served, from every peer alike. When an attacker's fresh peer IDs
// connect together (16 per address at once, each with a starting budget
// of 16 messages), the node holds a few hundred of their messages at once,
// and an honest peer's record arriving just after waits behind all of
// them. So the validator runs each message in a validation slot (one per
// core while new peers' messages are about, two when they are not:
// slotsFor), and hands free slots to the messages of established peers
// first; the messages of new peers, together, hold at most half of them
// (at least one), so an established peer's message never waits for more
// than the ones already running.
//
// A peer is new while it is still earning its message budget: for the
// time the budget takes to refill from its starting allowance to the full
// burst (newPeerPeriod; about 4 s with DefaultPeerMessageRate). An
// attacker that keeps a peer connected that long gets the same order as
// an honest peer, but is bound by that peer's budget and its address's;
// it is the burst of fresh identities that this ordering defuses.

// newPeerPeriod is how long a connected peer counts as new under rate.
func newPeerPeriod(rate ratelimit.Rate) time.Duration {
	if rate.Initial <= 0 || rate.Initial >= rate.Burst {
		return 0
	}
	return time.Duration(rate.Burst-rate.Initial) * rate.Every
}

// connectedSince returns when the oldest open connection to p was opened
// (zero if there is none).
func connectedSince(h host.Host, p peer.ID) time.Time {
	var since time.Time
	for _, c := range h.Network().ConnsToPeer(p) {
		if o := c.Stat().Opened; !o.IsZero() && (since.IsZero() || o.Before(since)) {
			since = o
		}
	}
	return since
}

// validationSlots runs at most n validations at a time (burst while new
// peers' messages run or wait), established peers' first; new peers' hold
// at most newMax slots together. Waiting validations of a class run in
// arrival order. Safe for concurrent use.
type validationSlots struct {
	mu        sync.Mutex
	n, newMax int
	burst     int // the limit while a new peer's message runs or waits
	busy      int // slots held
	newBusy   int // of which by new peers
	// waiting, by class: established peers' and new peers'.
	established, fresh []*slotWaiter
}

type slotWaiter struct{ granted chan struct{} }

// slotsPerCore is how many validations run at once per core when no new
// peer's message is being validated. A validation is the signature check
// (CPU) followed by the Badger commit (a wait for Badger's writer
// goroutine): with one slot per core, each core idles through every
// commit. Measured on 2 cores (docs/bench/HISTORY.md, "Gossip ingest"),
// the pipeline fed one record at a time from 2 goroutines reached 66 to
// 68 % of one core verifying, from 4 goroutines 81 to 83 %.
const slotsPerCore = 2

// slotsFor returns the validation slots for a node with cores cores:
// slotsPerCore per core while the node is calm, one per core while new
// peers' messages run or wait (a burst of fresh identities, the flood
// case: more validations at once would only stretch each honest one), and
// for new peers' messages together half a core's worth (at least one).
func slotsFor(cores int) *validationSlots {
	cores = max(cores, 1)
	return newValidationSlots(cores*slotsPerCore, cores, max(1, cores/2))
}

// newValidationSlots returns n slots, burst of them while new peers'
// messages run or wait, of which new peers may hold newMax.
func newValidationSlots(n, burst, newMax int) *validationSlots {
	n = max(n, 1)
	burst = min(max(burst, 1), n)
	return &validationSlots{n: n, burst: burst, newMax: min(max(newMax, 1), burst)}
}

// acquire waits for a slot for a validation of an established (isNew
// false) or a new peer's message, and returns the function that frees it.
// It fails only when ctx ends first.
func (s *validationSlots) acquire(ctx context.Context, isNew bool) (release func(), err error) {
	release = func() { s.release(isNew) }
	s.mu.Lock()
	// Nobody of the same or a higher class waits: run at once if allowed.
	if s.canRun(isNew) && len(s.established) == 0 && (!isNew || len(s.fresh) == 0) {
		s.take(isNew)
		s.mu.Unlock()
		return release, nil
	}
	w := &slotWaiter{granted: make(chan struct{}, 1)}
	if isNew {
		s.fresh = append(s.fresh, w)
	} else {
		s.established = append(s.established, w)
	}
	s.mu.Unlock()
	select {
	case <-w.granted:
		return release, nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	if s.remove(w, isNew) {
		s.mu.Unlock()
		return nil, ctx.Err()
	}
	s.mu.Unlock()
	// Granted meanwhile: hand the slot on.
	<-w.granted
	release()
	return nil, ctx.Err()
}

func (s *validationSlots) canRun(isNew bool) bool {
	limit := s.n
	if isNew || s.newBusy > 0 || len(s.fresh) > 0 {
		limit = s.burst
	}
	return s.busy < limit && (!isNew || s.newBusy < s.newMax)
}

func (s *validationSlots) take(isNew bool) {
	s.busy++
	if isNew {
		s.newBusy++
	}
}

func (s *validationSlots) release(isNew bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.busy--
	if isNew {
		s.newBusy--
	}
	for {
		switch {
		case len(s.established) > 0 && s.canRun(false):
			w := s.established[0]
			s.established = s.established[1:]
			s.take(false)
			w.granted <- struct{}{}
		case len(s.fresh) > 0 && s.canRun(true):
			w := s.fresh[0]
			s.fresh = s.fresh[1:]
			s.take(true)
			w.granted <- struct{}{}
		default:
			return
		}
	}
}

// remove takes w out of its queue; false if it is no longer there (it
// was granted a slot).
func (s *validationSlots) remove(w *slotWaiter, isNew bool) bool {
	q := &s.established
	if isNew {
		q = &s.fresh
	}
	for i, x := range *q {
		if x == w {
			*q = append((*q)[:i], (*q)[i+1:]...)
			return true
		}
	}
	return false
}

// waiting returns how many validations wait, by class (tests).
func (s *validationSlots) waiting() (established, fresh int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.established), len(s.fresh)
}
