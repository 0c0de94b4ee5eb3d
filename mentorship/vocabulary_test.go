package mentorship_test

import (
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/mentormesh/mentormesh/mentorship"
)

func TestVocabulary(t *testing.T) {
	v := mentorship.Vocabulary()
	if len(v) < 9 {
		t.Fatalf("Vocabulary() has %d tags, want at least the issue's 9", len(v))
	}
	seen := map[string]bool{}
	for _, tag := range v {
		if mentorship.NormalizeTag(tag) != tag || tag == "" || utf8.RuneCountInString(tag) > mentorship.MaxSkillLen {
			t.Errorf("vocabulary tag %q is not a normalised tag of at most %d characters", tag, mentorship.MaxSkillLen)
		}
		if seen[tag] {
			t.Errorf("vocabulary tag %q twice", tag)
		}
		seen[tag] = true
		if !mentorship.InVocabulary(tag) || mentorship.SuggestTags(tag) != nil {
			t.Errorf("InVocabulary(%q) = false or SuggestTags(%q) != nil, want a known tag", tag, tag)
		}
	}
	for _, tag := range []string{"consent decision-making", "facilitation", "circle structure", "role selection",
		"proposal forming", "feedback", "meeting evaluation", "training others", "organisational design"} {
		if !seen[tag] {
			t.Errorf("vocabulary lacks %q", tag)
		}
	}
	v[0] = "changed"
	if mentorship.Vocabulary()[0] == "changed" {
		t.Error("Vocabulary() returns the package's own slice")
	}
}

func TestSuggestTags(t *testing.T) {
	tests := []struct {
		tag  string
		want []string
	}{
		{"facilitaton", []string{"facilitation"}},
		{"Facilitatoin", []string{"facilitation"}},
		{"organizational design", []string{"organisational design"}},
		{"feedbak", []string{"feedback"}},
		{"consent", []string{"consent decision-making"}},
		{"consent decision making", []string{"consent decision-making"}},
		{"review", []string{"agreement review", "peer review", "performance review"}},
		{"circles", []string{"helping circles", "delegate circles"}},
		{"facilitation", nil},
		{"gardening", nil},
		{"rev", nil}, // too short to suggest by word
		{"", nil},
	}
	for _, tt := range tests {
		if got := mentorship.SuggestTags(tt.tag); !slices.Equal(got, tt.want) {
			t.Errorf("SuggestTags(%q) = %q, want %q", tt.tag, got, tt.want)
		}
	}
}
