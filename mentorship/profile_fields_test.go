package mentorship_test

import (
	"encoding/hex"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/mentormesh/mentormesh/internal/pbwire"
	"github.com/mentormesh/mentormesh/mentorship"
)

// fullProfile sets every field.
func fullProfile() mentorship.Profile {
	return mentorship.Profile{
		Name:          "Ada",
		Bio:           "Facilitates circles.",
		Skills:        []string{"facilitation"},
		Pronouns:      "she/her",
		Languages:     []string{"de", "en"},
		TimeZone:      "Europe/Berlin",
		Location:      "Berlin",
		Interests:     []string{"feedback"},
		Experience:    mentorship.ExperienceTrainer,
		Roles:         []mentorship.Role{mentorship.RoleMentor, mentorship.RolePeer},
		Capacity:      3,
		Closed:        true,
		HoursPerMonth: 8,
		Links:         []string{"https://example.org/ada"},
	}
}

func TestEncodeAllFields(t *testing.T) {
	got := hex.EncodeToString(mustEncode(t, fullProfile()))
	want := strings.Join([]string{
		"0a03416461", // 1 name
		"1214466163696c69746174657320636972636c65732e", // 2 bio
		"1a0c666163696c69746174696f6e",                 // 3 skills
		"22077368652f686572",                           // 4 pronouns
		"2a026465 2a02656e",                            // 5 languages
		"320d4575726f70652f4265726c696e",               // 6 time zone
		"3a064265726c696e",                             // 7 location
		"4208666565646261636b",                         // 8 interests
		"4804",                                         // 9 experience: trainer
		"5001 5003",                                    // 10 roles: mentor, peer
		"5803",                                         // 11 capacity
		"6001",                                         // 12 closed
		"6808",                                         // 13 hours per month
		"721768747470733a2f2f6578616d706c652e6f72672f616461", // 14 links
	}, "")
	want = strings.ReplaceAll(want, " ", "")
	if got != want {
		t.Errorf("Encode(fullProfile()) =\n%s, want\n%s", got, want)
	}
	back, err := mentorship.DecodeProfile(mustEncode(t, fullProfile()))
	if err != nil || !profileEqual(back, fullProfile()) {
		t.Errorf("DecodeProfile(Encode(fullProfile())) = %#v, %v; want %#v", back, err, fullProfile())
	}
}

// TestOldProfilesStillDecode: a profile written before fields 4 to 14
// existed (the test vector's payload) decodes as before.
func TestOldProfilesStillDecode(t *testing.T) {
	data, err := os.ReadFile("testdata/fuzz/FuzzDecodeProfile/vector1-payload")
	if err != nil {
		t.Fatal(err)
	}
	payload := []byte("\x0a\x0cAda Lovelace\x12*Writes programs for the Analytical Engine.\x1a\x02go\x1a\x0bmathematics")
	if !strings.Contains(string(data), `\x1a\vmathematics`) && !strings.Contains(string(data), `\x1a\x0bmathematics`) {
		t.Fatalf("seed file changed; update this test: %s", data)
	}
	p, err := mentorship.DecodeProfile(payload)
	want := mentorship.Profile{Name: "Ada Lovelace", Bio: "Writes programs for the Analytical Engine.", Skills: []string{"go", "mathematics"}}
	if err != nil || !reflect.DeepEqual(p, want) {
		t.Fatalf("DecodeProfile(old payload) = %#v, %v; want %#v", p, err, want)
	}
	if again := mustEncode(t, p); string(again) != string(payload) {
		t.Errorf("Encode(old profile) = %x, want the original bytes %x", again, payload)
	}
}

func TestNormalizeNewFields(t *testing.T) {
	in := mentorship.Profile{
		Name:      "Ada",
		Pronouns:  "  they/them ",
		Languages: []string{" EN", "de", "en", ""},
		TimeZone:  " utc+5:30 ",
		Location:  " Berlin ",
		Interests: []string{"Meeting  Evaluation", "feedback", "FEEDBACK"},
		Roles:     []mentorship.Role{mentorship.RolePeer, mentorship.RoleMentor, mentorship.RolePeer},
		Links:     []string{" HTTPS://example.org/A ", "https://example.org/A", "http://b.example/"},
	}
	want := mentorship.Profile{
		Name:      "Ada",
		Pronouns:  "they/them",
		Languages: []string{"de", "en"},
		TimeZone:  "UTC+05:30",
		Location:  "Berlin",
		Interests: []string{"feedback", "meeting evaluation"},
		Roles:     []mentorship.Role{mentorship.RoleMentor, mentorship.RolePeer},
		Links:     []string{"https://example.org/A", "http://b.example/"},
	}
	if got := in.Normalize(); !reflect.DeepEqual(got, want) {
		t.Errorf("Normalize() =\n%#v, want\n%#v", got, want)
	}
}

