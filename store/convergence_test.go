package store_test

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/store/storetest"
	"github.com/mentormesh/mentormesh/sync/record"
)

// Replicas that receive the same records, in any order and with any
// duplicates, one by one or in batches, must end with the same current
// records: the maximum by record.Meta.Compare at each address.

func TestConvergenceMemory(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		checkConvergence(rt, func(int) store.Store { return store.NewMemory() })
	})
}

func TestConvergenceBadger(t *testing.T) {
	dir := t.TempDir()
	example := 0
	checkAtMost(t, 20, func(rt *rapid.T) {
		example++
		exampleDir := filepath.Join(dir, strconv.Itoa(example))
		defer os.RemoveAll(exampleDir)
		checkConvergence(rt, func(replica int) store.Store {
			s, err := store.OpenBadger(filepath.Join(exampleDir, strconv.Itoa(replica)), store.BadgerOptions{Logger: quietLogger})
			if err != nil {
				rt.Fatalf("OpenBadger: %v", err)
			}
			return s
		})
	})
}

// checkAtMost runs rapid.Check with at most n examples, unless
// -rapid.checks was given on the command line.
func checkAtMost(t *testing.T, n int, prop func(*rapid.T)) {
	t.Helper()
	f := flag.Lookup("rapid.checks")
	explicit := false
	flag.Visit(func(fl *flag.Flag) { explicit = explicit || fl.Name == f.Name })
	if cur, err := strconv.Atoi(f.Value.String()); !explicit && err == nil && cur > n {
		if err := f.Value.Set(strconv.Itoa(n)); err != nil {
			t.Fatalf("setting -rapid.checks: %v", err)
		}
		defer func() { _ = f.Value.Set(strconv.Itoa(cur)) }()
	}
	rapid.Check(t, prop)
}

var convergenceAuthors = []storetest.Author{
	storetest.NewAuthor("c0"), storetest.NewAuthor("c1"), storetest.NewAuthor("c2"),
}

// convergenceTime is fixed so that records with the same body have the same
// bytes, hence the same ID: duplicates occur naturally. Records are stamped
// at it or a millisecond or two later.
var convergenceTime = time.UnixMilli(1_770_000_000_000)

// recordSpec is a generated record, printable when rapid reports a failure.
type recordSpec struct {
	Author  int
	Kind    string
	Key     string
	Version uint64
	Tick    int // milliseconds after convergenceTime
	Deleted bool
	Payload []byte
}

func genSpec(rt *rapid.T) recordSpec {
	sp := recordSpec{
		Author:  rapid.IntRange(0, len(convergenceAuthors)-1).Draw(rt, "author"),
		Kind:    rapid.SampledFrom([]string{"profile", "offer"}).Draw(rt, "kind"),
		Key:     rapid.SampledFrom([]string{"", "a", "b"}).Draw(rt, "key"),
		Version: rapid.Uint64Range(1, 5).Draw(rt, "version"),
		// Few timestamps: items of a reconciliation set tie on timestamp
		// and are ordered by ID, and duplicates stay frequent.
		Tick:    rapid.IntRange(0, 2).Draw(rt, "tick"),
		Deleted: rapid.Bool().Draw(rt, "deleted"),
	}
	if !sp.Deleted {
		// Short payloads: equal versions often differ (a tie to break) and
		// sometimes coincide (the same record twice).
		sp.Payload = rapid.SliceOfN(rapid.Byte(), 0, 2).Draw(rt, "payload")
	}
	return sp
}

func (sp recordSpec) sign(rt *rapid.T) *record.Record {
	a := convergenceAuthors[sp.Author]
	rec, err := record.Sign(a.Key, record.Body{
		Community: "sociocracy",
		Author:    a.ID,
		Kind:      sp.Kind,
		Key:       sp.Key,
		Version:   sp.Version,
		Timestamp: convergenceTime.Add(time.Duration(sp.Tick) * time.Millisecond),
		Deleted:   sp.Deleted,
		Payload:   sp.Payload,
	})
	if err != nil {
		rt.Fatalf("record.Sign(%+v): %v", sp, err)
	}
	return rec
}

