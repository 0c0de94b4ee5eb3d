package mentorship_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/mentorship"
)

// searchFixture is a small library. IDs name the entries in expectations.
func searchFixture() []mentorship.ResourceEntry {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ada, bo := authorKey(1), authorKey(2)
	e := func(id string, author [32]byte, days, endorsements int, r mentorship.Resource) mentorship.ResourceEntry {
		return mentorship.ResourceEntry{Author: author, ID: id, Resource: r.Normalize(), UpdatedAt: t0.AddDate(0, 0, days), Endorsements: endorsements}
	}
	return []mentorship.ResourceEntry{
		e("consent-guide", ada, 1, 2, mentorship.Resource{Type: mentorship.ResourceGuide, Title: "Consent decision-making, step by step",
			URL: "https://x.org/1", Tags: []string{"consent decision-making"}, Language: "en"}),
		e("facilitation-book", bo, 2, 5, mentorship.Resource{Type: mentorship.ResourceBook, Title: "The facilitator's handbook",
			URL: "https://x.org/2", Description: "Covers consent rounds and proposal forming.", Tags: []string{"facilitation"}, Language: "en"}),
		e("circle-video", ada, 3, 0, mentorship.Resource{Type: mentorship.ResourceVideo, Title: "Circle structure in ten minutes",
			URL: "https://x.org/3", Tags: []string{"circle structure"}, Language: "de"}),
		e("meetup", bo, 4, 1, mentorship.Resource{Type: mentorship.ResourceEvent, Title: "Berlin sociocracy meetup",
			Text: "We practise consent and role selection.", StartsAt: time.Date(2026, 12, 1, 18, 0, 0, 0, time.UTC), Place: "Berlin", Language: "de"}),
		e("template", ada, 5, 1, mentorship.Resource{Type: mentorship.ResourceTemplate, Title: "Proposal template",
			Text: "Driver:\nProposal:\nReview date:", Tags: []string{"proposal forming"}}),
		e("consensus", bo, 6, 9, mentorship.Resource{Type: mentorship.ResourceArticle, Title: "Consensus is not consent",
			URL: "https://x.org/6", Language: "en"}),
	}
}

func hitIDs(hits []mentorship.ResourceHit) []string {
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.Entry.ID
	}
	return ids
}

func TestSearchResources(t *testing.T) {
	ada := authorKey(1)
	tests := []struct {
		name string
		q    mentorship.ResourceQuery
		want []string
	}{
		// Without text: most endorsed first, then most recent.
		{"everything", mentorship.ResourceQuery{}, []string{"consensus", "facilitation-book", "consent-guide", "template", "meetup", "circle-video"}},
		{"by type", mentorship.ResourceQuery{Type: mentorship.ResourceEvent}, []string{"meetup"}},
		{"by language", mentorship.ResourceQuery{Language: "DE"}, []string{"meetup", "circle-video"}},
		{"by author", mentorship.ResourceQuery{Author: &ada}, []string{"consent-guide", "template", "circle-video"}},
		{"by tag, normalised", mentorship.ResourceQuery{Tag: " Circle  Structure "}, []string{"circle-video"}},
		{"tag is exact, not a substring", mentorship.ResourceQuery{Tag: "consent"}, nil},
		// "consent" is a whole word of the guide's title (10) and a word of
		// its tag (6); the article has it in its title (10) but is endorsed
		// more; the book and the meetup only in description or text.
		{"text", mentorship.ResourceQuery{Text: "consent"}, []string{"consent-guide", "consensus", "facilitation-book", "meetup"}},
		{"text is case-insensitive", mentorship.ResourceQuery{Text: "CONSENT"}, []string{"consent-guide", "consensus", "facilitation-book", "meetup"}},
		// Inside longer words: title 4 + tag 3, title 4, then description
		// and text 1 each, the more endorsed first.
		{"substring", mentorship.ResourceQuery{Text: "consen"}, []string{"consent-guide", "consensus", "facilitation-book", "meetup"}},
		{"every word must match", mentorship.ResourceQuery{Text: "consent berlin"}, []string{"meetup"}},
		{"phrase in title ranks first", mentorship.ResourceQuery{Text: "proposal template"}, []string{"template"}},
		{"words in tags", mentorship.ResourceQuery{Text: "proposal"}, []string{"template", "facilitation-book"}},
		{"text and filters", mentorship.ResourceQuery{Text: "consent", Language: "en", Type: mentorship.ResourceArticle}, []string{"consensus"}},
		{"no match", mentorship.ResourceQuery{Text: "holacracy"}, nil},
		{"apostrophe inside a word", mentorship.ResourceQuery{Text: "facilitator's"}, []string{"facilitation-book"}},
		{"white space only is no text", mentorship.ResourceQuery{Text: "  \t"}, []string{"consensus", "facilitation-book", "consent-guide", "template", "meetup", "circle-video"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries := searchFixture()
			got := hitIDs(mentorship.SearchResources(entries, tt.q))
			if !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Errorf("SearchResources(%+v) = %q, want %q", tt.q, got, tt.want)
			}
		})
	}
}

