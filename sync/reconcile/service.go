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

	"github.com/mentormesh/mentormesh/internal/netaddr"
)

// Protocol is the libp2p protocol ID of catch-up sessions.
const Protocol protocol.ID = "/mentormesh/sync/1.0.0"

// ServiceOptions configure a Service.
type ServiceOptions struct {
	// SessionTimeout bounds a whole session (default 10 minutes).
	SessionTimeout time.Duration
	// StallTimeout ends a session in which the peer sends nothing, or
	// takes nothing this side writes, for this long (default 1 minute). An
	// honest peer pauses between frames only to check and store one or
	// two frames of records, well under a second.
	StallTimeout time.Duration
	// MaxInbound caps concurrent sessions opened by peers (default 8); each
	// peer may have one at a time.
	MaxInbound int
	// MaxInboundPerAddr caps the concurrent sessions opened from one
	// network address (an IPv4 address or an IPv6 /64; default 2), so that
	// one machine with many peer IDs cannot take every slot. Sessions from
	// 127.0.0.1 and over relays (whose connections the relay limits) are
	// not counted.
	MaxInboundPerAddr int
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
	perAddr  map[string]int // inbound sessions by netaddr.Key
	released chan struct{}  // closed and replaced whenever a slot frees up
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
	if opts.StallTimeout <= 0 {
		opts.StallTimeout = time.Minute
	}
	if opts.MaxInbound <= 0 {
		opts.MaxInbound = 8
	}
	if opts.MaxInboundPerAddr <= 0 {
		opts.MaxInboundPerAddr = 2
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Service{h: h, syncer: syncer, opts: opts, sem: make(chan struct{}, opts.MaxInbound),
		inbound: map[peer.ID]bool{}, perAddr: map[string]int{}, released: make(chan struct{})}
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
	end, _ := ctx.Deadline() // set by Sync
	// Reads do not watch ctx: reset the stream when it ends, or a node
	// shutting down would wait for a silent peer until the deadline.
	stop := context.AfterFunc(ctx, func() { _ = str.Reset() })
	defer stop()
	st, err := s.syncerFor(str).Initiate(ctx, s.guard(str, end), scope, s.progress(p, scope))
	// Close rather than Reset on error too: the session has written the
	// reason for the peer, and a reset would discard it. Close's own error
	// does not matter once the session is over (over QUIC, the peer having
	// closed its side first makes it fail).
	_ = str.Close()
	return st, err
}

func (s *Service) handle(str network.Stream) {
	p := str.Conn().RemotePeer()
	addr := ""
	if !str.Conn().Stat().Limited {
		addr = netaddr.Key(str.Conn().RemoteMultiaddr())
	}
	if !s.admitWithin(p, addr, admitWait) {
		abort(str, ErrBusy)
		_ = str.Close() // not Reset: the peer should read why
		return
	}
	defer s.release(p, addr)
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.SessionTimeout)
	defer cancel()
	var progress func(Scope, int)
	if s.opts.Progress != nil {
		progress = func(scope Scope, n int) { s.opts.Progress(p, scope, n) }
	}
	end, _ := ctx.Deadline()
	st, err := s.syncerFor(str).Respond(ctx, s.guard(str, end), progress)
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

// admit takes a session slot for p coming from addr (a netaddr.Key, ""
// for none): one per peer, MaxInboundPerAddr per address, MaxInbound in all.
func (s *Service) admit(p peer.ID, addr string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inbound[p] || addr != "" && s.perAddr[addr] >= s.opts.MaxInboundPerAddr {
		return false
	}
	select {
	case s.sem <- struct{}{}:
	default:
		return false
	}
	s.inbound[p] = true
	if addr != "" {
		s.perAddr[addr]++
	}
	return true
}

// admitWithin waits up to d for admit to succeed.
func (s *Service) admitWithin(p peer.ID, addr string, d time.Duration) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		released := s.released
		s.mu.Unlock()
		if s.admit(p, addr) {
			return true
		}
		select {
		case <-released:
		case <-deadline.C:
			return false
		}
	}
}

func (s *Service) release(p peer.ID, addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.inbound, p)
	if addr != "" {
		if s.perAddr[addr]--; s.perAddr[addr] <= 0 {
			delete(s.perAddr, addr)
		}
	}
	<-s.sem
	close(s.released)
	s.released = make(chan struct{})
}

// guard returns str with its deadline moved before every read and write
// to StallTimeout ahead, never past end (the session's deadline).
func (s *Service) guard(str network.Stream, end time.Time) *stallGuard {
	return &stallGuard{Stream: str, stall: s.opts.StallTimeout, end: end}
}

// stallGuard ends a session whose peer stalls: each Read and Write may
// block for at most stall. SetWriteDeadline (abort's one-second limit for
// its last frame) moves end earlier.
type stallGuard struct {
	network.Stream
	stall time.Duration
	end   time.Time
}

func (g *stallGuard) deadline() time.Time {
	t := time.Now().Add(g.stall)
	if !g.end.IsZero() && g.end.Before(t) {
		return g.end
	}
	return t
}

func (g *stallGuard) Read(b []byte) (int, error) {
	_ = g.Stream.SetReadDeadline(g.deadline())
	return g.Stream.Read(b)
}

func (g *stallGuard) Write(b []byte) (int, error) {
	_ = g.Stream.SetWriteDeadline(g.deadline())
	return g.Stream.Write(b)
}

// SetWriteDeadline limits this and every later write to t.
func (g *stallGuard) SetWriteDeadline(t time.Time) error {
	if g.end.IsZero() || t.Before(g.end) {
		g.end = t
	}
	return g.Stream.SetWriteDeadline(t)
}
