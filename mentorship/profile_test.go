package mentorship_test

import (
	"encoding/hex"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/mentormesh/mentormesh/internal/pbwire"
	"github.com/mentormesh/mentormesh/mentorship"
)

func profileEqual(a, b mentorship.Profile) bool {
	return reflect.DeepEqual(a, b)
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		in   mentorship.Profile
		want mentorship.Profile
	}{
		{"already normal", mentorship.Profile{Name: "Ada", Bio: "Hi.", Skills: []string{"go"}}, mentorship.Profile{Name: "Ada", Bio: "Hi.", Skills: []string{"go"}}},
		{"trim name and bio", mentorship.Profile{Name: "  Ada Lovelace\t", Bio: "\n Line one\nline two \n"}, mentorship.Profile{Name: "Ada Lovelace", Bio: "Line one\nline two"}},
		{"inner spaces of name kept", mentorship.Profile{Name: "Ada  Lovelace"}, mentorship.Profile{Name: "Ada  Lovelace"}},
		{"unicode space trimmed", mentorship.Profile{Name: "\u00a0Ada\u2003"}, mentorship.Profile{Name: "Ada"}},
		{"skills lowercased, deduped, sorted", mentorship.Profile{Name: "A", Skills: []string{"Rust", " Go ", "go", "GO", "c"}}, mentorship.Profile{Name: "A", Skills: []string{"c", "go", "rust"}}},
		{"skill whitespace collapsed", mentorship.Profile{Name: "A", Skills: []string{" Machine \t  Learning ", "machine learning"}}, mentorship.Profile{Name: "A", Skills: []string{"machine learning"}}},
		{"empty skills dropped", mentorship.Profile{Name: "A", Skills: []string{"", "  ", "\t"}}, mentorship.Profile{Name: "A"}},
		{"non-ASCII skills lowercased", mentorship.Profile{Name: "A", Skills: []string{"ÉCOLE", "école"}}, mentorship.Profile{Name: "A", Skills: []string{"école"}}},
		{"zero", mentorship.Profile{}, mentorship.Profile{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inSkills := slices.Clone(tt.in.Skills)
			got := tt.in.Normalize()
			if !profileEqual(got, tt.want) {
				t.Errorf("%#v.Normalize() = %#v, want %#v", tt.in, got, tt.want)
			}
			if !slices.Equal(tt.in.Skills, inSkills) {
				t.Errorf("Normalize modified its receiver's skills: %q, was %q", tt.in.Skills, inSkills)
			}
			if again := got.Normalize(); !profileEqual(again, got) {
				t.Errorf("Normalize is not idempotent: %#v, then %#v", got, again)
			}
		})
	}
}

func skills(n int, each string) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = each + strings.Repeat("x", i)
	}
	return s
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		p    mentorship.Profile
		ok   bool
	}{
		{"minimal", mentorship.Profile{Name: "Ada"}, true},
		{"missing name", mentorship.Profile{Bio: "hello"}, false},
		{"name 80 ASCII characters", mentorship.Profile{Name: strings.Repeat("a", 80)}, true},
		{"name 81 ASCII characters", mentorship.Profile{Name: strings.Repeat("a", 81)}, false},
		{"name 80 two-byte characters", mentorship.Profile{Name: strings.Repeat("é", 80)}, true},
		{"name 80 four-byte characters", mentorship.Profile{Name: strings.Repeat("😀", 80)}, true},
		{"name 81 two-byte characters", mentorship.Profile{Name: strings.Repeat("é", 81)}, false},
		{"bio 2000 characters", mentorship.Profile{Name: "A", Bio: strings.Repeat("ü", 2000)}, true},
		{"bio 2001 characters", mentorship.Profile{Name: "A", Bio: strings.Repeat("ü", 2001)}, false},
		{"skill 48 characters", mentorship.Profile{Name: "A", Skills: []string{strings.Repeat("ß", 48)}}, true},
		{"skill 49 characters", mentorship.Profile{Name: "A", Skills: []string{strings.Repeat("ß", 49)}}, false},
		{"30 skills", mentorship.Profile{Name: "A", Skills: skills(30, "s")}, true},
		{"31 skills", mentorship.Profile{Name: "A", Skills: skills(31, "s")}, false},
		{"newline in bio", mentorship.Profile{Name: "A", Bio: "one\ntwo"}, true},
		{"tab in bio", mentorship.Profile{Name: "A", Bio: "one\ttwo"}, true},
		{"carriage return in bio", mentorship.Profile{Name: "A", Bio: "one\r\ntwo"}, false},
		{"NUL in bio", mentorship.Profile{Name: "A", Bio: "one\x00two"}, false},
		{"newline in name", mentorship.Profile{Name: "Ada\nLovelace"}, false},
		{"tab in name", mentorship.Profile{Name: "Ada\tLovelace"}, false},
		{"DEL in name", mentorship.Profile{Name: "Ada\x7f"}, false},
		{"C1 control in name", mentorship.Profile{Name: "Ada\u0085"}, false},
		{"escape in name", mentorship.Profile{Name: "\x1b[31mAda"}, false},
		{"newline in skill", mentorship.Profile{Name: "A", Skills: []string{"go\nrust"}}, false},
		{"name not UTF-8", mentorship.Profile{Name: "Ad\xffa"}, false},
		{"bio not UTF-8", mentorship.Profile{Name: "A", Bio: "\xc3"}, false},
		{"skill not UTF-8", mentorship.Profile{Name: "A", Skills: []string{"\xff"}}, false},
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
		})
	}
}

