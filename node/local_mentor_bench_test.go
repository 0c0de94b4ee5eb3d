package node

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/sync/record"
)

// BenchmarkFindMentorsNode100k measures `mentor find` in a node holding
// 100 000 profile records in Badger: Local.FindMentors, as the API calls
// it, per query (after the first, which builds the directory and is
// reported apart as build-ms), in wall time and in CPU time of the querying
// thread. Each iteration is one of 256 varied queries.
func BenchmarkFindMentorsNode100k(b *testing.B) {
	const n = 100_000
	off, err := OpenOffline(b.TempDir(), "bench", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = off.Close() })
	l := off.Local
	ctx := context.Background()
	recs := syntheticMentorRecords(b, n)
	for batch := range slices.Chunk(recs, 2000) {
		if _, err := l.store.ApplyBatch(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	vocab := mentorship.Vocabulary()
	r := rand.New(rand.NewPCG(1, 2))
	queries := make([]api.MentorQuery, 256)
	for i := range queries {
		var skills []string
		for range 1 + r.IntN(3) {
			skills = append(skills, vocab[r.IntN(len(vocab))])
		}
		queries[i] = api.MentorQuery{
			Skills:    skills,
			Languages: []string{[]string{"en", "de", "fr", "sw"}[r.IntN(4)]},
			TimeZone:  []string{"Europe/Berlin", "America/Chicago", "Asia/Singapore", "UTC-05:00"}[r.IntN(4)],
			Limit:     1 + r.IntN(20),
		}
	}
	start := time.Now()
	res, err := l.FindMentors(ctx, queries[0])
	if err != nil || res.Eligible == 0 {
		b.Fatalf("first query: %+v, %v", res, err)
	}
	build := time.Since(start)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	wall := make([]time.Duration, 0, b.N)
	cpu := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start, startCPU := time.Now(), threadCPU()
		_, err := l.FindMentors(ctx, queries[i%len(queries)])
		wall = append(wall, time.Since(start))
		cpu = append(cpu, threadCPU()-startCPU)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
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
	b.ReportMetric(float64(build.Milliseconds()), "build-ms")
}

// syntheticMentorRecords signs n varied profiles, 70 % of them mentors.
func syntheticMentorRecords(tb testing.TB, n int) []*record.Record {
	tb.Helper()
	vocab := mentorship.Vocabulary()
	zones := []string{"Europe/Berlin", "Europe/London", "America/New_York", "America/Sao_Paulo", "Asia/Kolkata",
		"Asia/Tokyo", "Australia/Sydney", "Africa/Nairobi", "UTC", "UTC+05:30", "UTC-03:00", "Pacific/Auckland", ""}
	langs := []string{"en", "de", "fr", "es", "pt", "nl", "it", "sw", "hi", "ja"}
	recs := make([]*record.Record, n)
	errs := make([]error, n)
	ts := record.Now()
	parallel(n, func(i int) {
		r := rand.New(rand.NewPCG(uint64(i), 9))
		pick := func(from []string, max int) []string {
			var out []string
			for range r.IntN(max + 1) {
				out = append(out, from[r.IntN(len(from))])
			}
			return out
		}
		roles := []mentorship.Role{mentorship.RoleMentee}
		if r.IntN(10) < 7 {
			roles = append(roles, mentorship.RoleMentor)
		}
		p := mentorship.Profile{
			Name:       fmt.Sprintf("Practitioner %d", i),
			Bio:        "Practises sociocracy in a housing cooperative and a school.",
			Skills:     append(pick(vocab, 6), fmt.Sprintf("tag %d", r.IntN(5000))),
			Interests:  pick(vocab, 4),
			Languages:  pick(langs, 3),
			TimeZone:   zones[r.IntN(len(zones))],
			Experience: mentorship.Experience(r.IntN(5)),
			Roles:      roles,
			Capacity:   r.IntN(6),
			Closed:     r.IntN(10) == 0,
		}
		payload, err := p.Encode()
		if err != nil {
			errs[i] = err
			return
		}
		seed := sha256.Sum256(fmt.Appendf(nil, "mentor bench %d", i))
		k := ed25519.NewKeyFromSeed(seed[:])
		var author record.Author
		copy(author[:], k.Public().(ed25519.PublicKey))
		recs[i], errs[i] = record.Sign(k, record.Body{Community: DefaultCommunity, Author: author,
			Kind: mentorship.KindProfile, Version: 1, Timestamp: ts, Payload: payload})
	})
	for _, err := range errs {
		if err != nil {
			tb.Fatal(err)
		}
	}
	return recs
}
