package mentorship_test

import (
	"encoding/hex"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/mentormesh/mentormesh/internal/pbwire"
	"github.com/mentormesh/mentormesh/mentorship"
)

var (
	dec1 = time.Date(2026, 12, 1, 18, 0, 0, 0, time.UTC)
	dec2 = time.Date(2026, 12, 2, 18, 0, 0, 0, time.UTC)
)

func guide(title string) mentorship.Resource {
	return mentorship.Resource{Type: mentorship.ResourceGuide, Title: title, URL: "https://example.org/g"}
}

func event() mentorship.Resource {
	return mentorship.Resource{Type: mentorship.ResourceEvent, Title: "Circle meetup", Text: "Bring a proposal.", StartsAt: dec1, Place: "Berlin"}
}

// with returns r changed by f (so table rows read as "a guide, but ...").
func with(r mentorship.Resource, f func(*mentorship.Resource)) mentorship.Resource {
	f(&r)
	return r
}

func resourceEqual(a, b mentorship.Resource) bool {
	return a.Type == b.Type && a.Title == b.Title && a.URL == b.URL && a.Text == b.Text &&
		a.Description == b.Description && slices.Equal(a.Tags, b.Tags) && a.Language == b.Language &&
		a.StartsAt.Equal(b.StartsAt) && a.EndsAt.Equal(b.EndsAt) && a.Place == b.Place && a.Link == b.Link
}