func mustEncode(t testing.TB, p mentorship.Profile) []byte {
	t.Helper()
	b, err := p.Encode()
	if err != nil {
		t.Fatalf("Encode(%#v) error = %v", p, err)
	}
	return b
}

func TestEncode(t *testing.T) {
	tests := []struct {
		name string
		p    mentorship.Profile
		want string // hex
	}{
		{"name only", mentorship.Profile{Name: "Ada"}, "0a03416461"},
		{"all fields", mentorship.Profile{Name: "Ada", Bio: "Hi", Skills: []string{"go", "c"}}, "0a034164611202486 91a01631a02676f"},
		{"normalized first", mentorship.Profile{Name: " Ada ", Bio: " ", Skills: []string{"Go", "go", " "}}, "0a034164611a02676f"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := strings.ReplaceAll(tt.want, " ", "")
			if got := hex.EncodeToString(mustEncode(t, tt.p)); got != want {
				t.Errorf("Encode(%#v) = %s, want %s", tt.p, got, want)
			}
		})
	}
}

func TestEncodeInvalid(t *testing.T) {
	tests := []struct {
		name string
		p    mentorship.Profile
	}{
		{"no name", mentorship.Profile{Bio: "x"}},
		{"blank name", mentorship.Profile{Name: " \t "}},
		{"too many skills", mentorship.Profile{Name: "A", Skills: skills(31, "s")}},
		// Valid by Validate (limits count characters) but over the 8 KiB
		// payload cap every node enforces.
		{"over the payload cap", mentorship.Profile{Name: strings.Repeat("😀", 80), Bio: strings.Repeat("😀", 2000)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.p.Encode()
			if !errors.Is(err, mentorship.ErrInvalid) {
				t.Errorf("Encode(%s) = %d bytes, %v; want error %v", tt.name, len(b), err, mentorship.ErrInvalid)
			}
		})
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	tests := []mentorship.Profile{
		{Name: "Ada"},
		{Name: "Ada Lovelace", Bio: "Line one\n\tindented", Skills: []string{"go", "mathematics"}},
		{Name: "李小龍", Bio: strings.Repeat("武", 2000), Skills: skills(30, "功")},
		{Name: strings.Repeat("é", 80), Bio: strings.Repeat("ü", 2000), Skills: skills(30, strings.Repeat("ß", 17))},
	}
	for _, p := range tests {
		b := mustEncode(t, p)
		got, err := mentorship.DecodeProfile(b)
		if err != nil {
			t.Errorf("DecodeProfile(Encode(%.40q)) error = %v", p.Name, err)
			continue
		}
		if want := p.Normalize(); !profileEqual(got, want) {
			t.Errorf("DecodeProfile(Encode(p)) = %#v, want %#v", got, want)
		}
	}
}

// TestEncodeDecodeProperty: whatever Encode accepts, every node accepts
// back as the normalized profile.
func TestEncodeDecodeProperty(t *testing.T) {
	text := rapid.OneOf(rapid.String(), rapid.StringMatching(`[ \t\na-zA-Zé😀]{0,20}`))
	rapid.Check(t, func(t *rapid.T) {
		p := mentorship.Profile{
			Name:   text.Draw(t, "name"),
			Bio:    text.Draw(t, "bio"),
			Skills: rapid.SliceOfN(text, 0, 35).Draw(t, "skills"),
		}
		b, err := p.Encode()
		if err != nil {
			if !errors.Is(err, mentorship.ErrInvalid) {
				t.Fatalf("Encode(%#v) error = %v, want %v", p, err, mentorship.ErrInvalid)
			}
			return
		}
		got, err := mentorship.DecodeProfile(b)
		if err != nil {
			t.Fatalf("DecodeProfile(Encode(%#v)) error = %v", p, err)
		}
		if want := p.Normalize(); !profileEqual(got, want) {
			t.Fatalf("DecodeProfile(Encode(p)) = %#v, want %#v", got, want)
		}
		if again, err := got.Encode(); err != nil || string(again) != string(b) {
			t.Fatalf("Encode(DecodeProfile(b)) = %x, %v; want %x", again, err, b)
		}
	})
}

func TestDecodeProfileUnknownFields(t *testing.T) {
	base := mustEncode(t, mentorship.Profile{Name: "Ada", Bio: "Hi", Skills: []string{"go"}})
	tests := []struct {
		name  string
		extra func(e *pbwire.Encoder)
	}{
		{"varint field 99", func(e *pbwire.Encoder) { e.Uint(99, 7) }},
		{"bytes field 99", func(e *pbwire.Encoder) { e.String(99, "from the future") }},
		{"fields 15 and 99", func(e *pbwire.Encoder) { e.Uint(15, 1); e.BytesField(99, []byte{0}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e pbwire.Encoder
			tt.extra(&e)
			in := append(slices.Clone(base), e.Bytes()...)
			got, err := mentorship.DecodeProfile(in)
			want := mentorship.Profile{Name: "Ada", Bio: "Hi", Skills: []string{"go"}}
			if err != nil || !profileEqual(got, want) {
				t.Errorf("DecodeProfile(%x) = %#v, %v; want %#v, nil", in, got, err, want)
			}
		})
	}
}

func TestDecodeProfileErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string // hex
		also error  // a further error the result must wrap, if any
	}{
		{"empty: no name", "", nil},
		{"bio before name", "1202486 90a03416461", pbwire.ErrOrder},
		{"name twice", "0a03416461 0a03416461", pbwire.ErrOrder},
		{"skills not contiguous", "0a03416461 1a01 61 7801 1a0162", pbwire.ErrOrder},
		{"unknown field before known", "0a03416461 7801 1202486 9", pbwire.ErrOrder},
		{"empty name present", "0a00 0a03416461", pbwire.ErrNonCanonical},
		{"empty skill present", "0a03416461 1a00", pbwire.ErrNonCanonical},
		{"non-minimal length", "0a8300416461", pbwire.ErrNonCanonical},
		{"non-minimal unknown varint", "0a03416461 78 8100", pbwire.ErrNonCanonical},
		{"zero unknown varint", "0a03416461 7800", pbwire.ErrNonCanonical},
		{"unknown fixed32 field", "0a03416461 7d01020304", pbwire.ErrWireType},
		{"name as varint", "0801", pbwire.ErrWireType},
		{"name not UTF-8", "0a03 41ff61", pbwire.ErrInvalidUTF8},
		{"skill not UTF-8", "0a03416461 1a01 ff", pbwire.ErrInvalidUTF8},
		{"truncated", "0a0541", pbwire.ErrTruncated},
		{"name with newline", "0a03 410a61", nil},
		{"skill that is a newline", "0a03416461 1a01 0a", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := hex.DecodeString(strings.ReplaceAll(tt.in, " ", ""))
			if err != nil {
				t.Fatalf("bad hex: %v", err)
			}
			got, err := mentorship.DecodeProfile(in)
			if !errors.Is(err, mentorship.ErrInvalid) || (tt.also != nil && !errors.Is(err, tt.also)) {
				t.Errorf("DecodeProfile(%x) = %#v, %v; want error %v (%v)", in, got, err, mentorship.ErrInvalid, tt.also)
			}
			if err != nil && !profileEqual(got, mentorship.Profile{}) {
				t.Errorf("DecodeProfile(%x) with error returned %#v, want the zero Profile", in, got)
			}
		})
	}
}

