package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/record"
)

// TestDeviceStoreHidesRevoked stores a record a device signed, then its
// revocation: the record leaves Current and List at once (and the profile
// directories are reset), while CurrentMeta still reports it so a new write
// goes above it.
func TestDeviceStoreHidesRevoked(t *testing.T) {
	ctx := context.Background()
	root := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	dev := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, 32))
	var author, device record.Author
	copy(author[:], root.Public().(ed25519.PublicKey))
	copy(device[:], dev.Public().(ed25519.PublicKey))
	now := record.Now()
	cert, err := record.IssueCert(root, device, now)
	if err != nil {
		t.Fatal(err)
	}
	prof, err := record.SignAsDevice(dev, cert, record.Body{Community: "c", Author: author, Kind: mentorship.KindProfile, Version: 5, Timestamp: now, Payload: mustProfile(t, "Ada")})
	if err != nil {
		t.Fatal(err)
	}
	d := newDevices(nil)
	resets := 0
	d.onRevoke = func() { resets++ }
	s := deviceStore{Store: store.NewMemory(), d: d}
	if _, err := s.Apply(ctx, prof, store.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Current(ctx, prof.Addr()); err != nil {
		t.Fatalf("Current before the revocation: %v", err)
	}
	payload, err := mentorship.Device{Name: "laptop", State: mentorship.DeviceRevoked, LinkedAt: 1, RevokedAt: 2}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	rev, err := record.Sign(root, record.Body{Community: "c", Author: author, Kind: mentorship.KindDevice, Key: mentorship.DeviceKey(device), Version: 1, Timestamp: now, Payload: payload})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplyBatch(ctx, []*record.Record{rev}); err != nil {
		t.Fatal(err)
	}
	if !d.isRevoked(author, device) || resets != 1 {
		t.Fatalf("after the revocation: revoked %v, view resets %d; want true, 1", d.isRevoked(author, device), resets)
	}
	if _, err := s.Current(ctx, prof.Addr()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Current of the revoked device's record = %v, want %v", err, store.ErrNotFound)
	}
	n := 0
	if err := s.List(ctx, store.Query{Community: "c", Kind: mentorship.KindProfile}, func(*record.Record) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("List shows %d records (%v), want 0", n, err)
	}
	if meta, ok, err := s.CurrentMeta(ctx, prof.Addr()); err != nil || !ok || meta.Version != 5 {
		t.Fatalf("CurrentMeta = %+v %v %v, want version 5", meta, ok, err)
	}
	// A newer "linked" version by the root key (never written by
	// mentormesh) un-revokes; a registry loaded from the store after a
	// restart reaches the same answer as the one that saw it happen.
	payload, _ = mentorship.Device{Name: "laptop", State: mentorship.DeviceLinked, LinkedAt: 1}.Encode()
	relink, err := record.Sign(root, record.Body{Community: "c", Author: author, Kind: mentorship.KindDevice, Key: mentorship.DeviceKey(device), Version: 2, Timestamp: now, Payload: payload})
	if err != nil {
		t.Fatal(err)
	}
	fresh := newDevices(nil)
	if err := fresh.load(ctx, s.Store); err != nil {
		t.Fatal(err)
	}
	if !fresh.isRevoked(author, device) {
		t.Fatal("a registry loaded from the store does not know the revocation")
	}
	if _, err := s.Apply(ctx, relink, store.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	fresh = newDevices(nil)
	if err := fresh.load(ctx, s.Store); err != nil {
		t.Fatal(err)
	}
	if d.isRevoked(author, device) || fresh.isRevoked(author, device) {
		t.Fatalf("after a newer linked version: revoked %v (live), %v (loaded); want false, false", d.isRevoked(author, device), fresh.isRevoked(author, device))
	}
	// The device's records are visible again: the views built without
	// them (profile directories, kept resource sets) must be dropped too.
	if resets != 2 {
		t.Errorf("after the un-revocation: view resets %d, want 2", resets)
	}
}
