package main_test

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/internal/harness"
)

// TestDemo: `mentormesh demo` starts a seeded network whose nodes hold each
// other's records and answer the CLI, and removes everything on Ctrl-C.
func TestDemo(t *testing.T) {
	h := harness.New(t, bin)
	tmp := t.TempDir()
	cmd := h.Command([]string{"TMPDIR=" + tmp}, "demo", "--nodes", "2", "--activity", "0", "--json")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr harness.SyncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	defer func() {
		_ = cmd.Process.Kill()
	}()

	// The JSON is printed once the nodes are up and seeded.
	type demoJSON struct {
		Root  string `json:"root"`
		Nodes []struct {
			Name     string `json:"name"`
			PeerID   string `json:"peer_id"`
			DataDir  string `json:"data_dir"`
			LoginURL string `json:"login_url"`
		} `json:"nodes"`
	}
	decoded := make(chan demoJSON, 1)
	go func() {
		var d demoJSON
		if err := json.NewDecoder(bufio.NewReader(stdout)).Decode(&d); err == nil {
			decoded <- d
		}
		_, _ = io.Copy(io.Discard, stdout)
		exited <- cmd.Wait()
	}()
	var demo demoJSON
	select {
	case demo = <-decoded:
	case err := <-exited:
		t.Fatalf("demo exited before printing its nodes: %v\n%s", err, stderr.String())
	case <-time.After(90 * time.Second):
		t.Fatalf("demo printed no nodes within 90 s\n%s", stderr.String())
	}
	if len(demo.Nodes) != 2 {
		t.Fatalf("demo nodes: %+v, want 2", demo.Nodes)
	}
	// Each node holds both practitioners' profiles, and the CLI reaches it.
	for _, n := range demo.Nodes {
		for _, other := range demo.Nodes {
			var p profileJSON
			h.MustRunJSON(&p, nil, "--data-dir", n.DataDir, "--community", "sociocracy-demo", "profile", "show", other.PeerID, "--json")
			if p.Name != other.Name {
				t.Errorf("node %s shows %s's profile as %q", n.Name, other.Name, p.Name)
			}
		}
	}
	// The seeded practitioners have roles: the first is a mentor the
	// second finds, as a new user trying 'mentor find' in the demo would.
	var found struct {
		Mentors []struct {
			PeerID string `json:"peer_id"`
		} `json:"mentors"`
	}
	h.MustRunJSON(&found, nil, "--data-dir", demo.Nodes[1].DataDir, "--community", "sociocracy-demo", "mentor", "find", "--skill", "facilitation", "--json")
	if len(found.Mentors) != 1 || found.Mentors[0].PeerID != demo.Nodes[0].PeerID {
		t.Errorf("mentor find on %s = %+v, want %s (%s) alone", demo.Nodes[1].Name, found.Mentors, demo.Nodes[0].Name, demo.Nodes[0].PeerID)
	}

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("demo exit after Ctrl-C: %v\n%s", err, stderr.String())
		}
	case <-time.After(40 * time.Second):
		t.Fatal("demo still running 40 s after Ctrl-C")
	}
	if _, err := os.Stat(demo.Root); !os.IsNotExist(err) {
		t.Errorf("demo data %s still there after exit (stat: %v)", demo.Root, err)
	}
}