func TestDecodeProfileLimits(t *testing.T) {
	var e pbwire.Encoder
	e.String(1, "Ada")
	e.Strings(3, skills(31, "s"))
	if _, err := mentorship.DecodeProfile(e.Bytes()); !errors.Is(err, mentorship.ErrInvalid) {
		t.Errorf("DecodeProfile(31 skills) error = %v, want %v", err, mentorship.ErrInvalid)
	}

	// Over 8 KiB is refused before decoding, even if the fields are valid.
	e = pbwire.Encoder{}
	e.String(1, "Ada")
	e.String(99, strings.Repeat("x", 8<<10))
	if _, err := mentorship.DecodeProfile(e.Bytes()); !errors.Is(err, mentorship.ErrInvalid) {
		t.Errorf("DecodeProfile(%d bytes) error = %v, want %v", len(e.Bytes()), err, mentorship.ErrInvalid)
	}
	// Exactly 8 KiB is fine.
	e = pbwire.Encoder{}
	e.String(1, "Ada")
	e.String(99, strings.Repeat("x", 8<<10-9))
	if n := len(e.Bytes()); n != 8<<10 {
		t.Fatalf("test payload is %d bytes, want %d", n, 8<<10)
	}
	if _, err := mentorship.DecodeProfile(e.Bytes()); err != nil {
		t.Errorf("DecodeProfile(%d bytes) error = %v, want nil", len(e.Bytes()), err)
	}
}

