package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/mentormesh/mentormesh/sync/record"
)

// Badger key layout. Every key starts with a one-letter namespace and a
// slash; the rest is binary.
//
//	m/schema
//	    → schema version, 8 bytes big-endian (currently 1). Written on first
//	      open; a store with a newer schema is refused.
//
//	c/ <uvarint len><community> <uvarint len><kind> <author: 32 bytes> <key>
//	    → <version: 8 bytes big-endian> <record ID: 32 bytes> <raw signed record>
//	      The current record of one address. The two names are length-prefixed
//	      so no community or kind is a byte prefix of another's keys
//	      ("socio" never matches "sociocracy"); the key is last and needs no
//	      prefix. Current is a point get; List of a community, a kind or a
//	      kind and author is a prefix scan. The entry's Badger user-meta byte
//	      holds flags (flagDeleted for a tombstone), so Counts tells
//	      tombstones apart without reading values.
//
//	i/ <record ID: 32 bytes>
//	    → the record's c/ key. Present only while the record is current (Has).
//
//	s/ <uvarint len><community> <timestamp: 8 bytes big-endian> <record ID: 32 bytes>
//	    → empty. The community's reconciliation set: one entry per current
//	      record, tombstones included, whose timestamp is the record's
//	      Body.Timestamp in Unix milliseconds. Byte order is the sets'
//	      (timestamp, ID) order, so a range is a seek and a keys-only scan.
//
//	a/ <uvarint len><community> <author: 32 bytes> <timestamp: 8 bytes big-endian> <record ID: 32 bytes>
//	    → empty. The same set restricted to one author.
//
//	    Both are written, and a replaced record's removed, in the
//	    transaction that changes the c/ entry. The timestamp of the record
//	    being replaced is read from its stored bytes, so the c/ value needs
//	    no field for it.
//
//	o/ <record ID: 32 bytes>
//	    → empty. The outbox of local writes to publish. An entry whose record
//	      has been superseded is skipped and deleted by Outbox.
//
//	p/ <peer ID>
//	    → PeerInfo as JSON.
//
// "Address order", the order List returns, is the byte order of c/ keys:
// by community (shorter names first, then bytewise), kind (likewise),
// author, then key bytewise. Memory sorts by the same keys.
const (
	schemaVersion = 1

	// flagDeleted marks a tombstone in a c/ entry's user-meta byte.
	flagDeleted byte = 1 << 0

	// valueHeaderLen is the fixed part of a c/ value: version and ID.
	valueHeaderLen = 8 + len(record.ID{})
)

var (
	schemaKey     = []byte("m/schema")
	currentPrefix = []byte("c/")
	idPrefix      = []byte("i/")
	syncPrefix    = []byte("s/")
	authorPrefix  = []byte("a/")
	outboxPrefix  = []byte("o/")
	peerPrefix    = []byte("p/")
)

// currentKey returns the c/ key of addr.
func currentKey(a record.Addr) []byte {
	k := make([]byte, 0, len(currentPrefix)+2+len(a.Community)+2+len(a.Kind)+len(a.Author)+len(a.Key))
	k = append(k, currentPrefix...)
	k = appendString(k, a.Community)
	k = appendString(k, a.Kind)
	k = append(k, a.Author[:]...)
	return append(k, a.Key...)
}

// queryPrefix returns the c/ prefix that selects q's records.
func queryPrefix(q Query) ([]byte, error) {
	if q.Community == "" {
		return nil, errors.New("query has no community")
	}
	if q.Author != nil && q.Kind == "" {
		return nil, errors.New("query by author needs a kind")
	}
	k := appendString(append([]byte(nil), currentPrefix...), q.Community)
	if q.Kind == "" {
		return k, nil
	}
	k = appendString(k, q.Kind)
	if q.Author != nil {
		k = append(k, q.Author[:]...)
	}
	return k, nil
}

func appendString(k []byte, s string) []byte {
	k = binary.AppendUvarint(k, uint64(len(s)))
	return append(k, s...)
}

// parseCurrentKey splits a c/ key into its address.
func parseCurrentKey(k []byte) (record.Addr, error) {
	var a record.Addr
	rest, ok := bytes.CutPrefix(k, currentPrefix)
	if !ok {
		return a, fmt.Errorf("%w: key %q is not a record key", ErrCorrupt, k)
	}
	var err error
	if a.Community, rest, err = cutString(rest); err != nil {
		return a, err
	}
	if a.Kind, rest, err = cutString(rest); err != nil {
		return a, err
	}
	if len(rest) < len(a.Author) {
		return a, fmt.Errorf("%w: record key %q is truncated", ErrCorrupt, k)
	}
	copy(a.Author[:], rest)
	a.Key = string(rest[len(a.Author):])
	return a, nil
}

func cutString(b []byte) (string, []byte, error) {
	n, size := binary.Uvarint(b)
	if size <= 0 || n > uint64(len(b)-size) {
		return "", nil, fmt.Errorf("%w: malformed length in record key", ErrCorrupt)
	}
	end := size + int(n)
	return string(b[size:end]), b[end:], nil
}

