package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Timeouts of node processes.
const (
	// StartTimeout bounds how long a node may take to answer `id`.
	StartTimeout = 30 * time.Second
	// StopTimeout is how long Stop waits after SIGTERM before SIGKILL.
	StopTimeout = 15 * time.Second
)

// LocalRunArgs keep a test node on loopback: no LAN discovery (which would
// find the other tests' nodes), free ports for the API and libp2p.
var LocalRunArgs = []string{
	"--no-mdns",
	"--api-addr", "127.0.0.1:0",
	"--listen", "/ip4/127.0.0.1/tcp/0",
	"--listen", "/ip4/127.0.0.1/udp/0/quic-v1",
}

// Identity is the output of `mentormesh id --json`.
type Identity struct {
	PeerID string   `json:"peer_id"`
	Addrs  []string `json:"addrs"`
	// DeviceID is set on a linked device: its own peer ID, the one its
	// addresses end in (PeerID is the practitioner's).
	DeviceID string `json:"device_id,omitempty"`
}

// apiInfo is the content of api.json.
type apiInfo struct {
	Addr string `json:"addr"`
	PID  int    `json:"pid"`
}

// Node is one `mentormesh run` process.
type Node struct {
	h *Harness
	// Name labels the node in logs; it defaults to the data directory.
	Name string
	// Dir is the node's data directory.
	Dir  string
	Args []string
	// Identity and APIAddr are known once the node is ready.
	Identity
	APIAddr string

	cmd    *exec.Cmd
	stdout SyncBuffer
	stderr SyncBuffer
	done   chan struct{} // closed when the process has exited
	state  *os.ProcessState
}

// StartNode starts `mentormesh run` on dir with LocalRunArgs and extra
// arguments, and waits until it answers `mentormesh id`. The node is
// stopped when the test ends; its output is logged if the test failed.
func (h *Harness) StartNode(dir string, extra ...string) *Node {
	h.t.Helper()
	n := h.SpawnNode(dir, extra...)
	n.WaitReady()
	return n
}

// SpawnNode starts `mentormesh run` on dir with LocalRunArgs and extra
// arguments, without waiting for it.
func (h *Harness) SpawnNode(dir string, extra ...string) *Node {
	h.t.Helper()
	runArgs := LocalRunArgs
	if h.RunArgs != nil {
		runArgs = h.RunArgs
	}
	args := append(append([]string{"--data-dir", dir, "run"}, runArgs...), extra...)
	n := &Node{h: h, Name: dir, Dir: dir, Args: args, done: make(chan struct{})}
	n.cmd = h.command(context.Background(), args)
	n.cmd.Env = h.env
	n.cmd.Stdout, n.cmd.Stderr = &n.stdout, &n.stderr
	if err := n.cmd.Start(); err != nil {
		h.t.Fatalf("starting mentormesh run: %v", err)
	}
	// Reap the process as soon as it exits, so it never lingers as a
	// zombie that still looks alive to other processes.
	go func() {
		_ = n.cmd.Wait()
		n.state = n.cmd.ProcessState
		close(n.done)
	}()
	h.t.Cleanup(func() {
		n.Stop()
		if strings.Contains(n.stderr.String(), "WARNING: DATA RACE") {
			h.t.Errorf("node %s: the race detector found a data race (see its stderr below)", n.Name)
		}
		if h.t.Failed() {
			h.t.Logf("node %s (%s, pid %d) output:\nstdout:\n%s\nstderr:\n%s", n.Name, n.Dir, n.PID(), n.stdout.String(), n.stderr.String())
		}
	})
	return n
}

// PID returns the node's process ID.
func (n *Node) PID() int { return n.cmd.Process.Pid }

