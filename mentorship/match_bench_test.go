package mentorship_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/mentorship"
)

// BenchmarkFind100k ranks a Directory of 100 000 profiles (70 % mentors,
// varied skills, languages and zones; a third with pairing outcomes)
// against 256 varied queries, one query per iteration, and reports the
// median and 99th percentile time per query. Run with -benchtime 2000x or
// more so the percentiles cover many queries.
func BenchmarkFind100k(b *testing.B) {
	cands := randomCandidates(100_000, 42)
	d := mentorship.NewDirectory()
	outcomes := map[[32]byte]mentorship.Outcome{}
	for _, c := range cands {
		d.Put(c.Key, c.Profile)
		if c.Outcome != (mentorship.Outcome{}) && len(outcomes) < len(cands)/3 {
			outcomes[c.Key] = c.Outcome
		}
	}
	r := rand.New(rand.NewPCG(42, 3))
	queries := make([]mentorship.MatchQuery, 256)
	for i := range queries {
		queries[i] = randomQuery(r, cands[i].Key)
	}
	// Resolve the zones once, as a running node has.
	d.SetOutcomes(outcomes)
	if _, err := d.Rank(queries[0]); err != nil {
		b.Fatal(err)
	}
	times := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		res, err := d.Rank(queries[i%len(queries)])
		times = append(times, time.Since(start))
		if err != nil || len(res.Matches) == 0 {
			b.Fatalf("query %d: %d results, %v", i, len(res.Matches), err)
		}
	}
	b.StopTimer()
	slices.Sort(times)
	pct := func(p float64) float64 {
		return float64(times[min(len(times)-1, int(p*float64(len(times))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
