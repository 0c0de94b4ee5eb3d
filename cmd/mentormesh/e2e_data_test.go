package main_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/internal/harness"
	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node"
	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/sync/record"
)

// digestStatus is the part of `status --json` these tests compare.
type digestStatus struct {
	Digests map[string]string `json:"digests"`
	Records []struct {
		Kind       string `json:"kind"`
		Records    int    `json:"records"`
		Tombstones int    `json:"tombstones"`
	} `json:"records"`
	Outbox int `json:"outbox"`
}

func (s digestStatus) total() int {
	n := 0
	for _, r := range s.Records {
		n += r.Records + r.Tombstones
	}
	return n
}

// TestDataCommands drives export, import, backup and restore as a user
// would: a backup taken from a running node, restore refused while it
// runs, a truncated backup refused, then the backup and an export restored
// into fresh data directories with the same records as the original.
func TestDataCommands(t *testing.T) {
	t.Parallel()
	h := harness.New(t, bin)
	dir := t.TempDir()
	n := h.StartNode(dir)
	n.MustCLI("profile", "set", "--name", "Ada", "--skill", "facilitation")
	n.MustCLI("profile", "set", "--bio", "Circle lead")
	work := t.TempDir()
	backup, export := filepath.Join(work, "a.backup"), filepath.Join(work, "a.json")
	n.MustCLI("backup", backup)
	n.MustCLI("export", "--all", "--out", export)
	for _, f := range []string{backup, export} {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want a 0600 file", filepath.Base(f), err, fi.Mode().Perm())
		}
	}
	var want digestStatus
	n.MustCLIJSON(&want, "status", "--json")

	r := n.CLI("restore", "--force", backup)
	if r.Code == 0 || !strings.Contains(r.Stderr, fmt.Sprintf("process %d", n.PID())) {
		t.Errorf("restore while the node runs: want a refusal naming process %d; got %v", n.PID(), r)
	}
	n.MustCLI("shutdown")

	data, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(work, "truncated.backup")
	if err := os.WriteFile(truncated, data[:len(data)-100], 0o600); err != nil {
		t.Fatal(err)
	}
	fresh := t.TempDir()
	if r := h.Run(nil, "--data-dir", fresh, "restore", truncated); r.Code == 0 || !strings.Contains(r.Stderr, "truncated") {
		t.Errorf("restore of a truncated backup: want a refusal saying truncated; got %v", r)
	}

	check := func(what, dir string) {
		t.Helper()
		var got digestStatus
		h.MustRunJSON(&got, nil, "--data-dir", dir, "status", "--json")
		if got.Digests[community] != want.Digests[community] || got.total() != want.total() {
			t.Errorf("%s: digest %s with %d records, want %s with %d", what, got.Digests[community], got.total(), want.Digests[community], want.total())
		}
	}
	h.MustRun(nil, "--data-dir", fresh, "restore", backup)
	check("restored backup", fresh)
	imported := t.TempDir()
	h.MustRun(nil, "--data-dir", imported, "import", export)
	check("imported export", imported)
}

