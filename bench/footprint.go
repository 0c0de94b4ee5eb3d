package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// FootprintResult is workload 4 for one system and data size: a node in a
// process of its own, measured from outside through /proc.
type FootprintResult struct {
	System  string `json:"system"`
	Records int    `json:"records"`
	// StartupMs is from exec until the node said it is ready (mentormesh:
	// `run` printed "is running", i.e. node.Start returned: store open,
	// host listening, communities joined, API serving).
	StartupMs Ms `json:"startup_ms"`
	// RSS after start-up and the idle window; PeakRSS is the high-water
	// mark (VmHWM) over the process's life until then.
	RSS     int64 `json:"rss_bytes"`
	PeakRSS int64 `json:"peak_rss_bytes"`
	// RSSAnon and RSSFile split RSS: anonymous memory (heap, stacks,
	// Badger's memtables and caches) and file-backed pages (the binary,
	// memory-mapped store files), which the kernel can reclaim.
	RSSAnon int64 `json:"rss_anon_bytes"`
	RSSFile int64 `json:"rss_file_bytes"`
	// IdleCPUPercent of one core, over the idle window.
	IdleCPUPercent float64 `json:"idle_cpu_percent"`
	// DiskBytes the data directory takes after a clean shutdown (du).
	DiskBytes int64  `json:"disk_bytes"`
	Error     string `json:"error,omitempty"`
}

// buildMentormesh builds the real binary from the repository.
func buildMentormesh(ctx context.Context, repo, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/mentormesh")
	cmd.Dir = repo
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building ./cmd/mentormesh: %w\n%s", err, b)
	}
	return nil
}

// mmCommand runs `mentormesh run` on dir, on loopback, as a user's second
// node on one machine would (README "Several nodes on one machine").
func mmCommand(bin, dir string) *exec.Cmd {
	return exec.Command(bin, "run", "--data-dir", dir, "--api-addr", "127.0.0.1:0",
		"--listen", "/ip4/127.0.0.1/tcp/0", "--no-mdns")
}

// crdtCommand runs this program's own go-ds-crdt node (crdtNodeMain).
func crdtCommand(dir string) (*exec.Cmd, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return exec.Command(self, crdtNodeCmd, "-dir", dir), nil
}

// measureProcess starts cmd, waits for a stdout line containing ready,
// lets it idle, reads its memory and CPU, stops it with SIGINT and measures
// dir.
func measureProcess(ctx context.Context, cmd *exec.Cmd, ready, dir string, settle, idle time.Duration) (res FootprintResult) {
	fail := func(err error) FootprintResult { res.Error = err.Error(); return res }
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fail(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &limitedWriter{w: &stderr, n: 8 << 10}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return fail(err)
	}
	exited := make(chan error, 1)
	readyc := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		signalled := false
		for sc.Scan() {
			if !signalled && strings.Contains(sc.Text(), ready) {
				close(readyc)
				signalled = true
			}
		}
		_, _ = io.Copy(io.Discard, out)
		exited <- cmd.Wait()
	}()
	stop := func() error {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-exited:
			return err
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			return errors.New("did not stop within 30s of SIGINT; killed")
		}
	}
	select {
	case <-readyc:
		res.StartupMs = ms(time.Since(t0))
	case err := <-exited:
		return fail(fmt.Errorf("exited before it was ready: %v\n%s", err, stderr.String()))
	case <-time.After(60 * time.Second):
		_ = stop()
		return fail(fmt.Errorf("not ready after 60s\n%s", stderr.String()))
	case <-ctx.Done():
		_ = stop()
		return fail(ctx.Err())
	}
	pid := cmd.Process.Pid
	if err := sleep(ctx, settle); err != nil {
		_ = stop()
		return fail(err)
	}
	cpu0, err := procCPU(pid)
	if err != nil {
		_ = stop()
		return fail(err)
	}
	if err := sleep(ctx, idle); err != nil {
		_ = stop()
		return fail(err)
	}
	cpu1, err := procCPU(pid)
	if err == nil {
		var m memStat
		m, err = procMem(pid)
		res.RSS, res.PeakRSS, res.RSSAnon, res.RSSFile = m.rss, m.peak, m.anon, m.file
	}
	if err != nil {
		_ = stop()
		return fail(err)
	}
	res.IdleCPUPercent = 100 * (cpu1 - cpu0).Seconds() / idle.Seconds()
	if err := stop(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() > 1 { // signalled exits are fine
			return fail(fmt.Errorf("stopping: %v\n%s", err, stderr.String()))
		}
	}
	if res.DiskBytes, err = diskUsage(dir); err != nil {
		return fail(err)
	}
	return res
}

