package mentorship_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/mentormesh/mentormesh/internal/pbwire"
	"github.com/mentormesh/mentormesh/mentorship"
)

// Fixed parties for the tests.
var (
	ada   = key(0xa1) // mentor
	ben   = key(0xb2) // mentee
	carol = key(0xc3) // a third party
	nonce = [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	t0    = time.UnixMilli(1_750_000_000_000)
)

func key(b byte) [32]byte {
	var k [32]byte
	for i := range k {
		k[i] = b
	}
	return k
}

// tb is what the helpers need of *testing.T and *rapid.T.
type tb interface {
	Helper()
	Fatalf(format string, args ...any)
}

// proposal is Ben's request to Ada, proposed at t0, expiring in 30 days.
func proposal(t tb) mentorship.Pairing {
	t.Helper()
	p, err := mentorship.NewProposal(ada, ben, ben, nonce, t0, 0)
	if err != nil {
		t.Fatalf("NewProposal: %v", err)
	}
	return p
}

func mustEncodePairing(t testing.TB, p mentorship.Pairing) []byte {
	t.Helper()
	b, err := p.Encode()
	if err != nil {
		t.Fatalf("Encode(%+v) error = %v", p, err)
	}
	return b
}

func TestNewProposal(t *testing.T) {
	p := proposal(t)
	want := mentorship.Pairing{
		Mentor: ada, Mentee: ben, Proposer: ben, Nonce: nonce,
		Status:     mentorship.StatusProposed,
		ProposedAt: uint64(t0.UnixMilli()),
		ExpiresAt:  uint64(t0.Add(30 * 24 * time.Hour).UnixMilli()),
	}
	if !p.Equal(want) {
		t.Errorf("NewProposal = %+v, want %+v", p, want)
	}
	for _, d := range []time.Duration{-time.Hour, time.Second, 366 * 24 * time.Hour} {
		if _, err := mentorship.NewProposal(ada, ben, ben, nonce, t0, d); !errors.Is(err, mentorship.ErrInvalid) {
			t.Errorf("NewProposal(expires in %v) error = %v, want %v", d, err, mentorship.ErrInvalid)
		}
	}
	if _, err := mentorship.NewProposal(ada, ada, ada, nonce, t0, 0); !errors.Is(err, mentorship.ErrInvalid) {
		t.Errorf("NewProposal(to yourself) error = %v, want %v", err, mentorship.ErrInvalid)
	}
}

// TestPairingVector pins the encoding documented in docs/PROTOCOL.md.
func TestPairingVector(t *testing.T) {
	p := proposal(t)
	got := hex.EncodeToString(mustEncodePairing(t, p))
	want := "0a20" + strings.Repeat("a1", 32) +
		"1220" + strings.Repeat("b2", 32) +
		"1a20" + strings.Repeat("b2", 32) +
		"2210" + "0102030405060708090a0b0c0d0e0f10" +
		"2801" + // status proposed
		"40" + "80b883a1f732" + // proposed_at 1750000000000
		"48" + "80c8fef48033" // expires_at 1752592000000
	if got != want {
		t.Errorf("Encode(vector) =\n%s, want\n%s", got, want)
	}
	// SHA-256("mentormesh/pairing-id/v1\x00" || mentor || mentee || proposer || nonce), first 16 bytes
	// (computed independently with Python's hashlib).
	if got, want := p.ID(), "1893ad3d3c9296c9f4de095eeb7e2fd8"; got != want {
		t.Errorf("ID(vector) = %s, want %s", got, want)
	}
}

func TestPairingRoundTrip(t *testing.T) {
	p := proposal(t)
	done := mentorship.Pairing{Mentor: ada, Mentee: ben, Proposer: ben, Nonce: nonce, Status: mentorship.StatusCompleted,
		Accepted: true, Rating: 5}
	cancelled := p
	cancelled.Status = mentorship.StatusCancelled
	withText := p
	withText.SealedText = sealedText(t, 256)
	longest := done
	longest.SealedText = sealedText(t, 16384)
	for _, in := range []mentorship.Pairing{p, done, cancelled, withText, longest} {
		b := mustEncodePairing(t, in)
		got, err := mentorship.DecodePairing(b)
		if err != nil {
			t.Errorf("DecodePairing(Encode(%+v)) error = %v", in, err)
			continue
		}
		if !got.Equal(in) {
			t.Errorf("DecodePairing(Encode(p)) = %+v, want %+v", got, in)
		}
	}
}

func TestPairingValidate(t *testing.T) {
	base := proposal(t)
	mod := func(f func(p *mentorship.Pairing)) mentorship.Pairing {
		p := base
		f(&p)
		return p
	}
	tests := []struct {
		name string
		p    mentorship.Pairing
		ok   bool
	}{
		{"proposal", base, true},
		{"offer", mod(func(p *mentorship.Pairing) { p.Proposer = ada }), true},
		{"no mentor", mod(func(p *mentorship.Pairing) { p.Mentor = [32]byte{} }), false},
		{"no mentee", mod(func(p *mentorship.Pairing) { p.Mentee = [32]byte{} }), false},
		{"mentor is mentee", mod(func(p *mentorship.Pairing) { p.Mentee = ada }), false},
		{"proposer a third party", mod(func(p *mentorship.Pairing) { p.Proposer = carol }), false},
		{"status 0", mod(func(p *mentorship.Pairing) { p.Status = 0 }), false},
		{"status 6", mod(func(p *mentorship.Pairing) { p.Status = 6 }), false},
		{"proposed and accepted", mod(func(p *mentorship.Pairing) { p.Accepted = true }), false},
		{"accepted without the flag", mod(func(p *mentorship.Pairing) { p.Status = mentorship.StatusAccepted }), false},
		{"accepted with the flag", mod(func(p *mentorship.Pairing) { p.Status, p.Accepted = mentorship.StatusAccepted, true }), true},
		{"declined after accepting", mod(func(p *mentorship.Pairing) { p.Status, p.Accepted = mentorship.StatusDeclined, true }), false},
		{"cancelled after accepting", mod(func(p *mentorship.Pairing) { p.Status, p.Accepted = mentorship.StatusCancelled, true }), true},
		{"proposal without expiry", mod(func(p *mentorship.Pairing) { p.ExpiresAt = 0 }), false},
		{"cancelled without expiry", mod(func(p *mentorship.Pairing) { p.Status, p.ExpiresAt = mentorship.StatusCancelled, 0 }), true},
		{"expires when proposed", mod(func(p *mentorship.Pairing) { p.ExpiresAt = p.ProposedAt }), false},
		{"expiry after 9999", mod(func(p *mentorship.Pairing) { p.ExpiresAt = 253402300800000 }), false},
		{"sealed text", mod(func(p *mentorship.Pairing) { p.SealedText = sealedText(t, 256) }), true},
		{"sealed text of the largest class", mod(func(p *mentorship.Pairing) { p.SealedText = sealedText(t, 16384) }), true},
		{"sealed text with acceptance", mod(func(p *mentorship.Pairing) {
			p.Status, p.Accepted, p.SealedText = mentorship.StatusAccepted, true, sealedText(t, 256)
		}), false},
		{"sealed text not padded", mod(func(p *mentorship.Pairing) { p.SealedText = sealedText(t, 300) }), false},
		{"sealed text over the largest class", mod(func(p *mentorship.Pairing) { p.SealedText = sealedText(t, 32768) }), false},
		{"sealed text with a short nonce", mod(func(p *mentorship.Pairing) { p.SealedText = sealedEnvelope(t, 23, 256+16, nil) }), false},
		{"sealed text with an extra field", mod(func(p *mentorship.Pairing) { p.SealedText = sealedEnvelope(t, 24, 256+16, []byte{0x18, 0x01}) }), false},
		{"sealed text not an envelope", mod(func(p *mentorship.Pairing) { p.SealedText = []byte("Hi") }), false},
		{"rating with proposal", mod(func(p *mentorship.Pairing) { p.Rating = 3 }), false},
		{"rating 1", mod(func(p *mentorship.Pairing) { p.Status, p.Rating = mentorship.StatusCompleted, 1 }), true},
		{"rating 5", mod(func(p *mentorship.Pairing) { p.Status, p.Rating = mentorship.StatusCompleted, 5 }), true},
		{"rating 6", mod(func(p *mentorship.Pairing) { p.Status, p.Rating = mentorship.StatusCompleted, 6 }), false},
		{"rating -1", mod(func(p *mentorship.Pairing) { p.Status, p.Rating = mentorship.StatusCompleted, -1 }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if tt.ok && err != nil {
				t.Errorf("Validate(%s) = %v, want nil", tt.name, err)
			}
			if !tt.ok && !errors.Is(err, mentorship.ErrInvalid) {
				t.Errorf("Validate(%s) = %v, want %v", tt.name, err, mentorship.ErrInvalid)
			}
			if err != nil && strings.Contains(err.Error(), "profile") {
				t.Errorf("Validate(%s) = %q, which talks of a profile", tt.name, err)
			}
		})
	}
}

func TestPairingEncodeOverCap(t *testing.T) {
	p := mentorship.Pairing{Mentor: ada, Mentee: ben, Proposer: ben, Nonce: nonce, Status: mentorship.StatusCompleted, Accepted: true,
		Rating: 5, ProposedAt: 253402300799998, ExpiresAt: 253402300799999, SealedText: sealedText(t, 16384)}
	if b, err := p.Encode(); err != nil {
		// The largest sealed text fits the 17 KiB cap with every other field.
		t.Errorf("Encode(largest text) = %v, want it to fit", err)
	} else if len(b) > 17<<10 {
		t.Errorf("Encode(largest text) = %d bytes, over the cap", len(b))
	}
}

// TestPairingRetiredFields: the plaintext message, reason and comment of
// writers before the text was sealed (fields 7, 10 and 12) leave a record
// valid, so nodes holding such records keep agreeing on them, but the text
// is dropped: not decoded into the pairing, not written again.
func TestPairingRetiredFields(t *testing.T) {
	p := proposal(t)
	// base encodes p's fields 1 to 5; fields 7 to 12 follow as each case needs.
	base := func() *pbwire.Encoder {
		var e pbwire.Encoder
		e.BytesField(1, p.Mentor[:])
		e.BytesField(2, p.Mentee[:])
		e.BytesField(3, p.Proposer[:])
		e.BytesField(4, p.Nonce[:])
		e.Uint(5, uint64(p.Status))
		return &e
	}
	for _, retired := range []struct {
		name string
		num  int
	}{{"message", 7}, {"reason", 10}, {"comment", 12}} {
		e := base()
		for _, f := range []int{7, 8, 9, 10, 12} {
			switch {
			case f == retired.num:
				e.String(protowire.Number(f), "a secret in plain text")
			case f == 8:
				e.Uint(8, p.ProposedAt)
			case f == 9:
				e.Uint(9, p.ExpiresAt)
			}
		}
		got, err := mentorship.DecodePairing(e.Bytes())
		if err != nil {
			t.Errorf("DecodePairing(with a plaintext %s) error = %v, want the record accepted", retired.name, err)
			continue
		}
		if !got.Equal(p) {
			t.Errorf("DecodePairing(with a plaintext %s) = %+v, want %+v", retired.name, got, p)
		}
		enc, err := got.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(enc), "a secret") {
			t.Errorf("the plaintext %s is written again on encoding", retired.name)
		}
	}
	// Invalid text in a retired field still makes the record invalid.
	e := base()
	e.BytesField(7, []byte{0xff, 0xfe})
	if _, err := mentorship.DecodePairing(e.Bytes()); !errors.Is(err, mentorship.ErrInvalid) {
		t.Errorf("DecodePairing(retired field not UTF-8) error = %v, want %v", err, mentorship.ErrInvalid)
	}
}

