package store_test

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/store/storetest"
	"github.com/mentormesh/mentormesh/sync/record"
)

// benchRecords signs n distinct records (1 KiB payloads) before the timer
// starts, so the benchmarks measure the store, not Ed25519.
func benchRecords(b *testing.B, n int) []*record.Record {
	b.Helper()
	a := storetest.NewAuthor("bench")
	ts := record.Now()
	payload := make([]byte, 1<<10)
	recs := make([]*record.Record, n)
	for i := range recs {
		recs[i] = a.Sign(b, record.Body{Kind: "offer", Key: fmt.Sprintf("k%09d", i), Timestamp: ts, Payload: payload})
	}
	return recs
}

// BenchmarkBadgerApply applies distinct records from peers (not local: no
// fsync per write).
func BenchmarkBadgerApply(b *testing.B) {
	s := openBadger(b, b.TempDir())
	recs := benchRecords(b, b.N)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		res, err := s.Apply(ctx, recs[i], store.ApplyOptions{})
		if err != nil || !res.Applied {
			b.Fatalf("Apply = %+v, %v", res, err)
		}
	}
}

// BenchmarkBadgerApplyBatch applies distinct records from peers in batches
// of 256, as catch-up delivers them. An op is one record, so ns/op compares
// with BenchmarkBadgerApply; like it, all records are signed before the
// timer starts, so Badger's background work (flushes, compactions) falls
// inside the timed part.
func BenchmarkBadgerApplyBatch(b *testing.B) {
	const batchSize = 256
	s := openBadger(b, b.TempDir())
	recs := benchRecords(b, b.N)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for start := 0; start < b.N; start += batchSize {
		applied, err := s.ApplyBatch(ctx, recs[start:min(start+batchSize, b.N)])
		if err != nil {
			b.Fatalf("ApplyBatch: %v", err)
		}
		if i := slices.Index(applied, false); i >= 0 {
			b.Fatalf("ApplyBatch: record %d of the batch not applied", start+i)
		}
	}
}

// BenchmarkBadgerApplyParallel applies distinct records from several
// goroutines at once (4 per CPU, as from several peers' streams), which
// lets Badger batch their commits.
func BenchmarkBadgerApplyParallel(b *testing.B) {
	s := openBadger(b, b.TempDir())
	recs := benchRecords(b, b.N)
	ctx := context.Background()
	var next atomic.Int64
	b.SetParallelism(4)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := recs[next.Add(1)-1]
			res, err := s.Apply(ctx, rec, store.ApplyOptions{})
			if err != nil || !res.Applied {
				b.Errorf("Apply = %+v, %v", res, err)
				return
			}
		}
	})
}
