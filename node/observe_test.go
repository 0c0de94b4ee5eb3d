package node

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/metrics"

	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/sync/record"
)

// TestObservationHooks: Options.OnRecordStored sees the records a node
// stores from peers (by gossip and by catch-up), not its own writes, and
// Options.BandwidthReporter counts the node's traffic. The benchmark suite
// in bench/ relies on both.
func TestObservationHooks(t *testing.T) {
	start := func(bw metrics.Reporter, onStored func(*record.Record), bootstrap ...string) *Node {
		t.Helper()
		n, err := Start(Options{
			DataDir: t.TempDir(), Listen: []string{"/ip4/127.0.0.1/tcp/0"}, Bootstrap: bootstrap,
			NoMDNS: true, APIAddr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler),
			BandwidthReporter: bw, OnRecordStored: onStored,
		})
		if err != nil {
			t.Fatalf("Start: %v", err)
		}
		t.Cleanup(func() { n.Close() })
		return n
	}
	var mu sync.Mutex
	stored := map[string]uint64{} // author → newest version seen
	onStored := func(r *record.Record) {
		mu.Lock()
		defer mu.Unlock()
		stored[r.Author.String()] = max(stored[r.Author.String()], r.Version)
	}
	seen := func(author string) uint64 {
		mu.Lock()
		defer mu.Unlock()
		return stored[author]
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	ctx := context.Background()
	name := "Ada"

	a := start(nil, nil)
	// Written before b exists: b gets it by catch-up.
	if _, err := a.Local().SetProfile(ctx, api.ProfileInput{Name: &name}); err != nil {
		t.Fatal(err)
	}
	bw := metrics.NewBandwidthCounter()
	b := start(bw, onStored, a.Addrs()...)
	waitFor("a's first profile at b", func() bool { return seen(a.PeerID()) == 1 })
	// Written while connected: b gets it by gossip.
	name = "Ada L."
	if _, err := a.Local().SetProfile(ctx, api.ProfileInput{Name: &name}); err != nil {
		t.Fatal(err)
	}
	waitFor("a's second profile at b", func() bool { return seen(a.PeerID()) == 2 })
	if _, err := b.Local().SetProfile(ctx, api.ProfileInput{Name: &name}); err != nil {
		t.Fatal(err)
	}
	// The counter folds bytes into its totals once a second.
	waitFor("b's traffic to be counted", func() bool {
		tot := bw.GetBandwidthTotals()
		return tot.TotalIn > 0 && tot.TotalOut > 0
	})
	if v := seen(b.PeerID()); v != 0 {
		t.Errorf("OnRecordStored saw b's own write (version %d); want only records from peers", v)
	}
}
