package node

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// Flood latency benchmarks: four honest nodes on 127.0.0.1, each connected
// to the others, write profile updates (one every probeGap, in turn); the
// benchmark measures how long each takes to become current on the other
// three, first undisturbed, then while an attacker floods the same nodes,
// in the same run. Run with:
//
//	go test -run XXX -bench FloodLatency -benchtime 1x -timeout 10m ./node/
//
// Whenever the nodes cut the attacker off, it comes back as a new peer (a
// new key). It connects from 127.0.0.2, so the per-address connection
// limits apply to it as to an attacker elsewhere on the internet, or from
// 127.0.0.1, which they exempt (an attacker with unlimited addresses). It
// runs in a separate process at the lowest CPU priority (nice 19: its own
// work does not compete with the nodes', as on its own machine) or in the
// benchmark's process (its work competes with theirs on equal terms: the
// worst case for the nodes on a small machine).
//
// Latency runs from the moment an update is stored on its writer (the
// user is told it is saved) to the moment it is current on a receiver.
// Set MENTORMESH_TEST_SLOW_PROBES=1 to log every probe slower than 30 ms.
//
// Metrics: p50/p99 latency without (base_) and with (flood_) the attack,
// in ms, and their ratio; the attack's messages per second and peer IDs
// (connected_ids: those that got connected to all four nodes); the
// process's peak heap.
const (
	// probeCount updates per phase: 20 per node, so that with the warm-up
	// each author stays within its gossip burst (50) over both phases.
	probeCount = 80
	probeGap   = 25 * time.Millisecond
	attackerIP = "127.0.0.2"
)

func BenchmarkFloodLatency(b *testing.B) {
	variants := []struct {
		name     string
		separate bool
		ip       string
	}{
		// The attacker in its own process, from one address.
		{"attacker-process", true, attackerIP},
		// The same, in the benchmark's process.
		{"attacker-inprocess", false, attackerIP},
		// From 127.0.0.1, exempt from the per-address limits: an attacker
		// with as many addresses as it wants peer IDs.
		{"attacker-process-any-address", true, "127.0.0.1"},
	}
	for _, kind := range []string{"invalid", "spam"} {
		for _, v := range variants {
			b.Run(kind+"/"+v.name, func(b *testing.B) {
				for range b.N {
					benchFlood(b, kind, v.separate, v.ip)
				}
			})
		}
	}
}

// attackStats are what an attacker reports.
type attackStats struct {
	Sent       int64 `json:"sent"`
	Identities int64 `json:"identities"`
	Connected  int64 `json:"connected"`
}

type attackCounters struct{ sent, identities, connected atomic.Int64 }

func (c *attackCounters) stats() attackStats {
	return attackStats{Sent: c.sent.Load(), Identities: c.identities.Load(), Connected: c.connected.Load()}
}

