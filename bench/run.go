package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/mentormesh/mentormesh/sync/record"
)

// Results is everything a run measured; results.json holds it as is.
type Results struct {
	Quick       bool                `json:"quick"`
	Machine     Machine             `json:"machine"`
	Settings    Settings            `json:"settings"`
	Versions    map[string]string   `json:"versions"`
	SigVerifyUS float64             `json:"sig_verify_us"`
	RecordBytes float64             `json:"record_bytes"`
	Propagation []PropagationResult `json:"propagation"`
	Steady      []SteadyResult      `json:"steady"`
	CatchUp     []CatchUpResult     `json:"catchup"`
	Footprint   []FootprintResult   `json:"footprint"`
	GoTest      []GoTestResult      `json:"gotest,omitempty"`
	Skipped     []string            `json:"skipped,omitempty"`
	Seconds     float64             `json:"seconds"`
}

// Settings are the sizes a run used.
type Settings struct {
	Nodes            int     `json:"nodes"`
	Degree           int     `json:"degree"`
	Records          int     `json:"records"`
	GapMs            Ms      `json:"gap_ms"`
	SteadyRecords    int     `json:"steady_records"`
	SteadyRate       float64 `json:"steady_rate"`
	IdleS            float64 `json:"idle_s"`
	CatchUpSizes     []int   `json:"catchup_sizes"`
	FootprintRecords int     `json:"footprint_records"`
	FootprintIdleS   float64 `json:"footprint_idle_s"`
	StepTimeoutS     float64 `json:"step_timeout_s"`
}

