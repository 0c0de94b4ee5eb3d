package mentorship_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the domain pure: mentorship must not grow a
// dependency on networking, storage or the packages above it on the data
// path (it is plugged into them, not the other way round).
func TestDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command on PATH: %v", err)
	}
	out, err := exec.Command(gobin, "list", "-deps", ".").Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list -deps: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	const self = "github.com/mentormesh/mentormesh/mentorship"
	if len(deps) == 0 || deps[len(deps)-1] != self {
		t.Fatalf("go list -deps . = %q, want a list ending in %s", deps, self)
	}
	forbidden := []string{
		"libp2p", "badger", "dgraph-io", "net/http", "pubsub",
		"github.com/mentormesh/mentormesh/sync/",
		"github.com/mentormesh/mentormesh/store",
		"github.com/mentormesh/mentormesh/node",
		"github.com/mentormesh/mentormesh/cmd",
	}
	for _, dep := range deps {
		for _, bad := range forbidden {
			if strings.Contains(dep, bad) {
				t.Errorf("mentorship depends on %s (matches %q); the domain must stay free of networking and storage", dep, bad)
			}
		}
	}
}
