package node

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/sync/record"
)

// BenchmarkResourcesLocal lists and searches a community of 20 000
// resources by 500 authors, with 20 000 endorsements, in Badger: what
// `resource list`, `search` and `show` cost end to end, from the cached
// set, and (list 50 after a change) with the store scan that rebuilds it.
// See docs/PERFORMANCE.md.
func BenchmarkResourcesLocal(b *testing.B) {
	const resources, authors, endorsements = 20000, 500, 20000
	ctx := context.Background()
	l := openResourceTestLocal(b, "")
	rng := rand.New(rand.NewPCG(3, 4))
	keys := make([]ed25519.PrivateKey, authors)
	for i := range keys {
		_, keys[i], _ = ed25519.GenerateKey(nil)
	}
	author := func(k ed25519.PrivateKey) record.Author { return record.Author(k.Public().(ed25519.PublicKey)) }
	words := []string{"consent", "facilitation", "circle", "proposal", "feedback", "role", "selection", "meeting",
		"evaluation", "governance", "agenda", "objection", "driver", "review", "practice", "workshop", "guide"}
	text := func(n int) string {
		s := ""
		for i := range n {
			if i > 0 {
				s += " "
			}
			s += words[rng.IntN(len(words))]
		}
		return s
	}
	now := record.Now()
	var recs []*record.Record
	type ref struct {
		author record.Author
		id     string
	}
	var refs []ref
	sign := func(k ed25519.PrivateKey, kind, key string, payload []byte) {
		rec, err := record.Sign(k, record.Body{Community: resourceTestCommunity, Author: author(k), Kind: kind, Key: key,
			Version: 1, Timestamp: now.Add(-time.Duration(rng.IntN(1e6)) * time.Millisecond), Payload: payload})
		if err != nil {
			b.Fatal(err)
		}
		recs = append(recs, rec)
	}
	for i := range resources {
		k := keys[i%authors]
		r := mentorship.Resource{Type: mentorship.ResourceType(1 + rng.IntN(5)), Title: text(3 + rng.IntN(6)),
			URL: fmt.Sprintf("https://example.org/%d", i), Description: text(20 + rng.IntN(40)),
			Tags: []string{words[rng.IntN(len(words))]}, Language: "en"}
		payload, err := r.Encode()
		if err != nil {
			b.Fatal(err)
		}
		id := mentorship.NewResourceID()
		sign(k, mentorship.KindResource, id, payload)
		refs = append(refs, ref{author(k), id})
	}
	for i := range endorsements {
		k := keys[rng.IntN(authors)]
		r := refs[i%len(refs)]
		sign(k, mentorship.KindEndorsement, mentorship.EndorsementKey(r.author, r.id), nil)
	}
	if _, err := l.store.ApplyBatch(ctx, recs); err != nil {
		b.Fatal(err)
	}
	for _, q := range []struct {
		name string
		q    api.ResourceQuery
	}{
		{"list 50", api.ResourceQuery{Limit: 50}},
		{"search one word", api.ResourceQuery{Text: "consent", Limit: 50}},
		{"search by tag and type", api.ResourceQuery{Tag: "circle", Type: "guide", Limit: 50}},
	} {
		b.Run(q.name, func(b *testing.B) {
			// The cached set, built before the timer starts.
			if _, err := l.Resources(ctx, q.q); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := l.Resources(ctx, q.q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// What the first list after any change costs: the scan that rebuilds
	// the cached set (local_resource_cache.go), then the query.
	b.Run("list 50 after a change", func(b *testing.B) {
		for b.Loop() {
			l.resources.reset()
			if _, err := l.Resources(ctx, api.ResourceQuery{Limit: 50}); err != nil {
				b.Fatal(err)
			}
		}
		// The memory the kept set holds: the live heap with and without it.
		var before, after runtime.MemStats
		l.resources.reset()
		runtime.GC()
		runtime.ReadMemStats(&before)
		if _, err := l.Resources(ctx, api.ResourceQuery{Limit: 50}); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/(1<<20), "MB-kept")
	})
	b.Run("show", func(b *testing.B) {
		if _, err := l.Resource(ctx, refs[0].id, ""); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := l.Resource(ctx, refs[0].id, ""); err != nil {
				b.Fatal(err)
			}
		}
	})
}
