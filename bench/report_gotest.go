package main

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// writeGoTest renders the repository's own benchmarks: per job, what it
// measures, the command, and its figures (median and range over -count
// runs).
func writeGoTest(b *strings.Builder, res *Results) {
	if len(res.GoTest) == 0 {
		return
	}
	b.WriteString(`## 5. The repository's own benchmarks

The figures docs/PERFORMANCE.md quotes beyond the side-by-side workloads
come from the repository's own benchmarks and its 500-node simulation,
which this suite runs one after the other, as ` + "`go test`" + ` subprocesses in
the repository's root, after the workloads above (never at the same time as
them). Each section gives the exact command, which reruns it alone, and
the load average at its start and end. Where a benchmark ran several times
(` + "`-count`" + `), the table gives the median and the range.

`)
	for _, g := range res.GoTest {
		fmt.Fprintf(b, "### %s\n\n%s.\n\n```sh\n%s\n```\n\n", g.Name, upperFirst(g.What), g.Command)
		switch {
		case g.Skipped != "":
			fmt.Fprintf(b, "Skipped: %s.\n\n", g.Skipped)
			continue
		case g.Error != "":
			fmt.Fprintf(b, "**Failed** after %.0f s:\n\n```\n%s\n```\n\n", g.Seconds, lastLines(g.Error, 15))
			if len(g.Benchmarks) == 0 && len(g.Summaries) == 0 {
				continue
			}
		default:
			fmt.Fprintf(b, "Took %.0f s; load average %.2f at its start, %.2f at its end.\n\n", g.Seconds, g.LoadStart, g.LoadEnd)
		}
		writeBenchTable(b, g.Benchmarks)
		if g.Name == "ingest" {
			writeIngestRatios(b, g.Benchmarks)
		}
		writeSummaries(b, g.Summaries)
	}
}

// writeIngestRatios gives each ingest benchmark's rate against one core
// verifying signatures, issue 2's measure (target: at least 70 %).
func writeIngestRatios(b *strings.Builder, benches []GoBenchmark) {
	rate := map[string]float64{}
	for _, bm := range benches {
		var vs []float64
		for _, r := range bm.Runs {
			if v, ok := r["records/s"]; ok {
				vs = append(vs, v)
			} else if ns := r["ns/op"]; ns > 0 {
				vs = append(vs, 1e9/ns)
			}
		}
		if len(vs) > 0 {
			slices.Sort(vs)
			rate[strings.TrimPrefix(bm.Name, "Benchmark")] = vs[len(vs)/2]
		}
	}
	base := rate["VerifyEd25519"]
	if base <= 0 {
		return
	}
	b.WriteString("Against one core verifying signatures (median records/s of each, from the table; issue 2's target for the ingest paths is at least 70 %):\n\n| benchmark | records/s | vs. one core verifying |\n| --- | --- | --- |\n")
	for _, name := range []string{"VerifyEd25519", "VerifyEd25519Parallel", "IngestBadger", "IngestBadgerParallel", "IngestBatchBadger"} {
		if r, ok := rate[name]; ok {
			fmt.Fprintf(b, "| %s | %.0f | %.0f %% |\n", name, r, 100*r/base)
		}
	}
	b.WriteString("\n")
}

func writeBenchTable(b *strings.Builder, benches []GoBenchmark) {
	if len(benches) == 0 {
		return
	}
	b.WriteString("| benchmark | metric | median | range | runs |\n| --- | --- | --- | --- | --- |\n")
	for _, bm := range benches {
		name := strings.TrimPrefix(bm.Name, "Benchmark")
		for _, unit := range benchUnits(bm.Runs) {
			var vs []float64
			for _, r := range bm.Runs {
				if v, ok := r[unit]; ok {
					vs = append(vs, v)
				}
			}
			slices.Sort(vs)
			med := vs[len(vs)/2]
			if len(vs)%2 == 0 {
				med = (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
			}
			rng := ""
			if len(vs) > 1 {
				rng = fmt.Sprintf("%s to %s", num(vs[0]), num(vs[len(vs)-1]))
			}
			fmt.Fprintf(b, "| %s | %s | %s | %s | %d |\n", name, unit, num(med), rng, len(vs))
			name = ""
		}
	}
	b.WriteString("\n")
}

// benchUnits lists the metrics of runs: ns/op first, then the benchmark's
// own in alphabetical order; the iteration count is left out.
func benchUnits(runs []map[string]float64) []string {
	seen := map[string]bool{}
	var units []string
	for _, r := range runs {
		for u := range r {
			if !seen[u] && u != "iterations" {
				seen[u] = true
				units = append(units, u)
			}
		}
	}
	sort.Slice(units, func(i, j int) bool {
		if (units[i] == "ns/op") != (units[j] == "ns/op") {
			return units[i] == "ns/op"
		}
		return units[i] < units[j]
	})
	return units
}

func writeSummaries(b *strings.Builder, sums []map[string]string) {
	if len(sums) == 0 {
		return
	}
	seen := map[string]bool{}
	var keys []string
	for _, s := range sums {
		for k := range s {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	// The simulation prints its keys in a meaningful order; keep "nodes"
	// first and the rest sorted.
	sort.Slice(keys, func(i, j int) bool {
		if (keys[i] == "nodes") != (keys[j] == "nodes") {
			return keys[i] == "nodes"
		}
		return keys[i] < keys[j]
	})
	b.WriteString("| " + strings.Join(keys, " | ") + " |\n|" + strings.Repeat(" --- |", len(keys)) + "\n")
	for _, s := range sums {
		var row []string
		for _, k := range keys {
			row = append(row, s[k])
		}
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	b.WriteString("\n")
}

// num formats a figure with about three significant digits.
func num(v float64) string {
	switch a := max(v, -v); {
	case v == float64(int64(v)):
		return fmt.Sprintf("%d", int64(v))
	case a >= 1000:
		return fmt.Sprintf("%.0f", v)
	case a >= 100:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
