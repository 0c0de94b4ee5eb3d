package mentorship_test

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/mentorship"
)

// BenchmarkFind100k ranks a Directory of 100 000 profiles (70 % mentors,
// varied skills, languages and zones; a third with pairing outcomes)
// against 256 varied queries, one query per iteration, and reports the
// median and 99th percentile time per query: wall time, and the CPU time
// of the querying thread (what the query costs, without the time it waited
// for a CPU on a busy machine). Run with -benchtime 2000x or more so the
// percentiles cover many queries.
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
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	wall := make([]time.Duration, 0, b.N)
	cpu := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start, startCPU := time.Now(), threadCPU()
		res, err := d.Rank(queries[i%len(queries)])
		wall = append(wall, time.Since(start))
		cpu = append(cpu, threadCPU()-startCPU)
		if err != nil || len(res.Matches) == 0 {
			b.Fatalf("query %d: %d results, %v", i, len(res.Matches), err)
		}
	}
	b.StopTimer()
	reportPercentiles(b, wall, cpu)
}

// reportPercentiles reports the median and 99th percentile of the wall
// and CPU times per query, in milliseconds.
func reportPercentiles(b *testing.B, wall, cpu []time.Duration) {
	for _, m := range []struct {
		unit string
		d    []time.Duration
	}{{"ms", wall}, {"ms-cpu", cpu}} {
		slices.Sort(m.d)
		pct := func(p float64) float64 {
			return float64(m.d[min(len(m.d)-1, int(p*float64(len(m.d))))].Microseconds()) / 1000
		}
		b.ReportMetric(pct(0.50), "p50-"+m.unit)
		b.ReportMetric(pct(0.99), "p99-"+m.unit)
	}
}
