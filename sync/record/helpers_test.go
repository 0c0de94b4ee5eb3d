package record_test

import (
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/internal/pbwire"
	"github.com/mentormesh/mentormesh/sync/record"
)

// Field numbers as docs/PROTOCOL.md specifies them. They are repeated here
// on purpose: renumbering a field in the code must break these tests.
const (
	wSignedBody      = 1
	wSignedSignature = 2

	wFormat    = 1
	wCommunity = 2
	wAuthor    = 3
	wKind      = 4
	wKey       = 5
	wVersion   = 6
	wTimestamp = 7
	wDeleted   = 8
	wExpires   = 9
	wPayload   = 10
)

// t0 is the fixed timestamp of test records (2025-01-01T00:00:00Z).
var t0 = time.UnixMilli(1735689600000)

// testKey returns a deterministic key: the seed is 32 copies of b.
func testKey(b byte) ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = b
	}
	return ed25519.NewKeyFromSeed(seed)
}

func authorOf(key ed25519.PrivateKey) record.Author {
	var a record.Author
	copy(a[:], key.Public().(ed25519.PublicKey))
	return a
}

// testBody returns a valid body by key's author with every field set.
func testBody(key ed25519.PrivateKey) record.Body {
	return record.Body{
		Community: "gophers",
		Author:    authorOf(key),
		Kind:      "profile",
		Key:       "",
		Version:   3,
		Timestamp: t0,
		Expires:   t0.Add(24 * time.Hour),
		Payload:   []byte("\x0a\x03Ada"),
	}
}

func mustSign(t testing.TB, key ed25519.PrivateKey, b record.Body) *record.Record {
	t.Helper()
	r, err := record.Sign(key, b)
	if err != nil {
		t.Fatalf("Sign(%+v) error = %v", b, err)
	}
	return r
}

// wireBody is a body as raw field values, encoded independently of the
// package under test so tests can build bodies it would refuse to write.
type wireBody struct {
	format    uint64
	community string
	author    []byte
	kind      string
	key       string
	version   uint64
	timestamp uint64
	deleted   uint64
	expires   uint64
	payload   []byte
	// extra appends fields after the known ones.
	extra func(e *pbwire.Encoder)
}

// goodWireBody returns the wire form of a valid body by key's author.
func goodWireBody(key ed25519.PrivateKey) wireBody {
	a := authorOf(key)
	return wireBody{
		format:    1,
		community: "gophers",
		author:    a[:],
		kind:      "profile",
		version:   3,
		timestamp: uint64(t0.UnixMilli()),
		payload:   []byte("\x0a\x03Ada"),
	}
}

func (w wireBody) encode() []byte {
	var e pbwire.Encoder
	e.Uint(wFormat, w.format)
	e.String(wCommunity, w.community)
	e.BytesField(wAuthor, w.author)
	e.String(wKind, w.kind)
	e.String(wKey, w.key)
	e.Uint(wVersion, w.version)
	e.Uint(wTimestamp, w.timestamp)
	e.Uint(wDeleted, w.deleted)
	e.Uint(wExpires, w.expires)
	e.BytesField(wPayload, w.payload)
	if w.extra != nil {
		w.extra(&e)
	}
	return e.Bytes()
}

// envelope encodes a signed envelope around body and sig.
func envelope(body, sig []byte) []byte {
	var e pbwire.Encoder
	e.BytesField(wSignedBody, body)
	e.BytesField(wSignedSignature, sig)
	return e.Bytes()
}

// signRaw signs body bytes with key, whoever the body names as author.
func signRaw(key ed25519.PrivateKey, body []byte) []byte {
	msg := append([]byte(record.SignaturePrefix), body...)
	return envelope(body, ed25519.Sign(key, msg))
}
