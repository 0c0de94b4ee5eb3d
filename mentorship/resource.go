package mentorship

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/mentormesh/mentormesh/internal/pbwire"
)

// Resource limits. Lengths count characters (code points).
const (
	MaxResourceTitleLen       = 200
	MaxResourceURLLen         = 2048
	MaxResourceTextLen        = 4000
	MaxResourceDescriptionLen = 2000
	MaxResourceTags           = 20
	MaxResourceTagLen         = 48
	MaxResourcePlaceLen       = 200
	// maxResourceSz caps the payload in bytes. A resource at every
	// character limit in four-byte characters would exceed it; Encode
	// refuses those rather than publish what nobody accepts.
	maxResourceSz = 24 << 10
	// maxResourceMillis is the last millisecond of year 9999, the bound of
	// record timestamps too.
	maxResourceMillis = 253402300799999
)

// ResourceType says what a resource is. Values 1 to 7 are defined; 8 to
// maxResourceType are reserved for types later versions add: nodes accept
// and relay them (shown as "other") so a new type does not get its writers'
// records refused by older nodes.
type ResourceType uint8

// Resource types.
const (
	ResourceArticle   ResourceType = 1
	ResourceVideo     ResourceType = 2
	ResourceBook      ResourceType = 3 // a book or a manual
	ResourceGuide     ResourceType = 4
	ResourceCaseStudy ResourceType = 5
	ResourceEvent     ResourceType = 6
	ResourceTemplate  ResourceType = 7

	maxResourceType = 127
)

var resourceTypeNames = [...]string{
	ResourceArticle:   "article",
	ResourceVideo:     "video",
	ResourceBook:      "book",
	ResourceGuide:     "guide",
	ResourceCaseStudy: "case-study",
	ResourceEvent:     "event",
	ResourceTemplate:  "template",
}

// ResourceTypeNames lists the defined types' names in wire order.
func ResourceTypeNames() []string { return slices.Clone(resourceTypeNames[1:]) }

// Known reports whether t is one of the types this version defines.
func (t ResourceType) Known() bool { return t >= ResourceArticle && t <= ResourceTemplate }

// String returns the type's name: "other" for a type defined by a later
// version, "" for none.
func (t ResourceType) String() string {
	switch {
	case t.Known():
		return resourceTypeNames[t]
	case t == 0:
		return ""
	default:
		return "other"
	}
}

// ParseResourceType parses a type name, case-insensitively; "manual" is a
// book and "case study" a case-study.
func ParseResourceType(s string) (ResourceType, error) {
	n := strings.ToLower(strings.Join(strings.Fields(s), "-"))
	switch n {
	case "manual":
		return ResourceBook, nil
	case "casestudy", "case_study":
		return ResourceCaseStudy, nil
	}
	for t, name := range resourceTypeNames {
		if t > 0 && name == n {
			return ResourceType(t), nil
		}
	}
	return 0, fmt.Errorf("%w resource: unknown type %q (one of: %s)", ErrInvalid, s, strings.Join(ResourceTypeNames(), ", "))
}

// Resource is a shared resource: an article, a guide, an event... One per
// author and resource ID per community (kind "resource", key: the ID).
type Resource struct {
	Type        ResourceType
	Title       string
	URL         string // http or https
	Text        string // short inline text, multiline
	Description string // multiline
	Tags        []string
	Language    string // ISO 639 code, lowercase
	// StartsAt, EndsAt, Place and Link are for events only. The times
	// have millisecond precision; zero means absent.
	StartsAt time.Time
	EndsAt   time.Time
	Place    string
	Link     string // online link (http or https)
}

// Field numbers of the resource payload (docs/PROTOCOL.md).
const (
	fResourceType        = 1
	fResourceTitle       = 2
	fResourceURL         = 3
	fResourceText        = 4
	fResourceDescription = 5
	fResourceTags        = 6
	fResourceLanguage    = 7
	fResourceStartsAt    = 8
	fResourceEndsAt      = 9
	fResourcePlace       = 10
	fResourceLink        = 11
)

