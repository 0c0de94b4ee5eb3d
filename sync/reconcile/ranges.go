package reconcile

import (
	"errors"
	"fmt"

	"github.com/mentormesh/mentormesh/sync/record"
)

// Mode says what a range carries.
type Mode uint8

// Range modes.
const (
	// Skip: the sender considers the range reconciled.
	Skip Mode = iota
	// FingerprintMode: the sender's fingerprint of the range.
	FingerprintMode
	// IDListMode: every ID the sender has in the range.
	IDListMode
)

// Range is one range of a turn: from the previous range's upper bound (or
// the lowest item, for the first range) up to Upper.
type Range struct {
	Upper       Bound
	Mode        Mode
	Fingerprint Fingerprint
	IDs         []record.ID
}

// Tuning and limits. Buckets and IDListThreshold trade round trips against
// bytes; the limits bound what a hostile peer can make a node do per turn.
const (
	// Buckets is how many sub-ranges a differing range is split into.
	Buckets = 16
	// IDListThreshold: a differing range with fewer items than this is
	// answered with its ID list rather than split.
	IDListThreshold = 2 * Buckets
	// MaxRangesPerTurn caps the ranges a peer may send in one turn.
	MaxRangesPerTurn = 1 << 15
	// MaxIDsPerRange caps an ID list.
	MaxIDsPerRange = 1 << 12
	// MaxIDsPerTurn caps the IDs of all the ID lists of one turn. An honest
	// turn stays below it: it lists IDs only for ranges of fewer than
	// IDListThreshold items, and has at most MaxRangesPerTurn ranges.
	MaxIDsPerTurn = MaxRangesPerTurn * IDListThreshold
	// MaxFramesPerTurn caps the frames of one turn, so a peer cannot keep a
	// turn open forever with empty frames.
	MaxFramesPerTurn = 1 << 16
	// MaxRecordsPerFrame caps the records of one frame, so that a frame of
	// tiny malformed records cannot cost far more memory to ingest than
	// its size. Senders start a new frame when they reach it.
	MaxRecordsPerFrame = 1 << 12
)

// ErrProtocol marks a peer's violation of the protocol.
var ErrProtocol = errors.New("reconciliation protocol violation")

// Initial returns the ranges that open a reconciliation of set: one
// fingerprint of everything, or the whole ID list if the set is small.
func Initial(set Set) ([]Range, error) {
	items, err := collect(set, Item{}, Bound{Inf: true}, IDListThreshold)
	if err != nil {
		return nil, err
	}
	if len(items) < IDListThreshold {
		return []Range{{Upper: Bound{Inf: true}, Mode: IDListMode, IDs: ids(items)}}, nil
	}
	var a accumulator
	err = set.Items(Item{}, func(it Item) bool { a.add(it.ID); return true })
	if err != nil {
		return nil, err
	}
	return []Range{{Upper: Bound{Inf: true}, Mode: FingerprintMode, Fingerprint: a.fingerprint()}}, nil
}

// Result is what processing a peer's turn produced.
type Result struct {
	// Ranges is the reply; empty when every range is reconciled.
	Ranges []Range
	// Have are IDs this side has and the peer lacks: send their records.
	Have []record.ID
	// Need are IDs the peer has and this side lacks: ask for them.
	Need []record.ID
}

// Process answers a peer's turn against set. The reply has at most
// MaxRangesPerTurn ranges: when answering every range would take more (two
// large sets that differ throughout), the ranges from there on are answered
// with one fingerprint of this side's items in them, which the peer splits
// in its turn.
func Process(set Set, in []Range) (Result, error) {
	if err := Validate(in); err != nil {
		return Result{}, err
	}
	var res Result
	var out []Range
	lower := Bound{}
	for _, r := range in {
		if r.Mode != Skip && len(out)+Buckets+1 > MaxRangesPerTurn {
			last := in[len(in)-1].Upper
			fp, err := fingerprintOf(set, lower.start(), last)
			if err != nil {
				return Result{}, err
			}
			out = append(out, Range{Upper: last, Mode: FingerprintMode, Fingerprint: fp})
			break
		}
		switch r.Mode {
		case Skip:
			out = appendSkip(out, r.Upper)
		case FingerprintMode:
			items, err := collect(set, lower.start(), r.Upper, -1)
			if err != nil {
				return Result{}, err
			}
			out = answerFingerprint(out, items, r)
		case IDListMode:
			items, err := collect(set, lower.start(), r.Upper, -1)
			if err != nil {
				return Result{}, err
			}
			have, need := diff(items, r.IDs)
			res.Have = append(res.Have, have...)
			res.Need = append(res.Need, need...)
			out = appendSkip(out, r.Upper)
		}
		lower = r.Upper
	}
	// Trailing skips say nothing.
	for len(out) > 0 && out[len(out)-1].Mode == Skip {
		out = out[:len(out)-1]
	}
	res.Ranges = out
	return res, nil
}

