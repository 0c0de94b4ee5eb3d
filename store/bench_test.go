package store_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

// syncBenchItems is the size of the community BenchmarkSyncItemsScan reads.
const syncBenchItems = 100_000

// syncBenchRecords signs syncBenchItems small records once per process
// (about two seconds), with timestamps spread over a day and several
// authors, as a community's catch-up set would be.
var syncBenchRecords = sync.OnceValues(func() ([]*record.Record, error) {
	authors := make([]storetest.Author, 16)
	for i := range authors {
		authors[i] = storetest.NewAuthor(fmt.Sprint("sync bench ", i))
	}
	base := time.UnixMilli(1_770_000_000_000)
	recs := make([]*record.Record, syncBenchItems)
	for i := range recs {
		a := authors[i%len(authors)]
		var err error
		recs[i], err = record.Sign(a.Key, record.Body{
			Community: "sociocracy",
			Author:    a.ID,
			Kind:      "offer",
			Key:       fmt.Sprintf("k%06d", i),
			Version:   1,
			Timestamp: base.Add(time.Duration(i*863) * time.Millisecond),
			Payload:   []byte("offer"),
		})
		if err != nil {
			return nil, err
		}
	}
	return recs, nil
})

// BenchmarkSyncItemsScan reads the whole reconciliation set of a community
// of 100,000 current records from one snapshot, as a catch-up session
// computing fingerprints does. An op is one full scan; ns/item is the cost
// per item.
func BenchmarkSyncItemsScan(b *testing.B) {
	recs, err := syncBenchRecords()
	if err != nil {
		b.Fatalf("signing records: %v", err)
	}
	stores := []struct {
		name string
		open func(b *testing.B) store.Store
	}{
		{"badger", func(b *testing.B) store.Store { return openBadger(b, b.TempDir()) }},
		{"memory", func(*testing.B) store.Store { return store.NewMemory() }},
	}
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			ctx := context.Background()
			s := st.open(b)
			for start := 0; start < len(recs); start += 1000 {
				if _, err := s.ApplyBatch(ctx, recs[start:min(start+1000, len(recs))]); err != nil {
					b.Fatalf("ApplyBatch: %v", err)
				}
			}
			snap, err := s.SyncSnapshot(ctx)
			if err != nil {
				b.Fatalf("SyncSnapshot: %v", err)
			}
			defer snap.Close()
			scope := store.SyncScope{Community: "sociocracy"}
			// Memory sorts a scope's set on first use: not part of a scan.
			if n, err := snap.Count(scope); err != nil || n != syncBenchItems {
				b.Fatalf("Count = %d, %v; want %d", n, err, syncBenchItems)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				n := 0
				if err := snap.Items(scope, store.SyncItem{}, func(store.SyncItem) bool { n++; return true }); err != nil {
					b.Fatalf("Items: %v", err)
				}
				if n != syncBenchItems {
					b.Fatalf("Items yielded %d items, want %d", n, syncBenchItems)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*syncBenchItems), "ns/item")
		})
	}
}