func TestNormalizeTimeZone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Europe/Berlin", "Europe/Berlin"},
		{" America/Argentina/Buenos_Aires ", "America/Argentina/Buenos_Aires"},
		{"utc", "UTC"},
		{"UTC+0", "UTC"},
		{"UTC-00:00", "UTC"},
		{"UTC+5", "UTC+05:00"},
		{"UTC+0530", "UTC+05:30"},
		{"UTC-3:30", "UTC-03:30"},
		{"UTC+14", "UTC+14:00"},
		{"UTC+15", "UTC+15"}, // invalid: kept for Validate to refuse
		{"Etc/GMT+5", "Etc/GMT+5"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := mentorship.NormalizeTimeZone(tt.in); got != tt.want {
			t.Errorf("NormalizeTimeZone(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCheckTimeZone(t *testing.T) {
	tests := []struct {
		tz string
		ok bool
	}{
		{"Europe/Berlin", true},
		{"UTC", true},
		{"GMT", true},
		{"EST5EDT", true},
		{"Etc/GMT-14", true},
		{"America/Port-au-Prince", true},
		{"America/Argentina/ComodRivadavia", true},
		{"UTC+05:30", true},
		{"UTC-12:00", true},
		{"UTC+14:00", true},
		{"Mars/Olympus_Mons", true}, // well-formed, unknown: matching treats it as unknown
		{"UTC-12:30", false},
		{"UTC+14:01", false},
		{"UTC+05:60", false},
		{"UTC+5:3", false},
		{"UTC+", false},
		{"UTC+123", false},
		// Without a colon: one or two hour digits, or exactly four (HHMM).
		{"UTC+5", true},
		{"UTC-05", true},
		{"UTC+0530", true},
		{"utc+5:30", true},
		{"UTC+530", false},
		{"UTC+05300", false},
		{"UTC+005:30", false},
		{"UTC+:30", false},
		{"UTC++5", false},
		{"UTC+-5", false},
		{"Local", false},
		{"/etc/passwd", false},
		{"Europe/../../etc/passwd", false},
		{"Europe//Berlin", false},
		{"Europe/Berlin/", false},
		{"1Europe/Berlin", false},
		{"Europe/Berlin Mitte", false},
		{"Europe/Bérlin", false},
		{"a/b/c/d/e", false},
		{strings.Repeat("A", 65), false},
	}
	for _, tt := range tests {
		err := mentorship.CheckTimeZone(tt.tz)
		if tt.ok != (err == nil) || (err != nil && !errors.Is(err, mentorship.ErrInvalid)) {
			t.Errorf("CheckTimeZone(%q) = %v, want ok=%v", tt.tz, err, tt.ok)
		}
	}
}

func TestCheckLink(t *testing.T) {
	tests := []struct {
		link string
		ok   bool
	}{
		{"https://example.org", true},
		{"https://example.org/", true},
		{"http://example.org:8080/path?q=1&r=a%20b#frag", true},
		{"https://xn--bcher-kva.example/", true},
		{"https://192.0.2.1/", true},
		{"https://[2001:db8::1]:443/x", true},
		{"https://sub.example.org/~ada/(notes)", true},
		{"ftp://example.org", false},
		{"javascript:alert(1)", false},
		{"https://", false},
		{"https:///path", false},
		{"https://localhost/", false},
		{"https://bank.example@evil.example/", false},
		{"https://user:pass@example.org/", false},
		{"https://exa mple.org/", false},
		{"https://example.org/a b", false},
		{"https://example.org/\x00", false},
		{"https://bücher.example/", false},
		{"https://example.org/ü", false},
		{"https://example.org/%zz", false},
		{"https://example.org/%4", false},
		{"https://example.org:0/", false},
		{"https://example.org:65536/", false},
		{"https://example.org:/", false},
		{"https://example.org:+80/", false},
		{"https://-example.org/", false},
		{"https://example..org/", false},
		{"https://[::1/", false},
		{"https://[zz::1]/", false},
		// A bracketed host is parsed as an IPv6 address (RFC 4291 2.2),
		// not only checked for its characters.
		{"https://[::]/", true},
		{"https://[::1]/", true},
		{"https://[2001:DB8::1]/", true},
		{"https://[1:2:3:4:5:6:7:8]/", true},
		{"https://[1:2:3:4:5:6:7::]/", true},
		{"https://[::ffff:192.0.2.1]/", true},
		{"https://[1:2:3:4:5:6:192.0.2.1]/", true},
		{"https://[:::::]/", false},
		{"https://[:]/", false},
		{"https://[1::2::3]/", false},
		{"https://[1:2:3:4:5:6:7:8:9]/", false},
		{"https://[1:2:3:4:5:6:7:8::]/", false},
		{"https://[1:2:3:4:5:6:7]/", false},
		{"https://[12345::1]/", false},
		{"https://[::192.0.2.256]/", false},
		{"https://[::01.2.3.4]/", false},
		{"https://[1.2.3.4::]/", false},
		{"https://[192.0.2.1]/", false},
		{"https://[fe80::1%25eth0]/", false},
		{"https://[]/", false},
		// A host name is at most 253 bytes.
		{"https://" + strings.Repeat("a", 59) + "." + strings.Repeat("b.", 95) + "org/", true},
		{"https://" + strings.Repeat("a", 60) + "." + strings.Repeat("b.", 95) + "org/", false},
		{"https://example.org/<script>", false},
		{"https://example.org/" + strings.Repeat("a", 300), false},
		{"HTTPS://example.org", false}, // Normalize lowercases the scheme first
	}
	for _, tt := range tests {
		err := mentorship.CheckLink(tt.link)
		if tt.ok != (err == nil) || (err != nil && !errors.Is(err, mentorship.ErrInvalid)) {
			t.Errorf("CheckLink(%q) = %v, want ok=%v", tt.link, err, tt.ok)
		}
	}
}

func TestCheckLanguage(t *testing.T) {
	for _, l := range []string{"en", "de", "gsw", "zza"} {
		if err := mentorship.CheckLanguage(l); err != nil {
			t.Errorf("CheckLanguage(%q) = %v, want nil", l, err)
		}
	}
	for _, l := range []string{"", "e", "EN", "engl", "en-GB", "e1", "ü", "en "} {
		if err := mentorship.CheckLanguage(l); !errors.Is(err, mentorship.ErrInvalid) {
			t.Errorf("CheckLanguage(%q) = %v, want ErrInvalid", l, err)
		}
	}
}

func TestValidateNewFields(t *testing.T) {
	with := func(f func(p *mentorship.Profile)) mentorship.Profile {
		p := fullProfile()
		f(&p)
		return p
	}
	tests := []struct {
		name string
		p    mentorship.Profile
		ok   bool
	}{
		{"all fields", fullProfile(), true},
		{"pronouns 32 characters", with(func(p *mentorship.Profile) { p.Pronouns = strings.Repeat("é", 32) }), true},
		{"pronouns 33 characters", with(func(p *mentorship.Profile) { p.Pronouns = strings.Repeat("é", 33) }), false},
		{"pronouns with newline", with(func(p *mentorship.Profile) { p.Pronouns = "she\nher" }), false},
		{"10 languages", with(func(p *mentorship.Profile) { p.Languages = strings.Fields("aa ab ac ad ae af ag ah ai aj") }), true},
		{"11 languages", with(func(p *mentorship.Profile) { p.Languages = strings.Fields("aa ab ac ad ae af ag ah ai aj ak") }), false},
		{"bad language", with(func(p *mentorship.Profile) { p.Languages = []string{"english"} }), false},
		{"offset time zone", with(func(p *mentorship.Profile) { p.TimeZone = "UTC-03:00" }), true},
		{"bad time zone", with(func(p *mentorship.Profile) { p.TimeZone = "Berlin, Germany" }), false},
		{"location 64 characters", with(func(p *mentorship.Profile) { p.Location = strings.Repeat("x", 64) }), true},
		{"location 65 characters", with(func(p *mentorship.Profile) { p.Location = strings.Repeat("x", 65) }), false},
		{"location with bidi override", with(func(p *mentorship.Profile) { p.Location = "Berlin\u202e" }), false},
		{"30 interests", with(func(p *mentorship.Profile) { p.Interests = skills(30, "i") }), true},
		{"31 interests", with(func(p *mentorship.Profile) { p.Interests = skills(31, "i") }), false},
		{"interest 49 characters", with(func(p *mentorship.Profile) { p.Interests = []string{strings.Repeat("x", 49)} }), false},
		{"unknown experience", with(func(p *mentorship.Profile) { p.Experience = 5 }), false},
		{"unknown role", with(func(p *mentorship.Profile) { p.Roles = []mentorship.Role{4} }), false},
		{"role zero", with(func(p *mentorship.Profile) { p.Roles = []mentorship.Role{0} }), false},
		{"capacity 50", with(func(p *mentorship.Profile) { p.Capacity = 50 }), true},
		{"capacity 51", with(func(p *mentorship.Profile) { p.Capacity = 51 }), false},
		{"capacity -1", with(func(p *mentorship.Profile) { p.Capacity = -1 }), false},
		{"hours 200", with(func(p *mentorship.Profile) { p.HoursPerMonth = 200 }), true},
		{"hours 201", with(func(p *mentorship.Profile) { p.HoursPerMonth = 201 }), false},
		{"hours -1", with(func(p *mentorship.Profile) { p.HoursPerMonth = -1 }), false},
		{"5 links", with(func(p *mentorship.Profile) {
			p.Links = []string{"https://a.example", "https://b.example", "https://c.example", "https://d.example", "https://e.example"}
		}), true},
		{"6 links", with(func(p *mentorship.Profile) {
			p.Links = []string{"https://a.example", "https://b.example", "https://c.example", "https://d.example", "https://e.example", "https://f.example"}
		}), false},
		{"bad link", with(func(p *mentorship.Profile) { p.Links = []string{"example.org"} }), false},
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
			if _, err := tt.p.Encode(); tt.ok != (err == nil) {
				t.Errorf("Encode(%s) error = %v, want ok=%v", tt.name, err, tt.ok)
			}
		})
	}
}