// TestKill9DuringCatchUp kills a node with SIGKILL while it pulls
// thousands of records from a peer by catch-up, restarts it, and checks
// that it opens its store and that the next catch-up completes: same
// digest and record count as the peer. The peer's records are signed here
// and loaded with `mentormesh import`.
func TestKill9DuringCatchUp(t *testing.T) {
	t.Parallel()
	const records = 10_000
	h := harness.New(t, bin)
	dirA := t.TempDir()
	file := filepath.Join(t.TempDir(), "many.json")
	writeSyntheticExport(t, file, records)
	var sum api.ImportSummary
	h.MustRunJSON(&sum, nil, "--data-dir", dirA, "import", file, "--json")
	if sum.Imported != records {
		t.Fatalf("import into a: %+v, want %d imported", sum, records)
	}
	a := h.StartNode(dirA)
	var want digestStatus
	a.MustCLIJSON(&want, "status", "--json")

	dirB := t.TempDir()
	var seen []int
	killed := false
	for attempt := 0; attempt < 3 && !killed; attempt++ {
		b := h.SpawnNode(dirB, "--bootstrap", tcpAddr(t, a))
		// Watch b's record count through its API (a CLI process per poll
		// would be too slow to see a catch-up in progress) and kill it
		// once it passes a random point, before it holds them all.
		cl := waitAPI(t, b)
		target := 1 + rand.IntN(records/2)
		harness.WaitFor(t, 60*time.Second, "b to be part way through catch-up", func() error {
			st, err := cl.Status(context.Background())
			if err != nil {
				return err
			}
			got := 0
			for _, r := range st.Records {
				got += r.Records + r.Tombstones
			}
			if got >= target && got < records {
				b.Kill()
				killed = true
				seen = append(seen, got)
				return nil
			}
			if got >= records {
				seen = append(seen, got)
				return nil // too late: catch-up finished between two polls
			}
			return fmt.Errorf("b holds %d records", got)
		})
		if !killed {
			t.Logf("attempt %d: catch-up finished before the kill; retrying in a fresh directory", attempt)
			b.Stop()
			dirB = t.TempDir()
		}
	}
	if !killed {
		t.Fatalf("could not kill b during catch-up in 3 attempts (counts seen: %v)", seen)
	}
	t.Logf("killed b with %d of %d records (attempts: counts %v)", seen[len(seen)-1], records, seen)

	b := h.StartNode(dirB, "--bootstrap", tcpAddr(t, a))
	harness.WaitFor(t, 60*time.Second, "b to finish catching up after the restart", func() error {
		var got digestStatus
		b.MustCLIJSON(&got, "status", "--json")
		if got.Digests[community] != want.Digests[community] || got.total() != want.total() {
			return fmt.Errorf("b: digest %s with %d records, want %s with %d", got.Digests[community], got.total(), want.Digests[community], want.total())
		}
		return nil
	})
}

// waitAPI waits for a node started with SpawnNode to write api.json and
// returns a client for its API.
func waitAPI(t *testing.T, n *harness.Node) *api.Client {
	t.Helper()
	paths, err := node.NewPaths(n.Dir)
	if err != nil {
		t.Fatal(err)
	}
	var cl *api.Client
	harness.WaitFor(t, harness.StartTimeout, "node "+n.Dir+" to serve its API", func() error {
		if n.Exited() {
			t.Fatalf("node exited (code %d):\n%s", n.ExitCode(), n.Stderr())
		}
		info, err := node.ReadAPIInfo(paths)
		if err != nil {
			return err
		}
		if info.PID != n.PID() {
			return fmt.Errorf("api.json is from process %d", info.PID)
		}
		token, err := node.LoadToken(paths)
		if err != nil {
			return err
		}
		cl = api.NewClient(info.Addr, token)
		_, err = cl.ID(context.Background())
		return err
	})
	return cl
}

// writeSyntheticExport writes an export document of n profiles by n new
// authors, signed on every core.
func writeSyntheticExport(t *testing.T, file string, n int) {
	t.Helper()
	entries := make([]api.ExportRecord, n)
	errs := make([]error, n)
	ts := record.Now()
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				seed := sha256.Sum256(fmt.Appendf(nil, "kill during catch-up %d", i))
				key := ed25519.NewKeyFromSeed(seed[:])
				var author record.Author
				copy(author[:], key.Public().(ed25519.PublicKey))
				payload, err := mentorship.Profile{Name: fmt.Sprintf("Practitioner %d", i), Bio: strings.Repeat("Facilitates circles. ", 10)}.Encode()
				if err != nil {
					errs[i] = err
					continue
				}
				rec, err := record.Sign(key, record.Body{Community: community, Author: author, Kind: mentorship.KindProfile,
					Version: 1, Timestamp: ts, Payload: payload})
				if err != nil {
					errs[i] = err
					continue
				}
				entries[i] = api.ExportRecord{Signed: rec.Raw}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	data, err := json.Marshal(api.ExportDocument{Format: api.ExportFormat, Version: api.ExportVersion,
		Scope: api.ScopeAll, ExportedAt: time.Now().UTC(), Records: entries})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
