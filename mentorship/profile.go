package mentorship

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mentormesh/mentormesh/internal/pbwire"
)

// Profile limits.
const (
	MaxNameLen   = 80
	MaxBioLen    = 2000
	MaxSkills    = 30
	MaxSkillLen  = 48
	maxProfileSz = 8 << 10
)

// Profile is a practitioner's public profile. One per author per community
// (kind "profile", empty key).
type Profile struct {
	Name   string   `json:"name"`
	Bio    string   `json:"bio,omitempty"`
	Skills []string `json:"skills,omitempty"`
}

// Field numbers of the profile payload (docs/PROTOCOL.md).
const (
	fProfileName   = 1
	fProfileBio    = 2
	fProfileSkills = 3
)

// Normalize trims text, lowercases and trims skills, drops empty and
// duplicate skills and sorts them, so the same profile always encodes the
// same way.
func (p Profile) Normalize() Profile {
	p.Name = strings.TrimSpace(p.Name)
	p.Bio = strings.TrimSpace(p.Bio)
	var skills []string
	for _, s := range p.Skills {
		s = strings.ToLower(strings.Join(strings.Fields(s), " "))
		if s != "" && !slices.Contains(skills, s) {
			skills = append(skills, s)
		}
	}
	slices.Sort(skills)
	p.Skills = skills
	return p
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
	if len(p.Skills) > MaxSkills {
		return fmt.Errorf("%w profile: %d skills, at most %d", ErrInvalid, len(p.Skills), MaxSkills)
	}
	for _, s := range p.Skills {
		if err := checkText("skill", s, MaxSkillLen, false); err != nil {
			return err
		}
	}
	return nil
}

func checkText(what, s string, max int, multiline bool) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w profile: %s is not valid UTF-8", ErrInvalid, what)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return fmt.Errorf("%w profile: %s is %d characters, at most %d", ErrInvalid, what, n, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t')) {
			return fmt.Errorf("%w profile: %s contains a control character", ErrInvalid, what)
		}
		// Bidirectional overrides and isolates can make a name display as
		// something else (a right-to-left override reverses what follows).
		if unicode.Is(unicode.Bidi_Control, r) {
			return fmt.Errorf("%w profile: %s contains a bidirectional control character (U+%04X)", ErrInvalid, what, r)
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
	// The limits above count characters, and a character takes up to four
	// bytes, so a valid profile can exceed the payload cap that every node
	// (DecodeProfile) enforces. Refuse it here rather than publish a record
	// that nobody accepts.
	if n := len(e.Bytes()); n > maxProfileSz {
		return nil, fmt.Errorf("%w profile: %d bytes encoded, at most %d: shorten the bio or the skills", ErrInvalid, n, maxProfileSz)
	}
	return e.Bytes(), nil
}

// DecodeProfile parses and validates a profile payload. Unknown fields are
// skipped, so a profile written by a newer version with more fields is still
// accepted and relayed unchanged (the signed bytes are kept as they are).
func DecodeProfile(b []byte) (Profile, error) {
	var p Profile
	if len(b) > maxProfileSz {
		return p, fmt.Errorf("%w profile: %d bytes, at most %d", ErrInvalid, len(b), maxProfileSz)
	}
	d := pbwire.NewDecoder(b, fProfileSkills)
	for d.Next() {
		switch d.Field().Num {
		case fProfileName:
			p.Name = d.StringValue()
		case fProfileBio:
			p.Bio = d.StringValue()
		case fProfileSkills:
			if len(p.Skills) == MaxSkills {
				d.Fail(fmt.Errorf("more than %d skills", MaxSkills))
				break
			}
			p.Skills = append(p.Skills, d.StringValue())
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