func TestParseResourceType(t *testing.T) {
	tests := []struct {
		in   string
		want mentorship.ResourceType
	}{
		{"article", mentorship.ResourceArticle},
		{"Video", mentorship.ResourceVideo},
		{"book", mentorship.ResourceBook},
		{"manual", mentorship.ResourceBook},
		{"guide", mentorship.ResourceGuide},
		{"case-study", mentorship.ResourceCaseStudy},
		{"Case Study", mentorship.ResourceCaseStudy},
		{"case_study", mentorship.ResourceCaseStudy},
		{"event", mentorship.ResourceEvent},
		{" template ", mentorship.ResourceTemplate},
		{"", 0},
		{"podcast", 0},
		{"other", 0},
	}
	for _, tt := range tests {
		got, err := mentorship.ParseResourceType(tt.in)
		if got != tt.want || (tt.want == 0) != (err != nil) {
			t.Errorf("ParseResourceType(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if err != nil && !errors.Is(err, mentorship.ErrInvalid) {
			t.Errorf("ParseResourceType(%q) error = %v, want %v", tt.in, err, mentorship.ErrInvalid)
		}
	}
	for _, name := range mentorship.ResourceTypeNames() {
		if typ, err := mentorship.ParseResourceType(name); err != nil || typ.String() != name {
			t.Errorf("ParseResourceType(%q).String() = %q, %v; want the name back", name, typ, err)
		}
	}
	if s := mentorship.ResourceType(42).String(); s != "other" {
		t.Errorf("ResourceType(42).String() = %q, want other", s)
	}
}

func TestResourceNormalize(t *testing.T) {
	tests := []struct {
		name string
		in   mentorship.Resource
		want mentorship.Resource
	}{
		{"already normal", guide("G"), guide("G")},
		{"trimmed text", mentorship.Resource{Title: " T\t", URL: " https://x.org ", Text: "\n a\r\nb \n", Description: " d\r\n", Place: " P "},
			mentorship.Resource{Title: "T", URL: "https://x.org", Text: "a\nb", Description: "d", Place: "P"}},
		{"tags like skills", mentorship.Resource{Tags: []string{"Consent ", " consent", "Circle   Structure", "", "a"}},
			mentorship.Resource{Tags: []string{"a", "circle structure", "consent"}}},
		{"language lowercased", mentorship.Resource{Language: " EN "}, mentorship.Resource{Language: "en"}},
		{"URL schemes lowercased", mentorship.Resource{URL: "HTTPS://Example.org/A", Link: "Http://x.org/B"},
			mentorship.Resource{URL: "https://Example.org/A", Link: "http://x.org/B"}},
		{"times to UTC milliseconds", mentorship.Resource{StartsAt: dec1.Add(123456789).In(time.FixedZone("X", 3600))},
			mentorship.Resource{StartsAt: dec1.Add(123 * time.Millisecond)}},
		{"zero", mentorship.Resource{}, mentorship.Resource{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in.Normalize()
			if !resourceEqual(got, tt.want) || got.StartsAt.Location() != tt.want.StartsAt.Location() {
				t.Errorf("Normalize() = %#v, want %#v", got, tt.want)
			}
			if again := got.Normalize(); !resourceEqual(again, got) {
				t.Errorf("Normalize is not idempotent: %#v, then %#v", got, again)
			}
		})
	}
}

func TestResourceValidate(t *testing.T) {
	many := func(n int) []string {
		s := make([]string, n)
		for i := range s {
			s[i] = "tag" + strings.Repeat("x", i)
		}
		return s
	}
	tests := []struct {
		name    string
		r       mentorship.Resource
		mention string // "" if valid
	}{
		{"guide with URL", guide("G"), ""},
		{"article with text only", mentorship.Resource{Type: mentorship.ResourceArticle, Title: "A", Text: "line\n\tindented"}, ""},
		{"every type", with(guide("G"), func(r *mentorship.Resource) { r.Type = mentorship.ResourceTemplate }), ""},
		{"future type", with(guide("G"), func(r *mentorship.Resource) { r.Type = 127; r.Place = "anywhere" }), ""},
		{"type out of range", with(guide("G"), func(r *mentorship.Resource) { r.Type = 128 }), "out of range"},
		{"no type", with(guide("G"), func(r *mentorship.Resource) { r.Type = 0 }), "type is required"},
		{"no title", guide(""), "title is required"},
		{"title 200 characters", guide(strings.Repeat("é", 200)), ""},
		{"title 201 characters", guide(strings.Repeat("é", 201)), "title is 201 characters"},
		{"title with newline", guide("a\nb"), "title contains a control"},
		{"title with bidi override", guide("a\u202eb"), "bidirectional"},
		{"no URL nor text", mentorship.Resource{Type: mentorship.ResourceBook, Title: "B", Description: "d"}, "URL or a short text"},
		{"text 4000", with(guide("G"), func(r *mentorship.Resource) { r.Text = strings.Repeat("ü", 4000) }), ""},
		{"text 4001", with(guide("G"), func(r *mentorship.Resource) { r.Text = strings.Repeat("ü", 4001) }), "text is 4001"},
		{"text with CR", with(guide("G"), func(r *mentorship.Resource) { r.Text = "a\rb" }), "control"},
		{"description 2000", with(guide("G"), func(r *mentorship.Resource) { r.Description = strings.Repeat("d", 2000) }), ""},
		{"description 2001", with(guide("G"), func(r *mentorship.Resource) { r.Description = strings.Repeat("d", 2001) }), "description is 2001"},
		{"description not UTF-8", with(guide("G"), func(r *mentorship.Resource) { r.Description = "\xff" }), "UTF-8"},
		{"http URL", with(guide("G"), func(r *mentorship.Resource) { r.URL = "http://example.org" }), ""},
		{"URL with path, query, fragment", with(guide("G"), func(r *mentorship.Resource) { r.URL = "https://x.org:8080/a/b?c=d#e" }), ""},
		{"IRI URL", with(guide("G"), func(r *mentorship.Resource) { r.URL = "https://例え.jp/パス" }), ""},
		{"ftp URL", with(guide("G"), func(r *mentorship.Resource) { r.URL = "ftp://x.org/f" }), "http:// or https://"},
		{"javascript URL", with(guide("G"), func(r *mentorship.Resource) { r.URL = "javascript:alert(1)" }), "http:// or https://"},
		{"URL without scheme", with(guide("G"), func(r *mentorship.Resource) { r.URL = "example.org" }), "http:// or https://"},
		{"URL without host", with(guide("G"), func(r *mentorship.Resource) { r.URL = "https:///path" }), "no host"},
		{"URL with user", with(guide("G"), func(r *mentorship.Resource) { r.URL = "https://good.org@evil.org/" }), "user name"},
		{"URL with @ in path", with(guide("G"), func(r *mentorship.Resource) { r.URL = "https://x.org/@ada" }), ""},
		{"URL with space", with(guide("G"), func(r *mentorship.Resource) { r.URL = "https://x.org/a b" }), "white space"},
		{"URL with no-break space", with(guide("G"), func(r *mentorship.Resource) { r.URL = "https://x.org/a\u00a0b" }), "white space"},
		{"URL 2048", with(guide("G"), func(r *mentorship.Resource) { r.URL = "https://x.org/" + strings.Repeat("a", 2048-14) }), ""},
		{"URL 2049", with(guide("G"), func(r *mentorship.Resource) { r.URL = "https://x.org/" + strings.Repeat("a", 2049-14) }), "URL is 2049"},
		{"20 tags", with(guide("G"), func(r *mentorship.Resource) { r.Tags = many(20) }), ""},
		{"21 tags", with(guide("G"), func(r *mentorship.Resource) { r.Tags = many(21) }), "21 tags"},
		{"tag 48", with(guide("G"), func(r *mentorship.Resource) { r.Tags = []string{strings.Repeat("ß", 48)} }), ""},
		{"tag 49", with(guide("G"), func(r *mentorship.Resource) { r.Tags = []string{strings.Repeat("ß", 49)} }), "tag is 49"},
		{"empty tag", with(guide("G"), func(r *mentorship.Resource) { r.Tags = []string{""} }), "empty tag"},
		{"language en", with(guide("G"), func(r *mentorship.Resource) { r.Language = "en" }), ""},
		{"language fra", with(guide("G"), func(r *mentorship.Resource) { r.Language = "fra" }), ""},
		{"language uppercase", with(guide("G"), func(r *mentorship.Resource) { r.Language = "EN" }), "ISO 639"},
		{"language one letter", with(guide("G"), func(r *mentorship.Resource) { r.Language = "e" }), "ISO 639"},
		{"language with region", with(guide("G"), func(r *mentorship.Resource) { r.Language = "pt-br" }), "ISO 639"},
		{"language name", with(guide("G"), func(r *mentorship.Resource) { r.Language = "english" }), "ISO 639"},
		{"event", event(), ""},
		{"event online", with(event(), func(r *mentorship.Resource) { r.Place = ""; r.Link = "https://meet.example/x" }), ""},
		{"event with end", with(event(), func(r *mentorship.Resource) { r.EndsAt = dec2 }), ""},
		{"event ending as it starts", with(event(), func(r *mentorship.Resource) { r.EndsAt = dec1 }), ""},
		{"event ending before it starts", with(event(), func(r *mentorship.Resource) { r.StartsAt = dec2; r.EndsAt = dec1 }), "before it starts"},
		{"event without start", with(event(), func(r *mentorship.Resource) { r.StartsAt = time.Time{} }), "needs a start time"},
		{"event without place or link", with(event(), func(r *mentorship.Resource) { r.Place = "" }), "place or an online link"},
		{"event end without start", with(guide("G"), func(r *mentorship.Resource) { r.Type = 100; r.EndsAt = dec1 }), "needs a start time"},
		{"event with bad link", with(event(), func(r *mentorship.Resource) { r.Link = "meet.example" }), "online link"},
		{"event place 201", with(event(), func(r *mentorship.Resource) { r.Place = strings.Repeat("p", 201) }), "place is 201"},
		{"event at the epoch", with(event(), func(r *mentorship.Resource) { r.StartsAt = time.UnixMilli(0) }), "outside 1970"},
		{"event before 1970", with(event(), func(r *mentorship.Resource) { r.StartsAt = time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC) }), "outside 1970"},
		{"event after 9999", with(event(), func(r *mentorship.Resource) { r.StartsAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }), "outside 1970"},
		{"guide with a start", with(guide("G"), func(r *mentorship.Resource) { r.StartsAt = dec1 }), "only events"},
		{"guide with a place", with(guide("G"), func(r *mentorship.Resource) { r.Place = "Berlin" }), "only events"},
		{"video with a link", with(guide("G"), func(r *mentorship.Resource) { r.Type = mentorship.ResourceVideo; r.Link = "https://x.org" }), "only events"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.r.Validate()
			if tt.mention == "" {
				if err != nil {
					t.Errorf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, mentorship.ErrInvalid) || !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("Validate() = %v, want %v mentioning %q", err, mentorship.ErrInvalid, tt.mention)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "invalid resource: ") {
				t.Errorf("Validate() = %q, want a message starting %q", err, "invalid resource: ")
			}
		})
	}
}

