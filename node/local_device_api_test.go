package node

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
)

// TestDeviceAPIRoundTrip runs the device endpoints through the HTTP API and
// its Go client, checks the answers against the in-process backend, and
// checks the refusals: unknown device, the primary itself, bad names,
// linking without a running node, and private items on a linked device.
func TestDeviceAPIRoundTrip(t *testing.T) {
	ctx := context.Background()
	a := startTestNode(t)
	const token = "device-test-token"
	srv := httptest.NewServer(api.NewServer(a.Local(), api.ServerOptions{Token: token}))
	t.Cleanup(srv.Close)
	cl := api.NewClient(strings.TrimPrefix(srv.URL, "http://"), token)

	remote, err := cl.Devices(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	local, err := a.Local().Devices(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "Devices before linking", remote, local)
	if len(local) != 1 || local[0].State != api.DevicePrimary || !local[0].ThisDevice || local[0].DeviceID != a.PeerID() {
		t.Fatalf("Devices before linking = %+v, want the primary alone", local)
	}

	code, err := cl.LinkDevice(ctx, api.DeviceLinkInput{Name: "tablet"})
	if err != nil {
		t.Fatalf("LinkDevice over HTTP: %v", err)
	}
	if _, err := parseLinkCode(code.Code); err != nil || code.Practitioner != a.PeerID() || code.Name != "tablet" {
		t.Fatalf("LinkDevice over HTTP = %+v (%v)", code, err)
	}
	if _, err := JoinDevice(ctx, t.TempDir(), code.Code, nil); err != nil {
		t.Fatalf("JoinDevice: %v", err)
	}
	remote, err = cl.Devices(ctx, a.PeerID())
	if err != nil {
		t.Fatal(err)
	}
	local, err = a.Local().Devices(ctx, a.PeerID())
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "Devices after linking", remote, local)
	if len(local) != 2 || local[1].Name != "tablet" || local[1].State != api.DeviceLinked || local[1].LinkedAt == nil || local[1].ThisDevice {
		t.Fatalf("Devices after linking = %+v, want the tablet linked", local)
	}

	for _, tt := range []struct {
		name   string
		call   func() error
		status int
	}{
		{"revoke unknown", func() error { _, err := cl.RevokeDevice(ctx, "phone"); return err }, http.StatusNotFound},
		{"revoke the primary", func() error { _, err := cl.RevokeDevice(ctx, a.PeerID()); return err }, http.StatusBadRequest},
		{"name too long", func() error {
			_, err := cl.LinkDevice(ctx, api.DeviceLinkInput{Name: strings.Repeat("x", mentorship.MaxDeviceName+1)})
			return err
		}, http.StatusBadRequest},
		{"list of a bad peer ID", func() error { _, err := cl.Devices(ctx, "nobody"); return err }, http.StatusBadRequest},
	} {
		if err := tt.call(); apiStatus(err) != tt.status {
			t.Errorf("%s: error %v, want status %d", tt.name, err, tt.status)
		}
	}

	rv, err := cl.RevokeDevice(ctx, "tablet")
	if err != nil || rv.Device.State != api.DeviceRevoked || rv.Device.RevokedAt == nil || rv.Resigned != 0 {
		t.Fatalf("RevokeDevice over HTTP = %+v, %v", rv, err)
	}
	if _, err := cl.RevokeDevice(ctx, "tablet"); err != nil {
		t.Fatalf("revoking again: %v (want it to stand, idempotent)", err)
	}

	// A community joined later gets the device records too, revocation
	// included.
	if _, err := a.Local().JoinCommunity(ctx, "circle"); err != nil {
		t.Fatal(err)
	}
	local, err = a.Local().Devices(ctx, "")
	if err != nil || len(local) != 2 || local[1].State != api.DeviceRevoked || len(local[1].Communities) != 2 || local[1].Communities[1] != "circle" {
		t.Fatalf("Devices after joining circle = %+v, %v; want the tablet revoked in both communities", local, err)
	}

	off, err := OpenOffline(t.TempDir(), "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer off.Close()
	if _, err := off.LinkDevice(ctx, api.DeviceLinkInput{}); apiStatus(err) != http.StatusServiceUnavailable {
		t.Fatalf("LinkDevice offline: %v, want 503", err)
	}
}

// TestPrivateItemsOnlyOnPrimary checks the refusal a linked device gives for
// private pairing items, whose keys derive from the root key it lacks.
func TestPrivateItemsOnlyOnPrimary(t *testing.T) {
	ctx := context.Background()
	a := startTestNode(t)
	code, err := a.Local().LinkDevice(ctx, api.DeviceLinkInput{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := JoinDevice(ctx, dir, code.Code, nil); err != nil {
		t.Fatal(err)
	}
	off, err := OpenOffline(dir, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer off.Close()
	if !off.isDevice() || off.author != authorOfNode(a) {
		t.Fatalf("offline device: isDevice %v author %s, want a device of %s", off.isDevice(), off.author, a.PeerID())
	}
	_, err = off.pairFor(DefaultCommunity, "p1", off.author, authorOfNode(a), mentorship.PairActive)
	if err != errPrivateOnDevice {
		t.Fatalf("pairFor on a linked device = %v, want %v", err, errPrivateOnDevice)
	}
	// The text of pairing records is sealed with the same keys: a device
	// writes records without text, refuses text, and shows none.
	partner := [32]byte(authorOfNode(a))
	partner[0] ^= 1 // any other key: sealing is refused before it is used
	p, err := mentorship.NewProposal(off.author, partner, off.author, [16]byte{1}, time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if sealed, err := off.sealPairText(DefaultCommunity, p, mentorship.PairText{}); err != nil || sealed != nil {
		t.Fatalf("sealPairText(no text) on a linked device = %x, %v; want nothing, nil", sealed, err)
	}
	if _, err := off.sealPairText(DefaultCommunity, p, mentorship.PairText{Message: "Hi"}); err != errPairTextOnDevice {
		t.Fatalf("sealPairText(message) on a linked device = %v, want %v", err, errPairTextOnDevice)
	}
	p.SealedText = make([]byte, 1)
	v := mentorship.PairingView{ID: p.ID(), Mentor: p.Mentor, Mentee: p.Mentee, Proposer: p.Proposer, Proposal: p}
	if got := off.openPairTexts(DefaultCommunity, v); !got[p.Proposer].sealed || got[p.Proposer].text.Message != "" {
		t.Fatalf("openPairTexts on a linked device = %+v, want the proposer's text sealed", got)
	}
	if _, err := off.RevokeDevice(ctx, "linked device"); apiStatus(err) != http.StatusBadRequest {
		t.Fatalf("RevokeDevice on a linked device = %v, want 400", err)
	}
}
