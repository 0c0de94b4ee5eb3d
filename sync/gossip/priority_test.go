package gossip

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/mentormesh/mentormesh/internal/ratelimit"
)

// acquireAsync starts an acquire and returns where its release (or
// error) arrives.
func acquireAsync(ctx context.Context, s *validationSlots, isNew bool) <-chan func() {
	ch := make(chan func(), 1)
	go func() {
		release, err := s.acquire(ctx, isNew)
		if err != nil {
			release = nil
		}
		ch <- release
	}()
	return ch
}

// waitWaiting waits until s has the given waiters.
func waitWaiting(t *testing.T, s *validationSlots, established, fresh int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		e, f := s.waiting()
		if e == established && f == fresh {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting = %d established, %d new; want %d, %d", e, f, established, fresh)
		}
		runtime.Gosched()
	}
}

func mustAcquire(t *testing.T, s *validationSlots, isNew bool) func() {
	t.Helper()
	release, err := s.acquire(context.Background(), isNew)
	if err != nil {
		t.Fatal(err)
	}
	return release
}

func granted(ch <-chan func()) bool {
	select {
	case r := <-ch:
		return r != nil
	default:
		return false
	}
}

func TestValidationSlotsEstablishedFirst(t *testing.T) {
	ctx := context.Background()
	s := newValidationSlots(2, 2, 1)
	a, b := mustAcquire(t, s, false), mustAcquire(t, s, false)
	// A new peer's message arrives first, then an established peer's.
	fresh := acquireAsync(ctx, s, true)
	waitWaiting(t, s, 0, 1)
	est := acquireAsync(ctx, s, false)
	waitWaiting(t, s, 1, 1)
	a()
	var r func()
	select {
	case r = <-est:
		if r == nil {
			t.Fatal("established acquire failed")
		}
	case <-fresh:
		t.Fatal("a freed slot went to the new peer's message, which arrived first, not to the established peer's")
	}
	b()
	if f := <-fresh; f == nil {
		t.Fatal("new peer's acquire failed")
	} else {
		f()
	}
	r()
	if e, f := s.waiting(); e != 0 || f != 0 || s.busy != 0 || s.newBusy != 0 {
		t.Errorf("after all released: waiting %d, %d; busy %d, %d new; want all 0", e, f, s.busy, s.newBusy)
	}
}

func TestValidationSlotsNewPeersShareHalf(t *testing.T) {
	ctx := context.Background()
	s := newValidationSlots(4, 4, 2) // new peers: 2 at most
	f1, f2 := mustAcquire(t, s, true), mustAcquire(t, s, true)
	f3 := acquireAsync(ctx, s, true)
	waitWaiting(t, s, 0, 1)
	// Two slots are free, but for established peers only.
	e1, e2 := mustAcquire(t, s, false), mustAcquire(t, s, false)
	if granted(f3) {
		t.Fatal("a third new peer's message ran while two held their half of the slots")
	}
	e1()
	// A slot is handed over inside release, so the state after e1 shows
	// at once whether it went to the waiting new peer (granted alone
	// could miss a grant still on its way through acquireAsync).
	if _, f := s.waiting(); granted(f3) || f != 1 || s.newBusy != 2 {
		t.Fatalf("a freed slot went beyond the new peers' half: %d new waiting, %d new busy, want 1 and 2", f, s.newBusy)
	}
	f1()
	r := <-f3
	if r == nil {
		t.Fatal("new peer's acquire failed")
	}
	for _, rel := range []func(){r, f2, e2} {
		rel()
	}
	if s.busy != 0 || s.newBusy != 0 {
		t.Errorf("after all released: busy %d, %d new; want 0", s.busy, s.newBusy)
	}
}

func TestValidationSlotsCancelled(t *testing.T) {
	s := newValidationSlots(1, 1, 1)
	hold := mustAcquire(t, s, false)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := s.acquire(ctx, true)
		done <- err
	}()
	waitWaiting(t, s, 0, 1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled acquire = %v, want context.Canceled", err)
	}
	waitWaiting(t, s, 0, 0)
	hold()
	// No slot leaked: the only slot is free again.
	mustAcquire(t, s, true)()
	if s.busy != 0 {
		t.Errorf("busy = %d after release, want 0", s.busy)
	}
}

