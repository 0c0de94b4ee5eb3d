package reconcile

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/mentormesh/mentormesh/sync/record"
)

func item(ts uint64, n int) Item {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	return Item{Timestamp: ts, ID: sha256.Sum256(b[:])}
}

func sorted(items []Item) SliceSet {
	s := slices.Clone(items)
	slices.SortFunc(s, Item.Compare)
	return slices.CompactFunc(s, func(a, b Item) bool { return a.Compare(b) == 0 })
}

// run reconciles a (initiator) with b and returns what each side learned it
// must send (have) and fetch (need), and the number of turns.
type outcome struct {
	aHave, aNeed, bHave, bNeed []record.ID
	turns                      int
	rangesSent                 int
}

// fataler is what reconcileSets needs of *testing.T and *rapid.T.
type fataler interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

func reconcileSets(t fataler, a, b SliceSet) outcome {
	t.Helper()
	var o outcome
	turn, err := Initial(a)
	if err != nil {
		t.Fatal(err)
	}
	sides := []SliceSet{b, a}
	for len(turn) > 0 {
		o.turns++
		o.rangesSent += len(turn)
		if o.turns > 40 {
			t.Fatalf("no convergence after %d turns", o.turns)
		}
		side := sides[(o.turns-1)%2]
		res, err := Process(side, turn)
		if err != nil {
			t.Fatal(err)
		}
		if (o.turns-1)%2 == 0 { // b answered
			o.bHave = append(o.bHave, res.Have...)
			o.bNeed = append(o.bNeed, res.Need...)
		} else {
			o.aHave = append(o.aHave, res.Have...)
			o.aNeed = append(o.aNeed, res.Need...)
		}
		turn = res.Ranges
	}
	return o
}

func idSet(ids ...[]record.ID) map[record.ID]bool {
	m := map[record.ID]bool{}
	for _, l := range ids {
		for _, id := range l {
			m[id] = true
		}
	}
	return m
}

func minus(a, b SliceSet) map[record.ID]bool {
	in := map[record.ID]bool{}
	for _, it := range b {
		in[it.ID] = true
	}
	out := map[record.ID]bool{}
	for _, it := range a {
		if !in[it.ID] {
			out[it.ID] = true
		}
	}
	return out
}

// TestReconcileFindsExactDifference: whatever the sets, the side that
// learns a difference learns exactly it: a ends up sending a-b and
// receiving b-a.
func TestReconcileFindsExactDifference(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(0, 3000).Draw(rt, "n")
		var a, b []Item
		for i := range n {
			it := item(uint64(rapid.IntRange(1, 50).Draw(rt, "ts")), i)
			switch rapid.IntRange(0, 9).Draw(rt, "where") {
			case 0:
				a = append(a, it)
			case 1:
				b = append(b, it)
			default:
				a, b = append(a, it), append(b, it)
			}
		}
		sa, sb := sorted(a), sorted(b)
		o := reconcileSets(rt, sa, sb)
		// a's records that b lacks are sent either because a learned it has
		// them or because b learned it needs them.
		toB := idSet(o.aHave, o.bNeed)
		toA := idSet(o.bHave, o.aNeed)
		if want := minus(sa, sb); !mapsEqual(toB, want) {
			rt.Fatalf("sent to b: %d ids, want %d", len(toB), len(want))
		}
		if want := minus(sb, sa); !mapsEqual(toA, want) {
			rt.Fatalf("sent to a: %d ids, want %d", len(toA), len(want))
		}
	})
}

func mapsEqual(a, b map[record.ID]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func TestIdenticalSetsTakeOneTurn(t *testing.T) {
	var items []Item
	for i := range 100000 {
		items = append(items, item(uint64(1+i/7), i))
	}
	s := sorted(items)
	o := reconcileSets(t, s, s)
	if o.turns != 1 || o.rangesSent != 1 {
		t.Errorf("identical sets: %d turns, %d ranges sent; want 1 turn with 1 range", o.turns, o.rangesSent)
	}
	if len(o.aHave)+len(o.aNeed)+len(o.bHave)+len(o.bNeed) != 0 {
		t.Errorf("identical sets found a difference: %+v", o)
	}
}

func TestSmallDifferenceInLargeSet(t *testing.T) {
	var a, b []Item
	for i := range 100000 {
		it := item(uint64(1+i/3), i)
		switch {
		case i == 31337:
			a = append(a, it)
		case i == 77777:
			b = append(b, it)
		default:
			a, b = append(a, it), append(b, it)
		}
	}
	o := reconcileSets(t, sorted(a), sorted(b))
	toB, toA := idSet(o.aHave, o.bNeed), idSet(o.bHave, o.aNeed)
	if len(toB) != 1 || len(toA) != 1 {
		t.Fatalf("found %d and %d differences, want 1 and 1", len(toB), len(toA))
	}
	// log16(100000) ~ 4.2 splits, then an ID list: a handful of turns.
	if o.turns > 8 {
		t.Errorf("took %d turns, want at most 8", o.turns)
	}
	t.Logf("1+1 differences among 100000: %d turns, %d ranges", o.turns, o.rangesSent)
}

func TestBetween(t *testing.T) {
	a, b := item(5, 1), item(5, 2)
	if a.Compare(b) > 0 {
		a, b = b, a
	}
	tests := []struct {
		prev, next Item
	}{
		{item(1, 1), item(2, 1)},
		{a, b},
		{Item{Timestamp: 3, ID: record.ID{0xaa, 0x01}}, Item{Timestamp: 3, ID: record.ID{0xaa, 0x02}}},
		{Item{Timestamp: 3, ID: record.ID{0xaa}}, Item{Timestamp: 3, ID: record.ID{0xaa, 0, 0, 1}}},
	}
	for _, tt := range tests {
		bd := between(tt.prev, tt.next)
		if !bd.above(tt.prev) || bd.above(tt.next) {
			t.Errorf("between(%v, %v) = %+v, want prev < bound <= next", tt.prev, tt.next, bd)
		}
	}
}

func TestValidateRefusesBadTurns(t *testing.T) {
	inf := Bound{Inf: true}
	tests := map[string][]Range{
		"decreasing bounds": {{Upper: Bound{Timestamp: 5}}, {Upper: Bound{Timestamp: 4}}},
		"equal bounds":      {{Upper: Bound{Timestamp: 5}}, {Upper: Bound{Timestamp: 5}}},
		"inf not last":      {{Upper: inf}, {Upper: Bound{Timestamp: 4}}},
		"long prefix":       {{Upper: Bound{Timestamp: 5, Prefix: make([]byte, 33)}}},
		"unknown mode":      {{Upper: inf, Mode: 7}},
		"huge id list":      {{Upper: inf, Mode: IDListMode, IDs: make([]record.ID, MaxIDsPerRange+1)}},
		"too many ranges":   make([]Range, MaxRangesPerTurn+1),
	}
	for name, in := range tests {
		if _, err := Process(SliceSet{}, in); err == nil {
			t.Errorf("%s: Process accepted it", name)
		}
	}
}
