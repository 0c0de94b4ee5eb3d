package main_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mentormesh/mentormesh/internal/harness"
)

type deviceJSON struct {
	DeviceID   string  `json:"device_id"`
	Name       string  `json:"name"`
	State      string  `json:"state"`
	LinkedAt   *string `json:"linked_at"`
	RevokedAt  *string `json:"revoked_at"`
	ThisDevice bool    `json:"this_device"`
}

// deviceState returns the state of the device called name in n's
// `device list PEER --json`, "" if it is not listed.
func deviceState(t *testing.T, n *harness.Node, peerID, name string) (string, error) {
	t.Helper()
	r := n.CLI("device", "list", peerID, "--json")
	if r.Code != 0 {
		return "", fmt.Errorf("%v", r)
	}
	var devs []deviceJSON
	if err := r.DecodeJSON(&devs); err != nil {
		return "", err
	}
	for _, d := range devs {
		if d.Name == name {
			return d.State, nil
		}
	}
	return "", nil
}

// profileNameVersion returns the name and version of peerID's profile on n.
func profileNameVersion(n *harness.Node, peerID string) (string, int, error) {
	r := n.CLI("profile", "show", peerID, "--json")
	if r.Code != 0 {
		return "", 0, fmt.Errorf("%v", r)
	}
	var p struct {
		Name    string `json:"name"`
		Version int    `json:"version"`
	}
	err := r.DecodeJSON(&p)
	return p.Name, p.Version, err
}

// TestDeviceLinkWriteRevoke runs the device lifecycle with the real binary
// on three nodes: A links a laptop (A2) with `device link` / `device join`,
// A2 writes Ada's profile and B shows it as Ada's, A revokes A2 and B keeps
// the profile (signed again by A) while A2 can no longer write as Ada.
func TestDeviceLinkWriteRevoke(t *testing.T) {
	t.Parallel()
	h := harness.New(t, bin)
	a := h.StartNode(t.TempDir())
	b := h.StartNode(t.TempDir(), "--bootstrap", tcpAddr(t, a))
	a.Name, b.Name = "A", "B"
	waitPeers(t, b, a)
	a.MustCLI("profile", "set", "--name", "Ada")

	var code struct {
		Code         string `json:"code"`
		Practitioner string `json:"practitioner"`
	}
	a.MustCLIJSON(&code, "device", "link", "--name", "laptop", "--json")
	if code.Practitioner != a.PeerID || !strings.HasPrefix(code.Code, "mmlink1-") {
		t.Fatalf("device link = %+v, want a code for %s", code, a.PeerID)
	}
	dirA2 := t.TempDir()
	var joined struct {
		Practitioner string `json:"practitioner"`
		Device       string `json:"device"`
		Records      int    `json:"records"`
	}
	h.MustRunJSON(&joined, nil, "--data-dir", dirA2, "device", "join", code.Code, "--json")
	if joined.Practitioner != a.PeerID || joined.Records < 2 {
		t.Fatalf("device join = %+v, want Ada's records", joined)
	}
	if r := h.Run(nil, "--data-dir", t.TempDir(), "device", "join", code.Code); r.Code != 1 || !strings.Contains(r.Stderr, "unknown, used or expired") {
		t.Fatalf("reusing the code: %v; want exit 1 saying it is used", r)
	}

	a2 := h.StartNode(dirA2, "--bootstrap", tcpAddr(t, a))
	a2.Name = "A2"
	if a2.PeerID != a.PeerID || a2.DeviceID != joined.Device {
		t.Fatalf("A2 id = %+v, want practitioner %s, device %s", a2.Identity, a.PeerID, joined.Device)
	}
	a2.MustCLI("profile", "set", "--name", "Ada on the laptop")
	harness.WaitFor(t, connectTimeout, "B to show A2's profile as Ada's, and list the laptop", func() error {
		name, v, err := profileNameVersion(b, a.PeerID)
		if err != nil || name != "Ada on the laptop" || v != 2 {
			return fmt.Errorf("profile on B: %q version %d (%v)", name, v, err)
		}
		if st, err := deviceState(t, b, a.PeerID, "laptop"); st != "linked" {
			return fmt.Errorf("laptop on B: %q (%v)", st, err)
		}
		return nil
	})

	out := a.MustCLI("device", "revoke", "laptop")
	if !strings.Contains(out, "1 of your records") {
		t.Fatalf("device revoke printed %q, want one record signed again", out)
	}
	harness.WaitFor(t, connectTimeout, "B to learn of the revocation and keep Ada's profile", func() error {
		if st, err := deviceState(t, b, a.PeerID, "laptop"); st != "revoked" {
			return fmt.Errorf("laptop on B: %q (%v)", st, err)
		}
		name, v, err := profileNameVersion(b, a.PeerID)
		if err != nil || name != "Ada on the laptop" || v != 3 {
			return fmt.Errorf("profile on B: %q version %d (%v)", name, v, err)
		}
		return nil
	})
	harness.WaitFor(t, connectTimeout, "A2 to learn of its revocation", func() error {
		if st, err := deviceState(t, a2, "", "laptop"); st != "revoked" {
			return fmt.Errorf("laptop on A2: %q (%v)", st, err)
		}
		return nil
	})
	if r := a2.CLI("profile", "set", "--name", "Stolen laptop"); r.Code != 1 || !strings.Contains(r.Stderr, "revoked") {
		t.Fatalf("profile set on the revoked device: %v; want exit 1 saying it was revoked", r)
	}
	if name, _, err := profileNameVersion(b, a.PeerID); err != nil || name != "Ada on the laptop" {
		t.Fatalf("profile on B after the revoked write: %q (%v)", name, err)
	}
}
