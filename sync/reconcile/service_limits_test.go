package reconcile_test

import (
	"bufio"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/sync/reconcile"
	"github.com/mentormesh/mentormesh/sync/record"
)

// What one peer can make a node spend on catch-up: time held, slots taken,
// records sent.

// TestServiceStallTimeout: a peer that goes quiet loses the session after
// StallTimeout, long before SessionTimeout, on either side.
func TestServiceStallTimeout(t *testing.T) {
	const stall = 300 * time.Millisecond
	opts := reconcile.ServiceOptions{SessionTimeout: time.Minute, StallTimeout: stall}

	t.Run("responder", func(t *testing.T) {
		b := newSvcPeer(t, svcConfig{opts: opts})
		a := newTestHost(t)
		connectHosts(t, a, b.h)
		start := time.Now()
		str := rawStream(t, a, b.h.ID())
		writeRaw(t, str, openWanting())
		if _, err := readTurn(bufio.NewReader(str)); err != nil {
			t.Fatalf("responder's first turn: %v", err)
		}
		// Now say nothing: the responder waits for the next turn.
		waitStreamDead(t, str, 30*stall)
		e := b.nextEnd(t, 5*time.Second)
		if e.err == nil || e.initiated {
			t.Errorf("responder's Done = %+v, want a failed inbound session", e)
		}
		if d := time.Since(start); d < stall {
			t.Errorf("cut off after %s, before the %s stall timeout", d, stall)
		}
	})

	t.Run("initiator", func(t *testing.T) {
		a := newSvcPeer(t, svcConfig{opts: opts})
		b := newTestHost(t)
		held := make(chan struct{})
		b.SetStreamHandler(reconcile.Protocol, func(str network.Stream) {
			defer str.Close()
			_, _ = readTurn(bufio.NewReader(str))
			<-held // answer nothing
		})
		t.Cleanup(func() { close(held) })
		connectHosts(t, a.h, b)
		start := time.Now()
		_, err := a.svc.Sync(testCtx(t), b.ID(), sociocracy)
		if err == nil {
			t.Fatal("Sync against a silent peer succeeded")
		}
		if d := time.Since(start); d < stall || d > 30*stall {
			t.Errorf("Sync gave up after %s; want about the %s stall timeout", d, stall)
		}
	})
}

// openWanting is an opening turn that claims one record the responder does
// not have, so that it answers and then waits for the next turn.
func openWanting() reconcile.Frame {
	var unknown record.ID
	unknown[0] = 1
	return reconcile.Frame{Community: "sociocracy", EndOfTurn: true, Ranges: []reconcile.Range{{
		Upper: reconcile.Bound{Inf: true}, Mode: reconcile.IDListMode, IDs: []record.ID{unknown}}}}
}

// TestServiceMaxInboundPerAddr: peers on one address get MaxInboundPerAddr
// sessions at a time, whatever their number of peer IDs; another address
// still gets a slot.
func TestServiceMaxInboundPerAddr(t *testing.T) {
	const perAddr = 2
	var blocking *blockingStore
	b := newSvcPeer(t, svcConfig{
		wrap: func(m *memStore) reconcile.Store {
			blocking = newBlockingStore(m)
			return blocking
		},
		opts: reconcile.ServiceOptions{MaxInbound: 8, MaxInboundPerAddr: perAddr},
	})
	var same []*svcPeer // all on 127.0.0.2
	for range perAddr + 1 {
		p := newSvcPeer(t, svcConfig{ip: "127.0.0.2"})
		connectHosts(t, p.h, b.h)
		same = append(same, p)
	}
	other := newSvcPeer(t, svcConfig{ip: "127.0.0.3"})
	connectHosts(t, other.h, b.h)

	ctx := testCtx(t)
	results := make(chan error, perAddr+1)
	for _, p := range same[:perAddr] {
		go func() {
			_, err := p.svc.Sync(ctx, b.h.ID(), sociocracy)
			results <- err
		}()
	}
	blocking.waitEntered(t, perAddr)

	_, err := same[perAddr].svc.Sync(testCtx(t), b.h.ID(), sociocracy)
	var abort *reconcile.AbortError
	if !errors.As(err, &abort) || !abort.Busy() {
		t.Fatalf("session beyond MaxInboundPerAddr from one address: err = %v, want a busy refusal", err)
	}
	go func() {
		_, err := other.svc.Sync(ctx, b.h.ID(), sociocracy)
		results <- err
	}()
	blocking.waitEntered(t, 1) // another address is admitted meanwhile

	close(blocking.release)
	for range perAddr + 1 {
		if err := <-results; err != nil {
			t.Errorf("admitted session: %v", err)
		}
	}
	if _, err := same[perAddr].svc.Sync(testCtx(t), b.h.ID(), sociocracy); err != nil {
		t.Errorf("session once the address's slots are free: %v", err)
	}
}

