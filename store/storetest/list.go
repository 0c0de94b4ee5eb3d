package storetest

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/record"
)

// world is a populated store's expected content.
type world struct {
	current    []*record.Record
	superseded []*record.Record
}

// populate fills s with two communities whose names share a prefix
// ("socio", "sociocracy"), two kinds, two authors and two keys each. Every
// record at key "k1" is replaced by a version 2: a tombstone for bob, a
// new payload for alice. So each (community, kind) holds 3 live records
// and 1 tombstone.
func populate(t *testing.T, s store.Store) world {
	t.Helper()
	var w world
	for _, community := range []string{"socio", "sociocracy"} {
		for _, kind := range []string{"profile", "offer"} {
			for _, a := range []Author{alice, bob} {
				for _, key := range []string{"", "k1"} {
					body := record.Body{Community: community, Kind: kind, Key: key, Payload: []byte("v1 " + community + kind + key)}
					r1 := a.Sign(t, body)
					apply(t, s, r1, false)
					if key == "" {
						w.current = append(w.current, r1)
						continue
					}
					body.Version = 2
					if a.ID == bob.ID {
						body.Deleted, body.Payload = true, nil
					} else {
						body.Payload = []byte("v2")
					}
					r2 := a.Sign(t, body)
					apply(t, s, r2, false)
					w.current = append(w.current, r2)
					w.superseded = append(w.superseded, r1)
				}
			}
		}
	}
	return w
}

func listRecords(t *testing.T, s store.Store, q store.Query) []*record.Record {
	t.Helper()
	var recs []*record.Record
	if err := s.List(context.Background(), q, func(r *record.Record) error {
		recs = append(recs, r)
		return nil
	}); err != nil {
		t.Fatalf("List(%+v): %v", q, err)
	}
	return recs
}

func testList(t *testing.T, open Opener) {
	s := open(t)
	w := populate(t, s)
	aliceID, bobID := alice.ID, bob.ID
	tests := []struct {
		name string
		q    store.Query
		want int // number of records, checked against the filter as well
	}{
		{"community", store.Query{Community: "sociocracy"}, 8},
		{"prefix community", store.Query{Community: "socio"}, 8},
		{"kind", store.Query{Community: "sociocracy", Kind: "profile"}, 4},
		{"other kind", store.Query{Community: "socio", Kind: "offer"}, 4},
		{"kind and author", store.Query{Community: "sociocracy", Kind: "offer", Author: &aliceID}, 2},
		{"kind and other author", store.Query{Community: "sociocracy", Kind: "offer", Author: &bobID}, 2},
		{"unknown community", store.Query{Community: "soc"}, 0},
		{"unknown kind", store.Query{Community: "sociocracy", Kind: "pairing"}, 0},
	}
	for _, r := range w.superseded {
		if has, err := s.Has(context.Background(), r.ID); err != nil || has {
			t.Fatalf("Has(superseded %s) = %v, %v; want false", r.ID, has, err)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []*record.Record
			for _, r := range w.current {
				if r.Community == tt.q.Community && (tt.q.Kind == "" || r.Kind == tt.q.Kind) &&
					(tt.q.Author == nil || r.Author == *tt.q.Author) {
					want = append(want, r)
				}
			}
			if len(want) != tt.want {
				t.Fatalf("test setup: %d records match, table says %d", len(want), tt.want)
			}
			got := listRecords(t, s, tt.q)
			gotIDs := make([]record.ID, len(got))
			for i, r := range got {
				gotIDs[i] = r.ID
			}
			if !slices.Equal(sortedIDs(gotIDs), idsOf(want...)) {
				t.Fatalf("List(%+v) = %d records %v, want %d records %v", tt.q, len(got), sortedIDs(gotIDs), len(want), idsOf(want...))
			}
			for _, r := range got {
				if !r.Deleted && !bytes.HasPrefix(r.Payload, []byte("v")) {
					t.Errorf("List(%+v) record %s has payload %q", tt.q, r.ID, r.Payload)
				}
			}
			checkAddressOrder(t, got)
		})
	}
}

