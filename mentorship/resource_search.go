package mentorship

import (
	"bytes"
	"cmp"
	"encoding/binary"
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
	// Copies of the entry's sort keys: sorting compares them often, and
	// reading them here avoids a pointer chase per comparison.
	endorsements int
	updated      int64
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
	var m resourceMatcher
	if len(words) > 0 {
		m = newResourceMatcher(words, phrase)
	}
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
			if rel, ok = m.relevance(r); !ok {
				continue
			}
		}
		hits = append(hits, ResourceHit{Entry: e, Relevance: rel, endorsements: e.Endorsements, updated: e.UpdatedAt.UnixNano()})
	}
	slices.SortFunc(hits, compareResourceHits)
	return hits
}

func compareResourceHits(a, b ResourceHit) int {
	// Not cmp.Or: it would evaluate every comparison, and the byte
	// comparisons at the end are rarely needed.
	if c := cmp.Compare(b.Relevance, a.Relevance); c != 0 {
		return c
	}
	if c := cmp.Compare(b.endorsements, a.endorsements); c != 0 {
		return c
	}
	if c := cmp.Compare(b.updated, a.updated); c != 0 {
		return c
	}
	if c := bytes.Compare(a.Entry.Author[:], b.Entry.Author[:]); c != 0 {
		return c
	}
	return strings.Compare(a.Entry.ID, b.Entry.ID)
}

func hasResourceTag(tags []string, tag string) bool {
	for _, t := range tags {
		// Honest writers store tags normalised; a peer may send them
		// otherwise, and those are compared in normal form.
		if t == tag || !isNormalResourceTag(t) && NormalizeResourceTag(t) == tag {
			return true
		}
	}
	return false
}

// isNormalResourceTag reports, without allocating, whether t is surely in
// normal form: lowercase ASCII with single inner spaces.
func isNormalResourceTag(t string) bool {
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' || c < ' ' ||
			c == ' ' && (i == 0 || i == len(t)-1 || t[i-1] == ' ') {
			return false
		}
	}
	return true
}

// resourceMatcher scores resources against a query's words. It reuses
// its buffers from one resource to the next, so a search allocates next to
// nothing per resource.
type resourceMatcher struct {
	words             [][]byte
	phrase            []byte
	title, desc, text []byte
}

func newResourceMatcher(words []string, phrase string) resourceMatcher {
	m := resourceMatcher{phrase: []byte(phrase)}
	for _, w := range words {
		m.words = append(m.words, []byte(w))
	}
	return m
}

// relevance scores r; ok is false if some word occurs in no field.
func (m *resourceMatcher) relevance(r *Resource) (score int, ok bool) {
	m.title = appendLower(m.title[:0], r.Title)
	m.desc = appendLower(m.desc[:0], r.Description)
	m.text = appendLower(m.text[:0], r.Text)
	for _, w := range m.words {
		s := fieldScore(m.title, w, relTitleWord, relTitleSub) +
			tagScore(r.Tags, w) +
			fieldScore(m.desc, w, relDescWord, relDescSub) +
			fieldScore(m.text, w, relTextWord, relTextSub)
		if s == 0 {
			return 0, false
		}
		score += s
	}
	if len(m.words) > 1 {
		if bytes.Equal(m.title, m.phrase) {
			score += relTitleIsPhrase
		}
		if fieldScore(m.title, m.phrase, 1, 0) > 0 {
			score += relTitlePhrase
		}
	}
	return score, true
}

// appendLower appends s in lowercase to dst, as strings.ToLower would
// write it. ASCII is lowered eight bytes at a time: searching means
// lowering every resource's text for every query, and this is most of the
// cost of a search.
func appendLower(dst []byte, s string) []byte {
	n := len(dst)
	dst = append(dst, s...)
	b := dst[n:]
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(b); i += 8 {
		v := binary.LittleEndian.Uint64(b[i:])
		if v&highs != 0 {
			break // not ASCII
		}
		// Per byte, bit 7 of geA is set if the byte is >= 'A', of gtZ if
		// it is > 'Z' (no carry crosses bytes: every byte is < 0x80).
		geA := v + (0x80-'A')*ones
		gtZ := v + (0x80-'Z'-1)*ones
		upper := (geA ^ gtZ) & highs
		binary.LittleEndian.PutUint64(b[i:], v|upper>>2) // +0x20 for 'A'..'Z'
	}
	for ; i < len(b); i++ {
		c := b[i]
		if c >= utf8.RuneSelf {
			// Not ASCII: lower the rest rune by rune.
			dst = dst[:n+i]
			for _, r := range s[i:] {
				dst = utf8.AppendRune(dst, unicode.ToLower(r))
			}
			return dst
		}
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return dst
}

func tagScore(tags []string, w []byte) int {
	best := 0
	for _, t := range tags {
		t = strings.ToLower(t) // tags are normally lowercase already: no copy
		if t == string(w) {
			return relTagExact
		}
		best = max(best, fieldScore([]byte(t), w, relTagWord, relTagSub))
	}
	return best
}

// fieldScore returns word if w occurs in s as a whole word (not preceded
// or followed by a letter or digit), sub if it occurs only inside longer
// words, else 0.
func fieldScore(s, w []byte, word, sub int) int {
	found := false
	for off := 0; off <= len(s)-len(w); {
		i := bytes.Index(s[off:], w)
		if i < 0 {
			break
		}
		i += off
		found = true
		before, _ := utf8.DecodeLastRune(s[:i])
		after, _ := utf8.DecodeRune(s[i+len(w):])
		if !isResourceWordRune(before) && !isResourceWordRune(after) {
			return word
		}
		_, n := utf8.DecodeRune(s[i:])
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
