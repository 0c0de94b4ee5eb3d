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
	"strconv"
	"strings"
	"testing"

	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/record"
)

// crashDirEnv names the data directory TestCrashHelper writes to; the
// helper does nothing without it.
const crashDirEnv = "MENTORMESH_STORE_CRASH_DIR"

// crashRounds is how many times TestCrash kills the writer (about 0.3 s
// each, 1 s under the race detector).
const crashRounds = 20

// ack is a local write the helper reported as done: the record at its
// address must be this version or a newer one after any crash.
type ack struct {
	addr    record.Addr
	version uint64
	id      record.ID
}

// TestCrash kills a writer with SIGKILL at random moments, many times, and
// checks after each kill that the store reopens, is consistent (every
// record decodes and is indexed exactly once: Check), and holds every local
// write the writer acknowledged, at that version or a newer one. The writer
// is this test binary running TestCrashHelper in a child process; it mixes
// new records, updates, deletions and batches of records "from peers"
// (not acknowledged, since peers can resend them). The parent needs no
// sleep: it reacts to the acknowledgements the child prints, and the kill
// lands wherever the child has got to in its next writes.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dir := t.TempDir()
	var acked []ack
	for round := range crashRounds {
		killAfter := 1 + rand.IntN(100)
		got := runAndKill(t, dir, killAfter)
		if len(got) < killAfter {
			t.Fatalf("round %d: child acknowledged %d writes, want at least %d", round, len(got), killAfter)
		}
		acked = append(acked, got...)

		s, err := store.OpenBadger(dir, store.BadgerOptions{Logger: quietLogger})
		if err != nil {
			t.Fatalf("round %d: reopening after SIGKILL: %v", round, err)
		}
		rep, err := s.Check(context.Background(), store.CheckOptions{})
		if err != nil {
			s.Close()
			t.Fatalf("round %d: store inconsistent after SIGKILL: %v", round, err)
		}
		lost := lostWrites(t, s, acked)
		if err := s.Close(); err != nil {
			t.Fatalf("round %d: Close: %v", round, err)
		}
		if len(lost) > 0 {
			t.Fatalf("round %d: %d of %d acknowledged writes lost after SIGKILL, first: %s", round, len(lost), len(acked), lost[0])
		}
		t.Logf("round %d: killed after %d acks; store consistent (%d records, %d tombstones); all %d acknowledged writes present",
			round, killAfter, rep.Records, rep.Tombstones, len(acked))
	}
}

// lostWrites describes the acknowledged writes s does not hold: neither the
// acknowledged version nor a newer one is current at the address.
func lostWrites(t *testing.T, s store.Store, acked []ack) []string {
	t.Helper()
	var lost []string
	for _, a := range acked {
		m, ok, err := s.CurrentMeta(context.Background(), a.addr)
		if err != nil {
			t.Fatalf("CurrentMeta: %v", err)
		}
		switch {
		case !ok:
			lost = append(lost, fmt.Sprintf("%q v%d: nothing stored", a.addr.Key, a.version))
		case m.Version < a.version:
			lost = append(lost, fmt.Sprintf("%q v%d: version %d stored", a.addr.Key, a.version, m.Version))
		case m.Version == a.version && m.ID != a.id:
			lost = append(lost, fmt.Sprintf("%q v%d: another record of that version stored", a.addr.Key, a.version))
		}
	}
	return lost
}

// runAndKill starts the helper on dir, sends SIGKILL once it has
// acknowledged n writes, and returns every write it acknowledged, including
// any printed between the decision and the kill.
func runAndKill(t *testing.T, dir string, n int) []ack {
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
	var acks []ack
	var author record.Author
	killed := false
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if a, ok := strings.CutPrefix(line, "author "); ok {
			if b, err := hex.DecodeString(a); err != nil || len(b) != len(author) {
				t.Fatalf("helper printed a malformed author %q", a)
			} else {
				copy(author[:], b)
			}
			continue
		}
		rest, ok := strings.CutPrefix(line, "acked ")
		if !ok {
			continue // test framework output
		}
		acks = append(acks, parseAck(t, rest, author))
		if len(acks) == n && !killed {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatalf("killing helper: %v", err)
			}
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("helper exited after %d acks (%v) before being killed:\n%s", len(acks), err, stderr.String())
	}
	return acks
}

