package mentorship_test

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/mentormesh/mentormesh/internal/pbwire"
	"github.com/mentormesh/mentormesh/mentorship"
)

const resID = "0123456789abcdef0123456789abcdef"

func authorKey(b byte) [32]byte {
	var a [32]byte
	for i := range a {
		a[i] = b
	}
	return a
}

func TestEndorsementKey(t *testing.T) {
	a := authorKey(0xab)
	key := mentorship.EndorsementKey(a, resID)
	if want := strings.Repeat("ab", 32) + "/" + resID; key != want {
		t.Fatalf("EndorsementKey = %q, want %q", key, want)
	}
	gotA, gotID, err := mentorship.ParseEndorsementKey(key)
	if err != nil || gotA != a || gotID != resID {
		t.Errorf("ParseEndorsementKey(%q) = %x, %q, %v; want %x, %q", key, gotA, gotID, err, a, resID)
	}
	hexA := strings.Repeat("ab", 32)
	for _, bad := range []string{
		"",
		resID,
		hexA,
		hexA + "/",
		hexA + resID,
		hexA + "/" + resID + "0",
		hexA + "/" + strings.ToUpper(resID),
		strings.ToUpper(hexA) + "/" + resID,
		strings.Repeat("zz", 32) + "/" + resID,
		hexA[2:] + "/" + resID + "00",
		hexA + "/" + resID[:31] + "/",
	} {
		if _, _, err := mentorship.ParseEndorsementKey(bad); !errors.Is(err, mentorship.ErrInvalid) {
			t.Errorf("ParseEndorsementKey(%q) error = %v, want %v", bad, err, mentorship.ErrInvalid)
		}
	}
}

func TestEndorsementPayload(t *testing.T) {
	tests := []struct {
		name    string
		e       mentorship.Endorsement
		want    string // hex of the payload; "!" for an error
		decoded string // comment after decoding
	}{
		{"no comment", mentorship.Endorsement{}, "", ""},
		{"blank comment", mentorship.Endorsement{Comment: "  "}, "", ""},
		{"comment", mentorship.Endorsement{Comment: " Hi "}, "0a024869", "Hi"},
		{"280 characters", mentorship.Endorsement{Comment: strings.Repeat("é", 280)}, "0ab004" + strings.Repeat("c3a9", 280), strings.Repeat("é", 280)},
		{"281 characters", mentorship.Endorsement{Comment: strings.Repeat("é", 281)}, "!", ""},
		{"newline", mentorship.Endorsement{Comment: "a\nb"}, "!", ""},
		{"bidi control", mentorship.Endorsement{Comment: "a\u202eb"}, "!", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.e.Encode()
			if tt.want == "!" {
				if !errors.Is(err, mentorship.ErrInvalid) || !strings.HasPrefix(err.Error(), "invalid endorsement: comment") {
					t.Errorf("Encode() = %x, %v; want an invalid endorsement error about the comment", b, err)
				}
				return
			}
			if err != nil || hex.EncodeToString(b) != tt.want {
				t.Fatalf("Encode() = %x, %v; want %s", b, err, tt.want)
			}
			got, err := mentorship.DecodeEndorsement(b)
			if err != nil || got.Comment != tt.decoded {
				t.Errorf("DecodeEndorsement(%x) = %#v, %v; want comment %q", b, got, err, tt.decoded)
			}
		})
	}
	var e pbwire.Encoder
	e.String(1, "ok")
	e.Uint(7, 1)
	if got, err := mentorship.DecodeEndorsement(e.Bytes()); err != nil || got.Comment != "ok" {
		t.Errorf("DecodeEndorsement(with unknown field 7) = %#v, %v; want comment ok", got, err)
	}
	for _, bad := range []string{"0801", "0a01ff", "0a00", "0a03", "0a020a0a"} {
		in, _ := hex.DecodeString(bad)
		if _, err := mentorship.DecodeEndorsement(in); !errors.Is(err, mentorship.ErrInvalid) {
			t.Errorf("DecodeEndorsement(%s) error = %v, want %v", bad, err, mentorship.ErrInvalid)
		}
	}
	big := make([]byte, 2<<10+1)
	if _, err := mentorship.DecodeEndorsement(big); !errors.Is(err, mentorship.ErrInvalid) {
		t.Errorf("DecodeEndorsement(%d bytes) error = %v, want %v", len(big), err, mentorship.ErrInvalid)
	}
}

func TestValidatePayloadResources(t *testing.T) {
	res := mustEncodeResource(t, guide("G"))
	key := mentorship.EndorsementKey(authorKey(1), resID)
	comment, err := mentorship.Endorsement{Comment: "Useful"}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		kind    string
		key     string
		deleted bool
		payload []byte
		ok      bool
	}{
		{"resource", mentorship.KindResource, resID, false, res, true},
		{"resource tombstone", mentorship.KindResource, resID, true, nil, true},
		{"resource with empty key", mentorship.KindResource, "", false, res, false},
		{"resource with uppercase key", mentorship.KindResource, strings.ToUpper(resID), false, res, false},
		{"resource tombstone with bad key", mentorship.KindResource, "x", true, nil, false},
		{"resource without payload", mentorship.KindResource, resID, false, nil, false},
		{"resource with bad payload", mentorship.KindResource, resID, false, []byte{0x08, 0x01}, false},
		{"resource with a profile payload", mentorship.KindResource, resID, false, mustEncode(t, mentorship.Profile{Name: "Ada"}), false},
		{"endorsement", mentorship.KindEndorsement, key, false, comment, true},
		{"endorsement without comment", mentorship.KindEndorsement, key, false, nil, true},
		{"endorsement tombstone", mentorship.KindEndorsement, key, true, nil, true},
		{"endorsement keyed by resource ID only", mentorship.KindEndorsement, resID, false, nil, false},
		{"endorsement tombstone with bad key", mentorship.KindEndorsement, "x", true, nil, false},
		{"endorsement with bad payload", mentorship.KindEndorsement, key, false, []byte{0x0a, 0x01, 0x0a}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := mentorship.Kinds{}.ValidatePayload(tt.kind, tt.key, tt.deleted, tt.payload)
			if tt.ok != (err == nil) || (err != nil && !errors.Is(err, mentorship.ErrInvalid)) {
				t.Errorf("ValidatePayload(%q, %q, %v, %x) = %v, want ok=%v (errors wrapping ErrInvalid)", tt.kind, tt.key, tt.deleted, tt.payload, err, tt.ok)
			}
		})
	}
}
