package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/sync/ingest"
	"github.com/mentormesh/mentormesh/sync/record"
)

// Large differences: two sets that differ throughout must still reconcile
// within the per-turn limits (ranges, IDs, wants, frame size) that a
// receiver enforces, since an honest peer that breaks them fails every
// session and never converges.

// TestProcessKeepsRepliesWithinRangeLimit: splitting 4096 differing ranges
// of 34 items each would take 65536 ranges, twice MaxRangesPerTurn; the
// reply stays within the limit and the sets still reconcile exactly.
func TestProcessKeepsRepliesWithinRangeLimit(t *testing.T) {
	const n = 140_000 // per side; n/4096 >= IDListThreshold
	var a, b []Item
	for i := range n {
		a = append(a, item(uint64(1000+i), 2*i))
		b = append(b, item(uint64(1000+i), 2*i+1))
	}
	sa, sb := sorted(a), sorted(b)
	o := reconcileSets(t, sa, sb) // fails on a reply Process itself refuses
	if toB := idSet(o.aHave, o.bNeed); !mapsEqual(toB, minus(sa, sb)) {
		t.Errorf("a would send %d records, want %d", len(toB), n)
	}
	if toA := idSet(o.bHave, o.aNeed); !mapsEqual(toA, minus(sb, sa)) {
		t.Errorf("b would send %d records, want %d", len(toA), n)
	}
	t.Logf("%d vs %d disjoint items: %d turns, %d ranges", n, n, o.turns, o.rangesSent)
}

// fakeRecords is a Store and Ingester over stand-in records: raw bytes of
// an 8-byte timestamp, an 8-byte serial and padding, with the raw bytes'
// hash as ID.
// Sessions only move bytes and IDs, so large sets cost no signatures.
type fakeRecords struct {
	mu   sync.Mutex
	recs map[record.ID][]byte
}

func newFakeRecords() *fakeRecords { return &fakeRecords{recs: map[record.ID][]byte{}} }

// fakeRawSize is about the size of a real profile record.
const fakeRawSize = 256

func fakeRaw(ts, serial uint64) []byte {
	raw := make([]byte, fakeRawSize)
	binary.BigEndian.PutUint64(raw, ts)
	binary.BigEndian.PutUint64(raw[8:], serial)
	return raw
}

func (f *fakeRecords) add(raw []byte) bool {
	id := record.ID(sha256.Sum256(raw))
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.recs[id]; ok {
		return false
	}
	f.recs[id] = slices.Clone(raw)
	return true
}

func (f *fakeRecords) Snapshot(context.Context) (Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	items := make([]Item, 0, len(f.recs))
	for id, raw := range f.recs {
		items = append(items, Item{Timestamp: binary.BigEndian.Uint64(raw), ID: id})
	}
	slices.SortFunc(items, Item.Compare)
	return fakeSnapshot(items), nil
}

type fakeSnapshot SliceSet

func (s fakeSnapshot) Set(Scope) Set { return SliceSet(s) }
func (fakeSnapshot) Close()          {}

func (f *fakeRecords) Records(_ context.Context, ids []record.ID) ([]*record.Record, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*record.Record
	for _, id := range ids {
		if raw, ok := f.recs[id]; ok {
			out = append(out, &record.Record{Body: record.Body{Community: "sociocracy"}, Raw: raw, ID: id})
		}
	}
	return out, nil
}

func (f *fakeRecords) IngestBatch(_ context.Context, raws [][]byte, _ ingest.Source) []ingest.Outcome {
	outs := make([]ingest.Outcome, len(raws))
	for i, raw := range raws {
		outs[i] = ingest.Outcome{Verdict: ingest.Ignore, Record: &record.Record{ID: sha256.Sum256(raw)}}
		if len(raw) == fakeRawSize && f.add(raw) {
			outs[i].Verdict = ingest.Accept
		}
	}
	return outs
}

func (f *fakeRecords) equal(g *fakeRecords) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(f.recs) != len(g.recs) {
		return false
	}
	for id := range f.recs {
		if _, ok := g.recs[id]; !ok {
			return false
		}
	}
	return true
}

// TestSessionsReconcileLargeDivergence: two peers that each hold many
// records the other lacks converge in sessions that all succeed: with more
// differences than a peer may want in one turn, and with a frame budget
// close to MaxFrameSize (a turn of wants and records must still fit).
func TestSessionsReconcileLargeDivergence(t *testing.T) {
	if testing.Short() {
		t.Skip("moves up to 140 000 records")
	}
	tests := []struct {
		n, budget int
	}{
		{70_000, 0},
		{5_000, MaxFrameSize - frameSlack},
	}
	for _, tt := range tests {
		a, b := newFakeRecords(), newFakeRecords()
		for i := range uint64(tt.n) {
			a.add(fakeRaw(1000+i, 2*i))
			b.add(fakeRaw(1000+i, 2*i+1))
			if i%100 == 0 {
				a.add(fakeRaw(1000+i, 1<<40+i))
				b.add(fakeRaw(1000+i, 1<<40+i))
			}
		}
		lim := Limits{FrameBudget: tt.budget}
		sa := New(a, a, Options{Limits: lim})
		sb := New(b, b, Options{Limits: lim})
		sessions := 0
		for !a.equal(b) {
			sessions++
			if sessions > 3 {
				t.Fatalf("%+v: sets still differ after %d sessions", tt, sessions-1)
			}
			c1, c2 := net.Pipe()
			deadline := time.Now().Add(time.Minute)
			ctx, cancel := context.WithDeadline(context.Background(), deadline)
			_ = c1.SetDeadline(deadline)
			_ = c2.SetDeadline(deadline)
			done := make(chan error, 1)
			go func() {
				_, err := sb.Respond(ctx, c2, nil)
				c2.Close()
				done <- err
			}()
			st, err := sa.Initiate(ctx, c1, Scope{Community: "sociocracy"}, nil)
			c1.Close() // as the service does: the responder may be blocked writing
			rerr := <-done
			cancel()
			if err != nil || rerr != nil {
				t.Fatalf("%+v, session %d: initiator: %v; responder: %v", tt, sessions, err, rerr)
			}
			t.Logf("%+v, session %d: %d turns, %d records received, %d sent", tt, sessions, st.Turns, st.RecordsReceived, st.RecordsSent)
		}
	}
}