// sealedEnvelope returns a sealed envelope with a nonce and a ciphertext
// of the given sizes (random bytes: nodes check only the shape), then
// extra.
func sealedEnvelope(t testing.TB, nonceLen, ctLen int, extra []byte) []byte {
	t.Helper()
	var e pbwire.Encoder
	e.BytesField(1, bytes.Repeat([]byte{7}, nonceLen))
	e.BytesField(2, bytes.Repeat([]byte{9}, ctLen))
	return append(e.Bytes(), extra...)
}

// sealedText returns a well-formed envelope of the given padded size.
func sealedText(t testing.TB, padded int) []byte {
	t.Helper()
	return sealedEnvelope(t, 24, padded+16, nil)
}

func TestDecodePairingErrors(t *testing.T) {
	good := mustEncodePairing(t, proposal(t))
	enc := func(f func(e *pbwire.Encoder)) []byte {
		var e pbwire.Encoder
		f(&e)
		return e.Bytes()
	}
	parties := func(e *pbwire.Encoder) {
		e.BytesField(1, ada[:])
		e.BytesField(2, ben[:])
		e.BytesField(3, ben[:])
	}
	tests := []struct {
		name string
		in   []byte
		also error
	}{
		{"empty", nil, nil},
		{"no nonce", enc(func(e *pbwire.Encoder) { parties(e); e.Uint(5, 3) }), nil},
		{"no proposer", enc(func(e *pbwire.Encoder) {
			e.BytesField(1, ada[:])
			e.BytesField(2, ben[:])
			e.BytesField(4, nonce[:])
			e.Uint(5, 3)
		}), nil},
		{"short mentor", enc(func(e *pbwire.Encoder) { e.BytesField(1, ada[:31]) }), nil},
		{"long nonce", enc(func(e *pbwire.Encoder) { parties(e); e.BytesField(4, make([]byte, 17)) }), nil},
		{"mentor as varint", enc(func(e *pbwire.Encoder) { e.Uint(1, 7) }), pbwire.ErrWireType},
		{"status as bytes", enc(func(e *pbwire.Encoder) { parties(e); e.BytesField(4, nonce[:]); e.String(5, "x") }), pbwire.ErrWireType},
		{"accepted = 2", enc(func(e *pbwire.Encoder) { parties(e); e.BytesField(4, nonce[:]); e.Uint(5, 2); e.Uint(6, 2) }), pbwire.ErrNonCanonical},
		{"rating 1000", enc(func(e *pbwire.Encoder) { parties(e); e.BytesField(4, nonce[:]); e.Uint(5, 5); e.Uint(11, 1000) }), nil},
		{"fields out of order", append(append([]byte{}, good[34:68]...), good[:34]...), pbwire.ErrOrder},
		{"truncated", good[:len(good)-1], pbwire.ErrTruncated},
		{"sealed text as varint", enc(func(e *pbwire.Encoder) {
			parties(e)
			e.BytesField(4, nonce[:])
			e.Uint(5, 4)
			e.Uint(13, 1)
		}), pbwire.ErrWireType},
		{"over 17 KiB", enc(func(e *pbwire.Encoder) {
			parties(e)
			e.BytesField(4, nonce[:])
			e.Uint(5, 4)
			e.String(99, strings.Repeat("x", 17<<10))
		}), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mentorship.DecodePairing(tt.in)
			if !errors.Is(err, mentorship.ErrInvalid) || (tt.also != nil && !errors.Is(err, tt.also)) {
				t.Errorf("DecodePairing(%x) = %+v, %v; want error %v (%v)", tt.in, got, err, mentorship.ErrInvalid, tt.also)
			}
			if err != nil && !got.Equal(mentorship.Pairing{}) {
				t.Errorf("DecodePairing with error returned %+v, want the zero Pairing", got)
			}
		})
	}
}