// NewResourceID returns a fresh random resource ID: 16 random bytes as 32
// lowercase hex characters.
func NewResourceID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics instead)
	return hex.EncodeToString(b[:])
}

// CheckResourceID checks the exact format of a resource ID: 32 lowercase
// hex characters.
func CheckResourceID(id string) error {
	if len(id) != 32 {
		return fmt.Errorf("%w resource: ID %q is not 32 hex characters", ErrInvalid, id)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return fmt.Errorf("%w resource: ID %q is not 32 lowercase hex characters", ErrInvalid, id)
		}
	}
	return nil
}

// NormalizeResourceTag normalises one tag as profile skills are:
// lowercase, white space trimmed and collapsed to single spaces.
func NormalizeResourceTag(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// Normalize trims text, turns CRLF line ends into LF in multiline text,
// lowercases the language and the URL schemes, normalises tags (drops empty
// and duplicate ones, sorts them) and rounds times to the millisecond, in
// UTC, so the same resource always encodes the same way.
func (r Resource) Normalize() Resource {
	r.Title = strings.TrimSpace(r.Title)
	r.URL = normalizeResourceURL(r.URL)
	r.Text = strings.TrimSpace(strings.ReplaceAll(r.Text, "\r\n", "\n"))
	r.Description = strings.TrimSpace(strings.ReplaceAll(r.Description, "\r\n", "\n"))
	var tags []string
	for _, t := range r.Tags {
		t = NormalizeResourceTag(t)
		if t != "" && !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	slices.Sort(tags)
	r.Tags = tags
	r.Language = strings.ToLower(strings.TrimSpace(r.Language))
	r.StartsAt = resourceMillis(r.StartsAt)
	r.EndsAt = resourceMillis(r.EndsAt)
	r.Place = strings.TrimSpace(r.Place)
	r.Link = normalizeResourceURL(r.Link)
	return r
}

func resourceMillis(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return time.UnixMilli(t.UnixMilli()).UTC()
}

func normalizeResourceURL(s string) string {
	s = strings.TrimSpace(s)
	for _, scheme := range []string{"http://", "https://"} {
		if len(s) >= len(scheme) && strings.EqualFold(s[:len(scheme)], scheme) {
			return scheme + s[len(scheme):]
		}
	}
	return s
}

// Validate checks the resource against the domain's rules. Messages are
// written for the person who typed the values.
func (r Resource) Validate() error {
	switch {
	case r.Type == 0:
		return fmt.Errorf("%w resource: a type is required (one of: %s)", ErrInvalid, strings.Join(ResourceTypeNames(), ", "))
	case r.Type > maxResourceType:
		return fmt.Errorf("%w resource: type %d is out of range", ErrInvalid, r.Type)
	}
	if r.Title == "" {
		return fmt.Errorf("%w resource: a title is required", ErrInvalid)
	}
	checks := []struct {
		what      string
		s         string
		max       int
		multiline bool
	}{
		{"title", r.Title, MaxResourceTitleLen, false},
		{"text", r.Text, MaxResourceTextLen, true},
		{"description", r.Description, MaxResourceDescriptionLen, true},
		{"place", r.Place, MaxResourcePlaceLen, false},
	}
	for _, c := range checks {
		if err := checkResourceText(c.what, c.s, c.max, c.multiline); err != nil {
			return err
		}
	}
	if err := checkResourceURL("URL", r.URL); err != nil {
		return err
	}
	if err := checkResourceURL("online link", r.Link); err != nil {
		return err
	}
	if r.URL == "" && r.Text == "" {
		return fmt.Errorf("%w resource: a URL or a short text is required", ErrInvalid)
	}
	if len(r.Tags) > MaxResourceTags {
		return fmt.Errorf("%w resource: %d tags, at most %d", ErrInvalid, len(r.Tags), MaxResourceTags)
	}
	for _, t := range r.Tags {
		if t == "" {
			return fmt.Errorf("%w resource: empty tag", ErrInvalid)
		}
		if err := checkResourceText("tag", t, MaxResourceTagLen, false); err != nil {
			return err
		}
	}
	if err := checkResourceLanguage(r.Language); err != nil {
		return err
	}
	return r.validateEvent()
}

// validateEvent checks the event fields: their format for every type, and
// which are required or allowed for the types this version knows.
func (r Resource) validateEvent() error {
	for _, t := range []struct {
		what string
		t    time.Time
	}{{"start time", r.StartsAt}, {"end time", r.EndsAt}} {
		if ms := t.t.UnixMilli(); !t.t.IsZero() && (ms < 1 || ms > maxResourceMillis) {
			return fmt.Errorf("%w resource: %s %s is outside 1970 to 9999", ErrInvalid, t.what, t.t.Format(time.RFC3339))
		}
	}
	if !r.EndsAt.IsZero() {
		if r.StartsAt.IsZero() {
			return fmt.Errorf("%w resource: an end time needs a start time", ErrInvalid)
		}
		if r.EndsAt.Before(r.StartsAt) {
			return fmt.Errorf("%w resource: the event ends (%s) before it starts (%s)", ErrInvalid,
				r.EndsAt.UTC().Format(time.RFC3339), r.StartsAt.UTC().Format(time.RFC3339))
		}
	}
	hasEventFields := !r.StartsAt.IsZero() || r.Place != "" || r.Link != ""
	switch {
	case r.Type == ResourceEvent:
		if r.StartsAt.IsZero() {
			return fmt.Errorf("%w resource: an event needs a start time", ErrInvalid)
		}
		if r.Place == "" && r.Link == "" {
			return fmt.Errorf("%w resource: an event needs a place or an online link", ErrInvalid)
		}
	case r.Type.Known() && hasEventFields:
		return fmt.Errorf("%w resource: only events have a start time, place or online link (this is a %s)", ErrInvalid, r.Type)
	}
	return nil
}

// checkResourceLanguage checks a resource's language: "" (none), or an ISO
// 639 code as CheckLanguage takes, with a message naming the resource.
func checkResourceLanguage(s string) error {
	if s == "" {
		return nil
	}
	ok := len(s) == 2 || len(s) == 3
	for i := 0; ok && i < len(s); i++ {
		ok = 'a' <= s[i] && s[i] <= 'z'
	}
	if !ok {
		return fmt.Errorf("%w resource: language %q is not an ISO 639 code (two or three letters, like en, de or fra)", ErrInvalid, s)
	}
	return nil
}

// checkResourceText is checkText with messages that name a resource.
func checkResourceText(what, s string, max int, multiline bool) error {
	if len(s) <= max && isPlainASCII(s, multiline) {
		return nil // the common case, checked without decoding runes
	}
	return checkTextOf("resource", what, s, max, multiline)
}

// isPlainASCII reports whether s holds only printable ASCII (and newline
// and tab if multiline): text that checkText accepts whatever its length
// in characters, which is then its length in bytes.
func isPlainASCII(s string, multiline bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x7f || c < ' ' && !(multiline && (c == '\n' || c == '\t')) {
			return false
		}
	}
	return true
}

// checkResourceURL checks an optional http(s) URL syntactically, by rules
// every node applies the same way (docs/PROTOCOL.md): no URL library
// decides, so nodes of different versions cannot disagree.
func checkResourceURL(what, s string) error {
	if s == "" {
		return nil
	}
	if err := checkResourceText(what, s, MaxResourceURLLen, false); err != nil {
		return err
	}
	rest, ok := strings.CutPrefix(s, "https://")
	if !ok {
		rest, ok = strings.CutPrefix(s, "http://")
	}
	if !ok {
		return fmt.Errorf("%w resource: %s %q must start with http:// or https://", ErrInvalid, what, s)
	}
	if strings.IndexFunc(s, unicode.IsSpace) >= 0 {
		return fmt.Errorf("%w resource: %s %q contains white space (encode spaces as %%20)", ErrInvalid, what, s)
	}
	host := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		host = rest[:i]
	}
	if host == "" {
		return fmt.Errorf("%w resource: %s %q has no host name", ErrInvalid, what, s)
	}
	// "https://trusted.example@evil.example/" goes to evil.example.
	if strings.Contains(host, "@") {
		return fmt.Errorf("%w resource: %s %q contains a user name (user@host), which is not allowed", ErrInvalid, what, s)
	}
	return nil
}

