package main

import (
	"context"
	"fmt"
	"runtime"
	"time"
)

// PropagationResult is workload 1 for one system.
type PropagationResult struct {
	System  string `json:"system"`
	Nodes   int    `json:"nodes"`
	Degree  int    `json:"degree"`
	Records int    `json:"records"`
	// AllNodes is, per record, the time from the write call until every
	// other node stored it.
	AllNodes Dist `json:"all_nodes"`
	// PerDelivery is the time until each single node stored it.
	PerDelivery Dist `json:"per_delivery"`
	// ByHops[h] is PerDelivery for the nodes h hops away from the writer
	// in the connection graph; the last class, maxHops, holds the nodes
	// that far or farther (ByHops[0] is unused).
	ByHops []Dist `json:"by_hops"`
	// WriteCall is how long the write call took at the writer (mentormesh:
	// sign, store, fsync; go-ds-crdt: sign, store the block, merge,
	// publish the head).
	WriteCall Dist `json:"write_call"`
	// Samples are AllNodes' raw values, in writing order.
	Samples []Ms    `json:"samples_ms"`
	StartS  float64 `json:"cluster_start_s"`
	Error   string  `json:"error,omitempty"`
}

// SteadyResult is workload 3 for one system, on the same cluster.
type SteadyResult struct {
	System  string  `json:"system"`
	Nodes   int     `json:"nodes"`
	Written int     `json:"written"`
	Rate    float64 `json:"rate_per_s"`
	// Accepted counts (record, receiving node) pairs: each record written
	// is accepted by nodes-1 others.
	Accepted int64 `json:"accepted"`
	Lost     int   `json:"lost_deliveries"`
	// DroppedBroadcasts (go-ds-crdt) counts head announcements GossipSub
	// dropped because go-ds-crdt had not taken the previous ones yet.
	DroppedBroadcasts int64   `json:"dropped_broadcasts,omitempty"`
	Seconds           float64 `json:"seconds"`
	CPUS              float64 `json:"cpu_s"`
	Bytes             int64   `json:"bytes"`
	// Per accepted record, raw and after subtracting the idle baseline.
	CPUPerAcceptedUS    float64 `json:"cpu_per_accepted_us"`
	CPUPerAcceptedNetUS float64 `json:"cpu_per_accepted_net_us"`
	BytesPerAccepted    float64 `json:"bytes_per_accepted"`
	BytesPerAcceptedNet float64 `json:"bytes_per_accepted_net"`
	// The whole idle cluster, before the writes.
	IdleCPUPercent  float64 `json:"idle_cpu_percent"`
	IdleBytesPerSec float64 `json:"idle_bytes_per_s"`
	// Bytes received per libp2p protocol, by all nodes, while idle and
	// during the writes.
	IdleByProtocol map[string]int64 `json:"idle_bytes_by_protocol"`
	ByProtocol     map[string]int64 `json:"bytes_by_protocol"`
	Error          string           `json:"error,omitempty"`
}

// maxHops is the last distance class of PropagationResult.ByHops.
const maxHops = 4

// probeTimeout is how long a record may take to reach every node before it
// counts as lost.
const probeTimeout = 5 * time.Second

