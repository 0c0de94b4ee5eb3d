package store_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/record"
)

// crashDirEnv names the data directory TestCrashHelper writes to; the
// helper does nothing without it.
const crashDirEnv = "MENTORMESH_STORE_CRASH_DIR"

// TestCrash kills a writer with SIGKILL at a random moment and checks that
// every local write it acknowledged survived. The writer is this test binary
// running TestCrashHelper in a child process. The parent needs no sleep:
// it reacts to the acknowledgements the child prints.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dir := t.TempDir()
	var acked []record.ID
	for round := range 5 {
		killAfter := 50 + rand.IntN(251)
		got := runAndKill(t, dir, killAfter)
		if len(got) < killAfter {
			t.Fatalf("round %d: child acknowledged %d writes, want at least %d", round, len(got), killAfter)
		}
		acked = append(acked, got...)

		s, err := store.OpenBadger(dir, store.BadgerOptions{Logger: quietLogger})
		if err != nil {
			t.Fatalf("round %d: reopening after SIGKILL: %v", round, err)
		}
		missing := 0
		for _, id := range acked {
			has, err := s.Has(context.Background(), id)
			if err != nil {
				t.Fatalf("round %d: Has(%s): %v", round, id, err)
			}
			if !has {
				missing++
			}
		}
		if err := s.Close(); err != nil {
			t.Fatalf("round %d: Close: %v", round, err)
		}
		if missing > 0 {
			t.Fatalf("round %d: %d of %d acknowledged writes lost after SIGKILL", round, missing, len(acked))
		}
		t.Logf("round %d: killed after %d acks (%d printed); all %d acknowledged writes present", round, killAfter, len(got), len(acked))
	}
}

// runAndKill starts the helper on dir, sends SIGKILL once it has
// acknowledged n writes, and returns every write it acknowledged, including
// any printed between the decision and the kill.
func runAndKill(t *testing.T, dir string, n int) []record.ID {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("StdoutPipe: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting helper: %v", err)
	}
	var ids []record.ID
	killed := false
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		hexID, ok := strings.CutPrefix(sc.Text(), "acked ")
		if !ok {
			continue // test framework output
		}
		var id record.ID
		if b, err := hex.DecodeString(hexID); err != nil || len(b) != len(id) {
			t.Fatalf("helper printed a malformed ID %q", hexID)
		} else {
			copy(id[:], b)
		}
		ids = append(ids, id)
		if len(ids) == n && !killed {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatalf("killing helper: %v", err)
			}
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("helper exited after %d acks (%v) before being killed:\n%s", len(ids), err, stderr.String())
	}
	return ids
}

// TestCrashHelper is the child process of TestCrash: it writes local
// records until killed, printing "acked <ID>" after each Apply returns.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		return
	}
	s, err := store.OpenBadger(dir, store.BadgerOptions{Logger: quietLogger})
	if err != nil {
		t.Fatalf("OpenBadger: %v", err)
	}
	// A fresh author per run, so every run writes new addresses.
	pub, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	var author record.Author
	copy(author[:], pub)
	// Bounded, in case the parent never kills us.
	for i := range 100_000 {
		rec, err := record.Sign(key, record.Body{
			Community: "sociocracy", Author: author, Kind: "offer", Key: fmt.Sprintf("k%06d", i),
			Version: 1, Timestamp: record.Now(), Payload: bytes.Repeat([]byte{byte(i)}, 512),
		})
		if err != nil {
			t.Fatalf("record.Sign: %v", err)
		}
		if _, err := s.Apply(context.Background(), rec, store.ApplyOptions{Local: true}); err != nil {
			t.Fatalf("Apply: %v", err)
		}
		if _, err := fmt.Fprintf(os.Stdout, "acked %s\n", rec.ID); err != nil {
			t.Fatalf("printing ack: %v", err)
		}
	}
	t.Fatalf("not killed after 100000 writes")
}
