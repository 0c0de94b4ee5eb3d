package mentorship

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// vocabulary is the suggested sociocracy vocabulary for skills and
// interests: the list first, then patterns from Sociocracy 3.0's
// practical guide and Sociocracy For All's "Many Voices One Song" (see
// the project's mentorship reference). It is a suggestion, not a rule:
// profiles may carry any tag.
var vocabulary = []string{
	"consent decision-making",
	"facilitation",
	"circle structure",
	"role selection",
	"proposal forming",
	"feedback",
	"meeting evaluation",
	"training others",
	"organisational design",
	"resolving objections",
	"rounds",
	"aim and domain",
	"double linking",
	"helping circles",
	"delegate circles",
	"logbook keeping",
	"agreement review",
	"peer review",
	"performance review",
	"development plan",
	"asking for help",
	"leading a circle",
	"secretary role",
	"communities of practice",
}

// Vocabulary returns the suggested skill and interest tags, most central
// first.
func Vocabulary() []string { return slices.Clone(vocabulary) }

// InVocabulary reports whether tag (normalised) is a suggested tag.
func InVocabulary(tag string) bool { return slices.Contains(vocabulary, NormalizeTag(tag)) }

// SuggestTags returns up to three suggested tags close to tag, closest
// first, for a tag that is not itself suggested: those within a small edit
// distance (typos, "organizational" for "organisational"), then those that
// contain it as a whole word ("consent" for "consent decision-making").
// It returns nil for a suggested tag or when nothing is close.
func SuggestTags(tag string) []string {
	tag = NormalizeTag(tag)
	if tag == "" || slices.Contains(vocabulary, tag) {
		return nil
	}
	type cand struct {
		tag  string
		dist int
		pos  int
	}
	var cands []cand
	limit := max(1, utf8.RuneCountInString(tag)/4)
	for i, v := range vocabulary {
		if d := editDistance(tag, v, limit); d <= limit {
			cands = append(cands, cand{v, d, i})
		} else if utf8.RuneCountInString(tag) >= 4 && containsWord(v, tag) {
			cands = append(cands, cand{v, limit + 1, i})
		}
	}
	slices.SortStableFunc(cands, func(a, b cand) int {
		if a.dist != b.dist {
			return a.dist - b.dist
		}
		return a.pos - b.pos
	})
	var out []string
	for _, c := range cands[:min(3, len(cands))] {
		out = append(out, c.tag)
	}
	return out
}

// containsWord reports whether phrase contains word as a run of whole
// words ("consent" in "consent decision-making", "decision" not in
// "decisions").
func containsWord(phrase, word string) bool {
	isSep := func(s string, i int) bool { return i < 0 || i >= len(s) || s[i] == ' ' || s[i] == '-' }
	for off := 0; ; {
		i := strings.Index(phrase[off:], word)
		if i < 0 {
			return false
		}
		i += off
		if isSep(phrase, i-1) && isSep(phrase, i+len(word)) {
			return true
		}
		off = i + 1
	}
}

// editDistance is the Levenshtein distance between a and b in runes,
// counting a swap of two adjacent runes as one edit (optimal string
// alignment), capped at limit+1.
func editDistance(a, b string, limit int) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > limit || -d > limit {
		return limit + 1
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(rb)], limit+1)
}
