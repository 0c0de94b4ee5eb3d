package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/record"
)

// testApplyOrder applies versions of one address in various orders and
// checks which one ends current.
func testApplyOrder(t *testing.T, open Opener) {
	v := func(n uint64, payload string) func(t *testing.T) *record.Record {
		return func(t *testing.T) *record.Record {
			return alice.Sign(t, record.Body{Version: n, Payload: []byte(payload)})
		}
	}
	tomb := func(n uint64) func(t *testing.T) *record.Record {
		return func(t *testing.T) *record.Record {
			return alice.Sign(t, record.Body{Version: n, Deleted: true})
		}
	}
	tests := []struct {
		name        string
		recs        []func(t *testing.T) *record.Record
		tie         bool // sort recs by ID, smaller first
		order       []int
		wantApplied []bool
		want        int // index in recs of the record that ends current
	}{
		{"new", rs(v(1, "a")), false, []int{0}, []bool{true}, 0},
		{"same twice", rs(v(1, "a")), false, []int{0, 0}, []bool{true, false}, 0},
		{"newer replaces", rs(v(1, "a"), v(2, "b")), false, []int{0, 1}, []bool{true, true}, 1},
		{"older after newer", rs(v(1, "a"), v(2, "b")), false, []int{1, 0}, []bool{true, false}, 1},
		{"version jump", rs(v(1, "a"), v(5, "b"), v(3, "c")), false, []int{0, 1, 2}, []bool{true, true, false}, 1},
		{"tie, larger ID last", rs(v(3, "x"), v(3, "y")), true, []int{0, 1}, []bool{true, true}, 1},
		{"tie, larger ID first", rs(v(3, "x"), v(3, "y")), true, []int{1, 0}, []bool{true, false}, 1},
		{"tombstone supersedes", rs(v(1, "a"), tomb(2)), false, []int{0, 1}, []bool{true, true}, 1},
		{"no resurrection", rs(v(1, "a"), tomb(2)), false, []int{1, 0}, []bool{true, false}, 1},
		{"newer after tombstone", rs(tomb(2), v(3, "b")), false, []int{0, 1}, []bool{true, true}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t)
			recs := make([]*record.Record, len(tt.recs))
			for i, mk := range tt.recs {
				recs[i] = mk(t)
			}
			if tt.tie {
				if recs[0].ID.Compare(recs[1].ID) > 0 {
					recs[0], recs[1] = recs[1], recs[0]
				}
			}
			cur := -1
			for step, i := range tt.order {
				res := apply(t, s, recs[i], false)
				if res.Applied != tt.wantApplied[step] {
					t.Fatalf("step %d: Apply(recs[%d]).Applied = %v, want %v", step, i, res.Applied, tt.wantApplied[step])
				}
				if !res.Applied {
					continue
				}
				if got, want := res.HadPrevious, cur >= 0; got != want {
					t.Fatalf("step %d: Apply(recs[%d]).HadPrevious = %v, want %v", step, i, got, want)
				}
				if cur >= 0 && res.Previous != recs[cur].Meta() {
					t.Fatalf("step %d: Apply(recs[%d]).Previous = %+v, want %+v", step, i, res.Previous, recs[cur].Meta())
				}
				cur = i
			}
			want := recs[tt.want]
			got, err := s.Current(ctx, want.Addr())
			if err != nil {
				t.Fatalf("Current: %v", err)
			}
			if got.ID != want.ID || !bytes.Equal(got.Raw, want.Raw) || got.Deleted != want.Deleted {
				t.Fatalf("Current = %s v%d (deleted %v), want %s v%d (deleted %v)", got.ID, got.Version, got.Deleted, want.ID, want.Version, want.Deleted)
			}
			meta, ok, err := s.CurrentMeta(ctx, want.Addr())
			if err != nil || !ok || meta != want.Meta() {
				t.Fatalf("CurrentMeta = %+v, %v, %v; want %+v, true, nil", meta, ok, err, want.Meta())
			}
			for i, r := range recs {
				has, err := s.Has(ctx, r.ID)
				if err != nil {
					t.Fatalf("Has(recs[%d]): %v", i, err)
				}
				if wantHas := r.ID == want.ID; has != wantHas {
					t.Errorf("Has(recs[%d]) = %v, want %v", i, has, wantHas)
				}
			}
		})
	}
}

func rs(fs ...func(t *testing.T) *record.Record) []func(t *testing.T) *record.Record { return fs }

