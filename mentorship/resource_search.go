package mentorship

import (
	"bytes"
	"cmp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ResourceEntry is a current resource as the node gathers it for listing
// and search: who wrote it, its ID, its content, when it was last written
// and how many people endorse it.
type ResourceEntry struct {
	Author       [32]byte
	ID           string
	Resource     Resource
	UpdatedAt    time.Time
	Endorsements int
}

// ResourceQuery selects and ranks resources. Zero fields do not filter.
type ResourceQuery struct {
	// Text is matched, case-insensitively, against title, tags,
	// description and text. Every word of it must occur somewhere.
	Text string
	// Tag keeps resources with this tag (normalised as tags are).
	Tag      string
	Type     ResourceType
	Language string
	Author   *[32]byte
}

// ResourceHit is one search result: the entry and its relevance to the
// query's text (0 without text).
type ResourceHit struct {
	Entry     *ResourceEntry
	Relevance int
}

// Relevance weights: how much one query word adds when it occurs in a
// field as a whole word, or only inside a longer word. The field's best
// match counts; the fields add up.
const (
	relTitleWord     = 10
	relTitleSub      = 4
	relTagExact      = 8 // the word is a whole tag
	relTagWord       = 6
	relTagSub        = 3
	relDescWord      = 3
	relDescSub       = 1
	relTextWord      = 2
	relTextSub       = 1
	relTitlePhrase   = 10 // the whole query, several words, in the title
	relTitleIsPhrase = 10 // ... and it is the whole title
)

// SearchResources returns the entries that match q, best first: by
// relevance, then endorsements, then most recently updated, then author
// key and ID (so the order is total and every node ranks alike). The hits
// point into entries.
func SearchResources(entries []ResourceEntry, q ResourceQuery) []ResourceHit {
	words := strings.Fields(strings.ToLower(q.Text))
	phrase := strings.Join(words, " ")
	tag := NormalizeResourceTag(q.Tag)
	lang := strings.ToLower(strings.TrimSpace(q.Language))
	var hits []ResourceHit
	for i := range entries {
		e := &entries[i]
		r := &e.Resource
		if q.Type != 0 && r.Type != q.Type ||
			lang != "" && r.Language != lang ||
			q.Author != nil && e.Author != *q.Author ||
			tag != "" && !hasResourceTag(r.Tags, tag) {
			continue
		}
		rel := 0
		if len(words) > 0 {
			var ok bool
			if rel, ok = resourceRelevance(r, words, phrase); !ok {
				continue
			}
		}
		hits = append(hits, ResourceHit{Entry: e, Relevance: rel})
	}
	slices.SortFunc(hits, compareResourceHits)
	return hits
}

func compareResourceHits(a, b ResourceHit) int {
	return cmp.Or(
		cmp.Compare(b.Relevance, a.Relevance),
		cmp.Compare(b.Entry.Endorsements, a.Entry.Endorsements),
		b.Entry.UpdatedAt.Compare(a.Entry.UpdatedAt),
		bytes.Compare(a.Entry.Author[:], b.Entry.Author[:]),
		strings.Compare(a.Entry.ID, b.Entry.ID),
	)
}

func hasResourceTag(tags []string, tag string) bool {
	for _, t := range tags {
		// Stored tags are normalised by honest writers; compare the
		// normal form anyway, as a peer may send them otherwise.
		if t == tag || NormalizeResourceTag(t) == tag {
			return true
		}
	}
	return false
}

// resourceRelevance scores r against the lowercase query words; ok is
// false if some word occurs in no field.
func resourceRelevance(r *Resource, words []string, phrase string) (score int, ok bool) {
	title := strings.ToLower(r.Title)
	desc := strings.ToLower(r.Description)
	text := strings.ToLower(r.Text)
	for _, w := range words {
		s := fieldScore(title, w, relTitleWord, relTitleSub) +
			tagScore(r.Tags, w) +
			fieldScore(desc, w, relDescWord, relDescSub) +
			fieldScore(text, w, relTextWord, relTextSub)
		if s == 0 {
			return 0, false
		}
		score += s
	}
	if len(words) > 1 {
		if title == phrase {
			score += relTitleIsPhrase
		}
		if fieldScore(title, phrase, 1, 0) > 0 {
			score += relTitlePhrase
		}
	}
	return score, true
}

func tagScore(tags []string, w string) int {
	best := 0
	for _, t := range tags {
		t = strings.ToLower(t)
		if t == w {
			return relTagExact
		}
		best = max(best, fieldScore(t, w, relTagWord, relTagSub))
	}
	return best
}

// fieldScore returns word if w occurs in s as a whole word (not preceded
// or followed by a letter or digit), sub if it occurs only inside longer
// words, else 0.
func fieldScore(s, w string, word, sub int) int {
	found := false
	for off := 0; off <= len(s)-len(w); {
		i := strings.Index(s[off:], w)
		if i < 0 {
			break
		}
		i += off
		found = true
		before, _ := utf8.DecodeLastRuneInString(s[:i])
		after, _ := utf8.DecodeRuneInString(s[i+len(w):])
		if !isResourceWordRune(before) && !isResourceWordRune(after) {
			return word
		}
		_, n := utf8.DecodeRuneInString(s[i:])
		off = i + n
	}
	if found {
		return sub
	}
	return 0
}

func isResourceWordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r))
}
