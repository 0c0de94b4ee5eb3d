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

// model is the reference for ApplyBatch: the current record of each
// address after applying records one by one as Apply does.
type model map[record.Addr]*record.Record

// apply applies r to the model and reports whether Apply would have
// reported it applied.
func (m model) apply(r *record.Record) bool {
	if cur, ok := m[r.Addr()]; ok && r.Meta().Compare(cur.Meta()) <= 0 {
		return false
	}
	m[r.Addr()] = r
	return true
}

// applyAll applies recs to the model and returns what ApplyBatch should
// report.
func (m model) applyAll(recs []*record.Record) []bool {
	applied := make([]bool, len(recs))
	for i, r := range recs {
		applied[i] = m.apply(r)
	}
	return applied
}

// records returns the model's current records, in no order.
func (m model) records() []*record.Record {
	recs := make([]*record.Record, 0, len(m))
	for _, r := range m {
		recs = append(recs, r)
	}
	return recs
}

// check compares s, which must hold the model's records and no others,
// with the model: the current record of every address in the model, Has
// for every record in seen, and the reconciliation sets.
func (m model) check(t *testing.T, s store.Store, seen []*record.Record) {
	t.Helper()
	ctx := context.Background()
	checkSets(t, s, m.records())
	for addr, want := range m {
		meta, ok, err := s.CurrentMeta(ctx, addr)
		if err != nil || !ok || meta != want.Meta() {
			t.Fatalf("CurrentMeta(%s/%q) = %+v, %v, %v; want %+v (v%d)", addr.Kind, addr.Key, meta, ok, err, want.Meta(), want.Version)
		}
	}
	for i, r := range seen {
		has, err := s.Has(ctx, r.ID)
		if err != nil {
			t.Fatalf("Has(records[%d]): %v", i, err)
		}
		cur, ok := m[r.Addr()]
		if want := ok && cur.ID == r.ID; has != want {
			t.Fatalf("Has(records[%d] = %s/%q v%d) = %v, want %v", i, r.Kind, r.Key, r.Version, has, want)
		}
	}
}

func applyBatch(t *testing.T, s store.Store, recs []*record.Record) []bool {
	t.Helper()
	applied, err := s.ApplyBatch(context.Background(), recs)
	if err != nil {
		t.Fatalf("ApplyBatch(%d records): %v", len(recs), err)
	}
	if len(applied) != len(recs) {
		t.Fatalf("ApplyBatch(%d records) returned %d results", len(recs), len(applied))
	}
	return applied
}

// testBatchNew applies a batch of records at distinct, empty addresses.
func testBatchNew(t *testing.T, open Opener) {
	s := open(t)
	recs := []*record.Record{
		alice.Sign(t, record.Body{Payload: []byte("alice")}),
		alice.Sign(t, record.Body{Kind: "offer", Key: "k1", Payload: []byte("offer")}),
		alice.Sign(t, record.Body{Kind: "offer", Key: "k2", Deleted: true}),
		bob.Sign(t, record.Body{Payload: []byte("bob")}),
		bob.Sign(t, record.Body{Community: "socio", Version: 7, Payload: []byte("bob")}),
	}
	applied := applyBatch(t, s, recs)
	if want := []bool{true, true, true, true, true}; !slices.Equal(applied, want) {
		t.Fatalf("ApplyBatch = %v, want %v", applied, want)
	}
	m := model{}
	m.applyAll(recs)
	m.check(t, s, recs)
	if got, want := sortedIDs(list(t, s, store.Query{Community: "sociocracy"})), idsOf(recs[:4]...); !slices.Equal(got, want) {
		t.Errorf("List(sociocracy) = %v, want %v", got, want)
	}
	if got := outbox(t, s); len(got) != 0 {
		t.Errorf("Outbox after ApplyBatch = %v, want empty (ApplyBatch is not local)", got)
	}
	if applied, err := s.ApplyBatch(context.Background(), nil); err != nil || len(applied) != 0 {
		t.Errorf("ApplyBatch(nil) = %v, %v; want [], nil", applied, err)
	}
}

