package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"time"

	ds "github.com/ipfs/go-datastore"

	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/sync/record"
)

// CatchUpResult is workload 2 for one system, variant and size.
type CatchUpResult struct {
	System  string `json:"system"`
	Variant string `json:"variant"`
	Keys    int    `json:"keys"`
	// Seconds from starting the replica that was offline until it stored
	// every key.
	Seconds float64 `json:"seconds"`
	// Bytes the catching-up replica sent and received (libp2p bandwidth
	// counter: every protocol, after encryption framing).
	BytesIn  int64 `json:"bytes_in"`
	BytesOut int64 `json:"bytes_out"`
	// FirstKeyS is when B stored its first key; HeadsS (go-ds-crdt) when B
	// received the first announcement of A's heads, before which it cannot
	// know what it lacks.
	FirstKeyS float64 `json:"first_key_s"`
	HeadsS    float64 `json:"heads_s,omitempty"`
	// CPUS is this process's CPU time during the catch-up: both replicas.
	CPUS float64 `json:"cpu_s"`
	// WriteSeconds is how long writing the keys at the online replica took
	// (go-ds-crdt only; mentormesh's are written into its store directly).
	WriteSeconds float64 `json:"write_s,omitempty"`
	// VerifyS and VerifyCPUS (mentormesh only) are the wall and CPU time of
	// verifying the same N signatures on every core, measured in the same
	// step just before the catch-up: the share of the catch-up that
	// go-ds-crdt does not do at all.
	VerifyS    float64 `json:"verify_s,omitempty"`
	VerifyCPUS float64 `json:"verify_cpu_s,omitempty"`
	// Sessions (mentormesh only) are B's reconciliation sessions as its
	// status reports them after the catch-up: the last one per peer and
	// scope.
	Sessions []api.CatchUp `json:"sessions,omitempty"`
	Got      int64         `json:"got"`
	Error    string        `json:"error,omitempty"`
}

// Catch-up variants.
const (
	variantMM      = "fresh replica, range-based set reconciliation"
	variantPerKey  = "one delta per key"
	variantBatched = "batched deltas (1 MiB)"
)

// crdtCatchUpRebroadcast is how often the online go-ds-crdt replica
// re-announces its heads during catch-up. go-ds-crdt learns of missed data
// only from these announcements (default every minute); a short interval
// keeps the figure about syncing, not waiting.
const crdtCatchUpRebroadcast = 500 * time.Millisecond

// catchUpMM: replica A holds the records; replica B, which was offline
// while they were written, starts with A as its bootstrap peer and catches
// up when A joins its community topic, as `mentormesh run --bootstrap`
// does.
func catchUpMM(ctx context.Context, root string, a0 prepared, recs []*record.Record, prog *progress) (res CatchUpResult) {
	n := len(recs)
	res = CatchUpResult{System: sysMM, Variant: variantMM, Keys: n}
	if err := verifyCost(recs, &res); err != nil {
		res.Error = err.Error()
		return res
	}
	prog.logf("%s: verifying the %d signatures on every core takes %.2f s (%.1f CPU-s) on this machine now", sysMM, n, res.VerifyS, res.VerifyCPUS)
	dirB := filepath.Join(root, fmt.Sprintf("mm-catchup-%d-b", n))
	defer os.RemoveAll(dirB)
	a, err := startMM(a0.dir, nil, nil)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	defer a.Close()
	var got, first atomic.Int64
	done := make(chan struct{})
	onStored := func(*record.Record) {
		first.CompareAndSwap(0, time.Now().UnixNano())
		if got.Add(1) == int64(n) {
			close(done)
		}
	}
	runtime.GC()
	cpu0, t0 := cpuTime(), time.Now()
	b, err := startMM(dirB, a.Addrs(), onStored)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	defer b.Close()
	err = waitKeys(ctx, done, &got, int64(n), t0, prog, sysMM)
	res.Seconds, res.CPUS, res.Got = time.Since(t0).Seconds(), (cpuTime() - cpu0).Seconds(), got.Load()
	res.FirstKeyS = since(t0, first.Load())
	bw := b.bw.GetBandwidthTotals()
	res.BytesIn, res.BytesOut = bw.TotalIn, bw.TotalOut
	if err != nil {
		res.Error = err.Error()
	}
	res.Sessions = catchUpSessions(b)
	return res
}

