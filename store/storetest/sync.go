package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/record"
)

// syncBase is the timestamp the sync tests count from: fixed, so that the
// same body signs to the same record, and far above any version they use.
var syncBase = time.UnixMilli(1_770_000_000_000)

// at returns syncBase plus ms milliseconds.
func at(ms int) time.Time { return syncBase.Add(time.Duration(ms) * time.Millisecond) }

func snapshot(t *testing.T, s store.Store) store.SyncSnapshot {
	t.Helper()
	snap, err := s.SyncSnapshot(context.Background())
	if err != nil {
		t.Fatalf("SyncSnapshot: %v", err)
	}
	t.Cleanup(snap.Close)
	return snap
}

// items returns the items of scope from from on, checked to be in strictly
// increasing order.
func items(t *testing.T, snap store.SyncSnapshot, scope store.SyncScope, from store.SyncItem) []store.SyncItem {
	t.Helper()
	var got []store.SyncItem
	if err := snap.Items(scope, from, func(it store.SyncItem) bool {
		got = append(got, it)
		return true
	}); err != nil {
		t.Fatalf("Items(%s, from %+v): %v", fmtScope(scope), from, err)
	}
	for i := 1; i < len(got); i++ {
		if got[i-1].Compare(got[i]) >= 0 {
			t.Fatalf("Items(%s): item %d %+v is not after item %d %+v", fmtScope(scope), i, got[i], i-1, got[i-1])
		}
	}
	return got
}

// checkSet checks scope's items and count in snap against want, a set of
// records (in any order).
func checkSet(t *testing.T, snap store.SyncSnapshot, scope store.SyncScope, want []*record.Record) {
	t.Helper()
	wantItems := syncSet(want, scope)
	if got := items(t, snap, scope, store.SyncItem{}); !slices.Equal(got, wantItems) {
		t.Fatalf("Items(%s) = %v, want %v", fmtScope(scope), got, wantItems)
	}
	if n, err := snap.Count(scope); err != nil || n != len(wantItems) {
		t.Fatalf("Count(%s) = %d, %v; want %d", fmtScope(scope), n, err, len(wantItems))
	}
}

// syncSet returns the items of the records in scope, sorted.
func syncSet(recs []*record.Record, scope store.SyncScope) []store.SyncItem {
	var set []store.SyncItem
	for _, r := range recs {
		if r.Community == scope.Community && (scope.Author == nil || r.Author == *scope.Author) {
			set = append(set, store.SyncItemOf(r))
		}
	}
	slices.SortFunc(set, store.SyncItem.Compare)
	return set
}

// scopesOf returns every community scope and every (community, author)
// scope of recs, plus a few that select nothing.
func scopesOf(recs []*record.Record) []store.SyncScope {
	nobody := NewAuthor("nobody").ID
	scopes := []store.SyncScope{{Community: "soc"}, {Community: "sociocracy", Author: &nobody}}
	seen := make(map[string]bool)
	add := func(sc store.SyncScope) {
		if k := fmtScope(sc); !seen[k] {
			seen[k] = true
			scopes = append(scopes, sc)
		}
	}
	for _, r := range recs {
		author := r.Author
		add(store.SyncScope{Community: r.Community})
		add(store.SyncScope{Community: r.Community, Author: &author})
	}
	return scopes
}

func fmtScope(sc store.SyncScope) string {
	if sc.Author == nil {
		return sc.Community
	}
	return fmt.Sprintf("%s/%x", sc.Community, sc.Author[:4])
}

// checkSets checks every scope of current in a new snapshot of s: s must
// hold exactly the records current.
func checkSets(t *testing.T, s store.Store, current []*record.Record) {
	t.Helper()
	snap := snapshot(t, s)
	defer snap.Close()
	for _, sc := range scopesOf(current) {
		checkSet(t, snap, sc, current)
	}
}

// testSyncOrder checks that items come in (timestamp, ID) order, whatever
// the order of their authors, kinds and keys, and of their application.
func testSyncOrder(t *testing.T, open Opener) {
	s := open(t)
	var recs []*record.Record
	// Timestamps out of address order, and several records per millisecond
	// (ordered by ID).
	for i, ms := range []int{5, 3, 3, 9, 0, 3, 7, 5} {
		a := []Author{alice, bob}[i%2]
		recs = append(recs, a.Sign(t, record.Body{Kind: []string{"profile", "offer"}[i%3%2], Key: fmt.Sprint("k", i), Timestamp: at(ms), Payload: []byte{byte(i)}}))
	}
	for _, i := range rand.New(rand.NewPCG(1, 2)).Perm(len(recs)) {
		apply(t, s, recs[i], i%3 == 0)
	}
	checkSets(t, s, recs)
	snap := snapshot(t, s)
	got := items(t, snap, store.SyncScope{Community: "sociocracy"}, store.SyncItem{})
	if len(got) != len(recs) || got[0].Timestamp != uint64(syncBase.UnixMilli()) {
		t.Fatalf("Items = %v, want %d items starting at %d", got, len(recs), syncBase.UnixMilli())
	}
}

