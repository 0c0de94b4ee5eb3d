package main

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
)

// TestCompletionScripts: each shell's script is printed, names the binary,
// and (where the shell is installed) parses.
func TestCompletionScripts(t *testing.T) {
	tests := []struct {
		shell, want string
	}{
		{"bash", "complete -o bashdefault -o default -F _mentormesh_complete mentormesh"},
		{"zsh", "compdef _mentormesh_complete mentormesh"},
		{"fish", "complete -c mentormesh"},
	}
	for _, tc := range tests {
		t.Run(tc.shell, func(t *testing.T) {
			var out, errOut bytes.Buffer
			app := newApp(&out, &errOut)
			if err := app.RunContext(context.Background(), []string{"mentormesh", "completion", tc.shell}); err != nil {
				t.Fatalf("completion %s: %v (%s)", tc.shell, err, errOut.String())
			}
			if !strings.Contains(out.String(), tc.want) {
				t.Fatalf("completion %s: output lacks %q:\n%s", tc.shell, tc.want, out.String())
			}
			if sh, err := exec.LookPath(tc.shell); err == nil {
				cmd := exec.Command(sh, "-n")
				cmd.Stdin = &out
				if b, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("%s -n on the script: %v\n%s", tc.shell, err, b)
				}
			}
		})
	}
	var out bytes.Buffer
	app := newApp(&out, &out)
	err := app.RunContext(context.Background(), []string{"mentormesh", "completion", "tcsh"})
	if err == nil || !strings.Contains(err.Error(), "want bash, zsh or fish") {
		t.Errorf("completion tcsh: err = %v, want a clear refusal", err)
	}
}