// catchUpSessions returns B's sessions from its status, waiting up to 5 s
// for the community session that brought the records to end and be listed
// (B stores the last record before the session's final turn).
func catchUpSessions(b *mmNode) []api.CatchUp {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var last []api.CatchUp
	for {
		st, err := b.Local().Status(ctx)
		if err != nil {
			return last
		}
		last = st.CatchUp
		for _, s := range last {
			if !s.OwnRecordsOnly && s.PulledTotal > 0 {
				return last
			}
		}
		select {
		case <-ctx.Done():
			return last
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// verifyCost times the verification of recs' signatures on every core, as
// the receiving node's ingest runs it, into res.
func verifyCost(recs []*record.Record, res *CatchUpResult) error {
	runtime.GC()
	errs := make([]error, len(recs))
	cpu0, t0 := cpuTime(), time.Now()
	parallel(len(recs), func(i int) { errs[i] = recs[i].Verify() })
	res.VerifyS, res.VerifyCPUS = time.Since(t0).Seconds(), (cpuTime() - cpu0).Seconds()
	return errors.Join(errs...)
}

// catchUpCRDT: replica A is online and has written the keys (one Put per
// key, or in batches); replica B, which was offline meanwhile, starts,
// connects to A, and walks A's DAG when A next announces its heads.
func catchUpCRDT(ctx context.Context, root string, a0 prepared, n int, batched bool, prog *progress) (res CatchUpResult) {
	res = CatchUpResult{System: sysCRDT, Variant: variantPerKey, Keys: n, WriteSeconds: a0.writeS}
	if batched {
		res.Variant = variantBatched
	}
	dirB := filepath.Join(root, fmt.Sprintf("crdt-catchup-%s-%d-b", crdtTag(batched), n))
	defer os.RemoveAll(dirB)
	a, err := startCRDT(a0.dir, crdtConfig{rebroadcast: crdtCatchUpRebroadcast})
	if err != nil {
		res.Error = err.Error()
		return res
	}
	defer a.close()
	var got, first atomic.Int64
	done := make(chan struct{})
	hook := func(ds.Key, []byte) {
		first.CompareAndSwap(0, time.Now().UnixNano())
		if got.Add(1) == int64(n) {
			close(done)
		}
	}
	runtime.GC()
	cpu0, t0 := cpuTime(), time.Now()
	b, err := startCRDT(dirB, crdtConfig{rebroadcast: crdtCatchUpRebroadcast, putHook: hook})
	if err != nil {
		res.Error = err.Error()
		return res
	}
	defer b.close()
	if err := b.connect(ctx, a); err != nil {
		res.Error = err.Error()
		return res
	}
	err = waitKeys(ctx, done, &got, int64(n), t0, prog, sysCRDT+" ("+res.Variant+")")
	res.Seconds, res.CPUS, res.Got = time.Since(t0).Seconds(), (cpuTime() - cpu0).Seconds(), got.Load()
	res.FirstKeyS, res.HeadsS = since(t0, first.Load()), since(t0, b.bcast.first.Load())
	bw := b.bw.GetBandwidthTotals()
	res.BytesIn, res.BytesOut = bw.TotalIn, bw.TotalOut
	if err != nil {
		res.Error = err.Error()
	}
	return res
}

// crdtWrite puts recs into a go-ds-crdt replica, keyed by author.
func crdtWrite(ctx context.Context, n *crdtNode, recs []*record.Record, batched bool, prog *progress) error {
	if !batched {
		last := time.Now()
		for i, r := range recs {
			if err := n.store.Put(ctx, ds.NewKey(crdtKey(r)), r.Raw); err != nil {
				return fmt.Errorf("writing key %d of %d at the online replica: %w", i+1, len(recs), err)
			}
			if time.Since(last) > 10*time.Second {
				prog.logf("%s: written %d of %d keys at the online replica", sysCRDT, i+1, len(recs))
				last = time.Now()
			}
		}
		return nil
	}
	b, err := n.store.Batch(ctx)
	if err != nil {
		return err
	}
	for i, r := range recs {
		// A batch commits by itself whenever its delta passes
		// MaxBatchDeltaSize (1 MiB).
		if err := b.Put(ctx, ds.NewKey(crdtKey(r)), r.Raw); err != nil {
			return fmt.Errorf("writing key %d of %d at the online replica: %w", i+1, len(recs), err)
		}
	}
	return b.Commit(ctx)
}

// waitKeys waits until done is closed, reporting progress every 10 s.
func waitKeys(ctx context.Context, done <-chan struct{}, got *atomic.Int64, n int64, t0 time.Time, prog *progress, what string) error {
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return nil
		case <-tick.C:
			prog.logf("%s: catching up, %d of %d keys after %.0fs", what, got.Load(), n, time.Since(t0).Seconds())
		case <-ctx.Done():
			return fmt.Errorf("aborted after %.0f s with %d of %d keys: %s", time.Since(t0).Seconds(), got.Load(), n, abortReason(ctx))
		}
	}
}

// since is the seconds from t0 to the unix-ns time t, or 0 if t is unset.
func since(t0 time.Time, t int64) float64 {
	if t == 0 {
		return 0
	}
	return time.Unix(0, t).Sub(t0).Seconds()
}

// abortReason says why ctx ended, for the report.
func abortReason(ctx context.Context) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return "the step's time limit was reached"
	}
	return "the run was interrupted"
}
