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
		if d.Field().Num > 12 {
			return false
		}
	}
	return d.Err() == nil
}

func FuzzDecodePairing(f *testing.F) {
	p := proposal(f)
	done := mentorship.Pairing{Mentor: ada, Mentee: ben, Proposer: ada, Nonce: nonce, Status: mentorship.StatusCompleted,
		Accepted: true, Rating: 4, Comment: "Merci.\nÀ bientôt."}
	declined := mentorship.Pairing{Mentor: ada, Mentee: ben, Proposer: ben, Nonce: nonce, Status: mentorship.StatusDeclined, Reason: "Full."}
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
		if err != nil || back != p.Normalize() {
			t.Fatalf("DecodePairing(Encode(p)) = %+v, %v; want %+v", back, err, p.Normalize())
		}
		if p == p.Normalize() && onlyPairingFields(in) && !bytes.Equal(enc, in) {
			t.Fatalf("Encode(DecodePairing(%x)) = %x, want the input (normalized, no unknown fields)", in, enc)
		}
	})
}