// parseAck reads "<key> <version> <id hex>".
func parseAck(t *testing.T, s string, author record.Author) ack {
	t.Helper()
	f := strings.Fields(s)
	if len(f) != 3 {
		t.Fatalf("helper printed a malformed ack %q", s)
	}
	v, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		t.Fatalf("helper printed a malformed version in %q", s)
	}
	a := ack{addr: record.Addr{Community: "sociocracy", Author: author, Kind: "offer", Key: f[0]}, version: v}
	if b, err := hex.DecodeString(f[2]); err != nil || len(b) != len(a.id) {
		t.Fatalf("helper printed a malformed ID in %q", s)
	} else {
		copy(a.id[:], b)
	}
	return a
}

// TestCrashHelper is the child process of TestCrash: it writes records
// until killed, printing "acked <key> <version> <ID>" after each local
// Apply returns. Every write goes to a new address, updates one written
// earlier in this run, or deletes one; every eighth step also applies a
// batch of records from another author, as catch-up does.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		return
	}
	s, err := store.OpenBadger(dir, store.BadgerOptions{Logger: quietLogger})
	if err != nil {
		t.Fatalf("OpenBadger: %v", err)
	}
	// Fresh authors per run, so every run writes new addresses.
	me, peer := newCrashAuthor(t), newCrashAuthor(t)
	fmt.Fprintf(os.Stdout, "author %x\n", me.author[:])
	versions := map[string]uint64{}
	var keys []string
	ctx := context.Background()
	// Bounded, in case the parent never kills us.
	for i := range 100_000 {
		key := fmt.Sprintf("k%06d", i)
		deleted := false
		if len(keys) > 0 && i%3 != 0 {
			key = keys[rand.IntN(len(keys))]
			deleted = i%7 == 0
		} else {
			keys = append(keys, key)
		}
		versions[key]++
		rec := me.sign(t, key, versions[key], deleted, bytes.Repeat([]byte{byte(i)}, 512))
		if _, err := s.Apply(ctx, rec, store.ApplyOptions{Local: true}); err != nil {
			t.Fatalf("Apply: %v", err)
		}
		if _, err := fmt.Fprintf(os.Stdout, "acked %s %d %s\n", key, rec.Version, rec.ID); err != nil {
			t.Fatalf("printing ack: %v", err)
		}
		if i%8 == 7 {
			batch := make([]*record.Record, 16)
			for j := range batch {
				batch[j] = peer.sign(t, fmt.Sprintf("p%d", j), uint64(i+1), false, []byte("from a peer"))
			}
			if _, err := s.ApplyBatch(ctx, batch); err != nil {
				t.Fatalf("ApplyBatch: %v", err)
			}
		}
	}
	t.Fatalf("not killed after 100000 writes")
}

type crashAuthor struct {
	key    ed25519.PrivateKey
	author record.Author
}

func newCrashAuthor(t *testing.T) crashAuthor {
	pub, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	var a crashAuthor
	a.key = key
	copy(a.author[:], pub)
	return a
}

func (a crashAuthor) sign(t *testing.T, key string, version uint64, deleted bool, payload []byte) *record.Record {
	if deleted {
		payload = nil
	}
	rec, err := record.Sign(a.key, record.Body{
		Community: "sociocracy", Author: a.author, Kind: "offer", Key: key,
		Version: version, Timestamp: record.Now(), Deleted: deleted, Payload: payload,
	})
	if err != nil {
		t.Fatalf("record.Sign: %v", err)
	}
	return rec
}
