package ingest_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/internal/pbwire"
	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/sync/ingest"
	"github.com/mentormesh/mentormesh/sync/record"
)

// signedBy returns r's body bytes with a signature by key instead of the
// author's.
func signedBy(key ed25519.PrivateKey, r *record.Record) []byte {
	msg := append([]byte(record.SignaturePrefix), r.BodyBytes...)
	var e pbwire.Encoder
	e.BytesField(1, r.BodyBytes)
	e.BytesField(2, ed25519.Sign(key, msg))
	return e.Bytes()
}

// brokenSignature returns r's bytes with one bit of the signature flipped.
func brokenSignature(r *record.Record) []byte {
	raw := bytes.Clone(r.Raw)
	raw[len(raw)-1] ^= 0x01
	return raw
}

func TestVerdicts(t *testing.T) {
	alice, bob := testKey(1), testKey(2)
	v1 := sign(t, alice, profileBody(t, alice, 1))
	v2 := sign(t, alice, profileBody(t, alice, 2))
	edit := func(v uint64, f func(b *record.Body)) *record.Record {
		b := profileBody(t, alice, v)
		f(&b)
		return sign(t, alice, b)
	}
	tombstone := edit(3, func(b *record.Body) { b.Deleted, b.Payload = true, nil })
	future := edit(1, func(b *record.Body) { b.Timestamp = now.Add(record.MaxFutureSkew + time.Millisecond) })
	nearFuture := edit(1, func(b *record.Body) { b.Timestamp = now.Add(record.MaxFutureSkew) })
	expired := edit(1, func(b *record.Body) { b.Timestamp, b.Expires = now.Add(-2*time.Hour), now.Add(-time.Hour) })
	rustaceans := edit(1, func(b *record.Body) { b.Community = "rustaceans" })
	notJoined := edit(1, func(b *record.Body) { b.Community = "haskellers" })
	unknownKind := edit(1, func(b *record.Body) { b.Kind, b.Key, b.Payload = "goal", "g1", []byte("opaque") })
	badProfile := edit(1, func(b *record.Body) { b.Payload = []byte{0x12, 0x02, 'h', 'i'} }) // bio, no name
	keyedProfile := edit(1, func(b *record.Body) { b.Key = "second" })

	type prep func(t *testing.T, p *ingest.Pipeline, s *fakeStore)
	ingestFirst := func(rs ...*record.Record) prep {
		return func(t *testing.T, p *ingest.Pipeline, s *fakeStore) {
			for _, r := range rs {
				if out := p.Ingest(context.Background(), r.Raw, ingest.Source{}); out.Verdict != ingest.Accept {
					t.Fatalf("setup: Ingest(v%d) = %v %v, want accept", r.Version, out.Verdict, out.Err)
				}
			}
		}
	}
	// inStoreOnly puts records in the store behind the pipeline's back, so
	// its seen cache does not know them.
	inStoreOnly := func(rs ...*record.Record) prep {
		return func(t *testing.T, p *ingest.Pipeline, s *fakeStore) {
			for _, r := range rs {
				s.cur[r.Addr()] = r
			}
		}
	}

	tests := []struct {
		name    string
		prep    prep
		opts    func(o *ingest.Options)
		raw     []byte
		src     ingest.Source
		want    ingest.Verdict
		wantErr error // nil: Err must be nil
		// current is the record the store must hold at v1's address
		// afterwards (nil: none).
		current *record.Record
		// applies is how many times the store's ApplyRemote may be called.
		applies int
	}{
		{name: "valid", raw: v1.Raw, want: ingest.Accept, current: v1, applies: 1},
		{name: "valid on its topic", raw: v1.Raw, src: ingest.Source{Community: "gophers"}, want: ingest.Accept, current: v1, applies: 1},
		{name: "newer version", prep: ingestFirst(v1), raw: v2.Raw, want: ingest.Accept, current: v2, applies: 1},
		{name: "tombstone", prep: ingestFirst(v1), raw: tombstone.Raw, want: ingest.Accept, current: tombstone, applies: 1},
		{name: "duplicate, seen", prep: ingestFirst(v1), raw: v1.Raw, want: ingest.Ignore, wantErr: ingest.ErrDuplicate, current: v1},
		{name: "duplicate, in store", prep: inStoreOnly(v1), raw: v1.Raw, want: ingest.Ignore, wantErr: ingest.ErrDuplicate, current: v1},
		{name: "older version", prep: ingestFirst(v2), raw: v1.Raw, want: ingest.Ignore, wantErr: ingest.ErrStale, current: v2},
		{name: "older version, in store", prep: inStoreOnly(v2), raw: v1.Raw, want: ingest.Ignore, wantErr: ingest.ErrStale, current: v2},
		{name: "tampered signature", raw: brokenSignature(v1), want: ingest.Reject, wantErr: record.ErrBadSignature},
		{name: "signed by another key", raw: signedBy(bob, v1), want: ingest.Reject, wantErr: record.ErrBadSignature},
		{name: "newer version signed by another key", prep: ingestFirst(v1), raw: signedBy(bob, v2), want: ingest.Reject, wantErr: record.ErrBadSignature, current: v1},
		{
			// Cheapest first: the store says it is stale before the
			// signature is checked, so a stale record with a broken
			// signature is ignored, not rejected.
			name: "stale with broken signature", prep: ingestFirst(v2), raw: brokenSignature(v1),
			want: ingest.Ignore, wantErr: ingest.ErrStale, current: v2,
		},
		{name: "oversize", raw: bytes.Repeat([]byte{0x0a}, record.MaxRecordSize+1), want: ingest.Reject, wantErr: record.ErrTooLarge},
		{name: "garbage", raw: []byte("this is not a record"), want: ingest.Reject, wantErr: record.ErrMalformed},
		{name: "empty", raw: nil, want: ingest.Reject, wantErr: record.ErrMalformed},
		{name: "wrong community for topic", raw: rustaceans.Raw, src: ingest.Source{Community: "gophers"}, want: ingest.Reject, wantErr: ingest.ErrWrongTopic},
		{name: "not joined", raw: notJoined.Raw, want: ingest.Ignore, wantErr: ingest.ErrNotJoined},
		{name: "future beyond 10 min", raw: future.Raw, want: ingest.Ignore, wantErr: record.ErrFuture},
		{name: "future at 10 min", raw: nearFuture.Raw, want: ingest.Accept, current: nearFuture, applies: 1},
		{name: "expired", raw: expired.Raw, want: ingest.Ignore, wantErr: record.ErrExpired},
		{name: "unknown kind", raw: unknownKind.Raw, want: ingest.Ignore, wantErr: mentorship.ErrUnknownKind},
		{
			name: "unknown kind without IsUnknownKind", opts: func(o *ingest.Options) { o.IsUnknownKind = nil },
			raw: unknownKind.Raw, want: ingest.Reject, wantErr: mentorship.ErrUnknownKind,
		},
		{name: "invalid profile", raw: badProfile.Raw, want: ingest.Reject, wantErr: ingest.ErrInvalidKind},
		{name: "profile with a key", raw: keyedProfile.Raw, want: ingest.Reject, wantErr: mentorship.ErrInvalid},
		{
			name: "store read fails", prep: func(t *testing.T, p *ingest.Pipeline, s *fakeStore) { s.metaErr = errors.New("disk on fire") },
			raw: v1.Raw, want: ingest.Ignore, wantErr: errDontCare,
		},
		{
			name: "store write fails", prep: func(t *testing.T, p *ingest.Pipeline, s *fakeStore) { s.applyErr = errors.New("disk on fire") },
			raw: v1.Raw, want: ingest.Ignore, wantErr: errDontCare, applies: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFakeStore()
			p := newPipeline(s, tt.opts)
			if tt.prep != nil {
				tt.prep(t, p, s)
			}
			_, appliesBefore, _ := s.counts()
			out := p.Ingest(context.Background(), tt.raw, tt.src)
			if out.Verdict != tt.want {
				t.Errorf("Ingest(%s) verdict = %v (%v), want %v", tt.name, out.Verdict, out.Err, tt.want)
			}
			switch {
			case tt.wantErr == errDontCare:
				if out.Err == nil {
					t.Errorf("Ingest(%s) error = nil, want an error", tt.name)
				}
			case tt.wantErr == nil && out.Err != nil, !errors.Is(out.Err, tt.wantErr):
				t.Errorf("Ingest(%s) error = %v, want %v", tt.name, out.Err, tt.wantErr)
			}
			if got := s.current(v1.Addr()); got != tt.current && (got == nil || tt.current == nil || got.ID != tt.current.ID) {
				t.Errorf("after Ingest(%s) store holds %v, want %v", tt.name, recDesc(got), recDesc(tt.current))
			}
			if _, applies, _ := s.counts(); applies-appliesBefore != tt.applies {
				t.Errorf("Ingest(%s) called ApplyRemote %d times, want %d", tt.name, applies-appliesBefore, tt.applies)
			}
			if out.Verdict == ingest.Accept {
				if out.Record == nil || !bytes.Equal(out.Record.Raw, tt.raw) {
					t.Errorf("Ingest(%s) accepted with Record %v, want the decoded input", tt.name, recDesc(out.Record))
				}
				if err := out.Record.Verify(); err != nil {
					t.Errorf("Ingest(%s) accepted a record that does not verify: %v", tt.name, err)
				}
			}
			if decodes := func() bool { _, err := record.Decode(tt.raw); return err == nil }(); decodes != (out.Record != nil) {
				t.Errorf("Ingest(%s).Record = %v; want it set exactly when the bytes decode (%v)", tt.name, recDesc(out.Record), decodes)
			}
		})
	}
}