func mustEncodeResource(t testing.TB, r mentorship.Resource) []byte {
	t.Helper()
	b, err := r.Encode()
	if err != nil {
		t.Fatalf("Encode(%#v) error = %v", r, err)
	}
	return b
}

func TestResourceEncode(t *testing.T) {
	tests := []struct {
		name string
		r    mentorship.Resource
		want string // hex
	}{
		{"minimal", mentorship.Resource{Type: mentorship.ResourceArticle, Title: "A", Text: "t"}, "0801 120141 220174"},
		{"all but event fields", mentorship.Resource{Type: mentorship.ResourceGuide, Title: "G", URL: "http://x", Text: "t", Description: "d",
			Tags: []string{"b", "a"}, Language: "en"},
			"0804 120147 1a08687474703a2f2f78 220174 2a0164 320161 320162 3a02656e"},
		{"event", mentorship.Resource{Type: mentorship.ResourceEvent, Title: "E", Text: "t", StartsAt: time.UnixMilli(1000), EndsAt: time.UnixMilli(2000),
			Place: "P", Link: "http://x"},
			"0806 120145 220174 40e807 48d00f 520150 5a08687474703a2f2f78"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := strings.ReplaceAll(tt.want, " ", "")
			if got := hex.EncodeToString(mustEncodeResource(t, tt.r)); got != want {
				t.Errorf("Encode(%#v) = %s, want %s", tt.r, got, want)
			}
		})
	}
}

