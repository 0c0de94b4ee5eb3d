package main

import (
	"encoding/json"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestDistOf(t *testing.T) {
	tests := []struct {
		name           string
		in             []Ms
		p50, p99, mean Ms
		lost           int
	}{
		{"one", []Ms{5}, 5, 5, 5, 0},
		{"ordered by rank", []Ms{4, 1, 3, 2}, 2, 4, 2.5, 0},
		{"lost counts as slowest", []Ms{1, 2, lost}, 2, lost, 1.5, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := distOf(tt.in)
			if d.P50 != tt.p50 || d.P99 != tt.p99 || d.Mean != tt.mean || d.Lost != tt.lost {
				t.Errorf("distOf(%v) = p50 %v p99 %v mean %v lost %d, want %v %v %v %d", tt.in, d.P50, d.P99, d.Mean, d.Lost, tt.p50, tt.p99, tt.mean, tt.lost)
			}
		})
	}
}

func TestMsJSON(t *testing.T) {
	b, err := json.Marshal([]Ms{1.5, lost})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "[1.500,null]" {
		t.Errorf("Marshal = %s, want [1.500,null]", b)
	}
	var back []Ms
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back[0] != 1.5 || !math.IsInf(float64(back[1]), 1) {
		t.Errorf("Unmarshal(%s) = %v, want [1.5 +Inf]", b, back)
	}
}

func TestTopology(t *testing.T) {
	top := newTopology(20, 3, 8)
	if !slices.Equal(top.dials[0], nil) || len(top.dials[1]) != 1 || len(top.dials[19]) != 3 {
		t.Errorf("dials = %v, want none for node 0, one for node 1, three for later nodes", top.dials)
	}
	if again := newTopology(20, 3, 8); !slices.EqualFunc(top.dials, again.dials, slices.Equal) {
		t.Error("the same seed gave another graph; both systems must get the same one")
	}
	for from := range top.n {
		for i, d := range top.distances(from) {
			if d < 0 {
				t.Fatalf("node %d cannot reach node %d: the graph is not connected", from, i)
			}
		}
	}
	for i := range top.n {
		for _, j := range top.neighbours(i) {
			if !slices.Contains(top.neighbours(j), i) {
				t.Errorf("%d lists %d as a neighbour, but not the other way round", i, j)
			}
		}
	}
}

func TestProcReadings(t *testing.T) {
	pid := os.Getpid()
	m, err := procMem(pid)
	if err != nil || m.rss <= 0 || m.peak < m.rss || m.anon <= 0 || m.file <= 0 || m.anon+m.file > m.rss+64<<10 {
		t.Errorf("procMem(self) = %+v, %v; want 0 < rss <= peak, anon and file > 0 adding up to rss", m, err)
	}
	if _, err := procCPU(pid); err != nil {
		t.Errorf("procCPU(self): %v", err)
	}
	if du, err := diskUsage(t.TempDir()); err != nil || du < 0 {
		t.Errorf("diskUsage(empty dir) = %d, %v", du, err)
	}
}

func TestReportFromResults(t *testing.T) {
	res := &Results{
		Quick:       true,
		Machine:     Machine{CPU: "test", Cores: 2, LoadStart: [3]float64{3}},
		Settings:    Settings{Nodes: 3, CatchUpSizes: []int{10}},
		Propagation: []PropagationResult{{System: sysMM, Nodes: 3, Records: 2, Samples: []Ms{1, lost}, AllNodes: distOf([]Ms{1, lost})}},
		CatchUp: []CatchUpResult{
			{System: sysMM, Variant: variantMM, Keys: 10, Seconds: 1, Got: 10},
			{System: sysCRDT, Variant: variantPerKey, Keys: 10, Seconds: 30, Got: 4, Error: "aborted"},
		},
	}
	md := report(res)
	for _, want := range []string{"Quick smoke run", "Disturbed", "at least 30.0x", "**missed**: records were lost", "would take about 75 s"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for name, svg := range plots(res) {
		if !strings.HasPrefix(svg, "<svg") || strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") {
			t.Errorf("%s is not a clean SVG", name)
		}
	}
}

func TestChartWithoutPoints(t *testing.T) {
	c := &chart{title: "empty", xLog: true, yLog: true, series: []series{{name: "none"}}}
	if svg := c.svg(); !strings.HasPrefix(svg, "<svg") || strings.Contains(svg, "NaN") {
		t.Errorf("chart without points: %.200s", svg)
	}
}