// runPropagation starts a cluster of one system, measures propagation
// (workload 1), then steady state (workload 3) on the same cluster.
func runPropagation(ctx context.Context, cfg *config, sys string, root string, prog *progress) (PropagationResult, SteadyResult) {
	pr := PropagationResult{System: sys, Nodes: cfg.nodes, Degree: cfg.degree, Records: cfg.records}
	sr := SteadyResult{System: sys, Nodes: cfg.nodes}
	fail := func(err error) (PropagationResult, SteadyResult) {
		pr.Error = err.Error()
		if sr.Error == "" {
			sr.Error = pr.Error
		}
		prog.logf("%s: %v", sys, err)
		return pr, sr
	}
	top := newTopology(cfg.nodes, cfg.degree, 8)
	obs := &observer{}
	t0 := time.Now()
	var c cluster
	var err error
	switch sys {
	case sysMM:
		c, err = startMMCluster(ctx, root, top, obs)
	default:
		c, err = startCRDTCluster(ctx, root, top, obs)
	}
	if err != nil {
		return fail(fmt.Errorf("starting %d nodes: %w", cfg.nodes, err))
	}
	defer func() {
		prog.logf("%s: stopping the cluster", sys)
		c.close()
	}()
	if err := c.ready(ctx); err != nil {
		return fail(err)
	}
	pr.StartS = time.Since(t0).Seconds()
	prog.logf("%s: %d nodes up and connected in %.1fs; letting the mesh settle", sys, cfg.nodes, pr.StartS)
	if err := sleep(ctx, 2*time.Second); err != nil {
		return fail(err)
	}
	w := &writer{c: c, obs: obs, versions: make([]uint64, c.size())}
	// Warm-up: one record from every node, not measured.
	for i := range c.size() {
		if _, _, _, err := w.one(ctx, i); err != nil {
			return fail(fmt.Errorf("warm-up: %w", err))
		}
	}
	var per, calls []Ms
	hops := make([][]Ms, maxHops+1)
	for r := range cfg.records {
		at := r % c.size()
		all, each, call, err := w.one(ctx, at)
		if err != nil {
			return fail(fmt.Errorf("record %d: %w", r, err))
		}
		pr.Samples = append(pr.Samples, all)
		calls = append(calls, call)
		dist := top.distances(at)
		for i, v := range each {
			if i != at {
				per = append(per, v)
				h := min(dist[i], maxHops)
				hops[h] = append(hops[h], v)
			}
		}
		if (r+1)%max(1, cfg.records/5) == 0 {
			d := distOf(pr.Samples)
			prog.logf("%s: %d/%d records, all %d nodes: p50 %.1f ms, p99 %.1f ms, lost %d", sys, r+1, cfg.records, cfg.nodes, d.P50, d.P99, d.Lost)
		}
		if err := sleep(ctx, cfg.gap); err != nil {
			return fail(err)
		}
	}
	pr.AllNodes, pr.PerDelivery, pr.WriteCall = distOf(pr.Samples), distOf(per), distOf(calls)
	for _, h := range hops {
		pr.ByHops = append(pr.ByHops, distOf(h))
	}

	// Steady state: first the idle baseline, then writes at a fixed rate.
	runtime.GC()
	cpu0, b0, p0 := cpuTime(), bytesIn(c), protoIn(c.counters())
	if err := sleep(ctx, cfg.idle); err != nil {
		sr.Error = err.Error()
		return pr, sr
	}
	idleCPU, idleBytes := cpuTime()-cpu0, bytesIn(c)-b0
	sr.IdleByProtocol = diffMap(p0, protoIn(c.counters()))
	sr.IdleCPUPercent = 100 * idleCPU.Seconds() / cfg.idle.Seconds()
	sr.IdleBytesPerSec = float64(idleBytes) / cfg.idle.Seconds()
	prog.logf("%s: idle cluster: %.1f%% CPU, %.0f B/s; writing %d records at %.0f/s", sys, sr.IdleCPUPercent, sr.IdleBytesPerSec, cfg.steadyRecords, cfg.steadyRate)
	var drops0 int64
	cc, isCRDT := c.(*crdtCluster)
	if isCRDT {
		drops0 = cc.dropped()
	}
	err = w.steady(ctx, cfg, &sr)
	if isCRDT {
		sr.DroppedBroadcasts = cc.dropped() - drops0
	}
	if err != nil {
		sr.Error = err.Error()
		prog.logf("%s: steady state: %v", sys, err)
	} else {
		prog.logf("%s: steady state: %.0f us CPU and %.0f bytes per accepted record (%d accepted, %d lost)", sys, sr.CPUPerAcceptedUS, sr.BytesPerAccepted, sr.Accepted, sr.Lost)
	}
	return pr, sr
}

// writer writes records through a cluster and follows them.
type writer struct {
	c        cluster
	obs      *observer
	versions []uint64
}

