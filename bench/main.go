// Command bench is mentormesh's benchmark suite: propagation, catch-up,
// steady state and footprint, each on real libp2p hosts over 127.0.0.1,
// mentormesh and go-ds-crdt side by side in the same run (issue 8); then
// the repository's own benchmarks and the 500-node simulation, run as
// `go test` subprocesses (gotest.go), so that every figure in
// docs/PERFORMANCE.md comes from one command.
//
//	cd bench && go run .            # the full suite (about 30 minutes on 2 cores)
//	cd bench && go run . -quick     # a smoke run of about three minutes
//
// It prints progress on stderr and writes report.md, results.json and SVG
// plots into docs/bench/ (a temporary directory for -quick, unless -out).
// It is a module of its own so that go-ds-crdt never becomes a dependency
// of the node.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Systems compared.
const (
	sysMM   = "mentormesh"
	sysCRDT = "go-ds-crdt"
)

// Workloads.
const (
	wlPropagation = "propagation" // includes steady state, on the same cluster
	wlCatchUp     = "catchup"
	wlFootprint   = "footprint"
	wlGoTest      = "gotest" // the repository's own benchmarks, as go test subprocesses
)

type config struct {
	quick            bool
	workloads        []string
	systems          []string
	crdtVariants     []string
	nodes, degree    int
	records          int
	gap              time.Duration
	steadyRecords    int
	steadyRate       float64
	idle             time.Duration
	catchUpSizes     []int
	footprintRecords int
	fpSettle, fpIdle time.Duration
	stepTimeout      time.Duration
	budget           time.Duration
	out, repo        string
	keep             bool
	from             string
	strict           bool
	goTest           []goTestJob
	cpuProfile       string
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == crdtNodeCmd {
		if err := crdtNodeMain(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "crdt-node:", err)
			os.Exit(1)
		}
		return
	}
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench: -cpuprofile:", err)
			os.Exit(2)
		}
	}
	err = run(ctx, cfg)
	pprof.StopCPUProfile() // does nothing without -cpuprofile
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (*config, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: go run . [flags]\n\nRuns mentormesh's benchmark suite side by side with go-ds-crdt and writes a report.\n\n")
		fs.PrintDefaults()
	}
	quick := fs.Bool("quick", false, "small smoke run (about three minutes); its figures are not the report's")
	workloads := fs.String("workloads", "propagation,catchup,footprint,gotest", "workloads to run (propagation includes steady state; gotest runs the repository's own benchmarks, see -gotest)")
	goTest := fs.String("gotest", "all", "gotest workload: the jobs to run, of "+jobNames()+" (full run: about "+goTestEstimate(goTestJobs).Round(time.Minute).String()+" on 2 cores; -quick runs short variants of ingest, store-apply, storage-growth and simulation-500 and skips the rest)")
	systems := fs.String("systems", sysMM+","+sysCRDT, "systems to run")
	variants := fs.String("crdt-variants", "perkey,batched", "go-ds-crdt catch-up variants: perkey (one delta per key) and/or batched")
	nodes := fs.Int("nodes", 0, "propagation: nodes (default 20, quick 10)")
	degree := fs.Int("degree", 3, "propagation: how many earlier nodes each node dials")
	records := fs.Int("records", 0, "propagation: records measured (default 200, quick 30)")
	gap := fs.Duration("gap", 50*time.Millisecond, "propagation: pause between records")
	steady := fs.Int("steady-records", 0, "steady state: records written (default 600, quick 100)")
	rate := fs.Float64("steady-rate", 20, "steady state: records written per second, over the whole cluster")
	idle := fs.Duration("idle", 0, "steady state: idle baseline window (default 10s, quick 2s)")
	sizes := fs.String("catchup-sizes", "", "catch-up: key counts (default 10000,100000, quick 200,500)")
	fpRecords := fs.Int("footprint-records", 0, "footprint: records held by the loaded node (default 100000, quick 500)")
	fpIdle := fs.Duration("footprint-idle", 0, "footprint: idle window over which CPU is measured (default 20s, quick 2s)")
	stepTimeout := fs.Duration("step-timeout", 0, "abort one measurement (one system, one size) after this long (default 6m, quick 90s)")
	budget := fs.Duration("budget", 0, "the whole run's time limit: steps are cut short or skipped to end within it (default 40m, quick 6m)")
	out := fs.String("out", "", "output directory (default <repo>/docs/bench; for -quick a new temporary directory)")
	repo := fs.String("repo", "..", "the mentormesh repository (to build ./cmd/mentormesh and find docs/)")
	keep := fs.Bool("keep", false, "keep the data directories")
	from := fs.String("from", "", "measure nothing: rewrite the report and plots from this results.json")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof)")
	strict := fs.Bool("strict", false, "exit with status 1 if any measurement failed or was aborted (for CI)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg := &config{
		quick: *quick, workloads: splitList(*workloads), systems: splitList(*systems), crdtVariants: splitList(*variants),
		nodes: 20, degree: *degree, records: 200, gap: *gap, steadyRecords: 600, steadyRate: *rate, idle: 10 * time.Second,
		catchUpSizes: []int{10_000, 100_000}, footprintRecords: 100_000, fpSettle: 5 * time.Second, fpIdle: 20 * time.Second,
		stepTimeout: 6 * time.Minute, budget: 40 * time.Minute, cpuProfile: *cpuProfile, out: *out, repo: *repo, keep: *keep, from: *from, strict: *strict,
	}
	if cfg.quick {
		cfg.nodes, cfg.records, cfg.steadyRecords, cfg.idle = 10, 30, 100, 2*time.Second
		cfg.catchUpSizes, cfg.footprintRecords, cfg.fpSettle, cfg.fpIdle = []int{200, 500}, 500, time.Second, 2*time.Second
		cfg.stepTimeout, cfg.budget = 90*time.Second, 6*time.Minute
	}
	setInt(&cfg.nodes, *nodes)
	setInt(&cfg.records, *records)
	setInt(&cfg.steadyRecords, *steady)
	setInt(&cfg.footprintRecords, *fpRecords)
	setDur(&cfg.idle, *idle)
	setDur(&cfg.fpIdle, *fpIdle)
	setDur(&cfg.stepTimeout, *stepTimeout)
	setDur(&cfg.budget, *budget)
	if *sizes != "" {
		cfg.catchUpSizes = nil
		for _, s := range splitList(*sizes) {
			n, err := strconv.Atoi(s)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("-catchup-sizes: %q is not a positive number", s)
			}
			cfg.catchUpSizes = append(cfg.catchUpSizes, n)
		}
	}
	for _, w := range cfg.workloads {
		if !slices.Contains([]string{wlPropagation, wlCatchUp, wlFootprint, wlGoTest}, w) {
			return nil, fmt.Errorf("-workloads: unknown workload %q (propagation, catchup, footprint, gotest)", w)
		}
	}
	jobs, err := selectedJobs(splitList(*goTest))
	if err != nil {
		return nil, err
	}
	cfg.goTest = jobs
	for _, s := range cfg.systems {
		if s != sysMM && s != sysCRDT {
			return nil, fmt.Errorf("-systems: unknown system %q (%s, %s)", s, sysMM, sysCRDT)
		}
	}
	for _, v := range cfg.crdtVariants {
		if v != "perkey" && v != "batched" {
			return nil, fmt.Errorf("-crdt-variants: unknown variant %q (perkey, batched)", v)
		}
	}
	if cfg.nodes < 2 || cfg.records < 1 || cfg.steadyRecords < 1 || cfg.steadyRate <= 0 || cfg.degree < 1 {
		return nil, errors.New("-nodes must be at least 2, -records, -steady-records, -steady-rate and -degree positive")
	}
	if _, err := os.Stat(filepath.Join(cfg.repo, "cmd", "mentormesh")); err != nil && cfg.from == "" {
		return nil, fmt.Errorf("-repo %s is not the mentormesh repository (run from bench/, or pass -repo): %w", cfg.repo, err)
	}
	return cfg, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func setInt(dst *int, v int) {
	if v > 0 {
		*dst = v
	}
}

func setDur(dst *time.Duration, v time.Duration) {
	if v > 0 {
		*dst = v
	}
}

func (c *config) has(workload string) bool { return slices.Contains(c.workloads, workload) }
func (c *config) runs(system string) bool  { return slices.Contains(c.systems, system) }
