package reconcile_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"reflect"
	"slices"
	"testing"

	"github.com/mentormesh/mentormesh/sync/reconcile"
	"github.com/mentormesh/mentormesh/sync/record"
)

// Fuzz targets for what a peer controls: the bytes of a frame, and the
// ranges of a turn. Run them with, for example,
//
//	go test ./sync/reconcile -run '^$' -fuzz FuzzDecodeFrame -fuzztime 30s

func seedFrames() []reconcile.Frame {
	author := record.Author{1, 2, 3}
	var fp reconcile.Fingerprint
	fp[0], fp[15] = 0xaa, 0x55
	id := func(n byte) record.ID { return sha256.Sum256([]byte{n}) }
	return []reconcile.Frame{
		{},
		{EndOfTurn: true},
		{Community: "sociocracy", EndOfTurn: true,
			Ranges: []reconcile.Range{{Upper: reconcile.Bound{Inf: true}, Mode: reconcile.FingerprintMode, Fingerprint: fp}}},
		{Community: "sociocracy", Author: &author, EndOfTurn: true,
			Ranges: []reconcile.Range{{Upper: reconcile.Bound{Inf: true}, Mode: reconcile.IDListMode, IDs: []record.ID{id(1), id(2)}}}},
		{Ranges: []reconcile.Range{
			{Upper: reconcile.Bound{Timestamp: 5}},
			{Upper: reconcile.Bound{Timestamp: 5, Prefix: []byte{0x80}}, Mode: reconcile.FingerprintMode, Fingerprint: fp},
			{Upper: reconcile.Bound{Timestamp: 9, Prefix: []byte{1, 2, 3}}, Mode: reconcile.IDListMode},
			{Upper: reconcile.Bound{Inf: true}, Mode: reconcile.IDListMode, IDs: []record.ID{id(3)}},
		}, Want: []record.ID{id(4), id(5)}},
		{Records: [][]byte{[]byte("one"), []byte("two")}, EndOfTurn: true},
		{Error: "too many catch-up sessions; try again later", EndOfTurn: true},
	}
}

func FuzzDecodeFrame(f *testing.F) {
	for _, fr := range seedFrames() {
		f.Add(reconcile.EncodeFrame(fr))
	}
	f.Add([]byte{0x1a, 0x02, 0x18, 0x07}) // a range of mode 7
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := reconcile.DecodeFrame(b)
		if err != nil {
			return
		}
		enc := reconcile.EncodeFrame(fr)
		again, err := reconcile.DecodeFrame(enc)
		if err != nil {
			t.Fatalf("DecodeFrame(EncodeFrame(%+v)): %v", fr, err)
		}
		if !reflect.DeepEqual(fr, again) {
			t.Fatalf("frame changed in a round trip:\n got %+v\nwant %+v", again, fr)
		}
		if enc2 := reconcile.EncodeFrame(again); !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable: %x, then %x", enc, enc2)
		}
	})
}

// fuzzBytes hands out fuzz input a little at a time, then zeros.
type fuzzBytes []byte

func (b *fuzzBytes) next() byte {
	if len(*b) == 0 {
		return 0
	}
	c := (*b)[0]
	*b = (*b)[1:]
	return c
}

// fuzzSet builds a sorted set of up to 255 items over few timestamps, many
// of whose IDs share a prefix (so bounds need prefixes to separate them).
func fuzzSet(src *fuzzBytes) reconcile.SliceSet {
	n, spread, salt := int(src.next()), 1+uint64(src.next()%16), src.next()
	set := make(reconcile.SliceSet, 0, n)
	for i := range n {
		id := record.ID(sha256.Sum256([]byte{salt, byte(i), byte(i >> 8)}))
		if i%3 == 0 {
			id[0], id[1] = 0xaa, 0xbb
		}
		set = append(set, reconcile.Item{Timestamp: 1 + binary.BigEndian.Uint64(id[24:])%spread, ID: id})
	}
	slices.SortFunc(set, reconcile.Item.Compare)
	return slices.CompactFunc(set, func(a, b reconcile.Item) bool { return a.Compare(b) == 0 })
}

