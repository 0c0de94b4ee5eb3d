package memtrim

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// fakeHeap stands in for the runtime: free collects, leaving live bytes.
type fakeHeap struct {
	s     Stats
	live  uint64
	frees int
}

func (h *fakeHeap) read() Stats { return h.s }
func (h *fakeHeap) free() {
	h.frees++
	h.s.Cycles++
	h.s.Heap, h.s.Live = h.live, h.live
}

func TestTrimmerTrimsOncePerQuietBurst(t *testing.T) {
	const mib = 1 << 20
	h := &fakeHeap{s: Stats{Cycles: 10, Heap: 20 * mib, Live: 15 * mib}, live: 15 * mib}
	tr := newTrimmer(Options{Threshold: 32 * mib}, h.read, h.free)
	steps := []struct {
		name     string
		cycles   uint64 // collections during the interval
		heap     uint64
		wantTrim bool
	}{
		{"quiet, small heap", 0, 20 * mib, false},
		{"busy: a burst collects", 5, 300 * mib, false},
		{"still busy", 3, 280 * mib, false},
		{"quiet after the burst", 0, 280 * mib, true},
		{"quiet, below the threshold, but the last trim freed much", 0, 40 * mib, true},
		{"quiet, below the threshold, the last trim freed little", 0, 40 * mib, false},
		{"quiet, grew below the threshold", 0, 40 * mib, false},
		{"quiet, grew past the threshold", 0, 60 * mib, true},
	}
	for _, st := range steps {
		h.s.Cycles += st.cycles
		h.s.Heap = st.heap
		frees := h.frees
		if got := tr.check(); got != st.wantTrim {
			t.Fatalf("%s: check() = %v, want %v", st.name, got, st.wantTrim)
		}
		if st.wantTrim && h.frees != frees+1 {
			t.Fatalf("%s: freed %d times, want once", st.name, h.frees-frees)
		}
	}
}

// TestRunReturnsMemory checks the real runtime: after a burst of garbage,
// Run returns the heap's free memory to the system within a few intervals.
func TestRunReturnsMemory(t *testing.T) {
	burst := make([][]byte, 0, 64)
	for range 64 {
		burst = append(burst, make([]byte, 1<<20))
	}
	// A collection while the burst is alive sets a live heap of 64 MiB;
	// without a trim, an idle process would not collect again for two
	// minutes.
	runtime.GC()
	runtime.KeepAlive(burst)
	burst = nil
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); Run(ctx, Options{Interval: 50 * time.Millisecond, Threshold: 16 << 20}) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := ReadStats()
		if s.Live < 32<<20 && s.Heap < s.Live+16<<20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s the heap holds %d bytes, live %d: not trimmed", s.Heap, s.Live)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
}