// limitedWriter keeps the first n bytes written to it.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(l.n, len(p))
		l.n -= k
		_, _ = l.w.Write(p[:k])
	}
	return len(p), nil
}

// crdtNodeCmd is the hidden sub-command that runs one go-ds-crdt replica
// in a process of its own, for the footprint workload.
const crdtNodeCmd = "crdt-node"

// crdtNodeMain runs a go-ds-crdt replica with default options (rebroadcast
// every minute) on dir until SIGINT or SIGTERM.
func crdtNodeMain(args []string) error {
	fs := flag.NewFlagSet(crdtNodeCmd, flag.ContinueOnError)
	dir := fs.String("dir", "", "data directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("-dir is required")
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	n, err := startCRDT(filepath.Clean(*dir), crdtConfig{})
	if err != nil {
		return err
	}
	fmt.Printf("ready %s\n", n.h.ID())
	<-sig
	n.close()
	return nil
}

// runFootprints measures four nodes, each in a process of its own: a fresh
// one and one holding cfg.footprintRecords records, of each system (for
// go-ds-crdt written one Put per key).
func runFootprints(cfg *config, root string, prep *preparer, res *Results, step func(string, func(context.Context)), prog *progress) {
	bin := filepath.Join(root, "mentormesh")
	if cfg.runs(sysMM) {
		prog.logf("building ./cmd/mentormesh")
		if err := buildMentormesh(context.Background(), cfg.repo, bin); err != nil {
			res.Footprint = append(res.Footprint, FootprintResult{System: sysMM, Error: err.Error()})
			prog.logf("%v", err)
			return
		}
	}
	for _, sys := range cfg.systems {
		for _, n := range []int{0, cfg.footprintRecords} {
			step(fmt.Sprintf("footprint, %s, %d records", sys, n), func(ctx context.Context) {
				r := footprint(ctx, cfg, sys, n, root, bin, prep)
				res.Footprint = append(res.Footprint, r)
				if r.Error != "" {
					prog.logf("%s, %d records: %s", sys, n, r.Error)
					return
				}
				prog.logf("%s, %d records: ready in %.0f ms, %.1f MB resident (%.1f MB anonymous, %.1f MB file-backed; peak %.1f MB), %.2f%% CPU idle, %s on disk",
					sys, n, r.StartupMs, float64(r.RSS)/1e6, float64(r.RSSAnon)/1e6, float64(r.RSSFile)/1e6, float64(r.PeakRSS)/1e6, r.IdleCPUPercent, human(r.DiskBytes))
			})
		}
	}
}

func footprint(ctx context.Context, cfg *config, sys string, n int, root, bin string, prep *preparer) FootprintResult {
	fail := func(err error) FootprintResult {
		return FootprintResult{System: sys, Records: n, Error: err.Error()}
	}
	dir := filepath.Join(root, fmt.Sprintf("fp-%s-fresh", sys))
	if n > 0 {
		d, err := prep.get(ctx, sys, false, n)
		if err != nil {
			return fail(err)
		}
		dir = d.dir
	}
	var cmd *exec.Cmd
	ready := "is running"
	if sys == sysMM {
		cmd = mmCommand(bin, dir)
	} else {
		var err error
		if cmd, err = crdtCommand(dir); err != nil {
			return fail(err)
		}
		ready = "ready"
	}
	cmd.Env = cleanEnv()
	r := measureProcess(ctx, cmd, ready, dir, cfg.fpSettle, cfg.fpIdle)
	r.System, r.Records = sys, n
	return r
}

// cleanEnv is this process's environment without MENTORMESH_ variables,
// which would change how the measured node runs.
func cleanEnv() []string {
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "MENTORMESH_") {
			env = append(env, e)
		}
	}
	return env
}
