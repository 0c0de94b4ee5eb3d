package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// goTestJob is one of the repository's own benchmarks (or the 500-node
// simulation), run as a `go test` subprocess in the parent module so that
// every figure docs/PERFORMANCE.md quotes comes from this suite, with the
// command that reproduces it.
type goTestJob struct {
	name string
	// what the job measures, for the report.
	what string
	// args follow `go test`; quick replaces them in -quick mode (nil: the
	// job is skipped there).
	args, quick []string
	// env is added to the environment (full and quick).
	env, quickEnv []string
	// estimate is the expected duration of the full job on the
	// development machine (2 cores, nearly idle; measured 2026-11-26 where
	// the job ran alone, storage-growth from a loaded run), for -h and the
	// report.
	estimate time.Duration
	// timeout aborts the job (quick: a quarter of it, at least 2 minutes).
	timeout time.Duration
}

// goTestJobs are the in-repository benchmarks, in the order they run.
var goTestJobs = []goTestJob{
	{
		name: "ingest",
		what: "the ingest path (size check, decode, checks, Ed25519, Badger write) against bare Ed25519 verification, one record at a time, in parallel and in batches of 256",
		args: []string{"-run", "XXX", "-bench", "Verify|Badger", "-benchtime", "2s", "-count", "3", "./sync/ingest/"}, quick: []string{"-run", "XXX", "-bench", "Verify|Badger", "-benchtime", "500x", "-count", "1", "./sync/ingest/"},
		estimate: 60 * time.Second, timeout: 8 * time.Minute,
	},
	{
		name:     "record-verify",
		what:     "verifying one record signed by its author against one signed by a linked device (certificate checked, then cached)",
		args:     []string{"-run", "XXX", "-bench", "BenchmarkVerify", "-benchtime", "2000x", "-count", "5", "./sync/record/"},
		quick:    []string{"-run", "XXX", "-bench", "BenchmarkVerify", "-benchtime", "200x", "-count", "1", "./sync/record/"},
		estimate: 10 * time.Second, timeout: 3 * time.Minute,
	},
	{
		name: "store-apply",
		what: "Badger writes: one transaction per record, in parallel, and batches of 256",
		args: []string{"-run", "XXX", "-bench", "Apply", "-benchtime", "2s", "-count", "3", "./store/"}, quick: []string{"-run", "XXX", "-bench", "Apply", "-benchtime", "500x", "-count", "1", "./store/"},
		estimate: 30 * time.Second, timeout: 5 * time.Minute,
	},
	{
		name:     "catchup-100k",
		what:     "set reconciliation between two hosts on 127.0.0.1 over 100 000 records: a fresh join against the same run's verify-and-store baseline (ratio), 1 % different, identical sets",
		args:     []string{"-run", "XXX", "-bench", "CatchUpVsIngest100k|CatchUpOnePercent100k|CatchUpIdentical100k", "-benchtime", "1x", "-timeout", "30m", "./sync/reconcile/"},
		estimate: 75 * time.Second, timeout: 12 * time.Minute,
	},
	{
		name:     "mentor-search",
		what:     "ranked mentor search over 100 000 profiles: the ranking alone (p50/p99 wall and CPU per query)",
		args:     []string{"-run", "XXX", "-bench", "Find100k", "-benchtime", "2000x", "./mentorship/"},
		estimate: 40 * time.Second, timeout: 6 * time.Minute,
	},
	{
		name:     "mentor-search-node",
		what:     "mentor search through the node (Local.FindMentors over Badger) with 100 000 profiles, and the directory's build time",
		args:     []string{"-run", "XXX", "-bench", "FindMentorsNode100k", "-benchtime", "2000x", "-timeout", "20m", "./node/"},
		estimate: 45 * time.Second, timeout: 10 * time.Minute,
	},
	{
		name:     "resource-search",
		what:     "resource search: the ranking over 20 000 resources, and list/search/show through a node over Badger",
		args:     []string{"-run", "XXX", "-bench", "BenchmarkSearchResources", "-benchmem", "./mentorship/"},
		estimate: 20 * time.Second, timeout: 5 * time.Minute,
	},
	{
		name:     "resource-node",
		what:     "resource list, search and show through a node over Badger with 20 000 resources and 20 000 endorsements",
		args:     []string{"-run", "XXX", "-bench", "BenchmarkResourcesLocal", "-benchtime", "10x", "./node/"},
		estimate: 60 * time.Second, timeout: 8 * time.Minute,
	},
	{
		name: "storage-growth",
		what: "disk use after 10 000 records and after 1 000 000 updates to them (quick: 20 000), with garbage collection every 100 000",
		args: []string{"-run", "XXX", "-bench", "StorageGrowth", "-benchtime", "1x", "-timeout", "30m", "./store/"}, quick: []string{"-run", "XXX", "-bench", "StorageGrowth", "-benchtime", "1x", "./store/"},
		quickEnv: []string{"MENTORMESH_GROWTH_UPDATES=20000"},
		estimate: 4 * time.Minute, timeout: 12 * time.Minute,
	},
	{
		name: "simulation-500",
		what: "a 500-node community in one process (mocknet, 50 ms links, synctest virtual time): publish to all p50/p99, duplicates, convergence after a partition heals (quick: 30 nodes)",
		args: []string{"-run", "TestSimulationLarge", "-v", "-timeout", "60m", "./internal/sim/", "-sim.nodes", "500"}, quick: []string{"-run", "TestSimulationLarge", "-v", "./internal/sim/", "-sim.nodes", "30"},
		estimate: 60 * time.Second, timeout: 10 * time.Minute,
	},
	{
		name:     "flood",
		what:     "honest propagation p50/p99 among four nodes, undisturbed and under an attacker's flood, in the same run",
		args:     []string{"-run", "XXX", "-bench", "FloodLatency", "-benchtime", "1x", "-count", "3", "-timeout", "20m", "./node/"},
		estimate: 90 * time.Second, timeout: 12 * time.Minute,
	},
}