// testSyncReplace checks that a replaced version leaves the sets, and that
// a tombstone is in them.
func testSyncReplace(t *testing.T, open Opener) {
	tests := []struct {
		name  string
		batch bool
		local bool
	}{{"Apply", false, false}, {"local Apply", false, true}, {"ApplyBatch", true, false}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			put := func(recs ...*record.Record) {
				t.Helper()
				if tt.batch {
					applyBatch(t, s, recs)
					return
				}
				for _, r := range recs {
					apply(t, s, r, tt.local)
				}
			}
			other := bob.Sign(t, record.Body{Timestamp: at(2), Payload: []byte("bob")})
			v1 := alice.Sign(t, record.Body{Timestamp: at(1), Version: 1, Payload: []byte("one")})
			v2 := alice.Sign(t, record.Body{Timestamp: at(4), Version: 2, Payload: []byte("two")})
			// An older timestamp on a newer version: the set follows the
			// current record, not the clock.
			v3 := alice.Sign(t, record.Body{Timestamp: at(3), Version: 3, Deleted: true})
			put(other, v1)
			checkSets(t, s, []*record.Record{other, v1})
			put(v2)
			checkSets(t, s, []*record.Record{other, v2})
			put(v3, v1, v2) // the stale ones are no-ops
			checkSets(t, s, []*record.Record{other, v3})
			v4 := alice.Sign(t, record.Body{Timestamp: at(5), Version: 4, Payload: []byte("four")})
			put(v4)
			checkSets(t, s, []*record.Record{other, v4})
		})
	}
}

// testSyncScopes checks that scopes isolate communities (whose names share
// a prefix) and authors, with replaced versions and tombstones.
func testSyncScopes(t *testing.T, open Opener) {
	s := open(t)
	w := populate(t, s)
	checkSets(t, s, w.current)
	snap := snapshot(t, s)
	aliceID := alice.ID
	for _, sc := range []store.SyncScope{{}, {Author: &aliceID}} {
		if err := snap.Items(sc, store.SyncItem{}, func(store.SyncItem) bool { return true }); err == nil {
			t.Errorf("Items(scope with no community) succeeded, want an error")
		}
		if _, err := snap.Count(sc); err == nil {
			t.Errorf("Count(scope with no community) succeeded, want an error")
		}
	}
}

// testSyncFrom checks Items' starting positions and early stop.
func testSyncFrom(t *testing.T, open Opener) {
	s := open(t)
	var recs []*record.Record
	for i, ms := range []int{10, 10, 10, 20, 30} {
		recs = append(recs, alice.Sign(t, record.Body{Key: fmt.Sprint(i), Timestamp: at(ms), Payload: []byte("x")}))
	}
	applyBatch(t, s, recs)
	scope := store.SyncScope{Community: "sociocracy"}
	all := syncSet(recs, scope)
	snap := snapshot(t, s)

	after := func(it store.SyncItem) store.SyncItem { // the next possible item
		for i := len(it.ID) - 1; i >= 0; i-- {
			if it.ID[i]++; it.ID[i] != 0 {
				return it
			}
		}
		return store.SyncItem{Timestamp: it.Timestamp + 1}
	}
	tests := []struct {
		name string
		from store.SyncItem
		want []store.SyncItem
	}{
		{"zero", store.SyncItem{}, all},
		{"first", all[0], all},
		{"exact, same timestamp", all[1], all[1:]},
		{"between IDs of one timestamp", after(all[1]), all[2:]},
		{"timestamp only", store.SyncItem{Timestamp: all[3].Timestamp}, all[3:]},
		{"between timestamps", store.SyncItem{Timestamp: all[3].Timestamp - 1}, all[3:]},
		{"last", all[4], all[4:]},
		{"just beyond the end", after(all[4]), nil},
		{"far beyond the end", store.SyncItem{Timestamp: ^uint64(0)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := items(t, snap, scope, tt.from); !slices.Equal(got, tt.want) {
				t.Fatalf("Items(from %+v) = %v, want %v", tt.from, got, tt.want)
			}
		})
	}
	var got []store.SyncItem
	if err := snap.Items(scope, all[1], func(it store.SyncItem) bool {
		got = append(got, it)
		return len(got) < 2
	}); err != nil || !slices.Equal(got, all[1:3]) {
		t.Fatalf("Items stopping after 2 = %v, %v; want %v", got, err, all[1:3])
	}
}

