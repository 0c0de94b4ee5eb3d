package mentorship_test

import (
	"testing"

	"github.com/mentormesh/mentormesh/mentorship"
)

// TestRootOnly: a linked device may sign neither the device list nor
// private items (their keys derive from the root key; a device-signed one
// can only replay an older sealed version).
func TestRootOnly(t *testing.T) {
	for kind, want := range map[string]bool{
		mentorship.KindDevice:      true,
		mentorship.KindPrivate:     true,
		mentorship.KindProfile:     false,
		mentorship.KindPairing:     false,
		mentorship.KindResource:    false,
		mentorship.KindEndorsement: false,
		mentorship.KindModeration:  false,
	} {
		if got := mentorship.RootOnly(kind); got != want {
			t.Errorf("RootOnly(%q) = %v, want %v", kind, got, want)
		}
	}
}