func checkConvergence(rt *rapid.T, open func(replica int) store.Store) {
	ctx := context.Background()
	specs := rapid.SliceOfN(rapid.Custom(genSpec), 1, 40).Draw(rt, "records")
	recs := make([]*record.Record, len(specs))
	for i, sp := range specs {
		recs[i] = sp.sign(rt)
	}

	// The reference: the maximum by Meta.Compare at each address.
	ref := make(map[record.Addr]*record.Record)
	for _, r := range recs {
		if cur, ok := ref[r.Addr()]; !ok || r.Meta().Compare(cur.Meta()) > 0 {
			ref[r.Addr()] = r
		}
	}
	var wantIDs []record.ID
	counts := counter{}
	wantSets := make(syncSets)
	for _, r := range ref {
		wantIDs = append(wantIDs, r.ID)
		counts.add(r.Kind, r.Deleted)
		wantSets.add(r)
	}
	slices.SortFunc(wantIDs, record.ID.Compare)
	for _, set := range wantSets {
		slices.SortFunc(set, store.SyncItem.Compare)
	}

	var first []record.ID
	var firstSets syncSets
	indexes := make([]int, len(recs))
	for i := range indexes {
		indexes[i] = i
	}
	for replica := range 3 {
		// Every record once, some again, all in a random order.
		extra := rapid.SliceOfN(rapid.IntRange(0, len(recs)-1), 0, 10).Draw(rt, fmt.Sprintf("duplicates %d", replica))
		delivery := rapid.Permutation(append(slices.Clone(indexes), extra...)).Draw(rt, fmt.Sprintf("delivery %d", replica))

		// Replica 0 receives the records through Apply, replica 1 through
		// ApplyBatch in chunks of random sizes, replica 2 through either,
		// chunk by chunk. Either way each record must be reported applied
		// exactly when it is newer than what came before it.
		s := open(replica)
		seen := make(map[record.Addr]record.Meta)
		for pos := 0; pos < len(delivery); {
			batch := replica == 1 || (replica == 2 && rapid.Bool().Draw(rt, "batch"))
			n := 1
			if batch {
				n = rapid.IntRange(1, len(delivery)-pos).Draw(rt, "chunk")
			}
			chunk := delivery[pos : pos+n]
			pos += n
			applied, err := deliver(ctx, s, recs, chunk, batch)
			if err != nil {
				_ = s.Close()
				rt.Fatalf("replica %d: delivering records %v (batch %v): %v", replica, chunk, batch, err)
			}
			for j, i := range chunk {
				m := recs[i].Meta()
				prev, ok := seen[recs[i].Addr()]
				want := !ok || m.Compare(prev) > 0
				if want {
					seen[recs[i].Addr()] = m
				}
				if applied[j] != want {
					_ = s.Close()
					rt.Fatalf("replica %d: records[%d] reported applied=%v (batch %v), want %v", replica, i, applied[j], batch, want)
				}
			}
		}
		var got []record.ID
		listErr := s.List(ctx, store.Query{Community: "sociocracy"}, func(r *record.Record) error {
			got = append(got, r.ID)
			return nil
		})
		gotCounts, countsErr := s.Counts(ctx)
		gotSets, setsErr := readSyncSets(ctx, s)
		if err := s.Close(); err != nil {
			rt.Fatalf("replica %d: Close: %v", replica, err)
		}
		if listErr != nil || countsErr != nil || setsErr != nil {
			rt.Fatalf("replica %d: List: %v; Counts: %v; sync sets: %v", replica, listErr, countsErr, setsErr)
		}

		if replica == 0 {
			first, firstSets = got, gotSets
		} else if !slices.Equal(got, first) {
			rt.Fatalf("replica %d lists %v, replica 0 lists %v", replica, got, first)
		} else if diff := gotSets.diff(firstSets); diff != "" {
			rt.Fatalf("replica %d and replica 0 differ in %s", replica, diff)
		}
		if diff := gotSets.diff(wantSets); diff != "" {
			rt.Fatalf("replica %d: %s differs from the current records'", replica, diff)
		}
		if sorted := slices.SortedFunc(slices.Values(got), record.ID.Compare); !slices.Equal(sorted, wantIDs) {
			rt.Fatalf("replica %d holds %v, want %v", replica, sorted, wantIDs)
		}
		if want := counts.result(); !slices.Equal(gotCounts, want) {
			rt.Fatalf("replica %d: Counts = %+v, want %+v", replica, gotCounts, want)
		}
	}
}