func run(ctx context.Context, cfg *config) error {
	prog := &progress{start: time.Now()}
	others := startOtherCPU()
	if cfg.from != "" {
		return rewrite(cfg)
	}
	out := cfg.out
	if out == "" && cfg.quick {
		d, err := os.MkdirTemp("", "mentormesh-bench-quick-")
		if err != nil {
			return err
		}
		out = d
	} else if out == "" {
		out = filepath.Join(cfg.repo, "docs", "bench")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	root, err := os.MkdirTemp("", "mentormesh-bench-data-")
	if err != nil {
		return err
	}
	if cfg.keep {
		prog.logf("data directories kept in %s", root)
	} else {
		defer os.RemoveAll(root)
	}

	res := &Results{Quick: cfg.quick, Machine: machine(), Versions: moduleVersions(), Settings: Settings{
		Nodes: cfg.nodes, Degree: cfg.degree, Records: cfg.records, GapMs: ms(cfg.gap),
		SteadyRecords: cfg.steadyRecords, SteadyRate: cfg.steadyRate, IdleS: cfg.idle.Seconds(),
		CatchUpSizes: cfg.catchUpSizes, FootprintRecords: cfg.footprintRecords,
		FootprintIdleS: cfg.fpIdle.Seconds(), StepTimeoutS: cfg.stepTimeout.Seconds(),
	}}
	mode := "full run"
	if cfg.quick {
		mode = "QUICK smoke run (small sizes; not the report's figures)"
	}
	prog.logf("%s on %s, %d cores, %s; load average %.2f", mode, res.Machine.CPU, res.Machine.Cores, res.Machine.GoVersion, res.Machine.LoadStart[0])
	sig, err := sigCost()
	if err != nil {
		return err
	}
	res.SigVerifyUS = float64(sig) / float64(time.Microsecond)
	prog.logf("Ed25519 verification of one record: %.1f us of one core's CPU time", res.SigVerifyUS)
	if r, err := newAuthor("record size").profile(1, "Practitioner 10000"); err == nil {
		res.RecordBytes = float64(len(r.Raw))
	}

	deadline := prog.start.Add(cfg.budget)
	var stepT func(name string, timeout time.Duration, f func(ctx context.Context))
	// step runs one measurement with its own timeout, cut short so that the
	// run ends within its budget; it is skipped when the run is interrupted
	// or has less than minStep of its budget left.
	const minStep = 20 * time.Second
	step := func(name string, f func(ctx context.Context)) { stepT(name, cfg.stepTimeout, f) }
	stepT = func(name string, stepTimeout time.Duration, f func(ctx context.Context)) {
		if ctx.Err() != nil {
			res.Skipped = append(res.Skipped, name+": run interrupted")
			return
		}
		left := time.Until(deadline)
		if left < minStep {
			res.Skipped = append(res.Skipped, fmt.Sprintf("%s: run budget of %s used up", name, cfg.budget))
			prog.logf("SKIPPING %s: the run's budget of %s is used up", name, cfg.budget)
			return
		}
		timeout := min(stepTimeout, left)
		sctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		prog.logf("== %s", name)
		f(sctx)
		if sctx.Err() == context.DeadlineExceeded {
			prog.logf("%s: ABORTED: reached its time limit of %s", name, timeout.Round(time.Second))
		}
	}

	if cfg.has(wlPropagation) {
		for _, sys := range cfg.systems {
			step(fmt.Sprintf("propagation and steady state, %s, %d nodes", sys, cfg.nodes), func(ctx context.Context) {
				dir := filepath.Join(root, "prop-"+sys)
				p, s := runPropagation(ctx, cfg, sys, dir, prog)
				res.Propagation, res.Steady = append(res.Propagation, p), append(res.Steady, s)
				if !cfg.keep {
					os.RemoveAll(dir)
				}
			})
		}
	}

	// Footprint before catch-up: its loaded directories serve as catch-up's
	// online replicas, and catch-up ends with go-ds-crdt's longest
	// measurement, which is the one to cut short if the budget runs out.
	prep := newPreparer(root, newDataset(), prog)
	if cfg.has(wlFootprint) {
		runFootprints(cfg, root, prep, res, step, prog)
	}

	if cfg.has(wlCatchUp) {
		for _, n := range cfg.catchUpSizes {
			recs, err := prep.data.first(n)
			if err != nil {
				return err
			}
			res.RecordBytes = meanSize(recs)
			if cfg.runs(sysMM) {
				step(fmt.Sprintf("catch-up, %s, %d keys", sysMM, n), func(ctx context.Context) {
					a, err := prep.get(ctx, sysMM, false, n)
					r := CatchUpResult{System: sysMM, Variant: variantMM, Keys: n}
					if err != nil {
						r.Error = err.Error()
					} else {
						r = catchUpMM(ctx, root, a, recs, prog)
					}
					res.CatchUp = append(res.CatchUp, r)
					logCatchUp(prog, r)
				})
			}
			if !cfg.runs(sysCRDT) {
				continue
			}
			// Batched first: one delta per key is the long one.
			for _, v := range []string{"batched", "perkey"} {
				if !slices.Contains(cfg.crdtVariants, v) {
					continue
				}
				batched := v == "batched"
				step(fmt.Sprintf("catch-up, %s (%s), %d keys", sysCRDT, v, n), func(ctx context.Context) {
					a, err := prep.get(ctx, sysCRDT, batched, n)
					r := CatchUpResult{System: sysCRDT, Variant: variantPerKey, Keys: n}
					if batched {
						r.Variant = variantBatched
					}
					if err != nil {
						r.Error = "writing the keys at the online replica: " + err.Error()
					} else {
						prog.logf("%s (%s): the online replica's %d keys took %.1f s to write", sysCRDT, r.Variant, n, a.writeS)
						r = catchUpCRDT(ctx, root, a, n, batched, prog)
					}
					res.CatchUp = append(res.CatchUp, r)
					logCatchUp(prog, r)
				})
			}
		}
	}

	// The repository's own benchmarks last: they are many and short, and
	// the budget cuts the last ones first.
	if cfg.has(wlGoTest) {
		for _, j := range cfg.goTest {
			if cfg.quick && j.quick == nil {
				res.GoTest = append(res.GoTest, GoTestResult{Name: j.name, What: j.what, Command: j.command(false),
					Skipped: fmt.Sprintf("not run by -quick (the full run takes about %s)", j.estimate)})
				continue
			}
			stepT("go test: "+j.name, j.stepTimeout(cfg.quick), func(ctx context.Context) {
				r := runGoTest(ctx, cfg.repo, j, cfg.quick, prog)
				if r.Error != "" {
					prog.logf("%s: FAILED: %s", j.name, firstLine(r.Error))
				}
				res.GoTest = append(res.GoTest, r)
			})
		}
	}

	res.Machine.LoadEnd = loadAvg()
	res.Machine.OtherCPUShare = others.share(res.Machine.Cores)
	res.Seconds = time.Since(prog.start).Seconds()
	if err := writeOutputs(out, res); err != nil {
		return err
	}
	prog.logf("done in %s; report in %s", time.Since(prog.start).Truncate(time.Second), filepath.Join(out, "report.md"))
	if busy(res.Machine) {
		prog.logf("WARNING: %s: other work disturbed the timings", disturbance(res.Machine))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if failed := res.failures(); cfg.strict && len(failed) > 0 {
		return fmt.Errorf("%d measurements failed or were aborted:\n  %s", len(failed), strings.Join(failed, "\n  "))
	}
	return nil
}

func meanSize(recs []*record.Record) float64 {
	var t int
	for _, r := range recs {
		t += len(r.Raw)
	}
	return float64(t) / float64(max(1, len(recs)))
}

func logCatchUp(prog *progress, r CatchUpResult) {
	if r.Error != "" {
		prog.logf("%s (%s), %d keys: %s", r.System, r.Variant, r.Keys, r.Error)
		return
	}
	prog.logf("%s (%s), %d keys: %.2fs, %s in+out, %.1f CPU-s", r.System, r.Variant, r.Keys, r.Seconds, human(r.BytesIn+r.BytesOut), r.CPUS)
}

// moduleVersions lists the versions of the modules compared.
func moduleVersions() map[string]string {
	out := map[string]string{}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return out
	}
	for _, m := range bi.Deps {
		switch m.Path {
		case "github.com/ipfs/go-ds-crdt", "github.com/ipfs/go-ds-badger4", "github.com/hsanjuan/ipfs-lite",
			"github.com/libp2p/go-libp2p", "github.com/libp2p/go-libp2p-pubsub", "github.com/dgraph-io/badger/v4",
			"github.com/ipfs/boxo":
			out[m.Path] = m.Version
		}
	}
	return out
}

func writeOutputs(dir string, res *Results) error {
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	for name, svg := range plots(res) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(svg), 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, "report.md"), []byte(report(res)), 0o644)
}

