package ingest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/mentormesh/mentormesh/sync/ingest"
	"github.com/mentormesh/mentormesh/sync/record"
)

// batchStore adds ApplyRemoteBatch to fakeStore and counts its calls.
type batchStore struct {
	*fakeStore
	batches int
}

var _ ingest.BatchStore = (*batchStore)(nil)

func (s *batchStore) ApplyRemoteBatch(ctx context.Context, recs []*record.Record) ([]bool, error) {
	s.mu.Lock()
	s.batches++
	s.mu.Unlock()
	out := make([]bool, len(recs))
	for i, r := range recs {
		ok, err := s.fakeStore.ApplyRemote(ctx, r)
		if err != nil {
			return nil, err
		}
		out[i] = ok
	}
	return out, nil
}

// mixedBatch returns a batch with every kind of outcome.
func mixedBatch(t *testing.T) [][]byte {
	alice, bob, carol := testKey(1), testKey(2), testKey(3)
	a1 := sign(t, alice, profileBody(t, alice, 1))
	a2 := sign(t, alice, profileBody(t, alice, 2))
	b1 := sign(t, bob, profileBody(t, bob, 1))
	c1 := sign(t, carol, profileBody(t, carol, 1))
	future := profileBody(t, carol, 2)
	future.Timestamp = now.Add(record.MaxFutureSkew * 2)
	return [][]byte{
		a2.Raw,
		a1.Raw, // stale: a2 wins
		b1.Raw,
		b1.Raw, // duplicate
		[]byte("junk"),
		brokenSignature(c1),
		signedBy(alice, c1),
		sign(t, carol, future).Raw,
		c1.Raw,
	}
}

// TestIngestBatchMatchesIngest: a batch gets the verdicts that ingesting
// the same bytes one by one gets, in the order of the input.
func TestIngestBatchMatchesIngest(t *testing.T) {
	raws := mixedBatch(t)
	ctx := context.Background()

	seqStore := newFakeStore()
	seq := newPipeline(seqStore, nil)
	var want []ingest.Outcome
	for _, raw := range raws {
		want = append(want, seq.Ingest(ctx, raw, ingest.Source{}))
	}

	for _, tt := range []struct {
		name  string
		store func() (ingest.Store, *fakeStore)
	}{
		{"Store", func() (ingest.Store, *fakeStore) { s := newFakeStore(); return s, s }},
		{"BatchStore", func() (ingest.Store, *fakeStore) { s := newFakeStore(); return &batchStore{fakeStore: s}, s }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, fs := tt.store()
			p := newPipeline(st, nil)
			got := p.IngestBatch(ctx, raws, ingest.Source{})
			if len(got) != len(raws) {
				t.Fatalf("IngestBatch(%d records) returned %d outcomes", len(raws), len(got))
			}
			for i := range raws {
				if got[i].Verdict != want[i].Verdict || !sameErr(got[i].Err, want[i].Err) {
					t.Errorf("IngestBatch(...)[%d] = %v %v, want %v %v (as Ingest)", i, got[i].Verdict, got[i].Err, want[i].Verdict, want[i].Err)
				}
			}
			for addr, r := range seqStore.cur {
				if g := fs.current(addr); g == nil || g.ID != r.ID {
					t.Errorf("after IngestBatch store holds %v at %s, want %v", recDesc(g), addr.Author, recDesc(r))
				}
			}
			if len(fs.cur) != len(seqStore.cur) {
				t.Errorf("after IngestBatch store holds %d records, want %d", len(fs.cur), len(seqStore.cur))
			}
			if bs, ok := st.(*batchStore); ok {
				// The verified candidates are a2, a1 (stale only once a2
				// is in), b1 and c1.
				if _, applies, _ := fs.counts(); bs.batches != 1 || applies != 4 {
					t.Errorf("IngestBatch made %d batch writes and %d applies, want 1 batch of 4", bs.batches, applies)
				}
			}
			s, ss := p.Stats(), seq.Stats()
			if s.Accepted.Load() != ss.Accepted.Load() || s.Ignored.Load() != ss.Ignored.Load() || s.Rejected.Load() != ss.Rejected.Load() {
				t.Errorf("Stats() after IngestBatch = %d/%d/%d, want %d/%d/%d", s.Accepted.Load(), s.Ignored.Load(), s.Rejected.Load(),
					ss.Accepted.Load(), ss.Ignored.Load(), ss.Rejected.Load())
			}

			// The batch's results are remembered like Ingest's.
			again := p.IngestBatch(ctx, raws, ingest.Source{})
			for i, o := range again {
				if o.Verdict == ingest.Accept {
					t.Errorf("IngestBatch(same batch again)[%d] = accept, want nothing accepted twice", i)
				}
				if got[i].Verdict == ingest.Reject && o.Verdict != ingest.Reject {
					t.Errorf("IngestBatch(same batch again)[%d] = %v %v, want reject", i, o.Verdict, o.Err)
				}
			}
		})
	}
}