// syncSets holds the reconciliation sets of the community "sociocracy":
// under "" the whole community's, under an author's index in
// convergenceAuthors that author's.
type syncSets map[string][]store.SyncItem

// add puts r's item in its sets, unsorted.
func (ss syncSets) add(r *record.Record) {
	it := store.SyncItemOf(r)
	ss[""] = append(ss[""], it)
	for i, a := range convergenceAuthors {
		if a.ID == r.Author {
			ss[strconv.Itoa(i)] = append(ss[strconv.Itoa(i)], it)
		}
	}
}

// diff names the first set in which ss and o differ, or returns "".
func (ss syncSets) diff(o syncSets) string {
	for _, k := range slices.Sorted(maps.Keys(ss)) {
		if !slices.Equal(ss[k], o[k]) {
			return fmt.Sprintf("sync set %q (%v, want %v)", k, ss[k], o[k])
		}
	}
	for k := range o {
		if _, ok := ss[k]; !ok {
			return fmt.Sprintf("sync set %q (none, want %v)", k, o[k])
		}
	}
	return ""
}

// readSyncSets reads the sets of s from one snapshot, checking that Count
// agrees with Items.
func readSyncSets(ctx context.Context, s store.Store) (syncSets, error) {
	snap, err := s.SyncSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer snap.Close()
	ss := make(syncSets)
	read := func(name string, scope store.SyncScope) error {
		var set []store.SyncItem
		if err := snap.Items(scope, store.SyncItem{}, func(it store.SyncItem) bool {
			set = append(set, it)
			return true
		}); err != nil {
			return err
		}
		n, err := snap.Count(scope)
		if err != nil {
			return err
		}
		if n != len(set) {
			return fmt.Errorf("Count(%s) = %d, Items yields %d", name, n, len(set))
		}
		if len(set) > 0 {
			ss[name] = set
		}
		return nil
	}
	if err := read("", store.SyncScope{Community: "sociocracy"}); err != nil {
		return nil, err
	}
	for i, a := range convergenceAuthors {
		if err := read(strconv.Itoa(i), store.SyncScope{Community: "sociocracy", Author: &a.ID}); err != nil {
			return nil, err
		}
	}
	return ss, nil
}

// deliver applies the records recs[i] for i in idx to s, in one ApplyBatch
// or one by one with Apply, and returns what each reported.
func deliver(ctx context.Context, s store.Store, recs []*record.Record, idx []int, batch bool) ([]bool, error) {
	chunk := make([]*record.Record, len(idx))
	for j, i := range idx {
		chunk[j] = recs[i]
	}
	if batch {
		return s.ApplyBatch(ctx, chunk)
	}
	applied := make([]bool, len(chunk))
	for j, r := range chunk {
		res, err := s.Apply(ctx, r, store.ApplyOptions{})
		if err != nil {
			return nil, err
		}
		applied[j] = res.Applied
	}
	return applied, nil
}

// counter computes the expected Counts of one community.
type counter map[string]*store.KindCount

func (c counter) add(kind string, deleted bool) {
	kc := c[kind]
	if kc == nil {
		kc = &store.KindCount{Community: "sociocracy", Kind: kind}
		c[kind] = kc
	}
	if deleted {
		kc.Tombstones++
	} else {
		kc.Live++
	}
}

func (c counter) result() []store.KindCount {
	var out []store.KindCount
	for _, kc := range c {
		out = append(out, *kc)
	}
	slices.SortFunc(out, func(a, b store.KindCount) int { return cmp.Compare(a.Kind, b.Kind) })
	return out
}
