package main_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/internal/harness"
)

// failFast bounds commands that must refuse before doing anything; a `run`
// that accepted its flags would otherwise run until the command timeout.
const failFast = 20 * time.Second

// TestErrorMessages checks that mistakes end with an exit code scripts can
// trust and a message that says what was wrong and what to do.
func TestErrorMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string // after --data-dir DIR
		// code is the exact exit code wanted; 0 means any non-zero code.
		code int
		want []string // substrings of stderr
		// setup, if set, is run first (after --data-dir DIR), and must succeed.
		setup []string
		// after, if set, checks the data directory afterwards.
		after func(t *testing.T, h *harness.Harness, dir string)
	}{
		{
			name: "profile set without fields",
			args: []string{"profile", "set"},
			code: 2,
			want: []string{"--name"},
		},
		{
			name: "profile set with an empty name",
			args: []string{"profile", "set", "--name", ""},
			want: []string{"display name"},
			after: func(t *testing.T, h *harness.Harness, dir string) {
				var st statusJSON
				h.MustRunJSON(&st, nil, "--data-dir", dir, "status", "--json")
				if st.profiles() != 0 || st.Outbox != 0 {
					t.Errorf("after a refused profile set, status = %+v, want no profile and an empty outbox", st)
				}
			},
		},
		{
			name: "profile show of something that is not a peer ID",
			args: []string{"profile", "show", "not-a-peer"},
			want: []string{"not-a-peer", "peer ID"},
		},
		{
			name: "profile show with two peers",
			args: []string{"profile", "show", "a", "b"},
			code: 2,
			want: []string{"at most one PEER_ID"},
		},
		{
			name: "run with a public API address",
			args: append([]string{"run", "--no-mdns", "--listen", "/ip4/127.0.0.1/tcp/0"}, "--api-addr", "0.0.0.0:0"),
			want: []string{"loopback", "--api-allow-remote"},
		},
		{
			name: "run with a bootstrap address without /p2p",
			args: append(append([]string{"run"}, harness.LocalRunArgs...), "--bootstrap", "/ip4/1.2.3.4/tcp/1"),
			want: []string{"/p2p"},
		},
		{
			name: "run with an invalid bootstrap address",
			args: append(append([]string{"run"}, harness.LocalRunArgs...), "--bootstrap", "not-an-address"),
			want: []string{"--bootstrap", "multiaddr"},
		},
		{
			name: "shutdown with no node",
			args: []string{"shutdown"},
			code: 1,
			want: []string{"no node is running"},
		},
		{
			name: "bad log level",
			args: []string{"status", "--log-level", "loud"},
			want: []string{"--log-level", "debug, info, warn or error"},
		},
		{
			name: "bad log format",
			args: []string{"status", "--log-format", "xml"},
			want: []string{"--log-format", "text or json"},
		},
		{
			name: "run with a bad log format",
			args: append(append([]string{"run"}, harness.LocalRunArgs...), "--log-format", "JSON"),
			want: []string{"--log-format", "text or json"},
		},
		{
			name: "a duration flag that does not parse",
			args: []string{"pair", "offer", "12D3KooWPFJ2JvZtCiDgM6ReqArCuVr9AoKYEBVjE86NNT9KSMoj", "--expires-in", "3"},
			code: 2,
			want: []string{`--expires-in "3": want a duration such as`, "mentormesh pair offer --help"},
		},
		{
			name: "a number flag that does not parse",
			args: []string{"profile", "set", "--capacity", "lots"},
			code: 2,
			want: []string{`--capacity "lots": want a whole number`, "mentormesh profile set --help"},
		},
		{
			name: "an unknown flag",
			args: []string{"status", "--bogus"},
			code: 2,
			want: []string{"--bogus", "mentormesh status --help"},
		},
		{
			name: "a mistyped command",
			args: []string{"profil", "show"},
			code: 2,
			want: []string{`mentormesh: no command "profil". Did you mean "profile"?`, "mentormesh --help"},
		},
		{
			name: "a mistyped subcommand",
			args: []string{"pair", "acept", "0123456789abcdef0123456789abcdef"},
			code: 2,
			want: []string{`mentormesh: pair has no command "acept". Did you mean "accept"?`, "mentormesh pair --help"},
		},
		{
			name:  "resource list in a community not joined",
			setup: []string{"community", "list"},
			args:  []string{"resource", "list", "--community", "sociocracy-fr"},
			code:  1,
			want:  []string{`not in community "sociocracy-fr"`, "mentormesh community join sociocracy-fr"},
		},
		{
			name:  "profile show in a community not joined",
			setup: []string{"community", "list"},
			args:  []string{"profile", "show", "--community", "sociocracy-fr"},
			code:  1,
			want:  []string{`not in community "sociocracy-fr"`, "mentormesh community join sociocracy-fr"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := harness.New(t, bin)
			dir := t.TempDir()
			if tt.setup != nil {
				h.MustRun(nil, append([]string{"--data-dir", dir}, tt.setup...)...)
			}
			r := h.RunTimeout(failFast, nil, append([]string{"--data-dir", dir}, tt.args...)...)
			if r.Code == 0 || (tt.code != 0 && r.Code != tt.code) {
				want := "non-zero"
				if tt.code != 0 {
					want = strconv.Itoa(tt.code)
				}
				t.Errorf("exit code %d, want %s\n%v", r.Code, want, r)
			}
			if !strings.Contains(r.Stderr, "mentormesh: ") {
				t.Errorf("stderr = %q, want the error after the program's name (\"mentormesh: \")", r.Stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.Stderr, w) {
					t.Errorf("stderr = %q, want it to mention %q", r.Stderr, w)
				}
			}
			if r.Stdout != "" {
				t.Errorf("stdout = %q, want nothing on stdout for an error", r.Stdout)
			}
			if tt.after != nil {
				tt.after(t, h, dir)
			}
		})
	}
}

// TestSecretFileModes checks that init writes the key and token for the
// owner only, and that commands refuse a key others can read.
func TestSecretFileModes(t *testing.T) {
	t.Parallel()
	h := harness.New(t, bin)
	dir := t.TempDir()
	h.MustRun(nil, "--data-dir", dir, "init")
	for _, name := range []string{"identity.key", "api.token"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("mode of %s = %v, want %v", name, got, os.FileMode(0o600))
		}
	}
	key := filepath.Join(dir, "identity.key")
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"status"}, {"id"}, {"profile", "set", "--name", "Leaky"}, {"init"}} {
		r := h.RunTimeout(failFast, nil, append([]string{"--data-dir", dir}, args...)...)
		if r.Code == 0 {
			t.Errorf("%s with a world-readable key exited 0, want a refusal\n%v", strings.Join(args, " "), r)
		}
		if !strings.Contains(r.Stderr, "chmod 600 "+key) {
			t.Errorf("%s: stderr = %q, want a hint to run 'chmod 600 %s'", strings.Join(args, " "), r.Stderr, key)
		}
	}
	// Following the hint fixes it.
	if err := os.Chmod(key, 0o600); err != nil {
		t.Fatal(err)
	}
	h.MustRun(nil, "--data-dir", dir, "status")
}
