package mentorship

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mentormesh/mentormesh/internal/pbwire"
)

// Profile limits. Text limits count characters (code points); the encoded
// payload must also fit in 8 KiB.
const (
	MaxNameLen       = 80
	MaxBioLen        = 2000
	MaxSkills        = 30
	MaxSkillLen      = 48
	MaxPronounsLen   = 32
	MaxLanguages     = 10
	MaxTimeZoneLen   = 64
	MaxLocationLen   = 64
	MaxInterests     = 30
	MaxCapacity      = 50
	MaxHoursPerMonth = 200
	MaxLinks         = 5
	MaxLinkLen       = 300
	maxProfileSz     = 8 << 10
)

// Profile is a practitioner's public profile. One per author per community
// (kind "profile", empty key). Contact details are not part of it: they are
// shared privately inside an accepted pairing.
type Profile struct {
	Name   string   `json:"name"`
	Bio    string   `json:"bio,omitempty"`
	Skills []string `json:"skills,omitempty"`
	// Pronouns, free text ("she/her").
	Pronouns string `json:"pronouns,omitempty"`
	// Languages are lowercase ISO 639-1 or 639-3 codes ("en", "de", "gsw").
	Languages []string `json:"languages,omitempty"`
	// TimeZone is an IANA zone name ("Europe/Berlin") or a fixed UTC offset
	// ("UTC", "UTC+05:30"). Only its syntax is checked when a record is
	// accepted, so every node decides alike whatever its time-zone database;
	// it is resolved to an offset when matching.
	TimeZone string `json:"time_zone,omitempty"`
	// Location is coarse and optional ("Berlin", "Kenya").
	Location  string   `json:"location,omitempty"`
	Interests []string `json:"interests,omitempty"`
	// Experience is the practitioner's own assessment of their practice.
	Experience Experience `json:"experience,omitempty"`
	// Roles offered: mentor, mentee, peer (a set, in that order).
	Roles []Role `json:"roles,omitempty"`
	// Capacity is the most mentees the practitioner mentors at once.
	Capacity int `json:"capacity,omitempty"`
	// Closed marks availability closed: not taking new mentorships for now.
	Closed        bool `json:"closed,omitempty"`
	HoursPerMonth int  `json:"hours_per_month,omitempty"`
	// Links are http(s) URLs (a website, a published article...).
	Links []string `json:"links,omitempty"`
}

// Field numbers of the profile payload (docs/PROTOCOL.md). Fields 1 to 3
// are the original profile; later fields are new, so older profiles decode
// unchanged.
const (
	fProfileName       = 1
	fProfileBio        = 2
	fProfileSkills     = 3
	fProfilePronouns   = 4
	fProfileLanguages  = 5
	fProfileTimeZone   = 6
	fProfileLocation   = 7
	fProfileInterests  = 8
	fProfileExperience = 9
	fProfileRoles      = 10
	fProfileCapacity   = 11
	fProfileClosed     = 12
	fProfileHours      = 13
	fProfileLinks      = 14
)

// HasRole reports whether the profile offers role r.
func (p *Profile) HasRole(r Role) bool { return slices.Contains(p.Roles, r) }

// Availability is "open" or "closed".
func (p *Profile) Availability() string {
	if p.Closed {
		return "closed"
	}
	return "open"
}

// Normalize trims text, normalises tags (lowercase, single spaces, no
// duplicates, sorted), language codes (lowercase, sorted), roles (sorted),
// the time zone's UTC-offset form and links (scheme lowercased, duplicates
// dropped, order kept), so the same profile always encodes the same way.
func (p Profile) Normalize() Profile {
	p.Name = strings.TrimSpace(p.Name)
	p.Bio = strings.TrimSpace(p.Bio)
	p.Skills = NormalizeTags(p.Skills)
	p.Pronouns = strings.TrimSpace(p.Pronouns)
	p.Languages = normalizeSet(p.Languages, func(s string) string { return strings.ToLower(strings.TrimSpace(s)) })
	p.TimeZone = NormalizeTimeZone(p.TimeZone)
	p.Location = strings.TrimSpace(p.Location)
	p.Interests = NormalizeTags(p.Interests)
	if len(p.Roles) > 0 {
		roles := slices.Clone(p.Roles)
		slices.Sort(roles)
		p.Roles = slices.Compact(roles)
	} else {
		p.Roles = nil
	}
	var links []string
	for _, l := range p.Links {
		l = normalizeLink(l)
		if l != "" && !slices.Contains(links, l) {
			links = append(links, l)
		}
	}
	p.Links = links
	return p
}