func TestDecodePairingSkipsUnknownFields(t *testing.T) {
	p := proposal(t)
	b := mustEncodePairing(t, p)
	var e pbwire.Encoder
	e.Uint(14, 9)
	e.String(99, "from the future")
	got, err := mentorship.DecodePairing(append(b, e.Bytes()...))
	if err != nil || !got.Equal(p) {
		t.Errorf("DecodePairing(with fields 14 and 99) = %+v, %v; want %+v", got, err, p)
	}
}

func TestPairingID(t *testing.T) {
	p := proposal(t)
	id := p.ID()
	if err := mentorship.CheckPairingID(id); err != nil {
		t.Fatalf("CheckPairingID(%q) = %v", id, err)
	}
	// Every part of the tuple changes the ID.
	for name, q := range map[string]mentorship.Pairing{
		"mentor":   {Mentor: carol, Mentee: p.Mentee, Proposer: p.Proposer, Nonce: p.Nonce},
		"mentee":   {Mentor: p.Mentor, Mentee: carol, Proposer: p.Proposer, Nonce: p.Nonce},
		"proposer": {Mentor: p.Mentor, Mentee: p.Mentee, Proposer: p.Mentor, Nonce: p.Nonce},
		"nonce":    {Mentor: p.Mentor, Mentee: p.Mentee, Proposer: p.Proposer, Nonce: [16]byte{9}},
	} {
		if q.ID() == id {
			t.Errorf("changing the %s keeps ID %s", name, id)
		}
	}
	// Status, message and the rest do not.
	q := p
	q.Status, q.ExpiresAt, q.SealedText = mentorship.StatusCancelled, 0, sealedText(t, 256)
	if q.ID() != id {
		t.Errorf("ID changed with the status: %s, was %s", q.ID(), id)
	}
	for _, bad := range []string{"", "abc", strings.ToUpper(id), id + "0", id[:31] + "g", id[:31] + " "} {
		if err := mentorship.CheckPairingID(bad); !errors.Is(err, mentorship.ErrInvalid) {
			t.Errorf("CheckPairingID(%q) = %v, want %v", bad, err, mentorship.ErrInvalid)
		}
	}
}

func TestValidatePairingPayload(t *testing.T) {
	p := proposal(t)
	b := mustEncodePairing(t, p)
	id := p.ID()
	other := proposal(t)
	other.Nonce[0] ^= 1
	tests := []struct {
		name    string
		key     string
		deleted bool
		payload []byte
		want    error
	}{
		{"proposal", id, false, b, nil},
		{"tombstone", id, true, nil, nil},
		{"tombstone with a bad key", "x", true, nil, mentorship.ErrInvalid},
		{"key of another pairing", other.ID(), false, b, mentorship.ErrInvalid},
		{"uppercase key", strings.ToUpper(id), false, b, mentorship.ErrInvalid},
		{"empty key", "", false, b, mentorship.ErrInvalid},
		{"no payload", id, false, nil, mentorship.ErrInvalid},
		{"bad payload", id, false, []byte{0x08, 0x01}, mentorship.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := mentorship.Kinds{}.ValidatePayload(mentorship.KindPairing, tt.key, tt.deleted, tt.payload)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("ValidatePayload(pairing, %q, %v) = %v, want %v", tt.key, tt.deleted, err, tt.want)
			}
		})
	}
}