// Validate checks a turn's ranges: strictly increasing bounds, only the last
// one infinite, known modes, and the size limits.
func Validate(in []Range) error {
	if len(in) > MaxRangesPerTurn {
		return fmt.Errorf("%w: %d ranges in one turn, limit %d", ErrProtocol, len(in), MaxRangesPerTurn)
	}
	for i, r := range in {
		if len(r.Upper.Prefix) > len(record.ID{}) {
			return fmt.Errorf("%w: bound prefix of %d bytes", ErrProtocol, len(r.Upper.Prefix))
		}
		if r.Upper.Inf && i != len(in)-1 {
			return fmt.Errorf("%w: infinite bound before the last range", ErrProtocol)
		}
		if i > 0 && in[i-1].Upper.compare(r.Upper) >= 0 {
			return fmt.Errorf("%w: range bounds not increasing", ErrProtocol)
		}
		if r.Mode > IDListMode {
			return fmt.Errorf("%w: unknown range mode %d", ErrProtocol, r.Mode)
		}
		if len(r.IDs) > MaxIDsPerRange {
			return fmt.Errorf("%w: ID list of %d, limit %d", ErrProtocol, len(r.IDs), MaxIDsPerRange)
		}
	}
	return nil
}

func answerFingerprint(out []Range, items []Item, r Range) []Range {
	if FingerprintOf(items) == r.Fingerprint {
		return appendSkip(out, r.Upper)
	}
	if len(items) < IDListThreshold {
		return append(out, Range{Upper: r.Upper, Mode: IDListMode, IDs: ids(items)})
	}
	// Split into Buckets parts of (nearly) equal size by this side's items.
	per, extra := len(items)/Buckets, len(items)%Buckets
	start := 0
	for b := range Buckets {
		end := start + per
		if b < extra {
			end++
		}
		upper := r.Upper
		if b < Buckets-1 {
			upper = between(items[end-1], items[end])
		}
		out = append(out, Range{Upper: upper, Mode: FingerprintMode, Fingerprint: FingerprintOf(items[start:end])})
		start = end
	}
	return out
}

func appendSkip(out []Range, upper Bound) []Range {
	if n := len(out); n > 0 && out[n-1].Mode == Skip {
		out[n-1].Upper = upper
		return out
	}
	return append(out, Range{Upper: upper, Mode: Skip})
}

// fingerprintOf returns the fingerprint of the items from from (inclusive)
// up to upper (exclusive).
func fingerprintOf(set Set, from Item, upper Bound) (Fingerprint, error) {
	var a accumulator
	err := set.Items(from, func(it Item) bool {
		if !upper.above(it) {
			return false
		}
		a.add(it.ID)
		return true
	})
	return a.fingerprint(), err
}

// collect returns the items from from (inclusive) up to upper (exclusive);
// at most limit of them if limit >= 0.
func collect(set Set, from Item, upper Bound, limit int) ([]Item, error) {
	var items []Item
	err := set.Items(from, func(it Item) bool {
		if !upper.above(it) || (limit >= 0 && len(items) >= limit) {
			return false
		}
		items = append(items, it)
		return true
	})
	return items, err
}

func ids(items []Item) []record.ID {
	out := make([]record.ID, len(items))
	for i, it := range items {
		out[i] = it.ID
	}
	return out
}

// diff compares this side's items with the peer's ID list of one range.
func diff(mine []Item, theirs []record.ID) (have, need []record.ID) {
	in := make(map[record.ID]bool, len(theirs))
	for _, id := range theirs {
		in[id] = true
	}
	for _, it := range mine {
		if in[it.ID] {
			delete(in, it.ID)
			continue
		}
		have = append(have, it.ID)
	}
	for _, id := range theirs { // keep the peer's order, drop duplicates
		if in[id] {
			need = append(need, id)
			delete(in, id)
		}
	}
	return have, need
}