// WaitReady waits until this process has written api.json and answers
// `mentormesh id --json` through it, then records its identity. It fails
// the test if the node exits first.
func (n *Node) WaitReady() {
	n.h.t.Helper()
	// Only api.json written by this process counts: one left behind by a
	// killed node would send `id` to the store, taking the lock the new node
	// needs.
	WaitFor(n.h.t, StartTimeout, "node "+n.Dir+" writes api.json", func() error {
		if n.Exited() {
			return nil
		}
		info, err := n.readAPIInfo()
		if err != nil {
			return err
		}
		if info.PID != n.PID() {
			return fmt.Errorf("api.json is from process %d", info.PID)
		}
		n.APIAddr = info.Addr
		return nil
	})
	if n.Exited() {
		n.h.t.Fatalf("mentormesh run exited before it was ready (exit %d)\nstderr:\n%s", n.ExitCode(), n.stderr.String())
	}
	WaitFor(n.h.t, StartTimeout, "node "+n.Dir+" answers id", func() error {
		r := n.CLI("id", "--json")
		if r.Code != 0 {
			return errors.New(r.String())
		}
		var id Identity
		if err := r.DecodeJSON(&id); err != nil {
			return err
		}
		if len(id.Addrs) == 0 {
			return fmt.Errorf("no addresses yet: %s", r.Stdout)
		}
		n.Identity = id
		return nil
	})
}

func (n *Node) readAPIInfo() (apiInfo, error) {
	var info apiInfo
	data, err := os.ReadFile(filepath.Join(n.Dir, "api.json"))
	if err != nil {
		return info, err
	}
	return info, json.Unmarshal(data, &info)
}

// CLI runs a mentormesh command on the node's data directory.
func (n *Node) CLI(args ...string) Result {
	n.h.t.Helper()
	return n.h.Run(nil, append([]string{"--data-dir", n.Dir}, args...)...)
}

// CLIInput runs a mentormesh command on the node's data directory with
// stdin as its standard input.
func (n *Node) CLIInput(stdin string, args ...string) Result {
	n.h.t.Helper()
	return n.h.RunInput(stdin, nil, append([]string{"--data-dir", n.Dir}, args...)...)
}

// MustCLI runs a command on the node's data directory that must exit 0,
// and returns its stdout.
func (n *Node) MustCLI(args ...string) string {
	n.h.t.Helper()
	return n.h.MustRun(nil, append([]string{"--data-dir", n.Dir}, args...)...)
}

// MustCLIJSON runs a command on the node's data directory that must exit 0
// and decodes its stdout into v.
func (n *Node) MustCLIJSON(v any, args ...string) {
	n.h.t.Helper()
	n.h.MustRunJSON(v, nil, append([]string{"--data-dir", n.Dir}, args...)...)
}

// Exited reports whether the process has exited.
func (n *Node) Exited() bool {
	select {
	case <-n.done:
		return true
	default:
		return false
	}
}

// Done is closed when the process has exited.
func (n *Node) Done() <-chan struct{} { return n.done }

// ExitCode returns the exit code of an exited process (-1 if a signal
// ended it).
func (n *Node) ExitCode() int {
	<-n.done
	return n.state.ExitCode()
}

// WaitExit waits up to timeout for the process to exit by itself and
// returns its exit code; it fails the test if the process is still running.
func (n *Node) WaitExit(timeout time.Duration) int {
	n.h.t.Helper()
	select {
	case <-n.done:
		return n.state.ExitCode()
	case <-time.After(timeout):
		n.h.t.Fatalf("node %s still running after %v", n.Name, timeout)
		return 0
	}
}

// Stop sends SIGTERM, waits up to StopTimeout, then sends SIGKILL. A node
// that does not exit 0 on SIGTERM fails the test. It is safe to call on an
// exited node. It reports whether the node stopped by itself.
func (n *Node) Stop() bool {
	if n.Exited() {
		return true
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
		if code := n.state.ExitCode(); code != 0 {
			n.h.t.Errorf("node %s exited %d on SIGTERM, want 0", n.Name, code)
		}
		return true
	case <-time.After(StopTimeout):
	}
	n.h.t.Errorf("node %s did not stop within %v of SIGTERM; killing it", n.Name, StopTimeout)
	n.Kill()
	return false
}

// Kill sends SIGKILL and waits for the process to be gone.
func (n *Node) Kill() {
	_ = n.cmd.Process.Kill()
	<-n.done
}

// Stdout returns what the node printed so far.
func (n *Node) Stdout() string { return n.stdout.String() }

// Stderr returns what the node logged so far.
func (n *Node) Stderr() string { return n.stderr.String() }

// SyncBuffer is a bytes.Buffer safe for the process's writer goroutine and
// the test reading it.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
