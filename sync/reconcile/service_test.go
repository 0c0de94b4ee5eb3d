package reconcile_test

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/sync/ingest"
	"github.com/mentormesh/mentormesh/sync/reconcile"
)

// Service tests run real libp2p hosts on loopback, with the in-memory store
// of session_test.go behind each Service.

var sociocracy = reconcile.Scope{Community: "sociocracy"}

func newTestHost(t *testing.T) host.Host { return newTestHostAt(t, "127.0.0.1") }

// newTestHostAt returns a host listening on ip, and so dialling from it
// (go-libp2p reuses its listening port for TCP dials).
func newTestHostAt(t *testing.T, ip string) host.Host {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/" + ip + "/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func connectHosts(t *testing.T, a, b host.Host) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Connect(ctx, peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()}); err != nil {
		t.Fatalf("connecting hosts: %v", err)
	}
}

// sessionEnd is one call of ServiceOptions.Done.
type sessionEnd struct {
	peer      peer.ID
	initiated bool
	stats     reconcile.Stats
	err       error
}

// svcPeer is a host running a Service over a memStore.
type svcPeer struct {
	h     host.Host
	store *memStore
	svc   *reconcile.Service
	ended chan sessionEnd
}

type svcConfig struct {
	// wrap, if set, wraps the memStore the sessions read from.
	wrap   func(*memStore) reconcile.Store
	limits reconcile.Limits
	opts   reconcile.ServiceOptions
	// joined, if set, is the syncer's Joined.
	joined func(string) bool
	// ip is the address the host listens and dials on (default 127.0.0.1).
	ip string
}

func newSvcPeer(t *testing.T, cfg svcConfig) *svcPeer {
	t.Helper()
	ip := cmp.Or(cfg.ip, "127.0.0.1")
	p := &svcPeer{h: newTestHostAt(t, ip), store: newMemStore(), ended: make(chan sessionEnd, 64)}
	var st reconcile.Store = p.store
	if cfg.wrap != nil {
		st = cfg.wrap(p.store)
	}
	pipe := ingest.New(p.store, mentorship.Kinds{}, ingest.Options{})
	syncer := reconcile.New(st, pipe, reconcile.Options{Limits: cfg.limits, Joined: cfg.joined})
	cfg.opts.Done = func(pid peer.ID, initiated bool, st reconcile.Stats, err error) {
		select {
		case p.ended <- sessionEnd{pid, initiated, st, err}:
		default:
			t.Errorf("Done called more often than the test expects")
		}
	}
	p.svc = reconcile.NewService(p.h, syncer, cfg.opts)
	t.Cleanup(p.svc.Close)
	return p
}

