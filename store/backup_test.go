package store

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/mentormesh/mentormesh/sync/record"
)

// dumpKV returns every key of the store with its value and user-meta byte,
// as the store would read them: the whole logical content.
func dumpKV(t *testing.T, b *Badger) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := b.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			out[string(it.Item().KeyCopy(nil))] = fmt.Sprintf("%x/%x", it.Item().UserMeta(), v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// signer writes records of one author.
type signer struct {
	key    ed25519.PrivateKey
	author record.Author
}

func newSigner(seed byte) signer {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	var s signer
	s.key = key
	copy(s.author[:], key.Public().(ed25519.PublicKey))
	return s
}

func (s signer) sign(t testing.TB, key string, version uint64, deleted bool) *record.Record {
	t.Helper()
	var payload []byte
	if !deleted {
		payload = fmt.Appendf(nil, "payload of %s v%d", key, version)
	}
	rec, err := record.Sign(s.key, record.Body{Community: "sociocracy", Author: s.author, Kind: "profile",
		Key: key, Version: version, Timestamp: record.Now(), Deleted: deleted, Payload: payload})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// populated opens a store in dir holding local and remote records,
// replaced versions, tombstones, outbox entries and remembered peers.
func populated(t *testing.T, dir string) *Badger {
	t.Helper()
	ctx := context.Background()
	b := openTest(t, dir, BadgerOptions{})
	me, other := newSigner(1), newSigner(2)
	for i := range 30 {
		k := fmt.Sprintf("k%02d", i)
		for v := uint64(1); v <= uint64(1+i%3); v++ {
			if _, err := b.Apply(ctx, me.sign(t, k, v, i%10 == 0 && v > 1), ApplyOptions{Local: true}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var remote []*record.Record
	for i := range 300 {
		remote = append(remote, other.sign(t, fmt.Sprintf("r%03d", i), 1, false))
	}
	if _, err := b.ApplyBatch(ctx, remote); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		p := PeerInfo{ID: fmt.Sprintf("12D3KooWpeer%d", i), Addrs: []string{"/ip4/127.0.0.1/tcp/4747"}, LastSeen: time.Unix(int64(1e9+i), 0).UTC()}
		if err := b.PutPeer(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func writeBackup(t *testing.T, b *Badger, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Backup(context.Background(), f, BackupMeta{PeerID: "me", CreatedAt: time.Now().UTC()}); err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestBackupRoundTrip backs a store up and restores it into a fresh
// directory: every key, value and flag comes back, the check passes and
// reports the same counts.
func TestBackupRoundTrip(t *testing.T) {
	ctx := context.Background()
	src := populated(t, t.TempDir())
	want := dumpKV(t, src)
	wantRep, err := src.Check(ctx, CheckOptions{VerifySignatures: true})
	if err != nil {
		t.Fatalf("Check of the source: %v", err)
	}
	if wantRep.Records != 330 || wantRep.Tombstones != 2 || wantRep.Outbox == 0 || wantRep.Peers != 3 {
		t.Fatalf("source Check = %+v, want 330 records, 2 tombstones (k10, k20), an outbox, 3 peers", wantRep)
	}
	file := filepath.Join(t.TempDir(), "backup")
	writeBackup(t, src, file)

	meta, err := VerifyBackup(file)
	if err != nil {
		t.Fatalf("VerifyBackup: %v", err)
	}
	if meta.PeerID != "me" || meta.Schema != schemaVersion {
		t.Errorf("VerifyBackup meta = %+v, want peer me, schema %d", meta, schemaVersion)
	}
	dst := filepath.Join(t.TempDir(), "store")
	meta2, rep, err := RestoreBackup(ctx, file, dst, quiet)
	if err != nil {
		t.Fatalf("RestoreBackup: %v", err)
	}
	if meta2 != meta || rep != wantRep {
		t.Errorf("RestoreBackup = %+v, %+v; want %+v, %+v", meta2, rep, meta, wantRep)
	}
	got := dumpKV(t, openTest(t, dst, BadgerOptions{}))
	if len(got) != len(want) {
		t.Errorf("restored store has %d keys, want %d", len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("key %q: restored %q, want %q", k, got[k], v)
			break
		}
	}
}

// TestRestoredStoreTakesNewWrites: Badger's version counter is restored
// with the data, so a write after a restore supersedes the restored value
// (a counter restarting at zero would hide new writes behind old ones).
func TestRestoredStoreTakesNewWrites(t *testing.T) {
	ctx := context.Background()
	src := populated(t, t.TempDir())
	file := filepath.Join(t.TempDir(), "backup")
	writeBackup(t, src, file)
	dst := filepath.Join(t.TempDir(), "store")
	if _, _, err := RestoreBackup(ctx, file, dst, quiet); err != nil {
		t.Fatal(err)
	}
	b := openTest(t, dst, BadgerOptions{})
	rec := newSigner(1).sign(t, "k01", 3, false)
	if res, err := b.Apply(ctx, rec, ApplyOptions{Local: true}); err != nil || !res.Applied {
		t.Fatalf("Apply after restore = %+v, %v; want applied", res, err)
	}
	cur, err := b.Current(ctx, rec.Addr())
	if err != nil || cur.ID != rec.ID {
		t.Fatalf("Current after a write on a restored store = %v, %v; want the new version", cur, err)
	}
	if _, err := b.Check(ctx, CheckOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestBackupDamaged: a truncated, altered or foreign file is refused with
// ErrBadBackup before anything is written, and the target is not created.
func TestBackupDamaged(t *testing.T) {
	src := populated(t, t.TempDir())
	file := filepath.Join(t.TempDir(), "backup")
	writeBackup(t, src, file)
	good, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0x40
		return b
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"not a backup", []byte("{\"format\":\"mentormesh-export\"}\n" + string(bytes.Repeat([]byte{'x'}, 100)))},
		{"header only", good[:len(backupMagic)+10]},
		{"truncated in the middle", good[:len(good)/2]},
		{"last byte missing", good[:len(good)-1]},
		{"byte flipped in the header", flip(len(backupMagic) + 3)},
		{"byte flipped in the stream", flip(len(good) / 2)},
		{"byte flipped in the checksum", flip(len(good) - 1)},
		{"byte flipped in the end marker", flip(len(good) - trailerLen)},
		{"extra bytes appended", append(bytes.Clone(good), '\n')},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "damaged")
			if err := os.WriteFile(f, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := VerifyBackup(f); !errors.Is(err, ErrBadBackup) {
				t.Errorf("VerifyBackup = %v, want ErrBadBackup", err)
			}
			dst := filepath.Join(t.TempDir(), "store")
			if _, _, err := RestoreBackup(context.Background(), f, dst, quiet); !errors.Is(err, ErrBadBackup) {
				t.Errorf("RestoreBackup = %v, want ErrBadBackup", err)
			}
			if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the target exists after a refused restore (stat: %v)", err)
			}
		})
	}
}

// craftBackup builds a backup file around stream with a valid checksum,
// as a hostile or buggy writer could.
func craftBackup(t *testing.T, stream []byte) string {
	t.Helper()
	var buf bytes.Buffer
	buf.WriteString(backupMagic)
	buf.WriteString(`{"created_at":"2026-01-01T00:00:00Z","schema":1}` + "\n")
	buf.Write(stream)
	sum := sha256.Sum256(buf.Bytes())
	buf.WriteString(trailerMagic)
	buf.Write(binary.BigEndian.AppendUint64(nil, uint64(len(stream))))
	buf.Write(sum[:])
	f := filepath.Join(t.TempDir(), "crafted")
	if err := os.WriteFile(f, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// backupAfter returns a backup of a fresh store that fill has written to.
func backupAfter(t *testing.T, fill func(b *Badger)) string {
	t.Helper()
	b := openTest(t, t.TempDir(), BadgerOptions{})
	fill(b)
	f := filepath.Join(t.TempDir(), "backup")
	writeBackup(t, b, f)
	return f
}

// TestRestoreRefusesHostileContent: files whose checksum is right but
// whose content is not a store this mentormesh wrote are refused, and the
// target directory is removed again.
func TestRestoreRefusesHostileContent(t *testing.T) {
	ctx := context.Background()
	huge := binary.LittleEndian.AppendUint64(nil, 1<<40)
	// A record whose signature does not verify, stored behind the
	// pipeline's back (the store itself does not verify).
	forged := backupAfter(t, func(b *Badger) {
		rec := newSigner(3).sign(t, "forged", 1, false)
		raw := bytes.Clone(rec.Raw)
		raw[len(raw)-1] ^= 1
		forged, err := record.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Apply(ctx, forged, ApplyOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	unknown := backupAfter(t, func(b *Badger) {
		if err := b.db.Update(func(txn *badger.Txn) error { return txn.Set([]byte("z/what"), []byte("x")) }); err != nil {
			t.Fatal(err)
		}
	})
	tests := []struct {
		name string
		file func() string
	}{
		{"frame length beyond the cap", func() string { return craftBackup(t, huge) }},
		{"truncated frame", func() string { return craftBackup(t, append(binary.LittleEndian.AppendUint64(nil, 100), 1, 2, 3)) }},
		{"frame that is not a KVList", func() string {
			return craftBackup(t, append(binary.LittleEndian.AppendUint64(nil, 4), 0xff, 0xff, 0xff, 0xff))
		}},
		{"record with a bad signature", func() string { return forged }},
		{"key outside the layout", func() string { return unknown }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "store")
			_, _, err := RestoreBackup(ctx, tt.file(), dst, quiet)
			if !errors.Is(err, ErrBadBackup) {
				t.Errorf("RestoreBackup = %v, want ErrBadBackup", err)
			}
			if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the target exists after a refused restore (stat: %v)", err)
			}
		})
	}
}

// TestBackupDuringWrites: a backup taken while records are being written is
// a consistent store (every record indexed exactly once), not a mix of
// moments.
func TestBackupDuringWrites(t *testing.T) {
	ctx := context.Background()
	src := populated(t, t.TempDir())
	w := newSigner(4)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for v := uint64(1); ; v++ {
			select {
			case <-stop:
				return
			default:
			}
			var batch []*record.Record
			for i := range 20 {
				batch = append(batch, w.sign(t, fmt.Sprintf("w%02d", i), v, false))
			}
			if _, err := src.ApplyBatch(ctx, batch); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for i := range 2 {
		file := filepath.Join(t.TempDir(), "backup")
		writeBackup(t, src, file)
		if _, _, err := RestoreBackup(ctx, file, filepath.Join(t.TempDir(), "store"), quiet); err != nil {
			t.Errorf("backup %d taken during writes does not restore: %v", i, err)
		}
	}
	close(stop)
	wg.Wait()
}

// TestBackupStopsWithContext: a cancelled backup returns the context's
// error instead of running on.
func TestBackupStopsWithContext(t *testing.T) {
	src := populated(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var buf bytes.Buffer
	if _, err := src.Backup(ctx, &buf, BackupMeta{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Backup with a cancelled context = %v, want context.Canceled", err)
	}
}

// TestCheckFindsDamage: Check reports a missing index entry and a stray one.
func TestCheckFindsDamage(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		damage func(txn *badger.Txn, rec *record.Record) error
	}{
		{"missing ID index", func(txn *badger.Txn, rec *record.Record) error { return txn.Delete(idKey(rec.ID)) }},
		{"missing sync entry", func(txn *badger.Txn, rec *record.Record) error {
			sk, _ := syncKeys(rec.Addr(), SyncItemOf(rec))
			return txn.Delete(sk)
		}},
		{"stray author entry", func(txn *badger.Txn, rec *record.Record) error {
			_, ak := syncKeys(rec.Addr(), SyncItem{Timestamp: 1, ID: record.ID{9}})
			return txn.Set(ak, nil)
		}},
		{"tombstone flag lost", func(txn *badger.Txn, rec *record.Record) error {
			return txn.Set(currentKey(rec.Addr()), encodeCurrent(rec))
		}},
		{"peer that does not decode", func(txn *badger.Txn, rec *record.Record) error { return txn.Set(peerKey("x"), []byte("{")) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := openTest(t, t.TempDir(), BadgerOptions{})
			rec := newSigner(5).sign(t, "", 2, true)
			if _, err := b.Apply(ctx, rec, ApplyOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := b.Check(ctx, CheckOptions{}); err != nil {
				t.Fatalf("Check before damage: %v", err)
			}
			if err := b.db.Update(func(txn *badger.Txn) error { return tt.damage(txn, rec) }); err != nil {
				t.Fatal(err)
			}
			if _, err := b.Check(ctx, CheckOptions{}); !errors.Is(err, ErrCorrupt) {
				t.Errorf("Check after damage = %v, want ErrCorrupt", err)
			}
		})
	}
}
