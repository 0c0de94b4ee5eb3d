package mentorship_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/mentormesh/mentormesh/internal/pbwire"
	"github.com/mentormesh/mentormesh/mentorship"
)

// onlyPairingFields reports whether b holds no field a pairing does not
// define.
func onlyPairingFields(b []byte) bool {
	d := pbwire.NewDecoder(b)
	for d.Next() {
		// Unknown fields are skipped and the retired plaintext fields
		// dropped: the encoding then differs from the input.
		switch d.Field().Num {
		case 7, 10, 12:
			return false
		}
		if d.Field().Num > 13 {
			return false
		}
	}
	return d.Err() == nil
}

func FuzzDecodePairing(f *testing.F) {
	p := proposal(f)
	done := mentorship.Pairing{Mentor: ada, Mentee: ben, Proposer: ada, Nonce: nonce, Status: mentorship.StatusCompleted,
		Accepted: true, Rating: 4, SealedText: sealedText(f, 256)}
	declined := mentorship.Pairing{Mentor: ada, Mentee: ben, Proposer: ben, Nonce: nonce, Status: mentorship.StatusDeclined, SealedText: sealedText(f, 512)}
	plain := append(mustEncodePairing(f, p), 0x62, 0x02, 'H', 'i') // the retired plaintext comment, field 12
	f.Add(plain)
	for _, q := range []mentorship.Pairing{p, done, declined} {
		b := mustEncodePairing(f, q)
		f.Add(b)
		f.Add(append(b, 0x98, 0x06, 0x01)) // unknown field 99
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := mentorship.DecodePairing(in)
		if err != nil {
			if !errors.Is(err, mentorship.ErrInvalid) {
				t.Fatalf("DecodePairing(%x) error = %v, want one wrapping %v", in, err, mentorship.ErrInvalid)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("DecodePairing(%x) = %+v, which fails Validate: %v", in, p, err)
		}
		if err := (mentorship.Kinds{}).ValidatePayload(mentorship.KindPairing, p.ID(), false, in); err != nil {
			t.Fatalf("ValidatePayload(pairing at its ID, %x) = %v, want nil as DecodePairing accepted it", in, err)
		}
		enc, err := p.Encode()
		if err != nil {
			t.Fatalf("Encode(DecodePairing(%x)) error = %v", in, err)
		}
		back, err := mentorship.DecodePairing(enc)
		if err != nil || !back.Equal(p) {
			t.Fatalf("DecodePairing(Encode(p)) = %+v, %v; want %+v", back, err, p)
		}
		if onlyPairingFields(in) && !bytes.Equal(enc, in) {
			t.Fatalf("Encode(DecodePairing(%x)) = %x, want the input (normalized, no unknown fields)", in, enc)
		}
	})
}

func FuzzDecodePairText(f *testing.F) {
	for _, text := range []mentorship.PairText{
		{Message: "Help me facilitate my first circle."},
		{Message: "Hi", Comment: "Merci.\nÀ bientôt."},
		{Reason: "Full."},
	} {
		b, err := text.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(append(b, 0x98, 0x06, 0x01)) // unknown field 99
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		text, err := mentorship.DecodePairText(in)
		if err != nil {
			if !errors.Is(err, mentorship.ErrInvalid) {
				t.Fatalf("DecodePairText(%x) error = %v, want one wrapping %v", in, err, mentorship.ErrInvalid)
			}
			return
		}
		enc, err := text.Encode()
		if err != nil {
			t.Fatalf("Encode(DecodePairText(%x)) error = %v", in, err)
		}
		if back, err := mentorship.DecodePairText(enc); err != nil || back != text.Normalize() {
			t.Fatalf("DecodePairText(Encode(t)) = %+v, %v; want %+v", back, err, text.Normalize())
		}
	})
}