// one writes the next version of node at's record and waits until every
// other node has it, or probeTimeout. It returns the time until all had it,
// the time until each node had it (indexed by node; lost for those that
// never did) and how long the write call took.
func (w *writer) one(ctx context.Context, at int) (all Ms, each []Ms, call Ms, err error) {
	w.versions[at]++
	id := probeID{w.c.author(at), w.versions[at]}
	p := w.obs.expect(id, at, w.c.size())
	defer w.obs.forget(id)
	if err := w.c.write(ctx, at, w.versions[at]); err != nil {
		return 0, nil, 0, fmt.Errorf("writing at node %d: %w", at, err)
	}
	call = ms(time.Since(p.start))
	t := time.NewTimer(probeTimeout)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
	case <-ctx.Done():
		return 0, nil, 0, ctx.Err()
	}
	each = make([]Ms, len(p.arrivals))
	for i := range p.arrivals {
		if i == at {
			continue
		}
		v := lost
		if ns := p.arrivals[i].Load(); ns > 0 {
			v = ms(time.Duration(ns))
		}
		each[i] = v
		all = max(all, v)
	}
	return all, each, call, nil
}

// steady writes cfg.steadyRecords records at cfg.steadyRate per second,
// round robin over the nodes, one at a time, then waits for them to arrive
// everywhere, and charges the CPU time and bytes of the whole period to
// the records accepted.
func (w *writer) steady(ctx context.Context, cfg *config, sr *SteadyResult) error {
	n := w.c.size()
	runtime.GC()
	cpu0, b0, p0, t0 := cpuTime(), bytesIn(w.c), protoIn(w.c.counters()), time.Now()
	tick := time.NewTicker(time.Duration(float64(time.Second) / cfg.steadyRate))
	defer tick.Stop()
	var probes []*probe
	var ids []probeID
	defer func() {
		for _, id := range ids {
			w.obs.forget(id)
		}
	}()
	for k := range cfg.steadyRecords {
		at := k % n
		w.versions[at]++
		id := probeID{w.c.author(at), w.versions[at]}
		probes = append(probes, w.obs.expect(id, at, n))
		ids = append(ids, id)
		if err := w.c.write(ctx, at, w.versions[at]); err != nil {
			return fmt.Errorf("writing at node %d: %w", at, err)
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	sr.Written = cfg.steadyRecords
	sr.Rate = float64(cfg.steadyRecords) / time.Since(t0).Seconds()
	if err := waitSettled(ctx, probes); err != nil {
		return err
	}
	el := time.Since(t0)
	cpu, bytes := cpuTime()-cpu0, bytesIn(w.c)-b0
	sr.ByProtocol = diffMap(p0, protoIn(w.c.counters()))
	sr.Accepted = accepted(probes)
	sr.Lost = len(probes)*(n-1) - int(sr.Accepted)
	sr.Seconds, sr.CPUS, sr.Bytes = el.Seconds(), cpu.Seconds(), bytes
	if sr.Accepted == 0 {
		return fmt.Errorf("no record was accepted anywhere")
	}
	acc := float64(sr.Accepted)
	sr.CPUPerAcceptedUS = float64(cpu.Microseconds()) / acc
	sr.BytesPerAccepted = float64(bytes) / acc
	idleCPU := sr.IdleCPUPercent / 100 * el.Seconds()
	sr.CPUPerAcceptedNetUS = max(0, (cpu.Seconds()-idleCPU)*1e6/acc)
	sr.BytesPerAcceptedNet = max(0, (float64(bytes)-sr.IdleBytesPerSec*el.Seconds())/acc)
	return nil
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// accepted counts the (record, node) deliveries of probes so far.
func accepted(probes []*probe) int64 {
	var n int64
	for _, p := range probes {
		for i := range p.arrivals {
			if i != p.writer && p.arrivals[i].Load() > 0 {
				n++
			}
		}
	}
	return n
}

// waitSettled waits until every probe reached every node, or until nothing
// has arrived anywhere for probeTimeout: a backlog that still drains is
// waited for, so its work is charged to the records it delivers.
func waitSettled(ctx context.Context, probes []*probe) error {
	var want int64
	for _, p := range probes {
		want += int64(len(p.arrivals) - 1)
	}
	last, lastChange := int64(-1), time.Now()
	for {
		got := accepted(probes)
		if got == want || (got == last && time.Since(lastChange) > probeTimeout) {
			return nil
		}
		if got != last {
			last, lastChange = got, time.Now()
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
}
