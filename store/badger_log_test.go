package store

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/sync/record"
)

// captureHandler keeps the records it is given.
type captureHandler struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *captureHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *captureHandler) WithGroup(string) slog.Handler            { return h }
func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Clone())
	return nil
}

func (h *captureHandler) all() []slog.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.records)
}

func TestBadgerLogger(t *testing.T) {
	tests := []struct {
		name      string
		log       func(l badgerLogger)
		wantLevel slog.Level
	}{
		{"error", func(l badgerLogger) { l.Errorf("disk %s\n", "full") }, slog.LevelError},
		{"warning", func(l badgerLogger) { l.Warningf("disk %s\n", "full") }, slog.LevelWarn},
		{"info", func(l badgerLogger) { l.Infof("disk %s\n", "full") }, slog.LevelDebug},
		{"debug", func(l badgerLogger) { l.Debugf("disk %s\n", "full") }, slog.LevelDebug},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &captureHandler{}
			tt.log(badgerLogger{slog.New(h)})
			got := h.all()
			if len(got) != 1 {
				t.Fatalf("%d records logged, want 1", len(got))
			}
			var detail string
			got[0].Attrs(func(a slog.Attr) bool {
				if a.Key == "detail" {
					detail = a.Value.String()
				}
				return true
			})
			if got[0].Level != tt.wantLevel || got[0].Message != "badger" || detail != "disk full" {
				t.Fatalf("logged %v %q detail=%q, want %v \"badger\" detail=\"disk full\"", got[0].Level, got[0].Message, detail, tt.wantLevel)
			}
		})
	}
}

// TestBadgerLogsThroughSlog checks that Badger's own messages reach the
// logger given in the options (Badger logs at Info while opening).
func TestBadgerLogsThroughSlog(t *testing.T) {
	h := &captureHandler{}
	b := openTest(t, t.TempDir(), BadgerOptions{Logger: slog.New(h)})
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	n := 0
	for _, r := range h.all() {
		if r.Message == "badger" {
			n++
		}
	}
	if n == 0 {
		t.Fatalf("no Badger log records reached the slog handler")
	}
}

// TestGCWhileWriting runs value-log GC as often as it can while records are
// rewritten, then checks Close stops it and the data survives a reopen.
func TestGCWhileWriting(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	b, err := OpenBadger(dir, BadgerOptions{Logger: quiet, GCInterval: time.Millisecond})
	if err != nil {
		t.Fatalf("OpenBadger: %v", err)
	}
	const keys, versions = 20, 10
	want := make(map[record.Addr]record.ID)
	for v := 1; v <= versions; v++ {
		for k := range keys {
			rec := testRecord(t, record.Body{Key: fmt.Sprint(k), Version: uint64(v), Payload: make([]byte, 4<<10)})
			if _, err := b.Apply(ctx, rec, ApplyOptions{}); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			want[rec.Addr()] = rec.ID
		}
	}
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case <-b.gcDone:
	default:
		t.Fatalf("GC goroutine still running after Close")
	}
	b = openTest(t, dir, BadgerOptions{})
	for addr, id := range want {
		meta, ok, err := b.CurrentMeta(ctx, addr)
		if err != nil || !ok || meta.ID != id {
			t.Fatalf("after reopen, CurrentMeta(%q) = %v, %v, %v; want %s", addr.Key, meta, ok, err, id)
		}
	}
}