func benchFlood(b *testing.B, kind string, separate bool, ip string) {
	pn := startProbeNet(b, 4, Options{Logger: quietLogger()})
	stallCtx, stopStalls := context.WithCancel(context.Background())
	defer stopStalls()
	stalls := watchStalls(stallCtx)
	base, baseSeen := pn.run(probeCount, probeGap, "baseline")
	baseStall := stalls.reset()

	var stop func() attackStats
	if separate {
		stop = startAttackerProcess(b, kind, ip, pn.addrInfos())
	} else {
		stop = startAttackerHere(b, kind, ip, pn.addrInfos())
	}
	ctx, cancel := context.WithCancel(context.Background())
	var peakHeap atomic.Uint64
	heapDone := make(chan struct{})
	go func() {
		defer close(heapDone)
		watchHeap(ctx, &peakHeap)
	}()
	start := time.Now()
	flood, floodSeen := pn.run(probeCount, probeGap, "under attack")
	elapsed := time.Since(start)
	floodStall := stalls.reset()
	as := stop()
	cancel()
	<-heapDone

	ob, qf, th := pn.drops()
	var rejected, rateLimited uint64
	for _, nd := range pn.nodes {
		rejected += nd.net.cfg.pipe.Stats().Rejected.Load()
		rateLimited += nd.net.cfg.pipe.Stats().RateLimited.Load()
	}
	b.ReportMetric(ms(percentile(base, 50)), "base_p50_ms")
	b.ReportMetric(ms(percentile(base, 99)), "base_p99_ms")
	b.ReportMetric(ms(percentile(flood, 50)), "flood_p50_ms")
	b.ReportMetric(ms(percentile(flood, 99)), "flood_p99_ms")
	b.ReportMetric(ms(percentile(flood, 99))/ms(percentile(base, 99)), "p99_ratio")
	b.ReportMetric(ms(percentile(baseSeen, 99)), "base_seen_p99_ms")
	b.ReportMetric(ms(percentile(floodSeen, 99)), "flood_seen_p99_ms")
	b.ReportMetric(ms(percentile(floodSeen, 99))/ms(percentile(baseSeen, 99)), "seen_p99_ratio")
	b.ReportMetric(float64(as.Sent)/elapsed.Seconds(), "attack_msgs/s")
	b.ReportMetric(float64(as.Identities), "attack_ids")
	b.ReportMetric(float64(as.Connected), "connected_ids")
	b.ReportMetric(float64(peakHeap.Load())/(1<<20), "peak_heap_MiB")
	b.ReportMetric(ms(baseStall), "base_stall_ms")
	b.ReportMetric(ms(floodStall), "flood_stall_ms")
	b.Logf("%d and %d deliveries; before validation the nodes dropped %d messages over budget, %d on a full queue, %d throttled; they rejected %d records and rate-limited %d",
		len(base), len(flood), ob, qf, th, rejected, rateLimited)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// attackGen returns the messages of an attack: "invalid" records, or
// "spam": valid records of one author, successive versions across the
// attacker's successive peers.
func attackGen(tb testing.TB, kind string) func(int) []byte {
	switch kind {
	case "invalid":
		gen, _ := invalidRecords(tb, newKeyTB(tb))
		return gen
	case "spam":
		gen, _ := spamRecords(tb, newKeyTB(tb))
		var next atomic.Int64
		return func(int) []byte { return gen(int(next.Add(1))) }
	}
	tb.Fatalf("unknown attack %q", kind)
	return nil
}

// sybil keeps an attacker on the nodes: whenever they have cut the
// current peer off (or refused it), a new one with a new key connects and
// publishes gen's messages as fast as it can.
func sybil(ctx context.Context, ip string, nodes []peer.AddrInfo, gen func(int) []byte, c *attackCounters) {
	for ctx.Err() == nil {
		f, err := startFlooder(DefaultCommunity, ip)
		if err != nil {
			continue
		}
		c.identities.Add(1)
		if f.tryConnect(ctx, nodes) {
			c.connected.Add(1)
			f.run(ctx, gen)
			c.sent.Add(f.sent.Load())
		}
		f.close()
	}
}

// startAttackerHere runs the attacker in this process; stop ends it.
func startAttackerHere(tb testing.TB, kind, ip string, nodes []peer.AddrInfo) (stop func() attackStats) {
	gen := attackGen(tb, kind)
	ctx, cancel := context.WithCancel(context.Background())
	var c attackCounters
	done := make(chan struct{})
	go func() {
		defer close(done)
		sybil(ctx, ip, nodes, gen, &c)
	}()
	waitForTB(tb, 20*time.Second, "the attacker to connect", func() bool { return c.connected.Load() > 0 })
	return func() attackStats {
		cancel()
		<-done
		return c.stats()
	}
}

// Environment of the attacker process.
const (
	envAttack = "MENTORMESH_TEST_ATTACK"
	envNodes  = "MENTORMESH_TEST_ATTACK_NODES"
	envIP     = "MENTORMESH_TEST_ATTACK_IP"
)

// startAttackerProcess runs the attacker as a child process at the lowest
// CPU priority (TestAttackerProcess); stop ends it and returns its counts.
func startAttackerProcess(tb testing.TB, kind, ip string, nodes []peer.AddrInfo) (stop func() attackStats) {
	tb.Helper()
	var addrs []string
	for _, ai := range nodes {
		full, err := peer.AddrInfoToP2pAddrs(&ai)
		if err != nil {
			tb.Fatal(err)
		}
		addrs = append(addrs, full[0].String())
	}
	args := []string{os.Args[0], "-test.run=^TestAttackerProcess$", "-test.count=1"}
	if nice, err := exec.LookPath("nice"); err == nil {
		args = append([]string{nice, "-n", "19"}, args...)
	} else {
		tb.Logf("no nice command: the attacker runs at normal priority")
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), envAttack+"="+kind, envNodes+"="+strings.Join(addrs, ","), envIP+"="+ip)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	next := func(prefix string) (string, error) {
		timeout := time.After(30 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					return "", errors.New("the attacker process ended")
				}
				if strings.HasPrefix(l, prefix) {
					return l, nil
				}
			case <-timeout:
				return "", errors.New("no answer from the attacker process")
			}
		}
	}
	if _, err := next("started"); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		tb.Fatal(err)
	}
	return func() attackStats {
		_ = stdin.Close()
		var st attackStats
		l, err := next("{")
		if err == nil {
			err = json.Unmarshal([]byte(l), &st)
		}
		if err != nil {
			_ = cmd.Process.Kill()
			tb.Errorf("attacker process: %v", err)
		}
		go func() { // let the scanner finish
			for range lines {
			}
		}()
		_ = cmd.Wait()
		return st
	}
}

// TestAttackerProcess is the attacker of BenchmarkFloodLatency when it runs
// in a process of its own; it does nothing otherwise.
func TestAttackerProcess(t *testing.T) {
	kind := os.Getenv(envAttack)
	if kind == "" {
		t.Skip("the attacker process of BenchmarkFloodLatency")
	}
	var nodes []peer.AddrInfo
	for _, s := range strings.Split(os.Getenv(envNodes), ",") {
		ai, err := peer.AddrInfoFromP2pAddr(ma.StringCast(s))
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, *ai)
	}
	gen := attackGen(t, kind)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { // the benchmark closes stdin to stop the attack
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	var c attackCounters
	var once sync.Once
	go func() {
		for ctx.Err() == nil && c.connected.Load() == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		once.Do(func() { fmt.Println("started") })
	}()
	sybil(ctx, os.Getenv(envIP), nodes, gen, &c)
	out, _ := json.Marshal(c.stats())
	fmt.Println(string(out))
}

// stallWatch measures the longest gap between ticks of a 1 ms ticker: a
// stall of the whole process (garbage collection, or the machine not
// running it), which delays every node of the benchmark alike.
type stallWatch struct{ maxGap atomic.Int64 }

func watchStalls(ctx context.Context) *stallWatch {
	w := &stallWatch{}
	go func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				if gap := int64(now.Sub(last)); gap > w.maxGap.Load() {
					w.maxGap.Store(gap)
				}
				last = now
			}
		}
	}()
	return w
}

// reset returns the longest gap since the last reset.
func (w *stallWatch) reset() time.Duration { return time.Duration(w.maxGap.Swap(0)) }

// watchHeap records the peak heap in use until ctx ends.
func watchHeap(ctx context.Context, peak *atomic.Uint64) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		if m.HeapInuse > peak.Load() {
			peak.Store(m.HeapInuse)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
