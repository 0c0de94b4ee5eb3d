package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseBenchLine(t *testing.T) {
	tests := []struct {
		line  string
		name  string
		units map[string]float64
		ok    bool
	}{
		{"BenchmarkIngestBadger-2   \t    5000\t    170000 ns/op\t  5880 records/s", "BenchmarkIngestBadger",
			map[string]float64{"iterations": 5000, "ns/op": 170000, "records/s": 5880}, true},
		{"BenchmarkCatchUpOnePercent100k/disjoint-2 1 2.5e+09 ns/op 1646145 B/transfer 2.36 %full", "BenchmarkCatchUpOnePercent100k/disjoint",
			map[string]float64{"iterations": 1, "ns/op": 2.5e9, "B/transfer": 1646145, "%full": 2.36}, true},
		{"BenchmarkFloodLatency/invalid/process 1 9e9 ns/op 1.13 p99_ratio", "BenchmarkFloodLatency/invalid/process",
			map[string]float64{"iterations": 1, "ns/op": 9e9, "p99_ratio": 1.13}, true},
		{"BenchmarkX-2 --- FAIL", "", nil, false},
		{"BenchmarkX", "", nil, false},
		{"    bench_test.go:12: BenchmarkX 1 2 ns/op", "", nil, false},
		{"PASS", "", nil, false},
	}
	for _, tt := range tests {
		name, m, ok := parseBenchLine(tt.line)
		if ok != tt.ok || name != tt.name || len(m) != len(tt.units) {
			t.Errorf("parseBenchLine(%q) = %q, %v, %v; want %q, %v, %v", tt.line, name, m, ok, tt.name, tt.units, tt.ok)
			continue
		}
		for u, v := range tt.units {
			if m[u] != v {
				t.Errorf("parseBenchLine(%q)[%s] = %v, want %v", tt.line, u, m[u], v)
			}
		}
	}
}

func TestParseSummary(t *testing.T) {
	kv, ok := parseSummary("    sim_test.go:68: summary: nodes=500 p50_ms=200 p99_ms=250 converged_within_10s=500/500")
	if !ok || kv["nodes"] != "500" || kv["p99_ms"] != "250" || kv["converged_within_10s"] != "500/500" {
		t.Errorf("parseSummary = %v, %v", kv, ok)
	}
	if _, ok := parseSummary("--- PASS: TestSimulationLarge"); ok {
		t.Error("parseSummary accepted a line without a summary")
	}
}

func TestReportGoTestAndSignatures(t *testing.T) {
	res := &Results{
		Machine: Machine{CPU: "test", Cores: 2},
		CatchUp: []CatchUpResult{
			{System: sysMM, Variant: variantMM, Keys: 100, Seconds: 2, CPUS: 3, Got: 100, VerifyS: 1.5, VerifyCPUS: 2.8},
			{System: sysCRDT, Variant: variantBatched, Keys: 100, Seconds: 1, CPUS: 1, Got: 100},
		},
		GoTest: []GoTestResult{
			{Name: "ingest", What: "the ingest path", Command: "go test -bench X ./sync/ingest/", Seconds: 3,
				Benchmarks: []GoBenchmark{{Name: "BenchmarkVerifyEd25519", Runs: []map[string]float64{{"ns/op": 90000}, {"ns/op": 80000}, {"ns/op": 100000}}}}},
			{Name: "flood", What: "flood", Command: "go test ./node/", Skipped: "not run by -quick"},
			{Name: "simulation-500", What: "sim", Command: "go test ./internal/sim/", Summaries: []map[string]string{{"nodes": "500", "p99_ms": "250"}}},
		},
	}
	md := report(res)
	for _, want := range []string{
		"## 5. The repository's own benchmarks", "### ingest", "go test -bench X ./sync/ingest/",
		"| VerifyEd25519 | ns/op | 90000 | 80000 to 100000 | 3 |", "Skipped: not run by -quick", "| nodes | p99_ms |", "| 500 | 250 |",
		"takes **1.50 s**", "net of verification (an estimate: the difference) | 0.50 s",
		"net of that check, 0.50 s, 2.0x go-ds-crdt's time",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// TestRunGoTestTimeoutEndsTestBinary: a job over its time limit is
// reported as aborted, and its test binary (a child of the go command) is
// ended with it.
func TestRunGoTestTimeoutEndsTestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a test binary")
	}
	dir := t.TempDir()
	mustWrite := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mustWrite("go.mod", "module hang\n\ngo 1.22\n")
	marker := filepath.Join(dir, "pid")
	mustWrite("hang_test.go", `package hang

import (
	"os"
	"strconv"
	"testing"
	"time"
)

func TestHang(t *testing.T) {
	os.WriteFile(`+strconv.Quote(marker)+`, []byte(strconv.Itoa(os.Getpid())), 0o644)
	time.Sleep(time.Minute)
}
`)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Wait until the test binary runs, then let the job's time run out.
	go func() {
		for ctx.Err() == nil {
			if _, err := os.Stat(marker); err == nil {
				time.Sleep(200 * time.Millisecond)
				cancel()
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	j := goTestJob{name: "hang", args: []string{"-run", "TestHang", "-count", "1", "."}}
	start := time.Now()
	res := runGoTest(ctx, dir, j, false, &progress{start: start})
	if res.Error == "" || !strings.Contains(res.Error, "aborted") {
		t.Errorf("runGoTest over its limit: error %q, want it aborted", res.Error)
	}
	if d := time.Since(start); d > 40*time.Second {
		t.Errorf("runGoTest returned after %s", d)
	}
	b, err := os.ReadFile(marker)
	if err != nil {
		t.Fatalf("the test binary never ran: %v", err)
	}
	pid, _ := strconv.Atoi(string(b))
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("test binary %d still runs after its job was aborted", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
