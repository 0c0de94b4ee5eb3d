package ingest_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/sync/ingest"
	"github.com/mentormesh/mentormesh/sync/record"
)

// fakeClock is a clock tests advance by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestAuthorLimiterBucket(t *testing.T) {
	clk := &fakeClock{t: now}
	l := ingest.NewAuthorLimiter(ingest.RateLimit{Burst: 3, Every: time.Second}, 10, clk.now)
	a, b := authorOf(testKey(1)), authorOf(testKey(2))
	for i := range 3 {
		if !l.Allow(a) {
			t.Fatalf("Allow #%d within the burst = false, want true", i+1)
		}
	}
	if l.Peek(a) || l.Allow(a) {
		t.Fatal("Peek/Allow after the burst = true, want false")
	}
	if w := l.Wait(a); w != time.Second {
		t.Errorf("Wait after the burst = %v, want 1s", w)
	}
	if !l.Allow(b) {
		t.Error("another author's Allow = false: buckets must be per author")
	}
	clk.advance(500 * time.Millisecond)
	if l.Allow(a) {
		t.Error("Allow after half a period = true, want false")
	}
	if w := l.Wait(a); w != 500*time.Millisecond {
		t.Errorf("Wait after half a period = %v, want 500ms", w)
	}
	clk.advance(500 * time.Millisecond)
	if !l.Peek(a) || !l.Allow(a) || l.Allow(a) {
		t.Error("after one period: want exactly one more record allowed")
	}
	// A long pause refills to the burst, no more.
	clk.advance(time.Hour)
	n := 0
	for l.Allow(a) {
		n++
	}
	if n != 3 {
		t.Errorf("records allowed after an hour = %d, want the burst (3)", n)
	}
}

func TestAuthorLimiterBoundedMemory(t *testing.T) {
	clk := &fakeClock{t: now}
	l := ingest.NewAuthorLimiter(ingest.RateLimit{Burst: 1, Every: time.Hour}, 100, clk.now)
	var first record.Author
	for i := range 1000 {
		var a record.Author
		a[0], a[1] = byte(i), byte(i>>8)
		if i == 0 {
			first = a
		}
		l.Allow(a)
	}
	if n := l.Len(); n != 100 {
		t.Errorf("authors remembered = %d, want 100 (the bound)", n)
	}
	// The first author was evicted: it starts again with a full bucket.
	if !l.Allow(first) {
		t.Error("evicted author's Allow = false, want a fresh bucket")
	}
}

func TestAuthorLimiterDefaults(t *testing.T) {
	l := ingest.NewAuthorLimiter(ingest.RateLimit{}, 0, nil)
	if got := l.Rate(); got != ingest.DefaultRateLimit {
		t.Errorf("Rate() = %+v, want DefaultRateLimit %+v", got, ingest.DefaultRateLimit)
	}
}

// TestRateLimitOnlyLive checks the pipeline's use of the limiter: records
// from gossip (Live) beyond an author's burst are ignored, not rejected,
// without a signature check; forged records do not spend the author's
// tokens; catch-up (not Live) is never rate-limited.
func TestRateLimitOnlyLive(t *testing.T) {
	alice, mallory := testKey(1), testKey(9)
	clk := &fakeClock{t: now}
	lim := ingest.NewAuthorLimiter(ingest.RateLimit{Burst: 2, Every: time.Minute}, 0, clk.now)
	s := newFakeStore()
	p := newPipeline(s, func(o *ingest.Options) { o.Limiter = lim })
	ctx := context.Background()
	live := ingest.Source{Community: "gophers", Live: true}
	recs := make([]*record.Record, 6)
	for i := range recs {
		recs[i] = sign(t, alice, profileBody(t, alice, uint64(i+1)))
	}

	// Forgeries in alice's name (signed by mallory) are rejected and cost
	// alice nothing.
	for i := range 5 {
		if out := p.Ingest(ctx, signedBy(mallory, recs[i]), live); out.Verdict != ingest.Reject {
			t.Fatalf("forged record: verdict %v, want reject", out.Verdict)
		}
	}
	for i := range 2 {
		if out := p.Ingest(ctx, recs[i].Raw, live); out.Verdict != ingest.Accept {
			t.Fatalf("record %d within the burst: %v %v, want accept", i+1, out.Verdict, out.Err)
		}
	}
	_, appliesBefore, _ := s.counts()
	out := p.Ingest(ctx, recs[2].Raw, live)
	if out.Verdict != ingest.Ignore || !errors.Is(out.Err, ingest.ErrRateLimited) {
		t.Fatalf("record over the burst: %v %v, want ignore (rate limited)", out.Verdict, out.Err)
	}
	if _, applies, _ := s.counts(); applies != appliesBefore {
		t.Error("a rate-limited record reached the store")
	}
	if got := p.Stats().RateLimited.Load(); got != 1 {
		t.Errorf("Stats().RateLimited = %d, want 1", got)
	}

	// The same record by catch-up is stored: catch-up is not rate-limited,
	// and the ignored record was not remembered as seen.
	if out := p.Ingest(ctx, recs[2].Raw, ingest.Source{Community: "gophers"}); out.Verdict != ingest.Accept {
		t.Errorf("rate-limited record by catch-up: %v %v, want accept", out.Verdict, out.Err)
	}
	outs := p.IngestBatch(ctx, [][]byte{recs[3].Raw, recs[4].Raw}, ingest.Source{Community: "gophers"})
	for i, o := range outs {
		if o.Verdict != ingest.Accept {
			t.Errorf("IngestBatch (catch-up) record %d: %v %v, want accept", i, o.Verdict, o.Err)
		}
	}

	// A token earned later lets one more through.
	clk.advance(time.Minute)
	if out := p.Ingest(ctx, recs[5].Raw, live); out.Verdict != ingest.Accept {
		t.Errorf("record after a refill: %v %v, want accept", out.Verdict, out.Err)
	}
}