// NormalizeTag lowercases a skill or interest and collapses its white
// space, as profiles and queries store them.
func NormalizeTag(s string) string {
	if isNormalTag(s) {
		return s // the common case, without allocating
	}
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// isNormalTag reports whether s is ASCII without upper case, with single
// spaces between words and none around them.
func isNormalTag(s string) bool {
	space := true // at the start, a space would be leading
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= utf8.RuneSelf || c >= 'A' && c <= 'Z' || c < ' ':
			return false
		case c == ' ':
			if space {
				return false
			}
			space = true
		default:
			space = false
		}
	}
	return !space || s == ""
}

// NormalizeTags normalises each tag, drops empty and duplicate ones and
// sorts them. It returns nil for no tags and never modifies its argument.
func NormalizeTags(tags []string) []string { return normalizeSet(tags, NormalizeTag) }

func normalizeSet(in []string, norm func(string) string) []string {
	var out []string
	for _, s := range in {
		s = norm(s)
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// Validate checks the profile against the domain's rules. Messages are
// written for the person who typed the values.
func (p Profile) Validate() error {
	if p.Name == "" {
		return fmt.Errorf("%w profile: a display name is required", ErrInvalid)
	}
	if err := checkText("display name", p.Name, MaxNameLen, false); err != nil {
		return err
	}
	if err := checkText("bio", p.Bio, MaxBioLen, true); err != nil {
		return err
	}
	if err := checkTags("skill", p.Skills, MaxSkills); err != nil {
		return err
	}
	if err := checkText("pronouns", p.Pronouns, MaxPronounsLen, false); err != nil {
		return err
	}
	if len(p.Languages) > MaxLanguages {
		return fmt.Errorf("%w profile: %d languages, at most %d", ErrInvalid, len(p.Languages), MaxLanguages)
	}
	for _, l := range p.Languages {
		if err := CheckLanguage(l); err != nil {
			return err
		}
	}
	if p.TimeZone != "" {
		if err := CheckTimeZone(p.TimeZone); err != nil {
			return err
		}
	}
	if err := checkText("location", p.Location, MaxLocationLen, false); err != nil {
		return err
	}
	if err := checkTags("interest", p.Interests, MaxInterests); err != nil {
		return err
	}
	if p.Experience > ExperienceTrainer {
		return fmt.Errorf("%w profile: unknown experience level %d", ErrInvalid, p.Experience)
	}
	for _, r := range p.Roles {
		if r < RoleMentor || r > RolePeer {
			return fmt.Errorf("%w profile: unknown role %d", ErrInvalid, r)
		}
	}
	if p.Capacity < 0 || p.Capacity > MaxCapacity {
		return fmt.Errorf("%w profile: capacity %d mentees, want 0 to %d", ErrInvalid, p.Capacity, MaxCapacity)
	}
	if p.HoursPerMonth < 0 || p.HoursPerMonth > MaxHoursPerMonth {
		return fmt.Errorf("%w profile: %d hours per month, want 0 to %d", ErrInvalid, p.HoursPerMonth, MaxHoursPerMonth)
	}
	if len(p.Links) > MaxLinks {
		return fmt.Errorf("%w profile: %d links, at most %d", ErrInvalid, len(p.Links), MaxLinks)
	}
	for _, l := range p.Links {
		if err := CheckLink(l); err != nil {
			return err
		}
	}
	return nil
}

func checkTags(what string, tags []string, max int) error {
	if len(tags) > max {
		return fmt.Errorf("%w profile: %d %ss, at most %d", ErrInvalid, len(tags), what, max)
	}
	for _, s := range tags {
		if s == "" {
			return fmt.Errorf("%w profile: empty %s", ErrInvalid, what)
		}
		if err := checkText(what, s, MaxSkillLen, false); err != nil {
			return err
		}
	}
	return nil
}

// checkText applies the text rules to a profile field.
func checkText(what, s string, max int, multiline bool) error {
	return checkTextOf("profile", what, s, max, multiline)
}

// checkTextOf applies the text rules shared by every kind's free text:
// valid UTF-8, at most max characters, no control characters (newline and
// tab allowed if multiline), no bidirectional controls. Errors name the
// subject ("profile", "pairing", ...) and the field.
func checkTextOf(subject, what, s string, max int, multiline bool) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w %s: %s is not valid UTF-8", ErrInvalid, subject, what)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return fmt.Errorf("%w %s: %s is %d characters, at most %d", ErrInvalid, subject, what, n, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t')) {
			return fmt.Errorf("%w %s: %s contains a control character", ErrInvalid, subject, what)
		}
		// Bidirectional overrides and isolates can make a name display as
		// something else (a right-to-left override reverses what follows).
		if unicode.Is(unicode.Bidi_Control, r) {
			return fmt.Errorf("%w %s: %s contains a bidirectional control character (U+%04X)", ErrInvalid, subject, what, r)
		}
	}
	return nil
}