// testSyncSnapshot checks that a snapshot keeps the sets as they were when
// it opened, while the store moves on.
func testSyncSnapshot(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	v1 := alice.Sign(t, record.Body{Timestamp: at(1), Payload: []byte("one")})
	other := bob.Sign(t, record.Body{Timestamp: at(2), Payload: []byte("bob")})
	applyBatch(t, s, []*record.Record{v1, other})
	before := snapshot(t, s)
	scopes := scopesOf([]*record.Record{v1, other})
	for _, sc := range scopes { // Counts cached before the writes, too
		checkSet(t, before, sc, []*record.Record{v1, other})
	}

	v2 := alice.Sign(t, record.Body{Timestamp: at(3), Version: 2, Payload: []byte("two")})
	added := bob.Sign(t, record.Body{Kind: "offer", Timestamp: at(0), Payload: []byte("new")})
	apply(t, s, v2, true)
	applyBatch(t, s, []*record.Record{added})

	for _, sc := range scopes {
		checkSet(t, before, sc, []*record.Record{v1, other})
	}
	checkSets(t, s, []*record.Record{v2, other, added})
	// Records reads the store, not a snapshot.
	got, err := s.Records(ctx, []record.ID{v1.ID, v2.ID})
	if err != nil || len(got) != 1 || got[0].ID != v2.ID {
		t.Fatalf("Records(v1, v2) after v2 = %v, %v; want v2 only", got, err)
	}
}