// failures lists the measurements that failed, were aborted or skipped.
func (res *Results) failures() []string {
	out := slices.Clone(res.Skipped)
	for _, p := range res.Propagation {
		if p.Error != "" {
			out = append(out, "propagation, "+p.System+": "+p.Error)
		}
	}
	for _, s := range res.Steady {
		if s.Error != "" {
			out = append(out, "steady state, "+s.System+": "+s.Error)
		}
	}
	for _, c := range res.CatchUp {
		if c.Error != "" {
			out = append(out, fmt.Sprintf("catch-up, %s (%s), %d keys: %s", c.System, c.Variant, c.Keys, c.Error))
		}
	}
	for _, f := range res.Footprint {
		if f.Error != "" {
			out = append(out, fmt.Sprintf("footprint, %s, %d records: %s", f.System, f.Records, f.Error))
		}
	}
	for _, g := range res.GoTest {
		if g.Error != "" {
			out = append(out, fmt.Sprintf("go test %s: %s", g.Name, firstLine(g.Error)))
		}
	}
	return out
}

// rewrite renders the report and plots of an earlier run again.
func rewrite(cfg *config) error {
	b, err := os.ReadFile(cfg.from)
	if err != nil {
		return err
	}
	var res Results
	if err := json.Unmarshal(b, &res); err != nil {
		return fmt.Errorf("reading %s: %w", cfg.from, err)
	}
	out := cfg.out
	if out == "" {
		out = filepath.Dir(cfg.from)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	return writeOutputs(out, &res)
}

// human formats a byte count.
func human(b int64) string {
	switch {
	case b >= 10e6:
		return fmt.Sprintf("%.1f MB", float64(b)/1e6)
	case b >= 10e3:
		return fmt.Sprintf("%.1f kB", float64(b)/1e3)
	default:
		return fmt.Sprintf("%d B", b)
	}
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}
