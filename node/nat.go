package node

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/p2p/protocol/holepunch"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/mentormesh/mentormesh/node/api"
)

// natWatch records what NAT traversal found, for `status` and the logs:
// AutoNAT's verdict on the node's reachability, the addresses AutoNAT v2
// confirmed or refuted, and the outcome of DCUtR hole punches (it is the
// hole punching service's event tracer).
type natWatch struct {
	log *slog.Logger

	mu           sync.Mutex
	reachability network.Reachability
	reachable    []string
	unreachable  []string
	punches      api.HolePunchStats
}

func newNATWatch(log *slog.Logger) *natWatch {
	return &natWatch{log: log.With("subsystem", "nat")}
}

// Trace implements holepunch.EventTracer. It runs on the hole punching
// service's goroutines, on both sides of a punch: the side that received
// the relayed connection coordinates it, the other answers.
func (w *natWatch) Trace(evt *holepunch.Event) {
	switch e := evt.Evt.(type) {
	case *holepunch.StartHolePunchEvt:
		w.log.Debug("hole punch starting", "peer", evt.Remote, "remote_addrs", e.RemoteAddrs, "relay_rtt", e.RTT)
	case *holepunch.DirectDialEvt:
		w.log.Debug("direct dial before hole punching", "peer", evt.Remote, "ok", e.Success, "elapsed", e.EllapsedTime, "err", e.Error)
	case *holepunch.ProtocolErrorEvt:
		w.log.Debug("hole punch protocol error", "peer", evt.Remote, "err", e.Error)
	case *holepunch.EndHolePunchEvt:
		hp := &api.HolePunch{
			PeerID: evt.Remote.String(), Success: e.Success, At: time.Unix(0, evt.Timestamp).UTC(),
			ElapsedMS: float64(e.EllapsedTime.Microseconds()) / 1000, Error: e.Error,
		}
		w.mu.Lock()
		w.punches.Attempts++
		if e.Success {
			w.punches.Succeeded++
		}
		w.punches.Last = hp
		w.mu.Unlock()
		if e.Success {
			w.log.Info("hole punched: direct connection", "peer", evt.Remote, "elapsed", e.EllapsedTime)
		} else {
			w.log.Info("hole punch failed; the relayed connection stays", "peer", evt.Remote, "elapsed", e.EllapsedTime, "err", e.Error)
		}
	}
}

// watch follows AutoNAT's verdicts until ctx ends. Both events come from
// stateful emitters: the current value arrives at once.
func (w *natWatch) watch(ctx context.Context, bus event.Bus) {
	sub, err := bus.Subscribe([]any{new(event.EvtLocalReachabilityChanged), new(event.EvtHostReachableAddrsChanged)})
	if err != nil {
		w.log.Warn("cannot follow AutoNAT", "err", err)
		return
	}
	defer sub.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-sub.Out():
			if !ok {
				return
			}
			switch e := e.(type) {
			case event.EvtLocalReachabilityChanged:
				w.mu.Lock()
				w.reachability = e.Reachability
				w.mu.Unlock()
				w.log.Info("reachability", "autonat", reachabilityName(e.Reachability))
			case event.EvtHostReachableAddrsChanged:
				w.mu.Lock()
				w.reachable, w.unreachable = addrStrings(e.Reachable), addrStrings(e.Unreachable)
				w.mu.Unlock()
				w.log.Debug("AutoNAT v2 tested addresses", "reachable", e.Reachable, "unreachable", e.Unreachable)
			}
		}
	}
}

// status returns what the watch knows.
func (w *natWatch) status() *api.NAT {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := &api.NAT{
		Reachability:     reachabilityName(w.reachability),
		ReachableAddrs:   slices.Clone(w.reachable),
		UnreachableAddrs: slices.Clone(w.unreachable),
		HolePunches:      w.punches,
	}
	if w.punches.Last != nil {
		last := *w.punches.Last
		st.HolePunches.Last = &last
	}
	return st
}

func reachabilityName(r network.Reachability) string {
	switch r {
	case network.ReachabilityPublic:
		return "public"
	case network.ReachabilityPrivate:
		return "private"
	default:
		return "unknown"
	}
}

func addrStrings(addrs []ma.Multiaddr) []string {
	out := make([]string, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, a.String())
	}
	slices.Sort(out)
	return out
}