// testBatchVersions puts several versions of one address in one batch, in
// various orders.
func testBatchVersions(t *testing.T, open Opener) {
	v := func(t *testing.T, n uint64, payload string) *record.Record {
		return alice.Sign(t, record.Body{Version: n, Payload: []byte(payload)})
	}
	tomb := func(t *testing.T, n uint64) *record.Record {
		return alice.Sign(t, record.Body{Version: n, Deleted: true})
	}
	// tie returns two records of the same version, the smaller ID first.
	tie := func(t *testing.T) (*record.Record, *record.Record) {
		a, b := v(t, 3, "x"), v(t, 3, "y")
		if a.ID.Compare(b.ID) > 0 {
			a, b = b, a
		}
		return a, b
	}
	tests := []struct {
		name        string
		recs        func(t *testing.T) []*record.Record
		wantApplied []bool
		want        int // index of the record that ends current
	}{
		{"older first", func(t *testing.T) []*record.Record {
			return []*record.Record{v(t, 1, "a"), v(t, 2, "b")}
		}, []bool{true, true}, 1},
		{"newer first", func(t *testing.T) []*record.Record {
			return []*record.Record{v(t, 2, "b"), v(t, 1, "a")}
		}, []bool{true, false}, 0},
		{"three versions", func(t *testing.T) []*record.Record {
			return []*record.Record{v(t, 1, "a"), v(t, 5, "b"), v(t, 3, "c")}
		}, []bool{true, true, false}, 1},
		{"tombstone last", func(t *testing.T) []*record.Record {
			return []*record.Record{v(t, 1, "a"), tomb(t, 2)}
		}, []bool{true, true}, 1},
		{"tombstone first", func(t *testing.T) []*record.Record {
			return []*record.Record{tomb(t, 2), v(t, 1, "a")}
		}, []bool{true, false}, 0},
		{"tie, larger ID last", func(t *testing.T) []*record.Record {
			a, b := tie(t)
			return []*record.Record{a, b}
		}, []bool{true, true}, 1},
		{"tie, larger ID first", func(t *testing.T) []*record.Record {
			a, b := tie(t)
			return []*record.Record{b, a}
		}, []bool{true, false}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			recs := tt.recs(t)
			applied := applyBatch(t, s, recs)
			if !slices.Equal(applied, tt.wantApplied) {
				t.Fatalf("ApplyBatch = %v, want %v", applied, tt.wantApplied)
			}
			m := model{}
			if got := m.applyAll(recs); !slices.Equal(got, tt.wantApplied) {
				t.Fatalf("the model applies %v, the test expects %v", got, tt.wantApplied)
			}
			if m[recs[0].Addr()].ID != recs[tt.want].ID {
				t.Fatalf("the model ends with a record other than recs[%d]", tt.want)
			}
			m.check(t, s, recs)
			if got := list(t, s, store.Query{Community: "sociocracy"}); !slices.Equal(got, idsOf(recs[tt.want])) {
				t.Fatalf("List = %v, want only recs[%d]", got, tt.want)
			}
		})
	}
}

// testBatchStale applies a batch over records already stored, some newer
// than the batch's.
func testBatchStale(t *testing.T, open Opener) {
	s := open(t)
	at := func(key string, version uint64, deleted bool) *record.Record {
		b := record.Body{Key: key, Version: version, Deleted: deleted}
		if !deleted {
			b.Payload = fmt.Appendf(nil, "%s v%d", key, version)
		}
		return alice.Sign(t, b)
	}
	stored := []*record.Record{at("a", 2, false), at("b", 1, false), at("c", 3, true)}
	m := model{}
	for i, r := range stored {
		apply(t, s, r, i == 1) // b v1 is local: in the outbox
		m.apply(r)
	}
	recs := []*record.Record{
		at("a", 1, false), // older than stored
		at("b", 2, false), // newer: replaces the local b v1
		stored[0],         // the same as stored
		at("c", 2, false), // older than the tombstone: no resurrection
		at("d", 1, false), // new address
		at("c", 4, false), // newer than the tombstone
	}
	applied := applyBatch(t, s, recs)
	if want := []bool{false, true, false, false, true, true}; !slices.Equal(applied, want) {
		t.Fatalf("ApplyBatch = %v, want %v", applied, want)
	}
	m.applyAll(recs)
	m.check(t, s, append(stored, recs...))
	if got := outbox(t, s); len(got) != 0 {
		t.Errorf("Outbox = %v, want empty: its record was superseded by the batch", got)
	}
}

