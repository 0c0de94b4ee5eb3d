package node

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/sync/ingest"
	"github.com/mentormesh/mentormesh/sync/record"
)

// profileSigner returns the signer of author's current profile on n (zero:
// the author's own key) and its version.
func profileSigner(t *testing.T, n *Node, author record.Author) (record.Author, uint64) {
	t.Helper()
	rec, err := n.store.Current(context.Background(), record.Addr{Community: DefaultCommunity, Author: author, Kind: mentorship.KindProfile})
	if err != nil {
		return record.Author{}, 0
	}
	return rec.Signer, rec.Version
}

func startNodeAt(t *testing.T, dir string, bootstrap ...string) *Node {
	t.Helper()
	n, err := Start(Options{DataDir: dir, Listen: []string{"/ip4/127.0.0.1/tcp/0"}, Bootstrap: bootstrap, NoMDNS: true, APIAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return n
}

// TestDeviceLinkAndRevokeAcrossNodes links a second device (A2) to a
// practitioner's primary (A) over the device-link protocol, and checks on a
// third node (B) that A2's records count as A's; then A revokes A2: B keeps
// A's content (re-signed by A) and refuses what A2 signs next.
func TestDeviceLinkAndRevokeAcrossNodes(t *testing.T) {
	ctx := context.Background()
	a := startTestNode(t)
	b := startTestNode(t, a.Addrs()[0])
	ada := authorOfNode(a)
	setName(t, a, "Ada v1")

	code, err := a.Local().LinkDevice(ctx, api.DeviceLinkInput{Name: "laptop"})
	if err != nil {
		t.Fatalf("LinkDevice: %v", err)
	}
	dirA2 := t.TempDir()
	res, err := JoinDevice(ctx, dirA2, code.Code, nil)
	if err != nil {
		t.Fatalf("JoinDevice: %v", err)
	}
	if res.Practitioner != ada.String() || res.Records < 2 || res.Stored != res.Records {
		t.Fatalf("JoinDevice = %+v, want practitioner %s and at least its profile and device record", res, ada)
	}
	// The code works once.
	if _, err := JoinDevice(ctx, t.TempDir(), code.Code, nil); err == nil {
		t.Fatal("JoinDevice with a used code succeeded, want an error")
	}

	a2 := startNodeAt(t, dirA2, a.Addrs()[0])
	id, err := a2.Local().ID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	device := a2.local.dev.linked.device
	if id.PeerID != ada.String() || id.DeviceID != device.String() || a2.hostID().String() != device.String() {
		t.Fatalf("A2 ID = %+v (host %s), want practitioner %s and device %s", id, a2.hostID(), ada, device)
	}
	if _, err := a2.Local().LinkDevice(ctx, api.DeviceLinkInput{}); err == nil {
		t.Fatal("LinkDevice on a linked device succeeded, want an error")
	}

	// A2 writes as Ada, one version above what A had written.
	setName(t, a2, "Ada from the laptop")
	if signer, v := profileSigner(t, a2, ada); signer != device || v != 2 {
		t.Fatalf("A2's profile write: signer %s version %d, want %s version 2", signer, v, device)
	}
	waitFor(t, 20*time.Second, "B and A to get A2's profile of Ada", func() bool {
		_, vb := profileSigner(t, b, ada)
		_, va := profileSigner(t, a, ada)
		return vb == 2 && va == 2
	})
	p, err := b.Local().Profile(ctx, ada.String(), "")
	if err != nil || p.Name != "Ada from the laptop" {
		t.Fatalf("B's view of Ada = %+v, %v; want the laptop's profile", p, err)
	}
	waitFor(t, 20*time.Second, "B to list Ada's laptop", func() bool {
		devs, err := b.Local().Devices(ctx, ada.String())
		return err == nil && len(devs) == 2 && devs[1].DeviceID == device.String() && devs[1].State == api.DeviceLinked && devs[1].Name == "laptop"
	})

	// Revoke: A signs the laptop's profile again under its own key.
	rv, err := a.Local().RevokeDevice(ctx, "laptop")
	if err != nil {
		t.Fatalf("RevokeDevice: %v", err)
	}
	if rv.Resigned != 1 || rv.Device.State != api.DeviceRevoked {
		t.Fatalf("RevokeDevice = %+v, want the profile re-signed", rv)
	}
	waitFor(t, 20*time.Second, "B to get the revocation and Ada's re-signed profile", func() bool {
		signer, v := profileSigner(t, b, ada)
		return signer == (record.Author{}) && v == 3 && b.local.dev.isRevoked(ada, device)
	})
	p, err = b.Local().Profile(ctx, ada.String(), "")
	if err != nil || p.Name != "Ada from the laptop" {
		t.Fatalf("B's view of Ada after the revocation = %+v, %v; want the content kept", p, err)
	}
	devs, err := b.Local().Devices(ctx, ada.String())
	if err != nil || len(devs) != 2 || devs[1].State != api.DeviceRevoked || devs[1].RevokedAt == nil {
		t.Fatalf("B's device list of Ada = %+v, %v; want the laptop revoked", devs, err)
	}

	// The revoked laptop's next record: its own node refuses to write it
	// once it knows, and B refuses it whatever path it takes.
	waitFor(t, 20*time.Second, "A2 to learn of its revocation", func() bool { return a2.local.dev.isRevoked(ada, device) })
	name := "Stolen laptop"
	if _, err := a2.Local().SetProfile(ctx, api.ProfileInput{Name: &name}); err == nil {
		t.Fatal("a revoked device wrote a profile, want an error")
	}
	body := record.Body{Community: DefaultCommunity, Author: ada, Kind: mentorship.KindProfile, Version: 10, Timestamp: record.Now(),
		Payload: mustProfile(t, name)}
	forged, err := record.SignAsDevice(a2.local.key, a2.local.dev.linked.cert, body)
	if err != nil {
		t.Fatal(err)
	}
	out := b.net.cfg.pipe.Ingest(ctx, forged.Raw, ingest.Source{Community: DefaultCommunity, Live: true})
	if out.Verdict != ingest.Ignore || !errors.Is(out.Err, ingest.ErrRevoked) {
		t.Fatalf("B ingesting the revoked laptop's record = %v (%v), want ignore (%v)", out.Verdict, out.Err, ingest.ErrRevoked)
	}
	if signer, v := profileSigner(t, b, ada); signer != (record.Author{}) || v != 3 {
		t.Fatalf("B's current profile of Ada: signer %s version %d, want Ada's own version 3", signer, v)
	}
}

func mustProfile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := mentorship.Profile{Name: name}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