func TestResourceEncodeOverCap(t *testing.T) {
	// Every field within its character limit, but in four-byte characters
	// the payload would exceed the 24 KiB every node accepts.
	r := guide(strings.Repeat("😀", 200))
	r.Text = strings.Repeat("😀", 4000)
	r.Description = strings.Repeat("😀", 2000)
	if err := r.Validate(); err != nil {
		t.Fatalf("Validate() = %v, want nil (the character limits hold)", err)
	}
	if b, err := r.Encode(); !errors.Is(err, mentorship.ErrInvalid) || !strings.Contains(err.Error(), "bytes") {
		t.Errorf("Encode() = %d bytes, %v; want an error about bytes", len(b), err)
	}
}

func TestResourceRoundTrip(t *testing.T) {
	for _, r := range []mentorship.Resource{
		guide("G"),
		event(),
		with(event(), func(r *mentorship.Resource) {
			r.EndsAt = dec2
			r.Link = "https://meet.example/x"
			r.Tags = []string{"facilitation", "consent decision-making"}
			r.Language = "de"
			r.Description = "two\nlines"
		}),
		{Type: mentorship.ResourceCaseStudy, Title: strings.Repeat("é", 200), Text: strings.Repeat("ü", 4000), Tags: []string{"x"}},
	} {
		got, err := mentorship.DecodeResource(mustEncodeResource(t, r))
		if err != nil {
			t.Errorf("DecodeResource(Encode(%.30q)) error = %v", r.Title, err)
			continue
		}
		if want := r.Normalize(); !resourceEqual(got, want) {
			t.Errorf("DecodeResource(Encode(r)) = %#v, want %#v", got, want)
		}
	}
}

func TestResourceEncodeDecodeProperty(t *testing.T) {
	text := rapid.OneOf(rapid.String(), rapid.StringMatching(`[ \t\na-zA-Zé😀]{0,12}`))
	url := rapid.OneOf(rapid.Just(""), rapid.StringMatching(`(?i)https?://[a-z@.]{0,6}(/[a-z ]{0,4})?`), rapid.String())
	rapid.Check(t, func(t *rapid.T) {
		r := mentorship.Resource{
			Type:        mentorship.ResourceType(rapid.IntRange(0, 9).Draw(t, "type")),
			Title:       text.Draw(t, "title"),
			URL:         url.Draw(t, "url"),
			Text:        text.Draw(t, "text"),
			Description: text.Draw(t, "description"),
			Tags:        rapid.SliceOfN(text, 0, 22).Draw(t, "tags"),
			Language:    rapid.StringMatching(`[a-zA-Z]{0,4}`).Draw(t, "language"),
			Place:       text.Draw(t, "place"),
			Link:        url.Draw(t, "link"),
		}
		if rapid.Bool().Draw(t, "has start") {
			r.StartsAt = time.UnixMilli(rapid.Int64Range(-5, 1e13).Draw(t, "start"))
		}
		if rapid.Bool().Draw(t, "has end") {
			r.EndsAt = time.UnixMilli(rapid.Int64Range(-5, 1e13).Draw(t, "end"))
		}
		b, err := r.Encode()
		if err != nil {
			if !errors.Is(err, mentorship.ErrInvalid) {
				t.Fatalf("Encode(%#v) error = %v, want %v", r, err, mentorship.ErrInvalid)
			}
			return
		}
		got, err := mentorship.DecodeResource(b)
		if err != nil {
			t.Fatalf("DecodeResource(Encode(%#v)) error = %v", r, err)
		}
		if want := r.Normalize(); !resourceEqual(got, want) {
			t.Fatalf("DecodeResource(Encode(r)) = %#v, want %#v", got, want)
		}
		if again, err := got.Encode(); err != nil || string(again) != string(b) {
			t.Fatalf("Encode(DecodeResource(b)) = %x, %v; want %x", again, err, b)
		}
	})
}

func TestDecodeResourceErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string // hex
		also error
	}{
		{"empty", "", nil},
		{"type zero", "0800 120141 220174", pbwire.ErrNonCanonical},
		{"type 128", "088001 120141 220174", nil},
		{"type as bytes", "0a0101 120141 220174", pbwire.ErrWireType},
		{"title as varint", "0801 1001 220174", pbwire.ErrWireType},
		{"no title", "0801 220174", nil},
		{"no URL nor text", "0801 120141", nil},
		{"title twice", "0801 120141 120141 220174", pbwire.ErrOrder},
		{"tags not contiguous", "0801 120141 220174 320161 3a02656e 320162", pbwire.ErrOrder},
		{"title not UTF-8", "0801 1201ff 220174", pbwire.ErrInvalidUTF8},
		{"start after 9999", "0806 120145 220174 40 80b8ff90fdce39 520150", nil},
		{"start as bytes", "0806 120145 220174 420101 520150", pbwire.ErrWireType},
		{"guide with a place", "0804 120147 220174 520150", nil},
		{"event without start", "0806 120145 220174 520150", nil},
		{"bad URL", "0801 120141 1a0178", nil},
		{"truncated", "0801 1205", pbwire.ErrTruncated},
		{"unknown fixed32 field", "0801 120141 220174 650000803f", pbwire.ErrWireType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := hex.DecodeString(strings.ReplaceAll(tt.in, " ", ""))
			if err != nil {
				t.Fatalf("bad hex: %v", err)
			}
			got, err := mentorship.DecodeResource(in)
			if !errors.Is(err, mentorship.ErrInvalid) || (tt.also != nil && !errors.Is(err, tt.also)) {
				t.Errorf("DecodeResource(%x) = %#v, %v; want error %v (%v)", in, got, err, mentorship.ErrInvalid, tt.also)
			}
			if err != nil && !reflect.DeepEqual(got, mentorship.Resource{}) {
				t.Errorf("DecodeResource(%x) with error returned %#v, want the zero Resource", in, got)
			}
		})
	}
}

func TestDecodeResourceSkipsUnknownFields(t *testing.T) {
	base := mustEncodeResource(t, guide("G"))
	var e pbwire.Encoder
	e.Uint(12, 7)
	e.String(99, "from the future")
	in := append(slices.Clone(base), e.Bytes()...)
	got, err := mentorship.DecodeResource(in)
	if err != nil || !resourceEqual(got, guide("G")) {
		t.Errorf("DecodeResource(%x) = %#v, %v; want %#v", in, got, err, guide("G"))
	}
}

func TestDecodeResourceLimits(t *testing.T) {
	var e pbwire.Encoder
	e.Uint(1, 4)
	e.String(2, "G")
	e.String(4, "t")
	tags := make([]string, 21)
	for i := range tags {
		tags[i] = string(rune('a' + i))
	}
	e.Strings(6, tags)
	if _, err := mentorship.DecodeResource(e.Bytes()); !errors.Is(err, mentorship.ErrInvalid) {
		t.Errorf("DecodeResource(21 tags) error = %v, want %v", err, mentorship.ErrInvalid)
	}

	e = pbwire.Encoder{}
	e.Uint(1, 4)
	e.String(2, "G")
	e.String(4, "t")
	e.String(99, strings.Repeat("x", 24<<10-13))
	if n := len(e.Bytes()); n != 24<<10 {
		t.Fatalf("test payload is %d bytes, want %d", n, 24<<10)
	}
	if _, err := mentorship.DecodeResource(e.Bytes()); err != nil {
		t.Errorf("DecodeResource(24 KiB) error = %v, want nil", err)
	}
	e.String(100, "x")
	if _, err := mentorship.DecodeResource(e.Bytes()); !errors.Is(err, mentorship.ErrInvalid) {
		t.Errorf("DecodeResource(%d bytes) error = %v, want %v", len(e.Bytes()), err, mentorship.ErrInvalid)
	}
}

func TestResourceID(t *testing.T) {
	a, b := mentorship.NewResourceID(), mentorship.NewResourceID()
	if a == b {
		t.Errorf("NewResourceID() twice = %s, want two different IDs", a)
	}
	for _, id := range []string{a, b, "0123456789abcdef0123456789abcdef"} {
		if err := mentorship.CheckResourceID(id); err != nil {
			t.Errorf("CheckResourceID(%q) = %v, want nil", id, err)
		}
	}
	for _, id := range []string{"", "0123456789abcdef0123456789abcde", "0123456789abcdef0123456789abcdef0",
		"0123456789ABCDEF0123456789abcdef", "0123456789abcdeg0123456789abcdef", "0123456789abcdef/123456789abcdef"} {
		if err := mentorship.CheckResourceID(id); !errors.Is(err, mentorship.ErrInvalid) {
			t.Errorf("CheckResourceID(%q) = %v, want %v", id, err, mentorship.ErrInvalid)
		}
	}
}