// errDontCare marks cases where any non-nil error will do.
var errDontCare = errors.New("any error")

func recDesc(r *record.Record) string {
	if r == nil {
		return "nothing"
	}
	return fmt.Sprintf("v%d %s", r.Version, r.ID.String()[:8])
}

func TestKnownInvalid(t *testing.T) {
	alice := testKey(1)
	v1 := sign(t, alice, profileBody(t, alice, 1))
	s := newFakeStore()
	p := newPipeline(s, nil)
	ctx := context.Background()
	bad := brokenSignature(v1)
	if out := p.Ingest(ctx, bad, ingest.Source{}); out.Verdict != ingest.Reject || !errors.Is(out.Err, record.ErrBadSignature) {
		t.Fatalf("Ingest(bad signature) = %v %v, want reject %v", out.Verdict, out.Err, record.ErrBadSignature)
	}
	metas, _, _ := s.counts()
	if out := p.Ingest(ctx, bad, ingest.Source{}); out.Verdict != ingest.Reject || !errors.Is(out.Err, ingest.ErrKnownInvalid) {
		t.Errorf("Ingest(bad signature, again) = %v %v, want reject %v", out.Verdict, out.Err, ingest.ErrKnownInvalid)
	}
	if again, _, _ := s.counts(); again != metas {
		t.Errorf("Ingest(known invalid) read the store (%d reads, want %d)", again, metas)
	}
	// The forgery does not poison the address: the genuine record is taken.
	if out := p.Ingest(ctx, v1.Raw, ingest.Source{}); out.Verdict != ingest.Accept {
		t.Errorf("Ingest(genuine after forgery) = %v %v, want accept", out.Verdict, out.Err)
	}
}