// testBatchDuplicates repeats records inside one batch.
func testBatchDuplicates(t *testing.T, open Opener) {
	s := open(t)
	r1 := alice.Sign(t, record.Body{Version: 1, Payload: []byte("one")})
	r2 := alice.Sign(t, record.Body{Version: 2, Payload: []byte("two")})
	other := bob.Sign(t, record.Body{Payload: []byte("bob")})
	recs := []*record.Record{r1, r1, r2, r2, r1, other, other}
	applied := applyBatch(t, s, recs)
	if want := []bool{true, false, true, false, false, true, false}; !slices.Equal(applied, want) {
		t.Fatalf("ApplyBatch = %v, want %v", applied, want)
	}
	m := model{}
	m.applyAll(recs)
	m.check(t, s, recs)
	if got, want := sortedIDs(list(t, s, store.Query{Community: "sociocracy"})), idsOf(r2, other); !slices.Equal(got, want) {
		t.Fatalf("List = %v, want %v", got, want)
	}
}

// testBatchLarge applies more records than fit one Badger transaction (5,000
// records of 1 KiB; a transaction of the store's holds about 1.2 MiB), with
// versions of the same addresses far apart in the batch, so that they fall
// in different transactions.
func testBatchLarge(t *testing.T, open Opener) {
	s := open(t)
	recs, err := largeBatch()
	if err != nil {
		t.Fatalf("signing the batch: %v", err)
	}
	m := model{}
	want := m.applyAll(recs)
	applied := applyBatch(t, s, recs)
	for i := range recs {
		if applied[i] != want[i] {
			t.Fatalf("ApplyBatch: records[%d] (%s v%d) applied = %v, want %v", i, recs[i].Key, recs[i].Version, applied[i], want[i])
		}
	}
	if n := len(m); n != largeBatchAddrs {
		t.Fatalf("the model holds %d addresses, want %d", n, largeBatchAddrs)
	}
	var wantIDs []record.ID
	for _, r := range m {
		wantIDs = append(wantIDs, r.ID)
	}
	slices.SortFunc(wantIDs, record.ID.Compare)
	if got := sortedIDs(list(t, s, store.Query{Community: "sociocracy", Kind: "offer"})); !slices.Equal(got, wantIDs) {
		t.Fatalf("List returns %d records, want the %d current ones", len(got), len(wantIDs))
	}
	m.check(t, s, recs)
	counts, err := s.Counts(context.Background())
	if err != nil {
		t.Fatalf("Counts: %v", err)
	}
	if want := []store.KindCount{{Community: "sociocracy", Kind: "offer", Live: largeBatchAddrs}}; !slices.Equal(counts, want) {
		t.Fatalf("Counts = %+v, want %+v", counts, want)
	}
}

const largeBatchAddrs = 4000

// largeBatch returns testBatchLarge's records, signed once per process:
// signing dominates the test, ten times over with the race detector. They
// are version 2 of keys 0-499, version 1 of keys 0-3999, then version 2 of
// keys 500-999.
var largeBatch = sync.OnceValues(func() ([]*record.Record, error) {
	const updated = 500
	ts := record.Now()
	var recs []*record.Record
	sign := func(i int, version uint64) error {
		payload := make([]byte, 1<<10)
		payload[0], payload[1] = byte(i), byte(version)
		r, err := record.Sign(alice.Key, record.Body{
			Community: "sociocracy",
			Author:    alice.ID,
			Kind:      "offer",
			Key:       fmt.Sprintf("k%05d", i),
			Version:   version,
			Timestamp: ts,
			Payload:   payload,
		})
		recs = append(recs, r)
		return err
	}
	var errs []error
	for i := range updated { // newer versions first: the v1 below are stale
		errs = append(errs, sign(i, 2))
	}
	for i := range largeBatchAddrs {
		errs = append(errs, sign(i, 1))
	}
	for i := updated; i < 2*updated; i++ { // newer versions last: they replace v1
		errs = append(errs, sign(i, 2))
	}
	return recs, errors.Join(errs...)
})

