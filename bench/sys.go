package main

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuTime is the CPU time (user + system) this process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ownCPU is the CPU time (user + system) of this process and of every
// child process it has waited for (go test jobs, mentormesh binaries),
// with their own children.
func ownCPU() time.Duration {
	var self, children syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &self) != nil || syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children) != nil {
		return 0
	}
	return time.Duration(self.Utime.Nano() + self.Stime.Nano() + children.Utime.Nano() + children.Stime.Nano())
}

// machineBusy is the CPU time every core spent outside idle and iowait
// since boot (/proc/stat), or false where that is not available.
func machineBusy() (time.Duration, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, false
	}
	var ticks int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 || i >= 8 { // idle, iowait; guest time is already in user
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, false
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTick, true
}

// otherCPU measures the CPU time that processes other than the suite (and
// its children) take while it runs: the disturbance a load average cannot
// tell apart from the suite's own work.
type otherCPU struct {
	busy, own time.Duration
	start     time.Time
	ok        bool
}

func startOtherCPU() otherCPU {
	busy, ok := machineBusy()
	return otherCPU{busy: busy, own: ownCPU(), start: time.Now(), ok: ok}
}

// share is the other processes' CPU time as a share of the machine's
// capacity (wall time x cores) since start; nil where not measurable. It
// includes kernel threads and interrupts, some of them on the suite's
// behalf (disk writeback, loopback packets), so it errs high.
func (o otherCPU) share(cores int) *float64 {
	busy, ok := machineBusy()
	wall := time.Since(o.start)
	if !o.ok || !ok || wall <= 0 || cores <= 0 {
		return nil
	}
	other := (busy - o.busy) - (ownCPU() - o.own)
	v := max(0, other.Seconds()/(wall.Seconds()*float64(cores)))
	return &v
}

// threadCPU is the CPU time (user + system) the calling OS thread used so
// far; the caller locks itself to its thread.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	const rusageThread = 1 // RUSAGE_THREAD, Linux
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return cpuTime()
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// clockTick is Linux's USER_HZ, the unit of /proc/PID/stat times; 100 on
// every architecture Go supports on Linux.
const clockTick = 100

// procCPU is the CPU time (user + system) process pid used so far.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may contain spaces; fields after it are
	// counted from its closing parenthesis.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parsing /proc/%d/stat", pid)
	}
	return time.Duration(utime+stime) * time.Second / clockTick, nil
}

// memStat is a process's resident memory from /proc/PID/status, in bytes.
type memStat struct {
	rss, peak int64
	// anon is resident anonymous memory (the Go heap, stacks, Badger's
	// memtables and caches); file is resident file-backed memory (the
	// binary's code and data, Badger's memory-mapped tables and logs),
	// which the kernel can drop and read again under memory pressure.
	anon, file int64
}

// procMem returns the resident memory of process pid.
func procMem(pid int) (m memStat, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, err
	}
	defer f.Close()
	fields := map[string]*int64{"VmRSS": &m.rss, "VmHWM": &m.peak, "RssAnon": &m.anon, "RssFile": &m.file}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		dst := fields[k]
		if !ok || dst == nil {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return m, fmt.Errorf("parsing %s: %w", k, err)
		}
		*dst = kb << 10
	}
	return m, sc.Err()
}

// diskUsage is what du reports for dir: allocated blocks, not apparent
// sizes (Badger's value-log files are sparse).
func diskUsage(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			total += st.Blocks * 512
		}
		return nil
	})
	return total, err
}

// Machine describes where the figures were taken.
type Machine struct {
	CPU        string     `json:"cpu"`
	Cores      int        `json:"cores"`
	GOMAXPROCS int        `json:"gomaxprocs"`
	MemTotal   int64      `json:"mem_total_bytes"`
	OS         string     `json:"os"`
	Kernel     string     `json:"kernel"`
	GoVersion  string     `json:"go_version"`
	Date       time.Time  `json:"date"`
	LoadStart  [3]float64 `json:"loadavg_start"`
	LoadEnd    [3]float64 `json:"loadavg_end"`
	// OtherCPUShare is the CPU time other processes took during the run,
	// as a share of the machine (wall time x cores); absent in runs made
	// before the suite measured it.
	OtherCPUShare *float64 `json:"other_cpu_share,omitempty"`
}

func machine() Machine {
	m := Machine{
		Cores: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		OS: runtime.GOOS + "/" + runtime.GOARCH, GoVersion: runtime.Version(),
		Date: time.Now().UTC().Truncate(time.Second), LoadStart: loadAvg(),
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				m.MemTotal = kb << 10
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

// loadAvg is the 1, 5 and 15 minute load average: a loaded machine
// disturbs every timing in the report.
func loadAvg() [3]float64 {
	var l [3]float64
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return l
	}
	f := strings.Fields(string(b))
	for i := range min(3, len(f)) {
		l[i], _ = strconv.ParseFloat(f[i], 64)
	}
	return l
}