// Encode returns the payload bytes of a normalized, valid resource.
func (r Resource) Encode() ([]byte, error) {
	r = r.Normalize()
	if err := r.Validate(); err != nil {
		return nil, err
	}
	var e pbwire.Encoder
	e.Uint(fResourceType, uint64(r.Type))
	e.String(fResourceTitle, r.Title)
	e.String(fResourceURL, r.URL)
	e.String(fResourceText, r.Text)
	e.String(fResourceDescription, r.Description)
	e.Strings(fResourceTags, r.Tags)
	e.String(fResourceLanguage, r.Language)
	if !r.StartsAt.IsZero() {
		e.Uint(fResourceStartsAt, uint64(r.StartsAt.UnixMilli()))
	}
	if !r.EndsAt.IsZero() {
		e.Uint(fResourceEndsAt, uint64(r.EndsAt.UnixMilli()))
	}
	e.String(fResourcePlace, r.Place)
	e.String(fResourceLink, r.Link)
	if n := len(e.Bytes()); n > maxResourceSz {
		return nil, fmt.Errorf("%w resource: %d bytes encoded, at most %d: shorten the text or the description", ErrInvalid, n, maxResourceSz)
	}
	return e.Bytes(), nil
}

// DecodeResource parses and validates a resource payload. Unknown fields are
// skipped, so a resource written by a newer version is still accepted and
// relayed unchanged.
func DecodeResource(b []byte) (Resource, error) {
	var r Resource
	if len(b) > maxResourceSz {
		return r, fmt.Errorf("%w resource: %d bytes, at most %d", ErrInvalid, len(b), maxResourceSz)
	}
	d := pbwire.NewDecoder(b, fResourceTags)
	millis := func(what string) time.Time {
		v := d.Varint()
		if v > maxResourceMillis {
			d.Fail(fmt.Errorf("%s %d is after year 9999", what, v))
			return time.Time{}
		}
		return time.UnixMilli(int64(v)).UTC()
	}
	for d.Next() {
		switch d.Field().Num {
		case fResourceType:
			v := d.Varint()
			if v > maxResourceType {
				d.Fail(fmt.Errorf("type %d is out of range", v))
				break
			}
			r.Type = ResourceType(v)
		case fResourceTitle:
			r.Title = d.StringValue()
		case fResourceURL:
			r.URL = d.StringValue()
		case fResourceText:
			r.Text = d.StringValue()
		case fResourceDescription:
			r.Description = d.StringValue()
		case fResourceTags:
			if len(r.Tags) == MaxResourceTags {
				d.Fail(fmt.Errorf("more than %d tags", MaxResourceTags))
				break
			}
			r.Tags = append(r.Tags, d.StringValue())
		case fResourceLanguage:
			r.Language = d.StringValue()
		case fResourceStartsAt:
			r.StartsAt = millis("start time")
		case fResourceEndsAt:
			r.EndsAt = millis("end time")
		case fResourcePlace:
			r.Place = d.StringValue()
		case fResourceLink:
			r.Link = d.StringValue()
		}
	}
	if err := d.Err(); err != nil {
		return Resource{}, fmt.Errorf("%w resource: %w", ErrInvalid, err)
	}
	if err := r.Validate(); err != nil {
		return Resource{}, err
	}
	return r, nil
}

func validateResourceRecord(key string, deleted bool, payload []byte) error {
	if err := CheckResourceID(key); err != nil {
		return err
	}
	if deleted {
		return nil
	}
	_, err := DecodeResource(payload)
	return err
}
