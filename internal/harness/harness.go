// Package harness drives the real mentormesh binary in end-to-end tests:
// it builds the binary once per test package, starts `mentormesh run`
// processes on their own data directories, runs CLI commands against them
// and stops everything when the test ends. It follows Kubo's test/cli/harness
// and Syncthing's test/ directory: what is tested is what users run.
package harness

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Package is the import path of the command the harness builds.
const Package = "github.com/mentormesh/mentormesh/cmd/mentormesh"

// Build compiles the mentormesh binary into dir and returns its path. It
// uses the go command that runs the tests: `go test` puts $GOROOT/bin first
// in the PATH of the test binary. Extra build flags (for example -race) may
// be given.
func Build(dir string, flags ...string) (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("finding the go command: %w", err)
	}
	bin := filepath.Join(dir, "mentormesh")
	args := append([]string{"build", "-o", bin}, flags...)
	cmd := exec.Command(goTool, append(args, Package)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", Package, err, out.String())
	}
	return bin, nil
}

// Main builds the binary into a temporary directory, runs the tests and
// removes the directory. Call it from TestMain:
//
//	var bin string
//
//	func TestMain(m *testing.M) { harness.Main(m, &bin) }
//
// Setting MENTORMESH_E2E_RACE=1 builds the binary with the race detector.
func Main(m *testing.M, bin *string) {
	os.Exit(run(m, bin))
}

func run(m *testing.M, bin *string) int {
	flag.Parse() // for testing.Verbose; m.Run would parse them anyway
	dir, err := os.MkdirTemp("", "mentormesh-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "harness:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	var flags []string
	if os.Getenv("MENTORMESH_E2E_RACE") == "1" {
		flags = append(flags, "-race")
	}
	start := time.Now()
	if *bin, err = Build(dir, flags...); err != nil {
		fmt.Fprintln(os.Stderr, "harness:", err)
		return 1
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "harness: built %s in %v\n", *bin, time.Since(start).Round(time.Millisecond))
	}
	return m.Run()
}

// Harness runs commands of one test. Every process it starts gets a private
// HOME and XDG directories under the test's temporary directory, and no
// MENTORMESH_* variable from the caller's environment, so tests never touch
// the real home directory or a node the developer is running.
type Harness struct {
	t   testing.TB
	bin string
	env []string
	// Wrap, if set, prefixes every command the harness runs (nodes and
	// CLI commands), for example {"ip", "netns", "exec", "ns1"} to run
	// them in a network namespace. The wrapper must exec the binary in
	// the same process, as `ip netns exec` does, so signals reach it.
	Wrap []string
	// RunArgs replace LocalRunArgs for the nodes this harness starts, if
	// set.
	RunArgs []string
}

// command returns the command running the binary with args, wrapped.
func (h *Harness) command(ctx context.Context, args []string) *exec.Cmd {
	if len(h.Wrap) == 0 {
		return exec.CommandContext(ctx, h.bin, args...)
	}
	full := append(append(h.Wrap[1:len(h.Wrap):len(h.Wrap)], h.bin), args...)
	return exec.CommandContext(ctx, h.Wrap[0], full...)
}

// New returns a harness for t running the binary bin.
func New(t testing.TB, bin string) *Harness {
	t.Helper()
	if bin == "" {
		t.Fatal("harness: binary not built (call harness.Main from TestMain)")
	}
	home := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "MENTORMESH_") || strings.HasPrefix(kv, "HOME=") || strings.HasPrefix(kv, "XDG_") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+home, "XDG_DATA_HOME="+filepath.Join(home, "data"), "XDG_CONFIG_HOME="+filepath.Join(home, "config"))
	return &Harness{t: t, bin: bin, env: env}
}

// Bin returns the path of the binary.
func (h *Harness) Bin() string { return h.bin }