// checkAddressOrder checks that records of one community and kind come
// together, ordered by author then key.
func checkAddressOrder(t *testing.T, recs []*record.Record) {
	t.Helper()
	seen := make(map[[2]string]bool)
	for i, r := range recs {
		group := [2]string{r.Community, r.Kind}
		if i > 0 {
			p := recs[i-1]
			switch {
			case [2]string{p.Community, p.Kind} == group:
				if cmp.Or(bytes.Compare(p.Author[:], r.Author[:]), cmp.Compare(p.Key, r.Key)) >= 0 {
					t.Errorf("List: %v/%q listed before %v/%q, want author then key order", p.Author, p.Key, r.Author, r.Key)
				}
			case seen[group]:
				t.Errorf("List: records of %s/%s are not contiguous", r.Community, r.Kind)
			}
		}
		seen[group] = true
	}
}

func testListInvalidQuery(t *testing.T, open Opener) {
	s := open(t)
	populate(t, s)
	a := alice.ID
	for _, q := range []store.Query{
		{},
		{Kind: "profile"},
		{Community: "sociocracy", Author: &a},
	} {
		err := s.List(context.Background(), q, func(*record.Record) error { return nil })
		if err == nil {
			t.Errorf("List(%+v) = nil error, want an error", q)
		}
	}
}

func testListStopsOnError(t *testing.T, open Opener) {
	s := open(t)
	populate(t, s)
	errStop := errors.New("stop")
	calls := 0
	err := s.List(context.Background(), store.Query{Community: "sociocracy"}, func(*record.Record) error {
		calls++
		if calls == 2 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) || calls != 2 {
		t.Fatalf("List with fn failing on call 2 = %v after %d calls, want errStop after 2", err, calls)
	}
}

func testListContext(t *testing.T, open Opener) {
	s := open(t)
	populate(t, s)
	tests := []struct {
		name        string
		cancelAfter int // cancel during the call to fn number cancelAfter; 0: before List
		wantCalls   int
	}{
		{"cancelled before", 0, 0},
		{"cancelled during", 1, 1},
		{"cancelled later", 3, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancelAfter == 0 {
				cancel()
			}
			calls := 0
			err := s.List(ctx, store.Query{Community: "sociocracy"}, func(*record.Record) error {
				calls++
				if calls == tt.cancelAfter {
					cancel()
				}
				return nil
			})
			if !errors.Is(err, context.Canceled) || calls != tt.wantCalls {
				t.Fatalf("List = %v after %d calls, want context.Canceled after %d", err, calls, tt.wantCalls)
			}
		})
	}
}

func testListCallbackMayUseStore(t *testing.T, open Opener) {
	s := open(t)
	populate(t, s)
	ctx := context.Background()
	n := 0
	err := s.List(ctx, store.Query{Community: "socio"}, func(r *record.Record) error {
		n++
		if has, err := s.Has(ctx, r.ID); err != nil || !has {
			t.Errorf("Has(%s) inside List = %v, %v; want true", r.ID, has, err)
		}
		_, err := s.Apply(ctx, alice.Sign(t, record.Body{Community: "other", Key: r.ID.String()[:8]}), store.ApplyOptions{})
		return err
	})
	if err != nil || n != 8 {
		t.Fatalf("List calling the store from fn = %v after %d calls, want nil after 8", err, n)
	}
	if got := list(t, s, store.Query{Community: "other"}); len(got) != 8 {
		t.Fatalf("records written from inside List: %d, want 8", len(got))
	}
}

func testCounts(t *testing.T, open Opener) {
	s := open(t)
	got, err := s.Counts(context.Background())
	if err != nil || len(got) != 0 {
		t.Fatalf("Counts on an empty store = %v, %v; want none", got, err)
	}
	populate(t, s)
	got, err = s.Counts(context.Background())
	if err != nil {
		t.Fatalf("Counts: %v", err)
	}
	want := []store.KindCount{
		{Community: "socio", Kind: "offer", Live: 3, Tombstones: 1},
		{Community: "socio", Kind: "profile", Live: 3, Tombstones: 1},
		{Community: "sociocracy", Kind: "offer", Live: 3, Tombstones: 1},
		{Community: "sociocracy", Kind: "profile", Live: 3, Tombstones: 1},
	}
	slices.SortFunc(got, func(a, b store.KindCount) int {
		return cmp.Or(cmp.Compare(a.Community, b.Community), cmp.Compare(a.Kind, b.Kind))
	})
	if !slices.Equal(got, want) {
		t.Fatalf("Counts = %+v, want %+v", got, want)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Counts(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Counts with a cancelled context: err = %v, want context.Canceled", err)
	}
}