// testBatchMatchesApply applies a random mix of records (new, newer, older,
// ties, tombstones, duplicates) over a random starting state, once with
// ApplyBatch and once record by record with Apply on a second store: the
// results and the final states must be the same.
func testBatchMatchesApply(t *testing.T, open Opener) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(20260301, 1))
	// A fixed timestamp, so that the same body gives the same record:
	// duplicates occur in the pool as well as by picking twice.
	ts := time.UnixMilli(1_770_000_000_000)
	authors := []Author{alice, bob}
	pool := make([]*record.Record, 120)
	for i := range pool {
		b := record.Body{
			Kind:      []string{"profile", "offer"}[rng.IntN(2)],
			Key:       []string{"", "a", "b"}[rng.IntN(3)],
			Version:   1 + rng.Uint64N(4),
			Timestamp: ts,
			Deleted:   rng.IntN(4) == 0,
		}
		if !b.Deleted {
			b.Payload = []byte{"xyz"[rng.IntN(3)]}
		}
		pool[i] = authors[rng.IntN(len(authors))].Sign(t, b)
	}
	pick := func(n int) []*record.Record {
		recs := make([]*record.Record, n)
		for i := range recs {
			recs[i] = pool[rng.IntN(len(pool))]
		}
		return recs
	}

	batched, sequential := open(t), open(t)
	for _, r := range pick(15) {
		apply(t, batched, r, false)
		apply(t, sequential, r, false)
	}
	for round := range 4 {
		recs := pick(60)
		want := make([]bool, len(recs))
		for i, r := range recs {
			want[i] = apply(t, sequential, r, false).Applied
		}
		if got := applyBatch(t, batched, recs); !slices.Equal(got, want) {
			t.Fatalf("round %d: ApplyBatch = %v, Apply one by one = %v", round, got, want)
		}
	}

	for i, r := range pool {
		h1, err1 := batched.Has(ctx, r.ID)
		h2, err2 := sequential.Has(ctx, r.ID)
		if err1 != nil || err2 != nil || h1 != h2 {
			t.Fatalf("Has(pool[%d]): after ApplyBatch %v, %v; after Apply %v, %v", i, h1, err1, h2, err2)
		}
	}
	q := store.Query{Community: "sociocracy"}
	if got, want := list(t, batched, q), list(t, sequential, q); !slices.Equal(got, want) {
		t.Fatalf("List after ApplyBatch = %v, after Apply = %v", got, want)
	}
	c1, err1 := batched.Counts(ctx)
	c2, err2 := sequential.Counts(ctx)
	if err1 != nil || err2 != nil || !slices.Equal(c1, c2) {
		t.Fatalf("Counts after ApplyBatch = %+v, %v; after Apply = %+v, %v", c1, err1, c2, err2)
	}
}

// testBatchContext applies a batch with a cancelled context: an error, and
// nothing applied.
func testBatchContext(t *testing.T, open Opener) {
	s := open(t)
	recs := []*record.Record{
		alice.Sign(t, record.Body{Payload: []byte("a")}),
		bob.Sign(t, record.Body{Payload: []byte("b")}),
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	applied, err := s.ApplyBatch(ctx, recs)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("ApplyBatch with a cancelled context: err = %v, want context.Canceled", err)
	}
	if want := []bool{false, false}; !slices.Equal(applied, want) {
		t.Fatalf("ApplyBatch with a cancelled context = %v, want %v", applied, want)
	}
	model{}.check(t, s, recs)
}

// testBatchConcurrent races batches and single applies over the versions
// of a few addresses: each address must end with its highest version, and
// no version may be reported applied twice.
func testBatchConcurrent(t *testing.T, open Opener) {
	const keys, versions, writers = 4, 12, 4
	ctx := context.Background()
	s := open(t)
	var recs []*record.Record
	for k := range keys {
		for v := range versions {
			recs = append(recs, alice.Sign(t, record.Body{Key: fmt.Sprint(k), Version: uint64(v + 1), Payload: fmt.Appendf(nil, "%d.%d", k, v+1)}))
		}
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		applied = make(map[record.ID]int)
		errs    []error
	)
	for w := range writers {
		rng := rand.New(rand.NewPCG(uint64(w), 2))
		order := make([]*record.Record, len(recs))
		for i, j := range rng.Perm(len(recs)) {
			order[i] = recs[j]
		}
		wg.Go(func() {
			for len(order) > 0 {
				n := min(len(order), 1+rng.IntN(10))
				chunk := order[:n]
				order = order[n:]
				var got []bool
				var err error
				if w%2 == 0 {
					got, err = s.ApplyBatch(ctx, chunk)
				} else {
					got = make([]bool, n)
					for i, r := range chunk {
						var res store.ApplyResult
						if res, err = s.Apply(ctx, r, store.ApplyOptions{}); err != nil {
							break
						}
						got[i] = res.Applied
					}
				}
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				}
				for i, ok := range got {
					if ok {
						applied[chunk[i].ID]++
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("concurrent ApplyBatch and Apply: %v", errors.Join(errs...))
	}
	m := model{}
	for _, r := range recs {
		m.apply(r)
	}
	for _, r := range recs {
		if n := applied[r.ID]; n > 1 || (n == 0 && m[r.Addr()].ID == r.ID) {
			t.Errorf("key %s v%d reported applied %d times", r.Key, r.Version, n)
		}
	}
	m.check(t, s, recs)
}