func TestStoreErrorIsNotRemembered(t *testing.T) {
	alice := testKey(1)
	v1 := sign(t, alice, profileBody(t, alice, 1))
	s := newFakeStore()
	p := newPipeline(s, nil)
	ctx := context.Background()
	s.applyErr = errors.New("disk full")
	if out := p.Ingest(ctx, v1.Raw, ingest.Source{}); out.Verdict != ingest.Ignore {
		t.Fatalf("Ingest(store failing) = %v %v, want ignore", out.Verdict, out.Err)
	}
	s.applyErr = nil
	if out := p.Ingest(ctx, v1.Raw, ingest.Source{}); out.Verdict != ingest.Accept {
		t.Errorf("Ingest(store recovered) = %v %v, want accept", out.Verdict, out.Err)
	}
}

// racingStore hides the current record from CurrentMeta, as if a newer
// version landed between the pipeline's read and its write.
type racingStore struct{ *fakeStore }

func (racingStore) CurrentMeta(context.Context, record.Addr) (record.Meta, bool, error) {
	return record.Meta{}, false, nil
}

func TestLostRace(t *testing.T) {
	alice := testKey(1)
	v1 := sign(t, alice, profileBody(t, alice, 1))
	v2 := sign(t, alice, profileBody(t, alice, 2))
	s := newFakeStore()
	s.cur[v2.Addr()] = v2
	p := newPipeline(racingStore{s}, nil)
	out := p.Ingest(context.Background(), v1.Raw, ingest.Source{})
	if out.Verdict != ingest.Ignore || !errors.Is(out.Err, ingest.ErrStale) {
		t.Errorf("Ingest(v1 losing to v2 in the store) = %v %v, want ignore %v", out.Verdict, out.Err, ingest.ErrStale)
	}
	if got := s.current(v1.Addr()); got != v2 {
		t.Errorf("store holds %v, want v2", recDesc(got))
	}
}