// GoTestResult is one job's outcome.
type GoTestResult struct {
	Name string `json:"name"`
	What string `json:"what"`
	// Command reproduces the job from the repository's root.
	Command    string        `json:"command"`
	Seconds    float64       `json:"seconds"`
	Benchmarks []GoBenchmark `json:"benchmarks,omitempty"`
	// Summaries are the key=value pairs of "summary:" lines (the
	// simulation prints one per run).
	Summaries []map[string]string `json:"summaries,omitempty"`
	// LoadStart and LoadEnd are the 1-minute load averages around the job.
	LoadStart float64 `json:"load_start"`
	LoadEnd   float64 `json:"load_end"`
	Skipped   string  `json:"skipped,omitempty"`
	Error     string  `json:"error,omitempty"`
}

// GoBenchmark is one benchmark's runs (-count), each a set of metrics by
// unit (ns/op and what the benchmark reports).
type GoBenchmark struct {
	Name string               `json:"name"`
	Runs []map[string]float64 `json:"runs"`
}

// command is the shell line that runs the job from the repository root.
func (j goTestJob) command(quick bool) string {
	args, env := j.args, j.env
	if quick {
		args, env = j.quick, append(slices.Clone(j.env), j.quickEnv...)
	}
	parts := slices.Clone(env)
	parts = append(parts, "go", "test")
	for _, a := range args {
		if strings.ContainsAny(a, "|* ") {
			a = "'" + a + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

func (j goTestJob) stepTimeout(quick bool) time.Duration {
	if quick {
		return max(2*time.Minute, j.timeout/4)
	}
	return j.timeout
}

// selectedJobs returns the jobs named in list ("all": every one).
func selectedJobs(list []string) ([]goTestJob, error) {
	if len(list) == 0 || slices.Contains(list, "all") {
		return goTestJobs, nil
	}
	var out []goTestJob
	for _, name := range list {
		i := slices.IndexFunc(goTestJobs, func(j goTestJob) bool { return j.name == name })
		if i < 0 {
			return nil, fmt.Errorf("-gotest: unknown job %q (%s)", name, jobNames())
		}
		out = append(out, goTestJobs[i])
	}
	return out, nil
}

func jobNames() string {
	var names []string
	for _, j := range goTestJobs {
		names = append(names, j.name)
	}
	return strings.Join(names, ", ")
}

// goTestEstimate is the expected duration of the jobs in a full run.
func goTestEstimate(jobs []goTestJob) time.Duration {
	var d time.Duration
	for _, j := range jobs {
		d += j.estimate
	}
	return d
}

// runGoTest runs one job in repo and parses its output, logging each
// result line as it comes.
func runGoTest(ctx context.Context, repo string, j goTestJob, quick bool, prog *progress) (res GoTestResult) {
	res = GoTestResult{Name: j.name, What: j.what, Command: j.command(quick)}
	args, env := j.args, j.env
	if quick {
		args, env = j.quick, append(slices.Clone(j.env), j.quickEnv...)
	}
	prog.logf("%s: %s", j.name, res.Command)
	cmd := exec.CommandContext(ctx, "go", append([]string{"test"}, args...)...)
	cmd.Dir = repo
	cmd.Env = append(cleanEnv(), env...)
	// go test runs the test binary as a child (and the flood benchmark
	// starts attacker processes): in a process group of their own, a
	// timeout ends all of them, not only the go command.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		res.Error = err.Error()
		return res
	}
	var stderr strings.Builder
	cmd.Stderr = &limitedWriter{w: &stderr, n: 8 << 10}
	res.LoadStart = loadAvg()[0]
	defer func() { res.LoadEnd = loadAvg()[0] }()
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		res.Error = err.Error()
		return res
	}
	var mu sync.Mutex
	var tail []string // the last lines, for a failure's message
	parseDone := make(chan struct{})
	go func() {
		defer close(parseDone)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			mu.Lock()
			if len(tail) == 20 {
				tail = tail[1:]
			}
			tail = append(tail, line)
			mu.Unlock()
			if name, run, ok := parseBenchLine(line); ok {
				res.addRun(name, run)
				prog.logf("%s: %s", j.name, strings.Join(strings.Fields(line), " "))
			} else if kv, ok := parseSummary(line); ok {
				res.Summaries = append(res.Summaries, kv)
				prog.logf("%s: %s", j.name, strings.TrimSpace(line))
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	<-parseDone
	err = cmd.Wait()
	res.Seconds = time.Since(t0).Seconds()
	if err != nil {
		msg := err.Error()
		if ctx.Err() != nil {
			msg = fmt.Sprintf("aborted after %.0f s: %s", res.Seconds, abortReason(ctx))
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) || ctx.Err() != nil {
			mu.Lock()
			msg += "\n" + strings.Join(tail, "\n") + "\n" + stderr.String()
			mu.Unlock()
		}
		res.Error = strings.TrimSpace(msg)
		return res
	}
	if len(res.Benchmarks) == 0 && len(res.Summaries) == 0 {
		res.Error = "the command printed no benchmark result or summary line"
	}
	prog.logf("%s: done in %.0f s", j.name, res.Seconds)
	return res
}

func (r *GoTestResult) addRun(name string, run map[string]float64) {
	for i := range r.Benchmarks {
		if r.Benchmarks[i].Name == name {
			r.Benchmarks[i].Runs = append(r.Benchmarks[i].Runs, run)
			return
		}
	}
	r.Benchmarks = append(r.Benchmarks, GoBenchmark{Name: name, Runs: []map[string]float64{run}})
}

// parseBenchLine parses a `go test -bench` result line:
//
//	BenchmarkX/sub-2   	     100	  12345 ns/op	  5.0 records/s
//
// into the benchmark's name (without the -GOMAXPROCS suffix) and its
// metrics by unit, with the iteration count under "iterations".
func parseBenchLine(line string) (string, map[string]float64, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
		return "", nil, false
	}
	iters, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return "", nil, false
	}
	name := f[0]
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			name = name[:i]
		}
	}
	m := map[string]float64{"iterations": float64(iters)}
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return "", nil, false
		}
		m[f[i+1]] = v
	}
	return name, m, true
}

// parseSummary parses a line containing "summary: k=v k=v ...".
func parseSummary(line string) (map[string]string, bool) {
	_, rest, ok := strings.Cut(line, "summary: ")
	if !ok {
		return nil, false
	}
	kv := map[string]string{}
	for _, f := range strings.Fields(rest) {
		if k, v, ok := strings.Cut(f, "="); ok {
			kv[k] = v
		}
	}
	return kv, len(kv) > 0
}