// sameErr reports whether a and b are both nil or wrap a common sentinel.
func sameErr(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	for _, s := range []error{ingest.ErrDuplicate, ingest.ErrStale, record.ErrBadSignature, record.ErrMalformed, record.ErrFuture} {
		if errors.Is(b, s) {
			return errors.Is(a, s)
		}
	}
	return a.Error() == b.Error()
}

func TestIngestBatchEmpty(t *testing.T) {
	p := newPipeline(newFakeStore(), nil)
	if got := p.IngestBatch(context.Background(), nil, ingest.Source{}); len(got) != 0 {
		t.Errorf("IngestBatch(nil) = %v, want no outcomes", got)
	}
}

// failingStore fails ApplyRemote from its failAt-th call (counting from 0).
type failingStore struct {
	*fakeStore
	failAt int
}

func (s failingStore) ApplyRemote(ctx context.Context, r *record.Record) (bool, error) {
	if _, applies, _ := s.counts(); applies >= s.failAt {
		return false, errors.New("disk full")
	}
	return s.fakeStore.ApplyRemote(ctx, r)
}

// TestIngestBatchStoreFailsMidway: when the one-by-one fallback fails
// partway, the records stored before the failure are still accepted (and
// so forwarded); the rest are ignored with the error and can come again.
func TestIngestBatchStoreFailsMidway(t *testing.T) {
	a, b, c := testKey(1), testKey(2), testKey(3)
	recs := []*record.Record{
		sign(t, a, profileBody(t, a, 1)),
		sign(t, b, profileBody(t, b, 1)),
		sign(t, c, profileBody(t, c, 1)),
	}
	raws := [][]byte{recs[0].Raw, recs[1].Raw, recs[2].Raw}
	fs := newFakeStore()
	p := newPipeline(failingStore{fakeStore: fs, failAt: 1}, nil)
	outs := p.IngestBatch(context.Background(), raws, ingest.Source{})
	want := []ingest.Verdict{ingest.Accept, ingest.Ignore, ingest.Ignore}
	for i, o := range outs {
		if o.Verdict != want[i] {
			t.Errorf("IngestBatch(store failing at the 2nd write)[%d] = %v %v, want %v", i, o.Verdict, o.Err, want[i])
		}
		if stored := fs.current(recs[i].Addr()) != nil; stored != (want[i] == ingest.Accept) {
			t.Errorf("after IngestBatch record %d stored = %v, want %v", i, stored, want[i] == ingest.Accept)
		}
	}
	// The store recovers: the records that failed are taken on retry.
	retry := newPipeline(failingStore{fakeStore: fs, failAt: 1 << 30}, nil)
	for i, o := range retry.IngestBatch(context.Background(), raws, ingest.Source{}) {
		wantV := ingest.Accept
		if i == 0 {
			wantV = ingest.Ignore // already stored
		}
		if o.Verdict != wantV {
			t.Errorf("IngestBatch(retry)[%d] = %v %v, want %v", i, o.Verdict, o.Err, wantV)
		}
	}
}
