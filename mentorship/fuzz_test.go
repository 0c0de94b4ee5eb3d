package mentorship_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/mentormesh/mentormesh/internal/pbwire"
	"github.com/mentormesh/mentormesh/mentorship"
)

// onlyKnownFields reports whether b holds no field other than those a
// profile defines, and no enum value this version skips.
func onlyKnownFields(b []byte) bool {
	d := pbwire.NewDecoder(b, 3, 5, 8, 10, 14)
	for d.Next() {
		f := d.Field()
		switch {
		case f.Num > 14:
			return false
		case f.Num == 9 && f.Uint > uint64(mentorship.ExperienceTrainer):
			return false
		case f.Num == 10 && f.Uint > uint64(mentorship.RolePeer):
			return false
		}
	}
	return d.Err() == nil
}

func FuzzDecodeProfile(f *testing.F) {
	for _, p := range []mentorship.Profile{
		{Name: "Ada"},
		{Name: "Ada Lovelace", Bio: "Line one\n\tindented", Skills: []string{"go", "mathematics"}},
		{Name: "李小龍", Bio: "武", Skills: []string{"功", "夫"}},
		fullProfile(),
	} {
		b, err := p.Encode()
		if err != nil {
			f.Fatalf("Encode(%#v) error = %v", p, err)
		}
		f.Add(b)
		f.Add(append(b, 0x98, 0x06, 0x01)) // unknown field 99
	}
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x03, 'A', 'd', 'a', 0x1a, 0x01, 'a', 0x20, 0x01, 0x1a, 0x01, 'b'})
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := mentorship.DecodeProfile(in)
		if err != nil {
			if !errors.Is(err, mentorship.ErrInvalid) {
				t.Fatalf("DecodeProfile(%x) error = %v, want one wrapping %v", in, err, mentorship.ErrInvalid)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("DecodeProfile(%x) = %#v, which fails Validate: %v", in, p, err)
		}
		if err := (mentorship.Kinds{}).ValidatePayload(mentorship.KindProfile, "", false, in); err != nil {
			t.Fatalf("ValidatePayload(profile, %x) = %v, want nil as DecodeProfile accepted it", in, err)
		}
		enc, err := p.Encode()
		if err != nil {
			// Possible: a peer may send text that normalizes to nothing.
			return
		}
		back, err := mentorship.DecodeProfile(enc)
		if err != nil {
			t.Fatalf("DecodeProfile(Encode(DecodeProfile(%x))) error = %v", in, err)
		}
		if !profileEqual(back, p.Normalize()) {
			t.Fatalf("DecodeProfile(Encode(p)) = %#v, want %#v", back, p.Normalize())
		}
		if profileEqual(p, p.Normalize()) && onlyKnownFields(in) && !bytes.Equal(enc, in) {
			t.Fatalf("Encode(DecodeProfile(%x)) = %x, want the input (it is normalized and has no unknown fields)", in, enc)
		}
	})
}