// syncScopePrefix returns the s/ or a/ prefix of scope's keys.
func syncScopePrefix(scope SyncScope) ([]byte, error) {
	if scope.Community == "" {
		return nil, errors.New("sync scope has no community")
	}
	if scope.Author == nil {
		return appendString(append([]byte(nil), syncPrefix...), scope.Community), nil
	}
	k := appendString(append([]byte(nil), authorPrefix...), scope.Community)
	return append(k, scope.Author[:]...), nil
}

// syncItemLen is the length of the item that ends s/ and a/ keys.
const syncItemLen = 8 + len(record.ID{})

// appendSyncItem appends it to a sync key prefix.
func appendSyncItem(k []byte, it SyncItem) []byte {
	k = binary.BigEndian.AppendUint64(k, it.Timestamp)
	return append(k, it.ID[:]...)
}

// syncKeys returns the s/ and a/ keys of item it of a record at addr.
func syncKeys(addr record.Addr, it SyncItem) (s, a []byte) {
	s = make([]byte, 0, syncKeyLen(addr.Community))
	s = appendSyncItem(appendString(append(s, syncPrefix...), addr.Community), it)
	a = make([]byte, 0, authorKeyLen(addr.Community))
	a = appendString(append(a, authorPrefix...), addr.Community)
	a = appendSyncItem(append(a, addr.Author[:]...), it)
	return s, a
}

// syncKeyLen and authorKeyLen are the lengths of the s/ and a/ keys of a
// record in community.
func syncKeyLen(community string) int {
	return len(syncPrefix) + uvarintLen(len(community)) + len(community) + syncItemLen
}

func authorKeyLen(community string) int {
	return len(authorPrefix) + uvarintLen(len(community)) + len(community) + len(record.Author{}) + syncItemLen
}

func uvarintLen(n int) int {
	l := 1
	for ; n >= 0x80; n >>= 7 {
		l++
	}
	return l
}

// parseSyncItem reads the item from k, a key under prefix.
func parseSyncItem(prefix, k []byte) (SyncItem, error) {
	if len(k) != len(prefix)+syncItemLen {
		return SyncItem{}, fmt.Errorf("%w: reconciliation key %q is %d bytes, want %d", ErrCorrupt, k, len(k), len(prefix)+syncItemLen)
	}
	rest := k[len(prefix):]
	it := SyncItem{Timestamp: binary.BigEndian.Uint64(rest)}
	copy(it.ID[:], rest[8:])
	return it, nil
}

func idKey(id record.ID) []byte     { return append(append([]byte(nil), idPrefix...), id[:]...) }
func outboxKey(id record.ID) []byte { return append(append([]byte(nil), outboxPrefix...), id[:]...) }
func peerKey(id string) []byte      { return append(append([]byte(nil), peerPrefix...), id...) }

// encodeCurrent builds a c/ value.
func encodeCurrent(rec *record.Record) []byte {
	v := make([]byte, valueHeaderLen, valueHeaderLen+len(rec.Raw))
	binary.BigEndian.PutUint64(v, rec.Version)
	copy(v[8:], rec.ID[:])
	return append(v, rec.Raw...)
}

func flagsOf(rec *record.Record) byte {
	if rec.Deleted {
		return flagDeleted
	}
	return 0
}

// decodeMeta reads the version and ID from a c/ value.
func decodeMeta(v []byte) (record.Meta, error) {
	if len(v) < valueHeaderLen {
		return record.Meta{}, fmt.Errorf("%w: record value is %d bytes, shorter than its %d-byte header", ErrCorrupt, len(v), valueHeaderLen)
	}
	m := record.Meta{Version: binary.BigEndian.Uint64(v)}
	copy(m.ID[:], v[8:valueHeaderLen])
	return m, nil
}

// decodeCurrent decodes the record in the c/ entry k, v. v must not be
// modified afterwards: the record aliases it. Stored records were verified
// before they were stored, so the signature is not checked again; but the
// bytes must still decode, hash to the stored ID, carry the stored version
// and live at the key's address.
func decodeCurrent(k, v []byte) (*record.Record, error) {
	m, err := decodeMeta(v)
	if err != nil {
		return nil, err
	}
	rec, err := record.Decode(v[valueHeaderLen:])
	if err != nil {
		return nil, fmt.Errorf("%w: stored record %s does not decode: %w", ErrCorrupt, m.ID, err)
	}
	if rec.Meta() != m {
		return nil, fmt.Errorf("%w: stored record %s has ID %s version %d, index says version %d", ErrCorrupt, m.ID, rec.ID, rec.Version, m.Version)
	}
	if !bytes.Equal(currentKey(rec.Addr()), k) {
		return nil, fmt.Errorf("%w: stored record %s is filed under another address", ErrCorrupt, m.ID)
	}
	return rec, nil
}
