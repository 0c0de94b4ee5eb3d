package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// CommandTimeout bounds one CLI command.
const CommandTimeout = 60 * time.Second

// Result is the outcome of one CLI command.
type Result struct {
	Args   []string
	Stdout string
	Stderr string
	// Code is the exit code; -1 if the process did not exit normally.
	Code int
}

// String describes the command and its outcome, for failure messages.
func (r Result) String() string {
	return "mentormesh " + strings.Join(r.Args, " ") + ": exit " + strconv.Itoa(r.Code) +
		"\nstdout:\n" + r.Stdout + "\nstderr:\n" + r.Stderr
}

// Run runs the binary with args and extra environment variables (KEY=VALUE)
// and returns its output and exit code. A command that cannot be started or
// outlives CommandTimeout fails the test.
func (h *Harness) Run(env []string, args ...string) Result {
	h.t.Helper()
	return h.RunTimeout(CommandTimeout, env, args...)
}

// RunTimeout is Run with a shorter bound, for commands that must fail fast
// (a `run` that should refuse its flags would otherwise run until killed).
func (h *Harness) RunTimeout(timeout time.Duration, env []string, args ...string) Result {
	h.t.Helper()
	return h.run(timeout, "", env, args)
}

// RunInput is Run with stdin as the command's standard input.
func (h *Harness) RunInput(stdin string, env []string, args ...string) Result {
	h.t.Helper()
	return h.run(CommandTimeout, stdin, env, args)
}

func (h *Harness) run(timeout time.Duration, stdin string, env, args []string) Result {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := h.command(ctx, args)
	cmd.Env = append(append([]string(nil), h.env...), env...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := Result{Args: args, Stdout: stdout.String(), Stderr: stderr.String(), Code: 0}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		h.t.Fatalf("mentormesh %s: still running after %v\nstderr:\n%s", strings.Join(args, " "), timeout, res.Stderr)
	case errors.As(err, &exitErr):
		res.Code = exitErr.ExitCode()
	case err != nil:
		h.t.Fatalf("mentormesh %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// MustRun runs a command that must exit 0 and returns its stdout.
func (h *Harness) MustRun(env []string, args ...string) string {
	h.t.Helper()
	r := h.Run(env, args...)
	if r.Code != 0 {
		h.t.Fatalf("%v", r)
	}
	return r.Stdout
}

// MustRunJSON runs a command that must exit 0 and decodes its stdout (the
// command is expected to have --json) into v.
func (h *Harness) MustRunJSON(v any, env []string, args ...string) {
	h.t.Helper()
	r := h.Run(env, args...)
	if r.Code != 0 {
		h.t.Fatalf("%v", r)
	}
	if err := r.DecodeJSON(v); err != nil {
		h.t.Fatalf("%v\ndecoding stdout: %v", r, err)
	}
}

// DecodeJSON decodes stdout, which must hold exactly one JSON value. Fields
// v does not name are ignored: adding output fields is compatible.
func (r Result) DecodeJSON(v any) error {
	dec := json.NewDecoder(strings.NewReader(r.Stdout))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value on stdout")
	}
	return nil
}

// Command returns an unstarted command running the binary with args and
// extra environment variables, for processes a test drives itself (signals,
// output read while it runs).
func (h *Harness) Command(env []string, args ...string) *exec.Cmd {
	cmd := h.command(context.Background(), args)
	cmd.Env = append(append([]string(nil), h.env...), env...)
	return cmd
}