// testNotFound looks up addresses near, but not at, a stored record. The
// community and kind of the stored record are chosen so that naively
// concatenated keys would collide ("ab"+"cd" = "a"+"bcd").
func testNotFound(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	if _, err := s.Current(ctx, alice.Sign(t, record.Body{}).Addr()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Current on an empty store: err = %v, want ErrNotFound", err)
	}
	stored := alice.Sign(t, record.Body{Community: "ab", Kind: "cd", Key: "k", Payload: []byte("x")})
	apply(t, s, stored, false)

	at := func(community, kind string, author record.Author, key string) record.Addr {
		return record.Addr{Community: community, Kind: kind, Author: author, Key: key}
	}
	tests := []struct {
		name string
		addr record.Addr
		want bool
	}{
		{"exact", at("ab", "cd", alice.ID, "k"), true},
		{"community/kind boundary", at("a", "bcd", alice.ID, "k"), false},
		{"other boundary", at("abc", "d", alice.ID, "k"), false},
		{"other author", at("ab", "cd", bob.ID, "k"), false},
		{"empty key", at("ab", "cd", alice.ID, ""), false},
		{"longer key", at("ab", "cd", alice.ID, "k2"), false},
		{"other kind", at("ab", "profile", alice.ID, "k"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := s.Current(ctx, tt.addr)
			switch {
			case tt.want && (err != nil || rec.ID != stored.ID):
				t.Fatalf("Current(%+v) = %v, %v; want the stored record", tt.addr, rec, err)
			case !tt.want && !errors.Is(err, store.ErrNotFound):
				t.Fatalf("Current(%+v) err = %v, want ErrNotFound", tt.addr, err)
			}
			meta, ok, err := s.CurrentMeta(ctx, tt.addr)
			if err != nil || ok != tt.want || (ok && meta != stored.Meta()) {
				t.Fatalf("CurrentMeta(%+v) = %+v, %v, %v; want ok=%v", tt.addr, meta, ok, err, tt.want)
			}
		})
	}
	if has, err := s.Has(ctx, record.ID{1, 2, 3}); err != nil || has {
		t.Fatalf("Has(unknown ID) = %v, %v; want false, nil", has, err)
	}
}

// testConcurrentApply races local writers over the same versions of one
// address: the highest must win, and no version may be reported applied
// twice (which a read-compare-write race would allow).
func testConcurrentApply(t *testing.T, open Opener) {
	const versions, writers = 20, 4
	ctx := context.Background()
	s := open(t)
	recs := make([]*record.Record, versions)
	for i := range recs {
		recs[i] = alice.Sign(t, record.Body{Version: uint64(i + 1), Payload: fmt.Appendf(nil, "v%d", i+1)})
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		applied = make(map[uint64]int)
		errs    []error
	)
	for w := range writers {
		order := rand.New(rand.NewPCG(uint64(w), 1)).Perm(versions)
		wg.Go(func() {
			for _, i := range order {
				res, err := s.Apply(ctx, recs[i], store.ApplyOptions{Local: true})
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				}
				if res.Applied {
					applied[recs[i].Version]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("concurrent Apply: %v", errors.Join(errs...))
	}
	for v, n := range applied {
		if n != 1 {
			t.Errorf("version %d reported Applied %d times, want at most once", v, n)
		}
	}
	if applied[versions] != 1 {
		t.Errorf("version %d reported Applied %d times, want once", versions, applied[versions])
	}
	meta, ok, err := s.CurrentMeta(ctx, recs[0].Addr())
	if err != nil || !ok || meta != recs[versions-1].Meta() {
		t.Fatalf("CurrentMeta = %+v, %v, %v; want version %d", meta, ok, err, versions)
	}
	for i, r := range recs {
		has, err := s.Has(ctx, r.ID)
		if err != nil || has != (i == versions-1) {
			t.Errorf("Has(v%d) = %v, %v; want %v", i+1, has, err, i == versions-1)
		}
	}
	if got := outbox(t, s); len(got) != 1 || got[0] != recs[versions-1].ID {
		t.Errorf("Outbox = %v, want only v%d", got, versions)
	}
}

// testCopiesOut checks that callers cannot reach into the store through
// what they pass in or get back.
func testCopiesOut(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	rec := alice.Sign(t, record.Body{Payload: []byte("original")})
	want := bytes.Clone(rec.Raw)
	apply(t, s, rec, false)
	for i := range rec.Raw {
		rec.Raw[i] ^= 0xff
	}
	got, err := s.Current(ctx, alice.Sign(t, record.Body{}).Addr())
	if err != nil {
		t.Fatalf("Current: %v", err)
	}
	if !bytes.Equal(got.Raw, want) {
		t.Fatalf("Current after the caller modified the applied record = %x, want %x", got.Raw, want)
	}
	clear(got.Raw)
	again, err := s.Current(ctx, got.Addr())
	if err != nil || !bytes.Equal(again.Raw, want) {
		t.Fatalf("Current after the caller modified a returned record = %x, %v; want %x", again.Raw, err, want)
	}
}

// testClose checks that Close is idempotent and that a closed store refuses
// use.
func testClose(t *testing.T, open Opener) {
	s := open(t)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	_, err := s.Apply(context.Background(), alice.Sign(t, record.Body{}), store.ApplyOptions{})
	if !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Apply after Close: err = %v, want ErrClosed", err)
	}
	_, err = s.ApplyBatch(context.Background(), []*record.Record{alice.Sign(t, record.Body{})})
	if !errors.Is(err, store.ErrClosed) {
		t.Fatalf("ApplyBatch after Close: err = %v, want ErrClosed", err)
	}
	_, err = s.Has(context.Background(), record.ID{})
	if !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Has after Close: err = %v, want ErrClosed", err)
	}
}
