package ingest_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/sync/ingest"
	"github.com/mentormesh/mentormesh/sync/record"
)

// The benchmarks compare the bare signature check with the whole pipeline,
// to show how much of ingest's cost is the Ed25519 verification it cannot
// avoid for a new record.

func BenchmarkVerifyEd25519(b *testing.B) {
	pub, msg, sig := verifyInput(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("signature does not verify")
		}
	}
	reportRate(b)
}

func BenchmarkVerifyEd25519Parallel(b *testing.B) {
	pub, msg, sig := verifyInput(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if !ed25519.Verify(pub, msg, sig) {
				b.Error("signature does not verify")
				return
			}
		}
	})
	reportRate(b)
}

func BenchmarkIngest(b *testing.B) {
	pool := benchPool(b)
	pipes := benchPipelines(b.N, len(pool))
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if out := pipes[i/len(pool)].Ingest(ctx, pool[i%len(pool)], ingest.Source{}); out.Verdict != ingest.Accept {
			b.Fatalf("Ingest = %v %v, want accept", out.Verdict, out.Err)
		}
	}
	reportRate(b)
}

func BenchmarkIngestParallel(b *testing.B) {
	pool := benchPool(b)
	pipes := benchPipelines(b.N, len(pool))
	ctx := context.Background()
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1) - 1)
			if out := pipes[i/len(pool)].Ingest(ctx, pool[i%len(pool)], ingest.Source{}); out.Verdict != ingest.Accept {
				b.Errorf("Ingest = %v %v, want accept", out.Verdict, out.Err)
				return
			}
		}
	})
	reportRate(b)
}

func reportRate(b *testing.B) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "records/s")
	}
}

// verifyInput returns a key, a 600-byte message and its signature.
func verifyInput(b *testing.B) (ed25519.PublicKey, []byte, []byte) {
	key := testKey(1)
	msg := []byte(strings.Repeat("mentormesh ", 60)[:600])
	return key.Public().(ed25519.PublicKey), msg, ed25519.Sign(key, msg)
}

// benchPipelines returns enough fresh pipelines (each over an empty store)
// for n ingests of a pool of size records: pipeline i/size takes ingest i,
// so every ingest is of a record its pipeline has not seen, and does the
// full work: decode, checks, verify, apply.
func benchPipelines(n, size int) []*ingest.Pipeline {
	pipes := make([]*ingest.Pipeline, n/size+1)
	for i := range pipes {
		pipes[i] = ingest.New(newFakeStore(), mentorship.Kinds{}, ingest.Options{
			Now:           func() time.Time { return now },
			SeenSize:      size,
			IsUnknownKind: func(err error) bool { return false },
		})
	}
	return pipes
}

// benchPool is a pool of distinct signed profile records with a ~500-byte
// payload, at distinct addresses, signed once per test binary.
var benchPool = lazyPool(64, 64)

// lazyPool returns a function that makes a pool of authors x communities
// records on first use and returns the same pool afterwards.
func lazyPool(authors, communities int) func(b *testing.B) [][]byte {
	var (
		once sync.Once
		pool [][]byte
		err  error
	)
	return func(b *testing.B) [][]byte {
		once.Do(func() { pool, err = makePool(authors, communities) })
		if err != nil {
			b.Fatal(err)
		}
		return pool
	}
}

func makePool(authors, communities int) ([][]byte, error) {
	bio := strings.Repeat("Backend engineer, ten years of Go, happy to pair on tests and reviews. ", 6)[:420]
	pool := make([][]byte, 0, authors*communities)
	for a := range authors {
		key := testKey(byte(a + 1))
		payload, err := mentorship.Profile{
			Name:   fmt.Sprintf("Mentor %d", a),
			Bio:    bio,
			Skills: []string{"go", "testing", "distributed systems", "code review", "databases", "mentoring"},
		}.Encode()
		if err != nil {
			return nil, err
		}
		for c := range communities {
			r, err := record.Sign(key, record.Body{
				Community: fmt.Sprintf("community-%d", c),
				Author:    authorOf(key),
				Kind:      mentorship.KindProfile,
				Version:   1,
				Timestamp: now,
				Payload:   payload,
			})
			if err != nil {
				return nil, err
			}
			pool = append(pool, r.Raw)
		}
	}
	return pool, nil
}