// otherProfile is profile in another community.
func otherProfile(t *testing.T, k ed25519.PrivateKey, community string) *record.Record {
	t.Helper()
	var a record.Author
	copy(a[:], k.Public().(ed25519.PublicKey))
	payload, err := mentorship.Profile{Name: "elsewhere"}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	r, err := record.Sign(k, record.Body{Community: community, Author: a, Kind: "profile",
		Version: 1, Timestamp: time.UnixMilli(1_700_000_000_000), Payload: payload})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// recordsOf reads one turn and returns its records' IDs and wants.
func recordsOf(t *testing.T, r *bufio.Reader) (map[record.ID]bool, []record.ID) {
	t.Helper()
	fs, err := readTurn(r)
	if err != nil {
		t.Fatalf("reading the responder's turn: %v", err)
	}
	got := map[record.ID]bool{}
	var want []record.ID
	for _, f := range fs {
		if f.Error != "" {
			t.Fatalf("responder ended the session: %s", f.Error)
		}
		for _, raw := range f.Records {
			rec, err := record.Decode(raw)
			if err != nil {
				t.Fatalf("responder sent a bad record: %v", err)
			}
			got[rec.ID] = true
		}
		want = append(want, f.Want...)
	}
	return got, want
}

// TestServiceSendsOnlyScopeOnce: a peer gets the records of the session's
// scope and nothing else, whatever IDs it asks for, and each record once
// per session however often it asks.
func TestServiceSendsOnlyScopeOnce(t *testing.T) {
	b := newSvcPeer(t, svcConfig{})
	var mine []*record.Record
	for i := range 40 {
		r := profile(t, key(i), 1, "b")
		put(t, b.store, r)
		mine = append(mine, r)
	}
	elsewhere := otherProfile(t, key(100), "elsewhere")
	put(t, b.store, elsewhere)

	a := newTestHost(t)
	connectHosts(t, a, b.h)

	t.Run("asked by ID", func(t *testing.T) {
		str := rawStream(t, a, b.h.ID())
		r := bufio.NewReader(str)
		writeRaw(t, str, reconcile.Frame{Community: "sociocracy", EndOfTurn: true,
			Want: []record.ID{elsewhere.ID, mine[0].ID}})
		got, _ := recordsOf(t, r)
		if got[elsewhere.ID] {
			t.Error("a session of sociocracy served a record of another community")
		}
		if !got[mine[0].ID] {
			t.Error("the wanted record of the session's community was not served")
		}
	})

	t.Run("author scope", func(t *testing.T) {
		author := mine[1].Author
		str := rawStream(t, a, b.h.ID())
		r := bufio.NewReader(str)
		writeRaw(t, str, reconcile.Frame{Community: "sociocracy", Author: &author, EndOfTurn: true,
			Want: []record.ID{mine[2].ID, mine[1].ID}})
		got, _ := recordsOf(t, r)
		if got[mine[2].ID] {
			t.Error("a session of one author's records served another author's")
		}
		if !got[mine[1].ID] {
			t.Error("the author's own record was not served")
		}
	})

	t.Run("asked again", func(t *testing.T) {
		str := rawStream(t, a, b.h.ID())
		r := bufio.NewReader(str)
		var unknown record.ID
		unknown[0] = 1
		// "I hold only unknown, up to the end": the responder sends all it
		// has and asks for unknown. Saying it again must bring nothing new.
		ask := reconcile.Frame{EndOfTurn: true, Ranges: []reconcile.Range{{Upper: reconcile.Bound{Inf: true},
			Mode: reconcile.IDListMode, IDs: []record.ID{unknown}}}}
		first := ask
		first.Community = "sociocracy"
		writeRaw(t, str, first)
		got, want := recordsOf(t, r)
		if len(got) != len(mine) {
			t.Fatalf("first answer: %d records, want %d", len(got), len(mine))
		}
		if len(want) != 1 || want[0] != unknown {
			t.Fatalf("first answer wants %v, want [%s]", want, unknown)
		}
		for range 3 {
			writeRaw(t, str, ask)
			got, _ := recordsOf(t, r)
			if len(got) != 0 {
				t.Fatalf("asked again in the same session: %d records sent again", len(got))
			}
		}
	})
}

// TestServiceFrameRecordCap: a sender with a frame budget that fits more
// than MaxRecordsPerFrame small records starts new frames at the cap, and a
// receiver refuses a frame over it.
func TestServiceFrameRecordCap(t *testing.T) {
	var recs [][]byte
	for range reconcile.MaxRecordsPerFrame + 1 {
		recs = append(recs, []byte{1})
	}
	_, err := reconcile.DecodeFrame(reconcile.EncodeFrame(reconcile.Frame{Records: recs}))
	if !errors.Is(err, reconcile.ErrProtocol) {
		t.Fatalf("decoding a frame of %d records: err = %v, want a protocol violation", len(recs), err)
	}

	// Small records with the largest budget: the cap, not the budget, must
	// split the frames.
	const n = reconcile.MaxRecordsPerFrame + 500
	b := newSvcPeer(t, svcConfig{limits: reconcile.Limits{FrameBudget: reconcile.MaxFrameSize}})
	for i := range n {
		put(t, b.store, tombstone(t, key(i)))
	}
	a := newSvcPeer(t, svcConfig{})
	connectHosts(t, a.h, b.h)
	st, err := a.svc.Sync(testCtx(t), b.h.ID(), sociocracy)
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if st.Accepted != n {
		t.Errorf("accepted %d of %d records", st.Accepted, n)
	}
}

// tombstone is a small record: a deleted profile (about 180 bytes).
func tombstone(t *testing.T, k ed25519.PrivateKey) *record.Record {
	t.Helper()
	var a record.Author
	copy(a[:], k.Public().(ed25519.PublicKey))
	r, err := record.Sign(k, record.Body{Community: "sociocracy", Author: a, Kind: "profile", Deleted: true,
		Version: 2, Timestamp: time.UnixMilli(1_700_000_000_000)})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Raw)*(reconcile.MaxRecordsPerFrame+1) > reconcile.MaxFrameSize {
		t.Fatalf("a tombstone of %d bytes is too large for the test", len(r.Raw))
	}
	return r
}

