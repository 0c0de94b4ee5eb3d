package ingest_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/ingest"
	"github.com/mentormesh/mentormesh/sync/record"
)

// The Badger benchmarks measure the ingest path as a node runs it: decode,
// checks, signature, and a write to the real on-disk store. Compare them
// with BenchmarkVerifyEd25519, the cost of the signature check alone.

// badgerAdapter is the node's adapter from store.Store to ingest's
// interfaces.
type badgerAdapter struct{ s store.Store }

func (a badgerAdapter) CurrentMeta(ctx context.Context, addr record.Addr) (record.Meta, bool, error) {
	return a.s.CurrentMeta(ctx, addr)
}

func (a badgerAdapter) ApplyRemote(ctx context.Context, rec *record.Record) (bool, error) {
	res, err := a.s.Apply(ctx, rec, store.ApplyOptions{})
	return res.Applied, err
}

func (a badgerAdapter) ApplyRemoteBatch(ctx context.Context, recs []*record.Record) ([]bool, error) {
	return a.s.ApplyBatch(ctx, recs)
}

// badgerPipelines returns fresh pipelines, each over its own empty Badger
// store in a temporary directory, so every ingest is of a new record.
func badgerPipelines(b *testing.B, n, size int) []*ingest.Pipeline {
	b.Helper()
	pipes := make([]*ingest.Pipeline, n/size+1)
	for i := range pipes {
		s, err := store.OpenBadger(b.TempDir(), store.BadgerOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		pipes[i] = ingest.New(badgerAdapter{s}, mentorship.Kinds{}, ingest.Options{
			Now:           func() time.Time { return now },
			SeenSize:      size,
			IsUnknownKind: func(err error) bool { return false },
		})
	}
	return pipes
}

// bigPool holds enough distinct records that a benchmark of a few seconds
// needs only one store (opening several would add their background work).
var bigPool = lazyPool(64, 512)

func BenchmarkIngestBadger(b *testing.B) {
	pool := bigPool(b)
	pipes := badgerPipelines(b, b.N, len(pool))
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if out := pipes[i/len(pool)].Ingest(ctx, pool[i%len(pool)], ingest.Source{}); out.Verdict != ingest.Accept {
			b.Fatalf("Ingest = %v %v, want accept", out.Verdict, out.Err)
		}
	}
	reportRate(b)
}

// BenchmarkIngestBadgerParallel ingests one record at a time from two
// goroutines per core, as GossipSub's validation slots call the pipeline
// (sync/gossip.slotsPerCore).
func BenchmarkIngestBadgerParallel(b *testing.B) {
	pool := bigPool(b)
	pipes := badgerPipelines(b, b.N, len(pool))
	ctx := context.Background()
	var next atomic.Int64
	b.SetParallelism(2)
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

// BenchmarkIngestBatchBadger ingests the pool in batches of 256 (as catch-up
// does): signatures verified on all cores, one store write per batch.
func BenchmarkIngestBatchBadger(b *testing.B) {
	pool := bigPool(b)
	pipes := badgerPipelines(b, b.N, len(pool))
	ctx := context.Background()
	const batch = 256
	b.ResetTimer()
	for i := 0; i < b.N; {
		p := pipes[i/len(pool)]
		j := i % len(pool)
		n := min(batch, len(pool)-j, b.N-i)
		for _, out := range p.IngestBatch(ctx, pool[j:j+n], ingest.Source{}) {
			if out.Verdict != ingest.Accept {
				b.Fatalf("IngestBatch = %v %v, want accept", out.Verdict, out.Err)
			}
		}
		i += n
	}
	reportRate(b)
}