// testSyncConcurrent reads a snapshot from several goroutines while
// writers change the store: every read sees the same set.
func testSyncConcurrent(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	var first, second []*record.Record
	for i := range 20 {
		first = append(first, alice.Sign(t, record.Body{Key: fmt.Sprint(i), Timestamp: at(i), Payload: []byte("1")}))
		second = append(second, alice.Sign(t, record.Body{Key: fmt.Sprint(i), Version: 2, Timestamp: at(40 - i), Payload: []byte("2")}))
	}
	applyBatch(t, s, first)
	snap := snapshot(t, s)
	scope := store.SyncScope{Community: "sociocracy"}
	want := syncSet(first, scope)

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	wg.Go(func() {
		for _, r := range second {
			if _, err := s.Apply(ctx, r, store.ApplyOptions{}); err != nil {
				errs <- err
				return
			}
		}
	})
	for range 4 {
		wg.Go(func() {
			for range 10 {
				var got []store.SyncItem
				err := snap.Items(scope, store.SyncItem{}, func(it store.SyncItem) bool {
					got = append(got, it)
					return true
				})
				n, cerr := snap.Count(scope)
				if err := errors.Join(err, cerr); err != nil {
					errs <- err
					return
				}
				if !slices.Equal(got, want) || n != len(want) {
					errs <- fmt.Errorf("snapshot read %d items (Count %d) while the store changed, want its %d", len(got), n, len(want))
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	checkSets(t, s, second)
}

// testSyncBatchMatchesApply applies random mixes of records (several
// communities, authors and timestamps; new, newer, older, tied, deleted and
// duplicate versions) with ApplyBatch to one store and with Apply to
// another: the sets must be the same, and those of the current records.
func testSyncBatchMatchesApply(t *testing.T, open Opener) {
	rng := rand.New(rand.NewPCG(20260302, 1))
	authors := []Author{alice, bob, NewAuthor("carol")}
	pool := make([]*record.Record, 150)
	for i := range pool {
		b := record.Body{
			Community: []string{"socio", "sociocracy"}[rng.IntN(2)],
			Kind:      []string{"profile", "offer"}[rng.IntN(2)],
			Key:       []string{"", "a", "b"}[rng.IntN(3)],
			Version:   1 + rng.Uint64N(4),
			Timestamp: at(rng.IntN(8)),
			Deleted:   rng.IntN(4) == 0,
		}
		if !b.Deleted {
			b.Payload = []byte{"xy"[rng.IntN(2)]}
		}
		pool[i] = authors[rng.IntN(len(authors))].Sign(t, b)
	}
	batched, sequential := open(t), open(t)
	m := model{}
	for round := range 5 {
		recs := make([]*record.Record, 10+rng.IntN(50))
		for i := range recs {
			recs[i] = pool[rng.IntN(len(pool))]
		}
		want := m.applyAll(recs)
		for i, r := range recs {
			if got := apply(t, sequential, r, i%4 == 0).Applied; got != want[i] {
				t.Fatalf("round %d: Apply(records[%d]).Applied = %v, want %v", round, i, got, want[i])
			}
		}
		if got := applyBatch(t, batched, recs); !slices.Equal(got, want) {
			t.Fatalf("round %d: ApplyBatch = %v, want %v", round, got, want)
		}
		current := m.records()
		checkSets(t, sequential, current)
		checkSets(t, batched, current)
	}
}

// testSyncRecords checks Records: current records in the order asked,
// superseded and unknown IDs skipped, duplicates kept.
func testSyncRecords(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	w := populate(t, s)
	unknown := record.ID{1, 2, 3}
	a, b, c := w.current[5], w.current[0], w.current[3]
	ids := []record.ID{a.ID, w.superseded[0].ID, b.ID, unknown, c.ID, w.superseded[1].ID, a.ID}
	got, err := s.Records(ctx, ids)
	if err != nil {
		t.Fatalf("Records: %v", err)
	}
	want := []record.ID{a.ID, b.ID, c.ID, a.ID}
	gotIDs := make([]record.ID, len(got))
	for i, r := range got {
		gotIDs[i] = r.ID
	}
	if !slices.Equal(gotIDs, want) {
		t.Fatalf("Records = %v, want %v", gotIDs, want)
	}
	for i, r := range got {
		if r.Community == "" || r.Raw == nil || r.Verify() != nil {
			t.Fatalf("Records[%d] is not a whole signed record: %+v", i, r)
		}
	}
	clear(got[0].Raw) // the caller's copy
	if again, err := s.Records(ctx, ids[:1]); err != nil || len(again) != 1 || again[0].Verify() != nil {
		t.Fatalf("Records after the caller modified a returned record = %v, %v", again, err)
	}
	if got, err := s.Records(ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("Records(nil) = %v, %v; want none", got, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Records(cancelled, ids); !errors.Is(err, context.Canceled) {
		t.Fatalf("Records with a cancelled context: err = %v, want context.Canceled", err)
	}

	// The callback of Items may read the records it is given.
	snap := snapshot(t, s)
	scope := store.SyncScope{Community: "socio"}
	var fetched []record.ID
	err = snap.Items(scope, store.SyncItem{}, func(it store.SyncItem) bool {
		recs, err := s.Records(ctx, []record.ID{it.ID})
		if err != nil || len(recs) != 1 {
			t.Errorf("Records(%s) from an Items callback = %v, %v", it.ID, recs, err)
			return false
		}
		fetched = append(fetched, recs[0].ID)
		return true
	})
	if err != nil || len(fetched) != len(syncSet(w.current, scope)) {
		t.Fatalf("Items fetching each record: %d records, %v; want %d", len(fetched), err, len(syncSet(w.current, scope)))
	}
}

// testSyncClose checks closing snapshots and the store under them.
func testSyncClose(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	applyBatch(t, s, []*record.Record{alice.Sign(t, record.Body{Timestamp: at(1), Payload: []byte("x")})})
	scope := store.SyncScope{Community: "sociocracy"}
	noop := func(store.SyncItem) bool { return true }

	closed, err := s.SyncSnapshot(ctx)
	if err != nil {
		t.Fatalf("SyncSnapshot: %v", err)
	}
	closed.Close()
	closed.Close()
	if err := closed.Items(scope, store.SyncItem{}, noop); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Items on a closed snapshot: err = %v, want ErrClosed", err)
	}
	if _, err := closed.Count(scope); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Count on a closed snapshot: err = %v, want ErrClosed", err)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.SyncSnapshot(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("SyncSnapshot with a cancelled context: err = %v, want context.Canceled", err)
	}

	// Closing the store closes the snapshots left open (it must not wait
	// for them), and the store refuses new ones.
	open1, open2 := snapshot(t, s), snapshot(t, s)
	if n, err := open2.Count(scope); err != nil || n != 1 {
		t.Fatalf("Count = %d, %v; want 1", n, err)
	}
	open2.Close()
	if err := s.Close(); err != nil {
		t.Fatalf("Close with an open snapshot: %v", err)
	}
	if err := open1.Items(scope, store.SyncItem{}, noop); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Items after the store closed: err = %v, want ErrClosed", err)
	}
	if _, err := open1.Count(scope); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Count after the store closed: err = %v, want ErrClosed", err)
	}
	open1.Close()
	if _, err := s.SyncSnapshot(ctx); !errors.Is(err, store.ErrClosed) {
		t.Errorf("SyncSnapshot after Close: err = %v, want ErrClosed", err)
	}
	if _, err := s.Records(ctx, []record.ID{{1}}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Records after Close: err = %v, want ErrClosed", err)
	}
}
