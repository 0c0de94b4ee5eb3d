package reconcile

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"math/bits"
	"slices"

	"github.com/mentormesh/mentormesh/sync/record"
)

// Item is one element of a reconciliation set: a current record's
// timestamp (Unix milliseconds) and ID.
type Item struct {
	Timestamp uint64
	ID        record.ID
}

// Compare orders items by timestamp, then ID.
func (a Item) Compare(b Item) int {
	switch {
	case a.Timestamp < b.Timestamp:
		return -1
	case a.Timestamp > b.Timestamp:
		return 1
	}
	return bytes.Compare(a.ID[:], b.ID[:])
}

// Set is a sorted set of items, read from a consistent snapshot.
type Set interface {
	// Items calls fn for each item >= from, in order, until fn returns
	// false or the items run out.
	Items(from Item, fn func(Item) bool) error
}

// Bound is the upper end of a range: the range holds the items below it.
// A bound is the point (Timestamp, Prefix followed by zero bytes); Inf is
// above every item.
type Bound struct {
	Timestamp uint64
	Prefix    []byte
	Inf       bool
}

// start returns the smallest item at or above the bound.
func (b Bound) start() Item {
	it := Item{Timestamp: b.Timestamp}
	copy(it.ID[:], b.Prefix)
	return it
}

// above reports whether it lies below the bound.
func (b Bound) above(it Item) bool {
	if b.Inf {
		return true
	}
	return it.Compare(b.start()) < 0
}

func (b Bound) compare(o Bound) int {
	switch {
	case b.Inf && o.Inf:
		return 0
	case b.Inf:
		return 1
	case o.Inf:
		return -1
	}
	return b.start().Compare(o.start())
}

// between returns the shortest bound that is above prev and at or below
// next (prev < next), so the bound encodes in as few bytes as possible.
func between(prev, next Item) Bound {
	if prev.Timestamp != next.Timestamp {
		return Bound{Timestamp: next.Timestamp}
	}
	n := 0
	for n < len(next.ID) && prev.ID[n] == next.ID[n] {
		n++
	}
	return Bound{Timestamp: next.Timestamp, Prefix: append([]byte(nil), next.ID[:n+1]...)}
}

// FingerprintSize is the length of a range fingerprint.
const FingerprintSize = 16

// Fingerprint summarises a range of items: the first 16 bytes of
// SHA-256(sum || count), where sum is the IDs read as little-endian 256-bit
// integers added modulo 2^256, and count is the number of items as an
// unsigned varint. Addition makes the fingerprint independent of order and
// cheap to compute; hashing it with the count makes it hard to forge a
// colliding set.
type Fingerprint [FingerprintSize]byte

type accumulator struct {
	sum   [4]uint64 // little-endian limbs
	count uint64
}

func (a *accumulator) add(id record.ID) {
	var c uint64
	for i := range 4 {
		v := binary.LittleEndian.Uint64(id[8*i:])
		a.sum[i], c = bits.Add64(a.sum[i], v, c)
	}
	a.count++
}

func (a *accumulator) fingerprint() Fingerprint {
	var buf [32 + binary.MaxVarintLen64]byte
	for i := range 4 {
		binary.LittleEndian.PutUint64(buf[8*i:], a.sum[i])
	}
	n := binary.PutUvarint(buf[32:], a.count)
	h := sha256.Sum256(buf[:32+n])
	var fp Fingerprint
	copy(fp[:], h[:FingerprintSize])
	return fp
}

// FingerprintOf returns the fingerprint of items.
func FingerprintOf(items []Item) Fingerprint {
	var a accumulator
	for _, it := range items {
		a.add(it.ID)
	}
	return a.fingerprint()
}

// SliceSet is a Set over a sorted slice, for tests and small in-memory sets.
type SliceSet []Item

// Items implements Set.
func (s SliceSet) Items(from Item, fn func(Item) bool) error {
	i, _ := slices.BinarySearchFunc(s, from, Item.Compare)
	for ; i < len(s); i++ {
		if !fn(s[i]) {
			break
		}
	}
	return nil
}
