package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/store"
)

// Backup and restore of data directories; helpers are in data_test.go.

// TestBackupRestoreRoundTrip backs up a running node's store through its
// API backend and restores it into a fresh data directory: identical
// digests, counts, outbox and remembered peers.
func TestBackupRestoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	dirA := t.TempDir()
	a := openOfflineT(t, dirA)
	populate(t, a)
	for i := range 3 {
		if err := a.store.PutPeer(ctx, store.PeerInfo{ID: fmt.Sprintf("12D3KooWtest%d", i), LastSeen: time.Unix(int64(i), 0).UTC()}); err != nil {
			t.Fatal(err)
		}
	}
	a.Close()
	n, err := Start(Options{DataDir: dirA, Communities: []string{DefaultCommunity, otherCommunity},
		Listen: []string{"/ip4/127.0.0.1/tcp/0"}, NoMDNS: true, APIAddr: "127.0.0.1:0", CatchUpInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	want := snapshotOf(t, n.Local())
	wantPeers, err := n.store.Peers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "backup")
	err = WriteFileAtomic(file, func(w io.Writer) error { _, err := n.Local().Backup(ctx, w); return err }, nil)
	if err != nil {
		t.Fatalf("backup of the running node: %v", err)
	}

	// Restoring into the running node's own directory is refused, naming it.
	if _, err := Restore(ctx, dirA, file, RestoreOptions{Force: true}); !errors.Is(err, ErrLocked) ||
		!strings.Contains(err.Error(), fmt.Sprint(os.Getpid())) {
		t.Errorf("Restore into a running node's directory = %v, want ErrLocked naming process %d", err, os.Getpid())
	}

	dirB := filepath.Join(t.TempDir(), "fresh")
	res, err := Restore(ctx, dirB, file, RestoreOptions{})
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if res.Backup.PeerID != n.PeerID() || res.PeerID != "" || res.KeptAt != "" {
		t.Errorf("Restore = %+v, want a backup of %s, no identity here, nothing kept", res, n.PeerID())
	}
	copyIdentity(t, dirA, dirB)
	b := openOfflineT(t, dirB)
	if got := snapshotOf(t, b.Local); got.String() != want.String() {
		t.Errorf("restored:\n got %s\nwant %s", got, want)
	}
	if res.Restored.Records != countOf(want) || res.Restored.Outbox != want.Outbox || res.Restored.Peers != 3 {
		t.Errorf("Restore reports %+v, want %d records, outbox %d, 3 peers", res.Restored, countOf(want), want.Outbox)
	}
	gotPeers, err := b.store.Peers(ctx)
	if err != nil || fmt.Sprint(gotPeers) != fmt.Sprint(wantPeers) {
		t.Errorf("restored peers = %v, %v; want %v", gotPeers, err, wantPeers)
	}
}

func countOf(s snapshot) int {
	n := 0
	for _, k := range s.Records {
		n += k.Records + k.Tombstones
	}
	return n
}

// TestRestoreGuards: restore refuses to replace records without --force,
// leaves the data directory untouched when the backup is damaged (even
// with --force), and with --force replaces the store and keeps the old one
// aside.
func TestRestoreGuards(t *testing.T) {
	ctx := context.Background()
	src := openOfflineT(t, t.TempDir())
	populate(t, src)
	want := snapshotOf(t, src.Local)
	file := filepath.Join(t.TempDir(), "backup")
	if err := WriteFileAtomic(file, func(w io.Writer) error { _, err := src.Backup(ctx, w); return err }, nil); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(t.TempDir(), "truncated")
	if err := os.WriteFile(truncated, data[:len(data)*2/3], 0o600); err != nil {
		t.Fatal(err)
	}
	flipped := filepath.Join(t.TempDir(), "flipped")
	data[len(data)/2] ^= 1
	if err := os.WriteFile(flipped, data, 0o600); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	target := openOfflineT(t, dir)
	name := "Someone else"
	if _, err := target.SetProfile(ctx, api.ProfileInput{Name: &name}); err != nil {
		t.Fatal(err)
	}
	before := snapshotOf(t, target.Local)
	target.Close()
	untouched := func(what string) {
		t.Helper()
		d := openOfflineT(t, dir)
		if got := snapshotOf(t, d.Local); got.String() != before.String() {
			t.Errorf("%s changed the data directory:\n got %s\nwant %s", what, got, before)
		}
		d.Close()
	}

	if _, err := Restore(ctx, dir, file, RestoreOptions{}); !errors.Is(err, ErrNotEmpty) {
		t.Errorf("Restore over records without force = %v, want ErrNotEmpty", err)
	}
	untouched("a restore without force")
	for _, bad := range []string{truncated, flipped} {
		if _, err := Restore(ctx, dir, bad, RestoreOptions{Force: true}); !errors.Is(err, store.ErrBadBackup) {
			t.Errorf("Restore of %s = %v, want ErrBadBackup", filepath.Base(bad), err)
		}
		untouched("a restore of a damaged backup")
	}

	warned := 0
	res, err := Restore(ctx, dir, file, RestoreOptions{Force: true, Replacing: func(r StoreReport) {
		warned++
		if r.Records != countOf(before) {
			t.Errorf("warning names %d records, want %d", r.Records, countOf(before))
		}
	}})
	if err != nil || warned != 1 || res.KeptAt == "" {
		t.Fatalf("forced Restore = %+v, %v (warned %d times); want success, one warning, old store kept", res, err, warned)
	}
	d := openOfflineT(t, dir)
	got := snapshotOf(t, d.Local)
	if !equalDigests(got, want) {
		t.Errorf("after a forced restore:\n got %s\nwant %s", got, want)
	}
	d.Close()
	old, err := store.OpenBadger(res.KeptAt, store.BadgerOptions{})
	if err != nil {
		t.Fatalf("the kept store does not open: %v", err)
	}
	defer old.Close()
	if _, err := old.Check(ctx, store.CheckOptions{}); err != nil {
		t.Errorf("the kept store: %v", err)
	}
}

// equalDigests compares what two data directories hold (their outboxes
// differ when identities do).
func equalDigests(a, b snapshot) bool {
	return fmt.Sprint(a.Records, a.Digests) == fmt.Sprint(b.Records, b.Digests)
}