func TestRateLimitBatchLive(t *testing.T) {
	alice := testKey(1)
	lim := ingest.NewAuthorLimiter(ingest.RateLimit{Burst: 2, Every: time.Hour}, 0, func() time.Time { return now })
	p := newPipeline(newFakeStore(), func(o *ingest.Options) { o.Limiter = lim })
	var raws [][]byte
	for i := range 4 {
		raws = append(raws, sign(t, alice, profileBody(t, alice, uint64(i+1))).Raw)
	}
	outs := p.IngestBatch(context.Background(), raws, ingest.Source{Community: "gophers", Live: true})
	accepted, limited := 0, 0
	for _, o := range outs {
		switch {
		case o.Verdict == ingest.Accept:
			accepted++
		case o.Verdict == ingest.Ignore && errors.Is(o.Err, ingest.ErrRateLimited):
			limited++
		}
	}
	// Versions 1 and 2 take the tokens; 3 and 4 are over the limit (their
	// acceptance would have replaced 2 anyway).
	if accepted != 2 || limited != 2 {
		t.Errorf("live batch of 4 with a burst of 2: %d accepted, %d rate-limited; want 2 and 2", accepted, limited)
	}
}

func TestBlockedAuthorIgnored(t *testing.T) {
	alice, bob := testKey(1), testKey(2)
	blocked := map[record.Author]bool{authorOf(bob): true}
	s := newFakeStore()
	p := newPipeline(s, func(o *ingest.Options) { o.Blocked = func(a record.Author) bool { return blocked[a] } })
	ctx := context.Background()
	b1 := sign(t, bob, profileBody(t, bob, 1))
	for _, src := range []ingest.Source{{Community: "gophers", Live: true}, {Community: "gophers"}} {
		out := p.Ingest(ctx, b1.Raw, src)
		if out.Verdict != ingest.Ignore || !errors.Is(out.Err, ingest.ErrBlocked) {
			t.Errorf("blocked author's record (live %v): %v %v, want ignore (blocked)", src.Live, out.Verdict, out.Err)
		}
	}
	outs := p.IngestBatch(ctx, [][]byte{b1.Raw}, ingest.Source{Community: "gophers"})
	if outs[0].Verdict != ingest.Ignore || !errors.Is(outs[0].Err, ingest.ErrBlocked) {
		t.Errorf("blocked author's record by catch-up: %v %v, want ignore (blocked)", outs[0].Verdict, outs[0].Err)
	}
	if s.current(b1.Addr()) != nil {
		t.Error("a blocked author's record was stored")
	}
	// Others are unaffected; unblocking takes effect at once.
	if out := p.Ingest(ctx, sign(t, alice, profileBody(t, alice, 1)).Raw, ingest.Source{}); out.Verdict != ingest.Accept {
		t.Errorf("unblocked author: %v %v, want accept", out.Verdict, out.Err)
	}
	delete(blocked, authorOf(bob))
	if out := p.Ingest(ctx, b1.Raw, ingest.Source{}); out.Verdict != ingest.Accept {
		t.Errorf("after unblocking: %v %v, want accept", out.Verdict, out.Err)
	}
}
