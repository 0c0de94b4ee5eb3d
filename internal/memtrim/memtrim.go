// Package memtrim hands memory the Go heap no longer uses back to the
// operating system once a burst of work is over, so that a node that caught
// up or compacted its store does not stay at its peak resident size while it
// sits idle.
//
// Go frees heap memory at a garbage collection and returns it to the system
// in the background, but only down to the heap goal of the last collection,
// and an idle process does not collect: after a burst that ended with a large
// heap (Badger's compactions build whole tables in memory; catch-up decodes
// thousands of records), the garbage of the burst and the free memory it
// leaves stay resident until the runtime's forced collection two minutes
// later, and even then they go back gradually. A node holding 100 000 records
// measured 230 to 300 MB resident in that window, 40 MB after it.
//
// Run checks the heap every interval. When no collection happened during the
// last interval (the process is quiet: busy ingest collects several times a
// second) and the heap holds more than a threshold above the live heap found
// by the previous trim, it collects and returns the free memory
// (debug.FreeOSMemory), and again at the next quiet check for as long as a
// trim frees at least the threshold. It never trims while the process is
// busy, and a quiet process trims a few times per burst: one metrics read
// per interval costs a few microseconds.
package memtrim

import (
	"context"
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Defaults of Options.
const (
	DefaultInterval  = 5 * time.Second
	DefaultThreshold = 32 << 20
)

// Options configure Run. Zero values take the defaults.
type Options struct {
	// Interval between checks (default DefaultInterval).
	Interval time.Duration
	// Threshold is how many bytes of heap above the live heap of the last
	// trim make a quiet process trim (default DefaultThreshold).
	Threshold uint64
	// Logger receives a debug line per trim (default slog.Default()).
	Logger *slog.Logger
}

// Stats are the heap figures a trim decision uses.
type Stats struct {
	// Cycles is the number of garbage collections so far.
	Cycles uint64
	// Heap is the heap memory backed by physical memory: objects (live or
	// not yet collected), and free and unused space not yet returned.
	Heap uint64
	// Live is the live heap found by the last collection.
	Live uint64
}

// Run checks and trims every interval until ctx is done.
func Run(ctx context.Context, opts Options) {
	t := newTrimmer(opts, ReadStats, debug.FreeOSMemory)
	tick := time.NewTicker(t.opts.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			t.check()
		}
	}
}

// trimmer holds the state between checks.
type trimmer struct {
	opts Options
	read func() Stats
	free func()
	// prev is the last check's reading; base the live heap after the last
	// trim; again is set when the last trim freed at least the threshold.
	prev  Stats
	base  uint64
	again bool
}

func newTrimmer(opts Options, read func() Stats, free func()) *trimmer {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Threshold == 0 {
		opts.Threshold = DefaultThreshold
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &trimmer{opts: opts, read: read, free: free, prev: read()}
}

// check trims if the process was quiet since the last check and its heap is
// more than the threshold above the live heap of the last trim, or the last
// trim freed at least the threshold: what a burst leaves can still be live
// at the first trim and become garbage soon after (Badger keeps the buffers
// of its table builders in a pool and frees one every 2 s once unused). It
// reports whether it trimmed.
func (t *trimmer) check() bool {
	s := t.read()
	quiet := s.Cycles == t.prev.Cycles
	t.prev = s
	if !quiet || (s.Heap < t.base+t.opts.Threshold && !t.again) {
		return false
	}
	t0 := time.Now()
	t.free()
	after := t.read()
	t.prev, t.base = after, after.Live
	t.again = s.Heap >= after.Heap+t.opts.Threshold
	t.opts.Logger.Debug("returned free heap memory to the system",
		"heap_before", s.Heap, "heap_after", after.Heap, "live", after.Live, "took", time.Since(t0))
	return true
}

var statNames = []string{
	"/gc/cycles/total:gc-cycles",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/unused:bytes",
	"/gc/heap/live:bytes",
}

// ReadStats reads the heap figures from runtime/metrics.
func ReadStats() Stats {
	s := make([]metrics.Sample, len(statNames))
	for i, n := range statNames {
		s[i].Name = n
	}
	metrics.Read(s)
	v := func(i int) uint64 {
		if s[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return s[i].Value.Uint64()
	}
	return Stats{Cycles: v(0), Heap: v(1) + v(2) + v(3), Live: v(4)}
}
