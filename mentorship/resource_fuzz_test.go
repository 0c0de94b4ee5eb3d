package mentorship_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/internal/pbwire"
	"github.com/mentormesh/mentormesh/mentorship"
)

// onlyResourceFields reports whether b holds no field beyond the eleven a
// resource defines.
func onlyResourceFields(b []byte) bool {
	d := pbwire.NewDecoder(b, 6)
	for d.Next() {
		if d.Field().Num > 11 {
			return false
		}
	}
	return d.Err() == nil
}

// FuzzDecodeResource feeds peer bytes to the resource decoder: it must
// never panic, must refuse with ErrInvalid, and what it accepts must be
// valid, accepted by ValidatePayload, and re-encode to the same bytes when
// it was already canonical. Seeds are in testdata/fuzz/FuzzDecodeResource.
func FuzzDecodeResource(f *testing.F) {
	for _, r := range []mentorship.Resource{
		{Type: mentorship.ResourceArticle, Title: "A", Text: "t"},
		{Type: mentorship.ResourceGuide, Title: "Consent, step by step", URL: "https://example.org/guide?x=1#y",
			Description: "Line one\n\tindented", Tags: []string{"consent", "facilitation"}, Language: "en"},
		{Type: mentorship.ResourceEvent, Title: "Meetup", Text: "Bring a proposal.", StartsAt: time.UnixMilli(1796148000000),
			EndsAt: time.UnixMilli(1796155200000), Place: "Berlin", Link: "https://meet.example/x"},
		{Type: 100, Title: "From the future", Text: "t", Place: "anywhere"},
	} {
		b, err := r.Encode()
		if err != nil {
			f.Fatalf("Encode(%#v) error = %v", r, err)
		}
		f.Add(b)
		f.Add(append(b, 0x98, 0x06, 0x01)) // unknown field 99
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := mentorship.DecodeResource(in)
		if err != nil {
			if !errors.Is(err, mentorship.ErrInvalid) {
				t.Fatalf("DecodeResource(%x) error = %v, want one wrapping %v", in, err, mentorship.ErrInvalid)
			}
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("DecodeResource(%x) = %#v, which fails Validate: %v", in, r, err)
		}
		if err := (mentorship.Kinds{}).ValidatePayload(mentorship.KindResource, "0123456789abcdef0123456789abcdef", false, in); err != nil {
			t.Fatalf("ValidatePayload(resource, %x) = %v, want nil as DecodeResource accepted it", in, err)
		}
		enc, err := r.Encode()
		if err != nil {
			// Possible: a peer may send text that normalizes to nothing.
			return
		}
		back, err := mentorship.DecodeResource(enc)
		if err != nil {
			t.Fatalf("DecodeResource(Encode(DecodeResource(%x))) error = %v", in, err)
		}
		if !resourceEqual(back, r.Normalize()) {
			t.Fatalf("DecodeResource(Encode(r)) = %#v, want %#v", back, r.Normalize())
		}
		if resourceEqual(r, r.Normalize()) && onlyResourceFields(in) && !bytes.Equal(enc, in) {
			t.Fatalf("Encode(DecodeResource(%x)) = %x, want the input (it is normalized and has no unknown fields)", in, enc)
		}
	})
}

// FuzzDecodeEndorsement does the same for endorsement keys and payloads.
func FuzzDecodeEndorsement(f *testing.F) {
	key := mentorship.EndorsementKey(authorKey(0xab), "0123456789abcdef0123456789abcdef")
	f.Add(key, []byte{})
	f.Add(key, []byte("\x0a\x06Useful"))
	f.Add(key, []byte("\x0a\x06Useful\x10\x01"))
	f.Add("0123456789abcdef0123456789abcdef", []byte{})
	f.Fuzz(func(t *testing.T, key string, in []byte) {
		author, id, kerr := mentorship.ParseEndorsementKey(key)
		if kerr == nil && mentorship.EndorsementKey(author, id) != key {
			t.Fatalf("EndorsementKey(ParseEndorsementKey(%q)) = %q, want the key back", key, mentorship.EndorsementKey(author, id))
		}
		e, err := mentorship.DecodeEndorsement(in)
		if err != nil && !errors.Is(err, mentorship.ErrInvalid) {
			t.Fatalf("DecodeEndorsement(%x) error = %v, want one wrapping %v", in, err, mentorship.ErrInvalid)
		}
		verr := (mentorship.Kinds{}).ValidatePayload(mentorship.KindEndorsement, key, false, in)
		if (verr == nil) != (kerr == nil && err == nil) {
			t.Fatalf("ValidatePayload(endorsement, %q, %x) = %v; key: %v, payload: %v", key, in, verr, kerr, err)
		}
		if err != nil {
			return
		}
		if enc, err := e.Encode(); err == nil {
			if back, err := mentorship.DecodeEndorsement(enc); err != nil || back != e.Normalize() {
				t.Fatalf("DecodeEndorsement(Encode(%#v)) = %#v, %v", e, back, err)
			}
		}
	})
}
