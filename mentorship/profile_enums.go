package mentorship

import (
	"fmt"
	"strings"
)

// Experience is a practitioner's experience level. The zero value means not
// given. On the wire it is the varint below (docs/PROTOCOL.md).
type Experience uint8

// Experience levels, in increasing order.
const (
	ExperienceUnset       Experience = 0
	ExperienceNew         Experience = 1 // new to the practice
	ExperiencePractising  Experience = 2 // practising regularly
	ExperienceExperienced Experience = 3 // years of practice
	ExperienceTrainer     Experience = 4 // trains others
)

var experienceNames = [...]string{"", "new", "practising", "experienced", "trainer"}

// ExperienceNames lists the levels as the CLI and the API spell them.
func ExperienceNames() []string { return append([]string(nil), experienceNames[1:]...) }

// String returns the level's name, "" if unset.
func (e Experience) String() string {
	if int(e) < len(experienceNames) {
		return experienceNames[e]
	}
	return fmt.Sprintf("experience(%d)", uint8(e))
}

// ParseExperience parses a level name; "" is ExperienceUnset.
func ParseExperience(s string) (Experience, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "practicing" { // US spelling
		s = "practising"
	}
	for i, n := range experienceNames {
		if n == s {
			return Experience(i), nil
		}
	}
	return 0, fmt.Errorf("%w experience level %q: want one of %s", ErrInvalid, s, strings.Join(ExperienceNames(), ", "))
}

// MarshalText implements encoding.TextMarshaler.
func (e Experience) MarshalText() ([]byte, error) { return []byte(e.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (e *Experience) UnmarshalText(b []byte) error {
	v, err := ParseExperience(string(b))
	if err != nil {
		return err
	}
	*e = v
	return nil
}

// Role is a role a practitioner offers. On the wire it is the varint below.
type Role uint8

// Roles.
const (
	RoleMentor Role = 1
	RoleMentee Role = 2
	RolePeer   Role = 3
)

var roleNames = [...]string{"", "mentor", "mentee", "peer"}

// RoleNames lists the roles as the CLI and the API spell them.
func RoleNames() []string { return append([]string(nil), roleNames[1:]...) }

// String returns the role's name.
func (r Role) String() string {
	if r >= RoleMentor && int(r) < len(roleNames) {
		return roleNames[r]
	}
	return fmt.Sprintf("role(%d)", uint8(r))
}

// ParseRole parses a role name.
func ParseRole(s string) (Role, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	for i, n := range roleNames {
		if i > 0 && n == s {
			return Role(i), nil
		}
	}
	return 0, fmt.Errorf("%w role %q: want one of %s", ErrInvalid, s, strings.Join(RoleNames(), ", "))
}

// MarshalText implements encoding.TextMarshaler.
func (r Role) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (r *Role) UnmarshalText(b []byte) error {
	v, err := ParseRole(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}