// TestDecodeNewFields checks what a node accepts from peers.
func TestDecodeNewFields(t *testing.T) {
	enc := func(f func(e *pbwire.Encoder)) []byte {
		var e pbwire.Encoder
		e.String(1, "Ada")
		f(&e)
		return e.Bytes()
	}
	tests := []struct {
		name string
		in   []byte
		want *mentorship.Profile // nil: refused
	}{
		{"unknown experience skipped", enc(func(e *pbwire.Encoder) { e.Uint(9, 9) }), &mentorship.Profile{Name: "Ada"}},
		{"unknown role skipped", enc(func(e *pbwire.Encoder) { e.Uint(10, 1); e.Uint(10, 7) }),
			&mentorship.Profile{Name: "Ada", Roles: []mentorship.Role{mentorship.RoleMentor}}},
		{"roles packed", enc(func(e *pbwire.Encoder) { e.BytesField(10, []byte{1, 3}) }), nil},
		{"roles not contiguous", enc(func(e *pbwire.Encoder) { e.Uint(10, 1); e.Uint(11, 1); e.Uint(10, 2) }), nil},
		{"17 copies of one role", enc(func(e *pbwire.Encoder) {
			for range 17 {
				e.Uint(10, 1)
			}
		}), nil},
		// Every element of roles counts toward the 16, unknown values
		// included, and no value may repeat (docs/PROTOCOL.md 6.1).
		{"16 role values, 13 unknown", enc(func(e *pbwire.Encoder) {
			for v := range uint64(16) {
				e.Uint(10, v+1)
			}
		}), &mentorship.Profile{Name: "Ada", Roles: []mentorship.Role{mentorship.RoleMentor, mentorship.RoleMentee, mentorship.RolePeer}}},
		{"17 role values, 14 unknown", enc(func(e *pbwire.Encoder) {
			for v := range uint64(17) {
				e.Uint(10, v+1)
			}
		}), nil},
		{"17 unknown role values", enc(func(e *pbwire.Encoder) {
			for v := range uint64(17) {
				e.Uint(10, v+100)
			}
		}), nil},
		{"role listed twice", enc(func(e *pbwire.Encoder) { e.Uint(10, 1); e.Uint(10, 1) }), nil},
		{"role listed twice, apart", enc(func(e *pbwire.Encoder) { e.Uint(10, 1); e.Uint(10, 3); e.Uint(10, 1) }), nil},
		{"unknown role listed twice", enc(func(e *pbwire.Encoder) { e.Uint(10, 7); e.Uint(10, 7) }), nil},
		{"roles out of order", enc(func(e *pbwire.Encoder) { e.Uint(10, 3); e.Uint(10, 1) }),
			&mentorship.Profile{Name: "Ada", Roles: []mentorship.Role{mentorship.RolePeer, mentorship.RoleMentor}}},
		{"capacity 50", enc(func(e *pbwire.Encoder) { e.Uint(11, 50) }), &mentorship.Profile{Name: "Ada", Capacity: 50}},
		{"capacity 51", enc(func(e *pbwire.Encoder) { e.Uint(11, 51) }), nil},
		{"capacity 2^64-1", enc(func(e *pbwire.Encoder) { e.Uint(11, 1<<64-1) }), nil},
		{"hours 201", enc(func(e *pbwire.Encoder) { e.Uint(13, 201) }), nil},
		{"closed 2", enc(func(e *pbwire.Encoder) { e.Uint(12, 2) }), nil},
		{"closed as bytes", enc(func(e *pbwire.Encoder) { e.String(12, "x") }), nil},
		{"capacity as bytes", enc(func(e *pbwire.Encoder) { e.String(11, "x") }), nil},
		{"11 languages", enc(func(e *pbwire.Encoder) { e.Strings(5, strings.Fields("aa ab ac ad ae af ag ah ai aj ak")) }), nil},
		{"uppercase language", enc(func(e *pbwire.Encoder) { e.String(5, "EN") }), nil},
		{"bad time zone", enc(func(e *pbwire.Encoder) { e.String(6, "../zoneinfo") }), nil},
		{"6 links", enc(func(e *pbwire.Encoder) {
			e.Strings(14, []string{"https://a.ex", "https://b.ex", "https://c.ex", "https://d.ex", "https://e.ex", "https://f.ex"})
		}), nil},
		{"bad link", enc(func(e *pbwire.Encoder) { e.String(14, "javascript:alert(1)") }), nil},
		{"links as varint", enc(func(e *pbwire.Encoder) { e.Uint(14, 1) }), nil},
		{"unknown field 15 after links", enc(func(e *pbwire.Encoder) { e.String(14, "https://a.ex"); e.Uint(15, 1) }),
			&mentorship.Profile{Name: "Ada", Links: []string{"https://a.ex"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mentorship.DecodeProfile(tt.in)
			if tt.want == nil {
				if !errors.Is(err, mentorship.ErrInvalid) {
					t.Errorf("DecodeProfile(%x) = %#v, %v; want ErrInvalid", tt.in, got, err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, *tt.want) {
				t.Errorf("DecodeProfile(%x) = %#v, %v; want %#v", tt.in, got, err, *tt.want)
			}
		})
	}
}

func TestParseEnums(t *testing.T) {
	for i, n := range mentorship.ExperienceNames() {
		e, err := mentorship.ParseExperience(" " + strings.ToUpper(n))
		if err != nil || e != mentorship.Experience(i+1) || e.String() != n {
			t.Errorf("ParseExperience(%q) = %v, %v; want %d", n, e, err, i+1)
		}
	}
	if e, err := mentorship.ParseExperience("practicing"); err != nil || e != mentorship.ExperiencePractising {
		t.Errorf("ParseExperience(practicing) = %v, %v; want practising", e, err)
	}
	if e, err := mentorship.ParseExperience(""); err != nil || e != mentorship.ExperienceUnset {
		t.Errorf("ParseExperience(\"\") = %v, %v; want unset", e, err)
	}
	if _, err := mentorship.ParseExperience("guru"); !errors.Is(err, mentorship.ErrInvalid) || !strings.Contains(err.Error(), "trainer") {
		t.Errorf("ParseExperience(guru) error = %v, want ErrInvalid listing the levels", err)
	}
	for i, n := range mentorship.RoleNames() {
		r, err := mentorship.ParseRole(n)
		if err != nil || r != mentorship.Role(i+1) || r.String() != n {
			t.Errorf("ParseRole(%q) = %v, %v; want %d", n, r, err, i+1)
		}
	}
	for _, bad := range []string{"", "coach", "role(1)"} {
		if _, err := mentorship.ParseRole(bad); !errors.Is(err, mentorship.ErrInvalid) {
			t.Errorf("ParseRole(%q) error = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestNormalizeTag(t *testing.T) {
	tests := []struct{ in, want string }{
		{"facilitation", "facilitation"},
		{"consent decision-making", "consent decision-making"},
		{"Facilitation", "facilitation"},
		{" facilitation", "facilitation"},
		{"facilitation ", "facilitation"},
		{"consent  decision", "consent decision"},
		{"consent\tdecision", "consent decision"},
		{"consent\u00a0decision", "consent decision"},
		{"ÉCOLE", "école"},
		{"", ""},
		{"   ", ""},
	}
	for _, tt := range tests {
		if got := mentorship.NormalizeTag(tt.in); got != tt.want {
			t.Errorf("NormalizeTag(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