// fuzzRanges builds a turn of up to 63 ranges. Bounds mostly increase, and
// fingerprints and ID lists are sometimes the set's own, so that every
// branch of Process is reachable; invalid turns are possible too.
func fuzzRanges(src *fuzzBytes, set reconcile.SliceSet) []reconcile.Range {
	n := int(src.next() % 64)
	var rs []reconcile.Range
	var ts uint64
	lower := reconcile.Item{}
	for i := range n {
		var r reconcile.Range
		switch m := src.next(); {
		case m == 0xff:
			r.Mode = reconcile.Mode(m)
		default:
			r.Mode = reconcile.Mode(m % 3)
		}
		ts += uint64(src.next() % 4)
		r.Upper = reconcile.Bound{Timestamp: ts}
		if k := int(src.next() % 4); k > 0 {
			r.Upper.Prefix = make([]byte, k)
			for j := range r.Upper.Prefix {
				r.Upper.Prefix[j] = src.next()
			}
		}
		if i == n-1 && src.next()%2 == 0 {
			r.Upper = reconcile.Bound{Inf: true}
		}
		upper := reconcile.Item{Timestamp: r.Upper.Timestamp}
		copy(upper.ID[:], r.Upper.Prefix)
		var mine []reconcile.Item
		for _, it := range set {
			if it.Compare(lower) >= 0 && (r.Upper.Inf || it.Compare(upper) < 0) {
				mine = append(mine, it)
			}
		}
		switch r.Mode {
		case reconcile.FingerprintMode:
			if src.next()%2 == 0 {
				r.Fingerprint = reconcile.FingerprintOf(mine)
			} else {
				r.Fingerprint[0] = src.next()
			}
		case reconcile.IDListMode:
			for range int(src.next() % 40) {
				if c := int(src.next()); c < len(mine) && src.next()%4 != 0 {
					r.IDs = append(r.IDs, mine[c].ID)
				} else {
					r.IDs = append(r.IDs, sha256.Sum256([]byte{byte(c), src.next()}))
				}
			}
		}
		rs = append(rs, r)
		lower = upper
	}
	return rs
}

func FuzzProcess(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{40, 3, 7, 1, 1, 2, 0, 0, 0})
	f.Add([]byte{200, 5, 1, 3, 1, 1, 1, 0, 1, 9, 2, 1, 0, 5, 3, 1, 0, 2, 2, 0, 30, 0, 1})
	f.Add(bytes.Repeat([]byte{250, 1, 2, 3}, 40))
	f.Fuzz(func(t *testing.T, data []byte) {
		src := fuzzBytes(data)
		set := fuzzSet(&src)
		in := fuzzRanges(&src, set)
		res, err := reconcile.Process(set, in)
		if err != nil {
			if reconcile.Validate(in) == nil {
				t.Fatalf("Process refused a valid turn: %v", err)
			}
			return
		}
		// The reply is a turn a peer accepts.
		if err := reconcile.Validate(res.Ranges); err != nil {
			t.Fatalf("Process replied with an invalid turn: %v", err)
		}
		// Haves are this side's items, not in the peer's lists; needs are
		// listed by the peer and not held here.
		have := map[record.ID]bool{}
		for _, it := range set {
			have[it.ID] = true
		}
		listed := map[record.ID]bool{}
		for _, r := range in {
			for _, id := range r.IDs {
				listed[id] = true
			}
		}
		for _, id := range res.Have {
			if !have[id] || listed[id] {
				t.Fatalf("have %x: held %v, listed by the peer %v", id[:4], have[id], listed[id])
			}
		}
		for _, id := range res.Need {
			if have[id] || !listed[id] {
				t.Fatalf("need %x: held %v, listed by the peer %v", id[:4], have[id], listed[id])
			}
		}
		// The peer, with half of this side's items, can answer the reply.
		var half reconcile.SliceSet
		for i, it := range set {
			if i%2 == 0 {
				half = append(half, it)
			}
		}
		if _, err := reconcile.Process(half, res.Ranges); err != nil {
			t.Fatalf("the peer cannot answer the reply: %v", err)
		}
	})
}