func TestNewPeerPeriod(t *testing.T) {
	for _, tc := range []struct {
		rate ratelimit.Rate
		want time.Duration
	}{
		{DefaultPeerMessageRate, 496 * time.Second / 128}, // 3.875 s
		{ratelimit.Rate{Burst: 10, Every: time.Second}, 0},
		{ratelimit.Rate{Burst: 10, Every: time.Second, Initial: 10}, 0},
	} {
		if got := newPeerPeriod(tc.rate); got != tc.want {
			t.Errorf("newPeerPeriod(%+v) = %v, want %v", tc.rate, got, tc.want)
		}
	}
}

// TestIsNewByConnectionAge: a peer counts as new for newFor after its
// first connection opened, and when it is not connected at all.
func TestIsNewByConnectionAge(t *testing.T) {
	mk := func() host.Host {
		h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		return h
	}
	a, b := mk(), mk()
	g := &Gossip{h: a, newFor: time.Hour}
	if !g.isNew(b.ID()) {
		t.Error("isNew(a peer not connected) = false, want true")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Connect(ctx, peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()}); err != nil {
		t.Fatal(err)
	}
	opened := connectedSince(a, b.ID())
	if opened.IsZero() || time.Since(opened) > time.Minute {
		t.Fatalf("connectedSince = %v, want the moment just now", opened)
	}
	if !g.isNew(b.ID()) {
		t.Error("isNew(just connected, newFor 1h) = false, want true")
	}
	// Established once newFor has passed since the connection opened.
	g.newFor = time.Since(opened)
	if g.isNew(b.ID()) {
		t.Errorf("isNew(connected %v ago, newFor %v) = true, want false", time.Since(opened), g.newFor)
	}
	g.newFor = 0
	if g.isNew(b.ID()) {
		t.Error("isNew with newFor 0 (no starting allowance) = true, want false")
	}
}

func TestSlotsFor(t *testing.T) {
	for _, tc := range []struct{ cores, n, burst, newMax int }{
		{0, 2, 1, 1},
		{1, 2, 1, 1},
		{2, 4, 2, 1},
		{4, 8, 4, 2},
		{8, 16, 8, 4},
	} {
		s := slotsFor(tc.cores)
		if s.n != tc.n || s.burst != tc.burst || s.newMax != tc.newMax {
			t.Errorf("slotsFor(%d) = %d slots, %d under a burst, %d for new peers; want %d, %d, %d",
				tc.cores, s.n, s.burst, s.newMax, tc.n, tc.burst, tc.newMax)
		}
	}
}

// While a new peer's message runs, established peers' messages get only
// the burst limit's slots; once none is about, all of them.
func TestValidationSlotsBurstLimit(t *testing.T) {
	ctx := context.Background()
	s := newValidationSlots(4, 2, 1)
	fresh := mustAcquire(t, s, true)
	e1 := mustAcquire(t, s, false)
	e2 := acquireAsync(ctx, s, false)
	waitWaiting(t, s, 1, 0)
	if granted(e2) || s.busy != 2 {
		t.Fatalf("with a new peer's message running, %d slots busy and a third granted: want 2 busy, the third waiting", s.busy)
	}
	fresh()
	// The new peer's slot went to the waiting established message, and
	// the limit is back to 4: two more run at once.
	r2 := <-e2
	if r2 == nil {
		t.Fatal("established acquire failed")
	}
	e3, e4 := mustAcquire(t, s, false), mustAcquire(t, s, false)
	if s.busy != 4 {
		t.Fatalf("calm: %d slots busy, want 4", s.busy)
	}
	// A new peer's message waits while 4 run, and brings the limit back
	// down: freeing one established slot does not let another in.
	f2 := acquireAsync(ctx, s, true)
	waitWaiting(t, s, 0, 1)
	e5 := acquireAsync(ctx, s, false)
	waitWaiting(t, s, 1, 1)
	e1()
	if granted(e5) || granted(f2) || s.busy != 3 {
		t.Fatalf("after one of 4 freed with a new peer waiting: busy %d, want 3 and both waiting", s.busy)
	}
	for _, rel := range []func(){r2, e3} {
		rel()
	}
	// busy 1 < burst 2: the established message (first in order) runs.
	r5 := <-e5
	if r5 == nil {
		t.Fatal("established acquire failed")
	}
	e4()
	rf := <-f2
	if rf == nil {
		t.Fatal("new peer's acquire failed")
	}
	rf()
	r5()
	if e, f := s.waiting(); e != 0 || f != 0 || s.busy != 0 || s.newBusy != 0 {
		t.Errorf("after all released: waiting %d, %d; busy %d, %d new; want all 0", e, f, s.busy, s.newBusy)
	}
}
