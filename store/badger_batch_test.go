package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/mentormesh/mentormesh/sync/record"
)

// batchRecords returns records of 1 KiB at keys k0..k(n-1), version v.
// They are signed once per process and shared: signing dominates these
// tests, ten times over with the race detector.
func batchRecords(t *testing.T, n int, v uint64) []*record.Record {
	t.Helper()
	signedMu.Lock()
	defer signedMu.Unlock()
	for i := len(signed[v]); i < n; i++ {
		payload := make([]byte, 1<<10)
		payload[0] = byte(v)
		signed[v] = append(signed[v], testRecord(t, record.Body{Kind: "offer", Key: fmt.Sprintf("k%d", i), Version: v, Payload: payload}))
	}
	return slices.Clone(signed[v][:n])
}

var (
	signedMu sync.Mutex
	signed   = make(map[uint64][]*record.Record) // by version
)

func keysOf(recs []*record.Record) [][]byte {
	keys := make([][]byte, len(recs))
	for i, r := range recs {
		keys[i] = currentKey(r.Addr())
	}
	return keys
}

// TestPlanChunkFits checks that planChunk's estimate of a transaction's
// size is Badger's own: a planned chunk of records that all make their
// seven writes commits, and one more record overflows the transaction.
// (Were Badger to charge less, the second check would fail harmlessly;
// were it to charge more, ApplyBatch would fall back on redoing its
// chunks, which TestApplyBatchOverflow covers.)
func TestPlanChunkFits(t *testing.T) {
	b := openTest(t, t.TempDir(), BadgerOptions{})
	const n = 1500
	if _, err := b.ApplyBatch(context.Background(), batchRecords(t, n, 1)); err != nil {
		t.Fatalf("ApplyBatch(v1): %v", err)
	}
	recs := batchRecords(t, n, 2) // each replaces its v1: seven writes
	keys := keysOf(recs)
	end := b.planChunk(keys, recs, 0)
	if end <= 1 || end >= n {
		t.Fatalf("planChunk planned %d records of %d, want a chunk of 1 KiB records to hold several hundred and not all", end, n)
	}
	applied := make([]bool, end+1)
	if fit, err := b.chunkTxn(keys[:end+1], recs[:end+1], applied); !errors.Is(err, errTxnFull) || fit != end {
		t.Errorf("one record more than planned: chunkTxn = %d, %v; want %d, errTxnFull", fit, err, end)
	}
	if slices.Contains(applied, true) {
		t.Errorf("chunkTxn reports records applied from a transaction it discarded: %v", applied)
	}
	if _, err := b.chunkTxn(keys[:end], recs[:end], applied[:end]); err != nil {
		t.Fatalf("the planned chunk of %d records: chunkTxn: %v", end, err)
	}
	if i := slices.Index(applied[:end], false); i >= 0 {
		t.Fatalf("the planned chunk: record %d not applied", i)
	}
}

// TestApplyBatchOverflow makes ApplyBatch plan one transaction for a batch
// three times too big for it, so every chunk overflows, often in the middle
// of a record (after it unindexed its predecessor), and must be redone with
// the records that fit. The result must still be that of Apply record by
// record, here on a Memory store.
func TestApplyBatchOverflow(t *testing.T) {
	ctx := context.Background()
	b := openTest(t, t.TempDir(), BadgerOptions{})
	b.txnMaxCount, b.txnMaxSize = math.MaxInt64, math.MaxInt64
	ref := NewMemory()

	v1 := batchRecords(t, 2500, 1)
	v2 := batchRecords(t, 3000, 2)
	// v1, then v2 (most replace a v1, their first write the unindexing of
	// it), then v1 again (none applies).
	batches := [][]*record.Record{v1, v2, v1}
	for i, batch := range batches {
		want := make([]bool, len(batch))
		for j, r := range batch {
			res, err := ref.Apply(ctx, r, ApplyOptions{})
			if err != nil {
				t.Fatalf("Memory.Apply: %v", err)
			}
			want[j] = res.Applied
		}
		got, err := b.ApplyBatch(ctx, batch)
		if err != nil {
			t.Fatalf("batch %d: ApplyBatch: %v", i, err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("batch %d: ApplyBatch differs from Apply one by one", i)
		}
	}
	for _, r := range append(v1, v2...) {
		has, err := b.Has(ctx, r.ID)
		if err != nil {
			t.Fatalf("Has: %v", err)
		}
		if want := r.Version == 2; has != want {
			t.Fatalf("Has(%s v%d) = %v, want %v", r.Key, r.Version, has, want)
		}
	}
	got, err := b.Counts(ctx)
	if err != nil {
		t.Fatalf("Counts: %v", err)
	}
	want, _ := ref.Counts(ctx)
	if !slices.Equal(got, want) {
		t.Fatalf("Counts = %+v, want %+v", got, want)
	}
}

// doneAfter is a context that reports itself cancelled from its nth Err
// call on.
type doneAfter struct {
	context.Context
	calls atomic.Int32
	n     int32
}

func (c *doneAfter) Err() error {
	if c.calls.Add(1) >= c.n {
		return context.Canceled
	}
	return nil
}

// TestApplyBatchCancelBetweenChunks cancels a batch of one-record
// transactions partway: the records of the transactions committed before
// are applied and reported so, the others neither.
func TestApplyBatchCancelBetweenChunks(t *testing.T) {
	ctx := context.Background()
	b := openTest(t, t.TempDir(), BadgerOptions{})
	b.txnMaxCount = 2 * recordTxnEntries // one record per transaction
	recs := batchRecords(t, 6, 1)
	applied, err := b.ApplyBatch(&doneAfter{Context: ctx, n: 4}, recs)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("ApplyBatch = %v, want context.Canceled", err)
	}
	done := slices.Index(applied, false)
	if done <= 0 || slices.Contains(applied[done:], true) {
		t.Fatalf("ApplyBatch cancelled partway reports %v, want some records applied, then none", applied)
	}
	for i, r := range recs {
		has, err := b.Has(ctx, r.ID)
		if err != nil || has != applied[i] {
			t.Fatalf("Has(records[%d]) = %v, %v; ApplyBatch reported %v", i, has, err, applied[i])
		}
	}
}