// nextEnd waits for the next session to end on p.
func (p *svcPeer) nextEnd(t *testing.T, timeout time.Duration) sessionEnd {
	t.Helper()
	select {
	case e := <-p.ended:
		return e
	case <-time.After(timeout):
		t.Fatalf("no session ended within %s", timeout)
		return sessionEnd{}
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// blockingStore is a Store whose snapshots block until released, so a test
// can hold a session open on the responder for as long as it needs.
type blockingStore struct {
	*memStore
	entered chan struct{} // receives once per Snapshot call
	release chan struct{} // closed to let snapshots through
}

func newBlockingStore(m *memStore) *blockingStore {
	return &blockingStore{memStore: m, entered: make(chan struct{}, 16), release: make(chan struct{})}
}

func (b *blockingStore) Snapshot(ctx context.Context) (reconcile.Snapshot, error) {
	b.entered <- struct{}{}
	select {
	case <-b.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return b.memStore.Snapshot(ctx)
}

func (b *blockingStore) waitEntered(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		select {
		case <-b.entered:
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of %d sessions reached the store", i, n)
		}
	}
}

func TestServiceSessionEndToEnd(t *testing.T) {
	a := newSvcPeer(t, svcConfig{})
	var progressCalls sync.Map
	b := newSvcPeer(t, svcConfig{opts: reconcile.ServiceOptions{
		Progress: func(p peer.ID, _ reconcile.Scope, n int) { progressCalls.Store(p, n) },
	}})
	connectHosts(t, a.h, b.h)
	for i := range 100 {
		r := profile(t, key(i), 1, fmt.Sprint("shared ", i))
		put(t, a.store, r)
		put(t, b.store, r)
	}
	for i := 100; i < 150; i++ {
		put(t, a.store, profile(t, key(i), 1, "only a"))
	}
	for i := 150; i < 170; i++ {
		put(t, b.store, profile(t, key(i), 1, "only b"))
	}

	st, err := a.svc.Sync(testCtx(t), b.h.ID(), sociocracy)
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if e := a.nextEnd(t, 5*time.Second); !e.initiated || e.peer != b.h.ID() || e.err != nil {
		t.Errorf("initiator's Done = %+v, want initiated with b, no error", e)
	}
	// The initiator may end first, having sent its last records: b's
	// session is over when its Done is called.
	e := b.nextEnd(t, 5*time.Second)
	if e.initiated || e.peer != a.h.ID() || e.err != nil || e.stats.Accepted != 50 || e.stats.Scope.Community != "sociocracy" {
		t.Errorf("responder's Done = %+v, want a session with a, 50 accepted, no error", e)
	}
	if a.store.digest() != b.store.digest() || len(a.store.byID) != 170 {
		t.Fatalf("after the session a holds %d records, b %d, digests equal %v; want 170 on both",
			len(a.store.byID), len(b.store.byID), a.store.digest() == b.store.digest())
	}
	if st.Accepted != 20 || st.RecordsSent != 50 {
		t.Errorf("initiator stats: accepted %d, sent %d; want 20 and 50", st.Accepted, st.RecordsSent)
	}
	if n, ok := progressCalls.Load(a.h.ID()); !ok || n.(int) != 50 {
		t.Errorf("responder's last progress = %v, want 50 records", n)
	}
}

// TestServiceOneSessionPerPeer: while a peer's session runs, its second one
// is refused as busy (after the short wait for a slot); the first finishes.
func TestServiceOneSessionPerPeer(t *testing.T) {
	a := newSvcPeer(t, svcConfig{})
	var blocking *blockingStore
	b := newSvcPeer(t, svcConfig{wrap: func(m *memStore) reconcile.Store {
		blocking = newBlockingStore(m)
		return blocking
	}})
	connectHosts(t, a.h, b.h)
	put(t, a.store, profile(t, key(1), 1, "a"))
	put(t, b.store, profile(t, key(2), 1, "b"))

	first := make(chan error, 1)
	ctx := testCtx(t)
	go func() {
		_, err := a.svc.Sync(ctx, b.h.ID(), sociocracy)
		first <- err
	}()
	blocking.waitEntered(t, 1)

	start := time.Now()
	_, err := a.svc.Sync(testCtx(t), b.h.ID(), sociocracy)
	var abort *reconcile.AbortError
	if !errors.As(err, &abort) || !abort.Busy() {
		t.Fatalf("second concurrent session: err = %v, want a busy refusal", err)
	}
	t.Logf("busy refusal after %s", time.Since(start).Round(time.Millisecond))
	select {
	case err := <-first:
		t.Fatalf("first session ended while its snapshot was blocked: %v", err)
	default:
	}

	close(blocking.release)
	if err := <-first; err != nil {
		t.Fatalf("first session: %v", err)
	}
	if e := b.nextEnd(t, 5*time.Second); e.err != nil {
		t.Fatalf("first session on b: %v", e.err)
	}
	if a.store.digest() != b.store.digest() || len(a.store.byID) != 2 {
		t.Error("sets differ after the first session")
	}
	// The slot is free again.
	if _, err := a.svc.Sync(testCtx(t), b.h.ID(), sociocracy); err != nil {
		t.Errorf("session after the first ended: %v", err)
	}
}

// TestServiceMaxInbound: with MaxInbound sessions running, a session from
// a further peer is refused as busy, and admitted once a slot frees up.
func TestServiceMaxInbound(t *testing.T) {
	const maxInbound = 2
	var blocking *blockingStore
	b := newSvcPeer(t, svcConfig{
		wrap: func(m *memStore) reconcile.Store {
			blocking = newBlockingStore(m)
			return blocking
		},
		opts: reconcile.ServiceOptions{MaxInbound: maxInbound},
	})
	var peers []*svcPeer
	for range maxInbound + 1 {
		p := newSvcPeer(t, svcConfig{})
		connectHosts(t, p.h, b.h)
		peers = append(peers, p)
	}
	results := make(chan error, maxInbound)
	ctx := testCtx(t)
	for _, p := range peers[:maxInbound] {
		go func() {
			_, err := p.svc.Sync(ctx, b.h.ID(), sociocracy)
			results <- err
		}()
	}
	blocking.waitEntered(t, maxInbound)

	_, err := peers[maxInbound].svc.Sync(testCtx(t), b.h.ID(), sociocracy)
	var abort *reconcile.AbortError
	if !errors.As(err, &abort) || !abort.Busy() {
		t.Fatalf("session beyond MaxInbound: err = %v, want a busy refusal", err)
	}
	select {
	case <-blocking.entered:
		t.Fatal("the refused session reached the store")
	default:
	}

	close(blocking.release)
	for range maxInbound {
		if err := <-results; err != nil {
			t.Errorf("admitted session: %v", err)
		}
	}
	if _, err := peers[maxInbound].svc.Sync(testCtx(t), b.h.ID(), sociocracy); err != nil {
		t.Errorf("session once slots are free: %v", err)
	}
}

// TestServiceCutsOffSilentPeer: a peer that opens a stream and stops
// talking (at once, or after its first turn) loses it at SessionTimeout,
// and its slot is free again.
func TestServiceCutsOffSilentPeer(t *testing.T) {
	const timeout = 500 * time.Millisecond
	for _, afterOpening := range []bool{false, true} {
		t.Run(fmt.Sprintf("after_opening=%v", afterOpening), func(t *testing.T) {
			b := newSvcPeer(t, svcConfig{opts: reconcile.ServiceOptions{SessionTimeout: timeout}})
			for i := range 100 {
				put(t, b.store, profile(t, key(i), 1, "b"))
			}
			a := newSvcPeer(t, svcConfig{})
			connectHosts(t, a.h, b.h)
			start := time.Now()
			str := rawStream(t, a.h, b.h.ID())
			if afterOpening {
				writeRaw(t, str, reconcile.Frame{Community: "sociocracy", EndOfTurn: true,
					Ranges: []reconcile.Range{{Upper: reconcile.Bound{Inf: true}, Mode: reconcile.FingerprintMode}}})
				fs, err := readTurn(bufio.NewReader(str))
				if err != nil || len(fs) == 0 || len(fs[0].Ranges) != reconcile.Buckets {
					t.Fatalf("responder's first turn: %d frames, %v; want %d fingerprint ranges", len(fs), err, reconcile.Buckets)
				}
			}
			waitStreamDead(t, str, 20*timeout)
			e := b.nextEnd(t, 5*time.Second)
			if e.err == nil || e.initiated {
				t.Errorf("responder's Done = %+v, want a failed inbound session", e)
			}
			if elapsed := time.Since(start); elapsed < timeout {
				t.Errorf("cut off after %s, before the %s timeout", elapsed, timeout)
			}
			// The slot was released: a proper session works.
			if _, err := a.svc.Sync(testCtx(t), b.h.ID(), sociocracy); err != nil {
				t.Errorf("session after the silent one: %v", err)
			}
		})
	}
}

// TestServiceSyncStopsWithContext: cancelling Sync's context ends a session
// stuck on a peer that never answers (the stream's own deadline is far off).
func TestServiceSyncStopsWithContext(t *testing.T) {
	a := newSvcPeer(t, svcConfig{opts: reconcile.ServiceOptions{SessionTimeout: time.Hour}})
	silent := newTestHost(t)
	opened := make(chan struct{}, 1)
	silent.SetStreamHandler(reconcile.Protocol, func(str network.Stream) {
		opened <- struct{}{}
		_, _ = io.Copy(io.Discard, str) // read, never answer
	})
	connectHosts(t, a.h, silent)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := a.svc.Sync(ctx, silent.ID(), sociocracy)
		done <- err
	}()
	select {
	case <-opened:
	case <-time.After(10 * time.Second):
		t.Fatal("the session never opened its stream")
	}
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Error("Sync succeeded against a silent peer")
		}
	case <-time.After(10 * time.Second):
		silent.Close() // let the goroutine end
		<-done
		t.Fatal("Sync did not return within 10s of its context ending")
	}
}

// TestServiceRefusalReasonReachesPeer: a responder that refuses a session
// (here: a community it has not joined) tells the initiator why, rather than
// resetting the stream under the reason.
func TestServiceRefusalReasonReachesPeer(t *testing.T) {
	a := newSvcPeer(t, svcConfig{})
	b := newSvcPeer(t, svcConfig{joined: func(c string) bool { return c != sociocracy.Community }})
	connectHosts(t, a.h, b.h)
	_, err := a.svc.Sync(testCtx(t), b.h.ID(), sociocracy)
	var abort *reconcile.AbortError
	if !errors.As(err, &abort) || !strings.Contains(abort.Reason, "community not served") {
		t.Fatalf("session for a community b has not joined: err = %v, want the peer's reason", err)
	}
	if e := b.nextEnd(t, 5*time.Second); e.err == nil || e.initiated {
		t.Errorf("b's side of the refused session: %+v, want an error on the responder", e)
	}
}
