package mentorship_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/mentormesh/mentormesh/internal/pbwire"
	"github.com/mentormesh/mentormesh/mentorship"
)

func peerKey(b byte) [32]byte {
	var k [32]byte
	for i := range k {
		k[i] = b
	}
	return k
}

func TestModerationRoundTrip(t *testing.T) {
	in := mentorship.ModerationList{Blocked: []mentorship.ModerationEntry{
		{Peer: peerKey(3), Reason: "  spam  ", Since: 1748779200000},
		{Peer: peerKey(1), Reason: "harassment"},
		{Peer: peerKey(3), Reason: "listed twice"},
		{Peer: peerKey(2)},
	}}
	b, err := in.Encode()
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	got, err := mentorship.DecodeModeration(b)
	if err != nil {
		t.Fatalf("DecodeModeration(Encode(...)): %v", err)
	}
	want := []mentorship.ModerationEntry{
		{Peer: peerKey(1), Reason: "harassment"},
		{Peer: peerKey(2)},
		{Peer: peerKey(3), Reason: "spam", Since: 1748779200000},
	}
	if len(got.Blocked) != len(want) {
		t.Fatalf("decoded %d entries, want %d: %+v", len(got.Blocked), len(want), got.Blocked)
	}
	for i := range want {
		if got.Blocked[i] != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, got.Blocked[i], want[i])
		}
	}
	if e, ok := got.Listed(peerKey(3)); !ok || e.Reason != "spam" {
		t.Errorf("Listed(3) = %+v, %v; want the spam entry", e, ok)
	}
	if _, ok := got.Listed(peerKey(4)); ok {
		t.Error("Listed(4) = true for a peer not listed")
	}
	if err := (mentorship.Kinds{}).ValidatePayload(mentorship.KindModeration, "", false, b); err != nil {
		t.Errorf("ValidatePayload(moderation) = %v", err)
	}
	empty, err := mentorship.ModerationList{}.Encode()
	if err != nil || len(empty) != 0 {
		t.Errorf("empty list encodes as %x, %v; want no bytes", empty, err)
	}
}

// TestModerationVector pins the encoding documented in docs/PROTOCOL.md.
func TestModerationVector(t *testing.T) {
	b, err := mentorship.ModerationList{Blocked: []mentorship.ModerationEntry{
		{Peer: peerKey(0xab), Reason: "spam", Since: 1748779200000},
	}}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	const want = "0a2f0a20abababababababababababababababababababababababababababababababab12047370616d1880dcf3daf232"
	if got := hex.EncodeToString(b); got != want {
		t.Errorf("encoding = %s, want %s", got, want)
	}
}

func entry(peer [32]byte, reason string, since uint64) []byte {
	var e pbwire.Encoder
	e.BytesField(1, peer[:])
	e.String(2, reason)
	e.Uint(3, since)
	return e.Bytes()
}

func list(entries ...[]byte) []byte {
	var e pbwire.Encoder
	for _, en := range entries {
		e.BytesField(1, en)
	}
	return e.Bytes()
}

func TestModerationInvalid(t *testing.T) {
	var many [][]byte
	for i := range mentorship.MaxModerationEntries + 1 {
		var k [32]byte
		k[0], k[1] = byte(i>>8), byte(i)
		many = append(many, entry(k, "", 0))
	}
	var shortPeer pbwire.Encoder
	shortPeer.BytesField(1, []byte{1, 2, 3})
	var noPeer pbwire.Encoder
	noPeer.String(2, "who?")
	tests := []struct {
		name    string
		key     string
		payload []byte
	}{
		{"key not empty", "x", nil},
		{"out of order", "", list(entry(peerKey(2), "", 0), entry(peerKey(1), "", 0))},
		{"repeated peer", "", list(entry(peerKey(1), "a", 0), entry(peerKey(1), "b", 0))},
		{"short peer", "", list(shortPeer.Bytes())},
		{"entry without peer", "", list(noPeer.Bytes())},
		{"reason too long", "", list(entry(peerKey(1), strings.Repeat("x", mentorship.MaxModerationReason+1), 0))},
		{"reason with newline", "", list(entry(peerKey(1), "two\nlines", 0))},
		{"reason with bidi override", "", list(entry(peerKey(1), "a\u202eb", 0))},
		{"since after the year 9999", "", list(entry(peerKey(1), "", 253402300799999+1))},
		{"since 2^64-1", "", list(entry(peerKey(1), "", 1<<64-1))},
		{"too many entries", "", list(many...)},
		{"too large", "", bytes.Repeat([]byte{0}, 24<<10+1)},
		{"garbage", "", []byte{0xff, 0xff}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := (mentorship.Kinds{}).ValidatePayload(mentorship.KindModeration, tt.key, false, tt.payload)
			if !errors.Is(err, mentorship.ErrInvalid) {
				t.Errorf("ValidatePayload = %v, want an error wrapping ErrInvalid", err)
			}
		})
	}
	// A tombstone (the steward withdraws its list) is valid.
	if err := (mentorship.Kinds{}).ValidatePayload(mentorship.KindModeration, "", true, nil); err != nil {
		t.Errorf("tombstone: %v", err)
	}
	// The last millisecond of the year 9999 is the latest time, as for
	// every record time.
	if _, err := mentorship.DecodeModeration(list(entry(peerKey(1), "", 253402300799999))); err != nil {
		t.Errorf("since at the end of 9999: %v, want it valid", err)
	}
	// Unknown fields are skipped, in the list and in entries.
	fwd := append(list(append(entry(peerKey(1), "ok", 0), 0x98, 0x06, 0x01)), 0x98, 0x06, 0x01)
	if _, err := mentorship.DecodeModeration(fwd); err != nil {
		t.Errorf("unknown fields: %v, want them skipped", err)
	}
	if _, err := (mentorship.ModerationList{Blocked: make([]mentorship.ModerationEntry, 0)}).Encode(); err != nil {
		t.Errorf("Encode(empty) = %v", err)
	}
}

func FuzzDecodeModeration(f *testing.F) {
	good, err := mentorship.ModerationList{Blocked: []mentorship.ModerationEntry{
		{Peer: peerKey(1), Reason: "spam", Since: 1},
		{Peer: peerKey(2)},
	}}.Encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte{})
	f.Add(list(entry(peerKey(2), "", 0), entry(peerKey(1), "", 0)))
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := mentorship.DecodeModeration(in)
		if err != nil {
			if !errors.Is(err, mentorship.ErrInvalid) {
				t.Fatalf("DecodeModeration(%x) error = %v, want one wrapping ErrInvalid", in, err)
			}
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("DecodeModeration(%x) = %+v, which fails Validate: %v", in, m, err)
		}
		enc, err := m.Encode()
		if err != nil {
			// Re-encoding only drops bytes (unknown fields, spaces around
			// reasons), so a list that decodes always encodes.
			t.Fatalf("Encode(DecodeModeration(%x)) error = %v", in, err)
		}
		back, err := mentorship.DecodeModeration(enc)
		if err != nil || len(back.Blocked) != len(m.Blocked) {
			t.Fatalf("round trip of %x: %+v, %v", in, back, err)
		}
	})
}