func TestValidatePayload(t *testing.T) {
	profile := mustEncode(t, mentorship.Profile{Name: "Ada"})
	tests := []struct {
		name    string
		kind    string
		key     string
		deleted bool
		payload []byte
		want    error
	}{
		{"profile", mentorship.KindProfile, "", false, profile, nil},
		{"profile tombstone", mentorship.KindProfile, "", true, nil, nil},
		{"profile with a key", mentorship.KindProfile, "x", false, profile, mentorship.ErrInvalid},
		{"profile tombstone with a key", mentorship.KindProfile, "x", true, nil, mentorship.ErrInvalid},
		{"profile without payload", mentorship.KindProfile, "", false, nil, mentorship.ErrInvalid},
		{"profile with bad payload", mentorship.KindProfile, "", false, []byte{0x08, 0x01}, mentorship.ErrInvalid},
		{"unknown kind", "goal", "g1", false, []byte("anything"), mentorship.ErrUnknownKind},
		{"unknown kind tombstone", "goal", "g1", true, nil, mentorship.ErrUnknownKind},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := mentorship.Kinds{}.ValidatePayload(tt.kind, tt.key, tt.deleted, tt.payload)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("ValidatePayload(%q, %q, %v, %x) = %v, want %v", tt.kind, tt.key, tt.deleted, tt.payload, err, tt.want)
			}
			if tt.want == mentorship.ErrUnknownKind && errors.Is(err, mentorship.ErrInvalid) {
				t.Errorf("ValidatePayload(%q) = %v, which wraps ErrInvalid too; unknown kinds must not look invalid", tt.kind, err)
			}
		})
	}
}

func TestValidateRefusesBidiControls(t *testing.T) {
	for _, name := range []string{"Ada\u202Eecilà", "\u2067Ada", "Ada\u200F"} {
		err := mentorship.Profile{Name: name}.Validate()
		if !errors.Is(err, mentorship.ErrInvalid) {
			t.Errorf("Validate(name %q) = %v, want ErrInvalid", name, err)
		}
	}
}