func TestSearchResourcesRelevance(t *testing.T) {
	entries := searchFixture()
	hits := mentorship.SearchResources(entries, mentorship.ResourceQuery{Text: "consent"})
	rel := map[string]int{}
	for _, h := range hits {
		rel[h.Entry.ID] = h.Relevance
	}
	// title word 10 + tag word 6; title word 10; description word 3; text word 2.
	want := map[string]int{"consent-guide": 16, "consensus": 10, "facilitation-book": 3, "meetup": 2}
	for id, w := range want {
		if rel[id] != w {
			t.Errorf("relevance of %s to %q = %d, want %d", id, "consent", rel[id], w)
		}
	}
	// A whole word counts more than part of a longer word, whatever the
	// endorsements.
	words := []mentorship.ResourceEntry{
		{ID: "part", Endorsements: 9, Resource: guide("Consents, consensual")},
		{ID: "word", Resource: guide("On consent.")},
	}
	hits = mentorship.SearchResources(words, mentorship.ResourceQuery{Text: "consent"})
	if got := hitIDs(hits); !slices.Equal(got, []string{"word", "part"}) {
		t.Errorf("SearchResources(consent) = %q, want [word part]", got)
	} else if hits[0].Relevance != 10 || hits[1].Relevance != 4 {
		t.Errorf("SearchResources(consent) relevance = %d, %d; want 10, 4", hits[0].Relevance, hits[1].Relevance)
	}
	for _, h := range mentorship.SearchResources(entries, mentorship.ResourceQuery{}) {
		if h.Relevance != 0 {
			t.Errorf("relevance of %s without text = %d, want 0", h.Entry.ID, h.Relevance)
		}
	}
}

// TestSearchResourcesDeterministic: the order does not depend on the order
// of the input, even among entries that tie on relevance, endorsements and
// time.
func TestSearchResourcesDeterministic(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var entries []mentorship.ResourceEntry
	for i := range 40 {
		entries = append(entries, mentorship.ResourceEntry{
			Author: authorKey(byte(i % 3)), ID: fmt.Sprintf("%032x", i%7), UpdatedAt: t0.Add(time.Duration(i%2) * time.Hour),
			Endorsements: i % 2, Resource: guide(fmt.Sprintf("Guide %d", i%5)),
		})
	}
	want := hitIDsAuthors(mentorship.SearchResources(slices.Clone(entries), mentorship.ResourceQuery{Text: "guide"}))
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		shuffled := slices.Clone(entries)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if got := hitIDsAuthors(mentorship.SearchResources(shuffled, mentorship.ResourceQuery{Text: "guide"})); !slices.Equal(got, want) {
			t.Fatalf("SearchResources(shuffled) = %q, want %q", got, want)
		}
	}
}

func hitIDsAuthors(hits []mentorship.ResourceHit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = fmt.Sprintf("%x/%s@%v", h.Entry.Author[0], h.Entry.ID, h.Entry.UpdatedAt.Unix())
	}
	return out
}

// benchLibrary builds n resources with realistic text: titles of a few
// words, descriptions of a paragraph, a few tags each.
func benchLibrary(n int) []mentorship.ResourceEntry {
	words := strings.Fields(`consent decision making facilitation circle structure role selection proposal
		forming feedback meeting evaluation training organisational design governance agenda
		objection driver review sociocracy holacracy dynamic leadership practice community
		workshop handbook guide introduction advanced patterns template case study story`)
	rng := rand.New(rand.NewPCG(7, 7))
	pick := func(k int) string {
		var b strings.Builder
		for i := range k {
			if i > 0 {
				b.WriteByte(' ')
			}
			w := words[rng.IntN(len(words))]
			if i == 0 {
				w = strings.ToUpper(w[:1]) + w[1:]
			}
			b.WriteString(w)
		}
		return b.String()
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	entries := make([]mentorship.ResourceEntry, n)
	for i := range entries {
		entries[i] = mentorship.ResourceEntry{
			Author:       authorKey(byte(i)),
			ID:           fmt.Sprintf("%032x", i),
			UpdatedAt:    t0.Add(time.Duration(rng.IntN(1e6)) * time.Second),
			Endorsements: rng.IntN(10),
			Resource: mentorship.Resource{
				Type:        mentorship.ResourceType(1 + rng.IntN(5)),
				Title:       pick(3 + rng.IntN(6)),
				URL:         "https://example.org/r/" + fmt.Sprint(i),
				Description: pick(20 + rng.IntN(40)),
				Tags:        []string{words[rng.IntN(len(words))], words[rng.IntN(len(words))]},
				Language:    []string{"en", "de", "fr"}[rng.IntN(3)],
			},
		}
	}
	return entries
}

// BenchmarkSearchResources searches 20 000 resources. See
// docs/PERFORMANCE.md for figures.
func BenchmarkSearchResources(b *testing.B) {
	entries := benchLibrary(20000)
	for _, q := range []mentorship.ResourceQuery{
		{},
		{Text: "consent"},
		{Text: "proposal forming template"},
		{Text: "nothing-matches"},
		{Tag: "facilitation", Language: "en"},
	} {
		b.Run(fmt.Sprintf("%+v", q), func(b *testing.B) {
			for b.Loop() {
				mentorship.SearchResources(entries, q)
			}
		})
	}
}
