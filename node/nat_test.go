package node

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
	"github.com/libp2p/go-libp2p/p2p/protocol/holepunch"
	ma "github.com/multiformats/go-multiaddr"
)

// TestNATWatchCountsHolePunches feeds the hole punching tracer the events
// of a failed and then a successful punch: only their ends count.
func TestNATWatchCountsHolePunches(t *testing.T) {
	w := newNATWatch(slog.New(slog.NewTextHandler(io.Discard, nil)))
	at := time.Date(2026, 11, 26, 5, 30, 0, 0, time.UTC)
	events := []*holepunch.Event{
		{Type: holepunch.StartHolePunchEvtT, Evt: &holepunch.StartHolePunchEvt{RemoteAddrs: []string{"/ip4/44.47.2.2/tcp/4747"}}},
		{Type: holepunch.HolePunchAttemptEvtT, Evt: &holepunch.HolePunchAttemptEvt{Attempt: 1}},
		{Type: holepunch.EndHolePunchEvtT, Remote: "peer-b", Evt: &holepunch.EndHolePunchEvt{EllapsedTime: 10 * time.Second, Error: "timeout"}},
		{Type: holepunch.ProtocolErrorEvtT, Evt: &holepunch.ProtocolErrorEvt{Error: "stream reset"}},
		{Type: holepunch.DirectDialEvtT, Evt: &holepunch.DirectDialEvt{}},
		{Type: holepunch.EndHolePunchEvtT, Remote: "peer-c", Timestamp: at.UnixNano(), Evt: &holepunch.EndHolePunchEvt{Success: true, EllapsedTime: 12500 * time.Microsecond}},
	}
	for _, e := range events {
		w.Trace(e)
	}
	st := w.status()
	if st.HolePunches.Attempts != 2 || st.HolePunches.Succeeded != 1 {
		t.Fatalf("hole punches %+v, want 2 attempts, 1 succeeded", st.HolePunches)
	}
	last := st.HolePunches.Last
	if last == nil || !last.Success || last.PeerID != peer.ID("peer-c").String() || last.ElapsedMS != 12.5 || !last.At.Equal(at) || last.Error != "" {
		t.Fatalf("last hole punch %+v, want peer-c's success in 12.5 ms at %v", last, at)
	}
	if st.Reachability != "unknown" {
		t.Errorf("reachability %q before any verdict, want unknown", st.Reachability)
	}
}

// TestNATWatchFollowsAutoNAT emits AutoNAT's events on a bus and waits
// for the watch to report them.
func TestNATWatchFollowsAutoNAT(t *testing.T) {
	bus := eventbus.NewBus()
	w := newNATWatch(slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.watch(ctx, bus)
	}()
	defer func() { cancel(); <-done }()

	reach, err := bus.Emitter(new(event.EvtLocalReachabilityChanged), eventbus.Stateful)
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := bus.Emitter(new(event.EvtHostReachableAddrsChanged), eventbus.Stateful)
	if err != nil {
		t.Fatal(err)
	}
	if err := reach.Emit(event.EvtLocalReachabilityChanged{Reachability: network.ReachabilityPrivate}); err != nil {
		t.Fatal(err)
	}
	unreachable := ma.StringCast("/ip4/44.47.1.2/udp/4747/quic-v1")
	if err := addrs.Emit(event.EvtHostReachableAddrsChanged{Unreachable: []ma.Multiaddr{unreachable}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the watch to see AutoNAT's verdicts", func() bool {
		st := w.status()
		return st.Reachability == "private" && len(st.UnreachableAddrs) == 1 &&
			st.UnreachableAddrs[0] == unreachable.String() && len(st.ReachableAddrs) == 0
	})
}