// TestServiceErrorFrames: a malformed opening frame gets an error frame
// back, and a long reason from a peer is cut to a valid UTF-8 string of at
// most 200 bytes.
func TestServiceErrorFrames(t *testing.T) {
	b := newSvcPeer(t, svcConfig{})
	a := newTestHost(t)
	connectHosts(t, a, b.h)

	t.Run("bad community name", func(t *testing.T) {
		str := rawStream(t, a, b.h.ID())
		writeRaw(t, str, reconcile.Frame{Community: "Not A Name!", EndOfTurn: true})
		fs, err := readTurn(bufio.NewReader(str))
		if err != nil || len(fs) != 1 || fs[0].Error == "" {
			t.Fatalf("answer to a bad community name: %+v, %v; want one error frame", fs, err)
		}
		if e := b.nextEnd(t, 5*time.Second); !errors.Is(e.err, reconcile.ErrProtocol) {
			t.Errorf("responder's error = %v, want a protocol violation", e.err)
		}
	})

	t.Run("error as the opening", func(t *testing.T) {
		str := rawStream(t, a, b.h.ID())
		writeRaw(t, str, reconcile.Frame{Error: "the initiator could not start", EndOfTurn: true})
		fs, err := readTurn(bufio.NewReader(str))
		if len(fs) > 0 {
			t.Errorf("the responder answered an error frame with %+v, want nothing", fs)
		}
		if err == nil {
			t.Error("the stream stayed open")
		}
		e := b.nextEnd(t, 5*time.Second)
		var abort *reconcile.AbortError
		if !errors.As(e.err, &abort) || abort.Reason != "the initiator could not start" {
			t.Errorf("responder's error = %v, want the peer's abort", e.err)
		}
	})

	t.Run("long reason", func(t *testing.T) {
		str := rawStream(t, a, b.h.ID())
		writeRaw(t, str, openWanting())
		if _, err := readTurn(bufio.NewReader(str)); err != nil {
			t.Fatal(err)
		}
		writeRaw(t, str, reconcile.Frame{Error: strings.Repeat("é", 10_000), EndOfTurn: true})
		e := b.nextEnd(t, 5*time.Second)
		var abort *reconcile.AbortError
		if !errors.As(e.err, &abort) {
			t.Fatalf("responder's error = %v, want the peer's abort", e.err)
		}
		if len(abort.Reason) > 200 || len(abort.Reason) < 198 || !utf8.ValidString(abort.Reason) {
			t.Errorf("peer's reason kept as %d bytes (valid UTF-8: %v); want at most 200, cut on a character",
				len(abort.Reason), utf8.ValidString(abort.Reason))
		}
	})
}
