package mentorship

import (
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// TestAppendLower: appendLower writes what strings.ToLower returns, after
// what dst held, for ASCII (lowered eight bytes at a time) and the rest.
func TestAppendLower(t *testing.T) {
	for _, s := range []string{"", "A", "@[`{", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "Hello, World! 0123456789 @AZ[`az{",
		"ÉCOLE", "Straße ÜBER", "12345678É", "ABCDEFGHÄ", "\xff\xfeAB"} {
		if got, want := string(appendLower([]byte("x"), s)), "x"+strings.ToLower(s); got != want {
			t.Errorf("appendLower(x, %q) = %q, want %q", s, got, want)
		}
	}
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.OneOf(rapid.String(), rapid.StringMatching(`[\x00-\x7f]{0,40}`)).Draw(t, "s")
		if got, want := string(appendLower(nil, s)), strings.ToLower(s); got != want {
			t.Fatalf("appendLower(%q) = %q, want %q", s, got, want)
		}
	})
}