func TestStats(t *testing.T) {
	alice, bob := testKey(1), testKey(2)
	v1 := sign(t, alice, profileBody(t, alice, 1))
	v2 := sign(t, alice, profileBody(t, alice, 2))
	b1 := sign(t, bob, profileBody(t, bob, 1))
	b2 := sign(t, bob, profileBody(t, bob, 2))
	p := newPipeline(newFakeStore(), nil)
	ctx := context.Background()
	for _, raw := range [][]byte{
		v1.Raw, v2.Raw, b1.Raw, // 3 accepted
		v1.Raw, v2.Raw, // 2 ignored
		[]byte("junk"), brokenSignature(b2), signedBy(alice, b2), nil, // 4 rejected
	} {
		p.Ingest(ctx, raw, ingest.Source{})
	}
	st := p.Stats()
	if a, i, r := st.Accepted.Load(), st.Ignored.Load(), st.Rejected.Load(); a != 3 || i != 2 || r != 4 {
		t.Errorf("Stats() = accepted %d, ignored %d, rejected %d; want 3, 2, 4", a, i, r)
	}
}

func TestVerdictString(t *testing.T) {
	for v, want := range map[ingest.Verdict]string{ingest.Accept: "accept", ingest.Ignore: "ignore", ingest.Reject: "reject"} {
		if got := v.String(); got != want {
			t.Errorf("Verdict(%d).String() = %q, want %q", int(v), got, want)
		}
	}
}

// TestConcurrentIngest has many goroutines ingest the same records in
// different orders: every top version is accepted exactly once, no record
// more than once, and the store ends at the top versions.
func TestConcurrentIngest(t *testing.T) {
	const authors, versions, workers = 6, 4, 12
	var all []*record.Record
	top := make(map[record.Addr]*record.Record)
	for a := range authors {
		key := testKey(byte(10 + a))
		for v := uint64(1); v <= versions; v++ {
			r := sign(t, key, profileBody(t, key, v))
			all = append(all, r)
			top[r.Addr()] = r
		}
	}
	s := newFakeStore()
	p := newPipeline(s, nil)
	var (
		mu       sync.Mutex
		accepted = make(map[record.ID]int)
		wg       sync.WaitGroup
	)
	for w := range workers {
		order := rand.New(rand.NewPCG(uint64(w), 1)).Perm(len(all))
		wg.Go(func() {
			for _, i := range order {
				// Each ingest gets its own copy of the bytes, as messages
				// from the network do.
				out := p.Ingest(context.Background(), bytes.Clone(all[i].Raw), ingest.Source{Community: "gophers"})
				switch {
				case out.Verdict == ingest.Accept:
					mu.Lock()
					accepted[out.Record.ID]++
					mu.Unlock()
				case out.Verdict == ingest.Reject,
					!errors.Is(out.Err, ingest.ErrDuplicate) && !errors.Is(out.Err, ingest.ErrStale):
					t.Errorf("Ingest(v%d) = %v %v, want accept or ignore as duplicate/stale", all[i].Version, out.Verdict, out.Err)
				}
			}
		})
	}
	wg.Wait()

	for id, n := range accepted {
		if n != 1 {
			t.Errorf("record %s accepted %d times, want at most once", id, n)
		}
	}
	for addr, want := range top {
		if accepted[want.ID] != 1 {
			t.Errorf("top version %s of %s accepted %d times, want 1", want.ID, addr.Author, accepted[want.ID])
		}
		if got := s.current(addr); got == nil || got.ID != want.ID {
			t.Errorf("store at %s holds %v, want v%d", addr.Author, recDesc(got), want.Version)
		}
	}
	st := p.Stats()
	if total := st.Accepted.Load() + st.Ignored.Load() + st.Rejected.Load(); total != workers*uint64(len(all)) {
		t.Errorf("Stats() total = %d, want %d", total, workers*len(all))
	}
	if a := st.Accepted.Load(); a != uint64(len(accepted)) {
		t.Errorf("Stats().Accepted = %d, want %d", a, len(accepted))
	}
	if _, _, applied := s.counts(); applied != len(accepted) {
		t.Errorf("store applied %d records, want %d (one per accept)", applied, len(accepted))
	}
}
