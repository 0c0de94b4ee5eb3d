package record

import (
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"
)

// validate checks everything about a body that depends on nothing but the
// body: address grammar, version bound, tombstone shape, timestamp range.
func (b *Body) validate() error {
	if err := CheckCommunity(b.Community); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if err := CheckKind(b.Kind); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if err := CheckKey(b.Key); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if b.Author == (Author{}) {
		return fmt.Errorf("%w: no author", ErrMalformed)
	}
	if b.Timestamp.IsZero() || unixMilli(b.Timestamp) == 0 || unixMilli(b.Timestamp) > maxMilli {
		return fmt.Errorf("%w: timestamp out of range", ErrMalformed)
	}
	if !b.Expires.IsZero() && unixMilli(b.Expires) > maxMilli {
		return fmt.Errorf("%w: expiry out of range", ErrMalformed)
	}
	if !b.Expires.IsZero() && !b.Expires.After(b.Timestamp) {
		return fmt.Errorf("%w: expiry is not after the timestamp", ErrMalformed)
	}
	if b.Deleted && len(b.Payload) > 0 {
		return fmt.Errorf("%w: a tombstone carries no payload", ErrMalformed)
	}
	return b.CheckVersion()
}

// CheckCommunity validates a community name: 1 to 64 characters from
// [a-z0-9._-], starting with a letter or digit.
func CheckCommunity(s string) error {
	if len(s) == 0 || len(s) > MaxCommunityLen {
		return fmt.Errorf("community name must be 1 to %d characters, got %d", MaxCommunityLen, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || i > 0 && (c == '-' || c == '_' || c == '.')
		if !ok {
			return fmt.Errorf("community name %q: only lowercase letters, digits and . _ - are allowed, starting with a letter or digit", s)
		}
	}
	return nil
}

// CheckKind validates a record kind: 1 to 32 characters from [a-z0-9-],
// starting with a letter.
func CheckKind(s string) error {
	if len(s) == 0 || len(s) > MaxKindLen {
		return fmt.Errorf("kind must be 1 to %d characters, got %d", MaxKindLen, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || i > 0 && (c >= '0' && c <= '9' || c == '-')
		if !ok {
			return fmt.Errorf("kind %q: only lowercase letters, digits and -, starting with a letter", s)
		}
	}
	return nil
}

// CheckKey validates a record key: at most 256 bytes of UTF-8 without
// control characters. The empty key is allowed (singletons such as a
// profile use it).
func CheckKey(s string) error {
	if len(s) > MaxKeyLen {
		return fmt.Errorf("key is %d bytes, limit %d", len(s), MaxKeyLen)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("key is not valid UTF-8")
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("key contains a control character")
		}
	}
	return nil
}

// Now returns the current time truncated to the millisecond precision that
// records carry, so a signed timestamp round-trips exactly.
func Now() time.Time { return time.Now().Truncate(time.Millisecond) }
