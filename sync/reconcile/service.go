package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Protocol is the libp2p protocol ID of catch-up sessions.
const Protocol protocol.ID = "/mentormesh/sync/1.0.0"

// ServiceOptions configure a Service.
type ServiceOptions struct {
	// SessionTimeout bounds a whole session (default 10 minutes).
	SessionTimeout time.Duration
	// MaxInbound caps concurrent sessions opened by peers (default 8); each
	// peer may have one at a time.
	MaxInbound int
	// Progress, if set, is called as records arrive in a session.
	Progress func(p peer.ID, scope Scope, received int)
	// Done, if set, is called after every session, inbound or outbound.
	Done   func(p peer.ID, initiated bool, st Stats, err error)
	Logger *slog.Logger
}

// ErrBusy is what a peer gets when the node runs too many sessions.
var ErrBusy = errors.New("too many catch-up sessions; try again later")

// Service runs catch-up sessions over libp2p streams.
type Service struct {
	h      host.Host
	syncer *Syncer
	opts   ServiceOptions
	sem    chan struct{}

	mu       sync.Mutex
	inbound  map[peer.ID]bool
	released chan struct{} // closed and replaced whenever a slot frees up
}

// admitWait is how long an inbound session waits for a slot: a peer that
// runs two sessions back to back may open the second before this side has
// released the first.
const admitWait = 2 * time.Second

// NewService registers the stream handler on h. Close removes it.
func NewService(h host.Host, syncer *Syncer, opts ServiceOptions) *Service {
	if opts.SessionTimeout <= 0 {
		opts.SessionTimeout = 10 * time.Minute
	}
	if opts.MaxInbound <= 0 {
		opts.MaxInbound = 8
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Service{h: h, syncer: syncer, opts: opts, sem: make(chan struct{}, opts.MaxInbound),
		inbound: map[peer.ID]bool{}, released: make(chan struct{})}
	h.SetStreamHandler(Protocol, s.handle)
	return s
}

// Close stops serving sessions.
func (s *Service) Close() { s.h.RemoveStreamHandler(Protocol) }

// Sync runs one session with p as the initiator.
func (s *Service) Sync(ctx context.Context, p peer.ID, scope Scope) (Stats, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.SessionTimeout)
	defer cancel()
	st, err := s.syncOver(ctx, p, scope)
	if s.opts.Done != nil {
		s.opts.Done(p, true, st, err)
	}
	return st, err
}

func (s *Service) syncOver(ctx context.Context, p peer.ID, scope Scope) (Stats, error) {
	str, err := s.h.NewStream(ctx, p, Protocol)
	if err != nil {
		return Stats{Scope: scope}, fmt.Errorf("opening catch-up stream to %s: %w", p, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = str.SetDeadline(dl)
	}
	// Reads do not watch ctx: reset the stream when it ends, or a node
	// shutting down would wait for a silent peer until the deadline.
	stop := context.AfterFunc(ctx, func() { _ = str.Reset() })
	defer stop()
	st, err := s.syncerFor(str).Initiate(ctx, str, scope, s.progress(p, scope))
	// Close rather than Reset on error too: the session has written the
	// reason for the peer, and a reset would discard it. Close's own error
	// does not matter once the session is over (over QUIC, the peer having
	// closed its side first makes it fail).
	_ = str.Close()
	return st, err
}

func (s *Service) handle(str network.Stream) {
	p := str.Conn().RemotePeer()
	if !s.admitWithin(p, admitWait) {
		abort(str, ErrBusy)
		_ = str.Close() // not Reset: the peer should read why
		return
	}
	defer s.release(p)
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.SessionTimeout)
	defer cancel()
	_ = str.SetDeadline(time.Now().Add(s.opts.SessionTimeout))
	var progress func(Scope, int)
	if s.opts.Progress != nil {
		progress = func(scope Scope, n int) { s.opts.Progress(p, scope, n) }
	}
	st, err := s.syncerFor(str).Respond(ctx, str, progress)
	// Close, not Reset, even after an error: the session has already
	// written the reason (abort) and a reset would discard it before the
	// peer reads it. The stream's deadline bounds Close.
	_ = str.Close()
	if s.opts.Done != nil {
		s.opts.Done(p, false, st, err)
	}
}

func (s *Service) progress(p peer.ID, scope Scope) func(int) {
	if s.opts.Progress == nil {
		return nil
	}
	return func(n int) { s.opts.Progress(p, scope, n) }
}

// admit takes a session slot for p: one per peer, MaxInbound in all.
func (s *Service) admit(p peer.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inbound[p] {
		return false
	}
	select {
	case s.sem <- struct{}{}:
	default:
		return false
	}
	s.inbound[p] = true
	return true
}

// admitWithin waits up to d for admit to succeed.
func (s *Service) admitWithin(p peer.ID, d time.Duration) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		released := s.released
		s.mu.Unlock()
		if s.admit(p) {
			return true
		}
		select {
		case <-released:
		case <-deadline.C:
			return false
		}
	}
}

func (s *Service) release(p peer.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.inbound, p)
	<-s.sem
	close(s.released)
	s.released = make(chan struct{})
}