// Encode returns the payload bytes of a normalized, valid profile.
func (p Profile) Encode() ([]byte, error) {
	p = p.Normalize()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	var e pbwire.Encoder
	e.String(fProfileName, p.Name)
	e.String(fProfileBio, p.Bio)
	e.Strings(fProfileSkills, p.Skills)
	e.String(fProfilePronouns, p.Pronouns)
	e.Strings(fProfileLanguages, p.Languages)
	e.String(fProfileTimeZone, p.TimeZone)
	e.String(fProfileLocation, p.Location)
	e.Strings(fProfileInterests, p.Interests)
	e.Uint(fProfileExperience, uint64(p.Experience))
	for _, r := range p.Roles {
		e.Uint(fProfileRoles, uint64(r))
	}
	e.Uint(fProfileCapacity, uint64(p.Capacity))
	e.Bool(fProfileClosed, p.Closed)
	e.Uint(fProfileHours, uint64(p.HoursPerMonth))
	e.Strings(fProfileLinks, p.Links)
	// The limits above count characters, and a character takes up to four
	// bytes, so a valid profile can exceed the payload cap that every node
	// (DecodeProfile) enforces. Refuse it here rather than publish a record
	// that nobody accepts.
	if n := len(e.Bytes()); n > maxProfileSz {
		return nil, fmt.Errorf("%w profile: %d bytes encoded, at most %d: shorten the bio, the skills or the interests", ErrInvalid, n, maxProfileSz)
	}
	return e.Bytes(), nil
}

// DecodeProfile parses and validates a profile payload. Unknown fields are
// skipped, so a profile written by a newer version with more fields is still
// accepted and relayed unchanged (the signed bytes are kept as they are).
// Likewise an experience level or role this version does not know is
// skipped rather than refused: a newer version may add one. The roles field
// still holds at most maxRoleValues elements, unknown ones included, and no
// value twice.
func DecodeProfile(b []byte) (Profile, error) {
	var p Profile
	if len(b) > maxProfileSz {
		return p, fmt.Errorf("%w profile: %d bytes, at most %d", ErrInvalid, len(b), maxProfileSz)
	}
	d := pbwire.NewDecoder(b, fProfileSkills, fProfileLanguages, fProfileInterests, fProfileRoles, fProfileLinks)
	appendLimited := func(list []string, max int, what string) []string {
		if len(list) == max {
			d.Fail(fmt.Errorf("more than %d %s", max, what))
			return list
		}
		return append(list, d.StringValue())
	}
	var roleValues []uint64 // every role value seen, unknown ones included
	for d.Next() {
		switch d.Field().Num {
		case fProfileName:
			p.Name = d.StringValue()
		case fProfileBio:
			p.Bio = d.StringValue()
		case fProfileSkills:
			p.Skills = appendLimited(p.Skills, MaxSkills, "skills")
		case fProfilePronouns:
			p.Pronouns = d.StringValue()
		case fProfileLanguages:
			p.Languages = appendLimited(p.Languages, MaxLanguages, "languages")
		case fProfileTimeZone:
			p.TimeZone = d.StringValue()
		case fProfileLocation:
			p.Location = d.StringValue()
		case fProfileInterests:
			p.Interests = appendLimited(p.Interests, MaxInterests, "interests")
		case fProfileExperience:
			if v := d.Varint(); v <= uint64(ExperienceTrainer) {
				p.Experience = Experience(v)
			}
		case fProfileRoles:
			// Every element counts toward the limit and no value may
			// repeat, known or not: otherwise unknown values would let a
			// roles field grow without bound.
			v := d.Varint()
			if len(roleValues) == maxRoleValues {
				d.Fail(fmt.Errorf("more than %d roles", maxRoleValues))
				break
			}
			if slices.Contains(roleValues, v) {
				d.Fail(fmt.Errorf("role %d listed twice", v))
				break
			}
			roleValues = append(roleValues, v)
			if v >= uint64(RoleMentor) && v <= uint64(RolePeer) {
				p.Roles = append(p.Roles, Role(v))
			}
		case fProfileCapacity:
			p.Capacity = boundedInt(d, MaxCapacity, "capacity")
		case fProfileClosed:
			p.Closed = d.Bool()
		case fProfileHours:
			p.HoursPerMonth = boundedInt(d, MaxHoursPerMonth, "hours per month")
		case fProfileLinks:
			p.Links = appendLimited(p.Links, MaxLinks, "links")
		}
	}
	if err := d.Err(); err != nil {
		return Profile{}, fmt.Errorf("%w profile: %w", ErrInvalid, err)
	}
	if err := p.Validate(); err != nil {
		return Profile{}, err
	}
	return p, nil
}

// maxRoleValues bounds the repeated roles field: every element counts,
// including role values a newer version may add (skipped here).
const maxRoleValues = 16

func boundedInt(d *pbwire.Decoder, max int, what string) int {
	v := d.Varint()
	if v > uint64(max) {
		d.Fail(fmt.Errorf("%s %d, at most %d", what, v, max))
		return 0
	}
	return int(v)
}
