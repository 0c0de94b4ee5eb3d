package reconcile

import "github.com/libp2p/go-libp2p/core/network"

// LimitedFrameBudget is the frame budget of sessions over a limited
// (relayed) connection. A circuit relay resets such a connection after a
// fixed number of bytes (128 KiB each way with go-libp2p's defaults), and
// a frame cut short stores nothing: with the usual 256 KiB frames, a
// catch-up through such a relay would never store a record. Small frames
// store their records as they arrive, so each relayed connection moves
// the catch-up on by what it may carry, and the next one goes on.
const LimitedFrameBudget = 32 << 10

// syncerFor returns the Syncer for a session over str: the service's, or
// its copy with LimitedFrameBudget if str's connection is limited.
func (s *Service) syncerFor(str network.Stream) *Syncer {
	if !str.Conn().Stat().Limited || s.syncer.opts.Limits.FrameBudget <= LimitedFrameBudget {
		return s.syncer
	}
	limited := *s.syncer
	limited.opts.Limits.FrameBudget = LimitedFrameBudget
	return &limited
}
