package main_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/internal/harness"
)

// catchUpStatus is the part of `status --json` that catch-up fills in.
type catchUpStatus struct {
	Digests map[string]string `json:"digests"`
	CatchUp []struct {
		PeerID         string `json:"peer_id"`
		Community      string `json:"community"`
		OwnRecordsOnly bool   `json:"own_records_only"`
		Pulled         int    `json:"pulled"`
		Error          string `json:"error"`
	} `json:"catch_up"`
}

// TestLateJoinerCatchesUp: profiles written before a node existed reach it
// when it joins, by catch-up (gossip delivered them long before), and
// `status` shows the session and equal digests on all nodes.
func TestLateJoinerCatchesUp(t *testing.T) {
	t.Parallel()
	h := harness.New(t, bin)
	a := h.StartNode(t.TempDir())
	b := h.StartNode(t.TempDir(), "--bootstrap", tcpAddr(t, a))
	waitPeers(t, a, b)
	a.MustCLI("profile", "set", "--name", "Ada", "--skill", "facilitation")
	b.MustCLI("profile", "set", "--name", "Bea", "--bio", "Circle lead")
	waitProfile(t, profileJSON{PeerID: b.PeerID, Community: community, Name: "Bea", Bio: "Circle lead", Skills: []string{}, Version: 1}, time.Now(), a)

	c := h.StartNode(t.TempDir(), "--bootstrap", tcpAddr(t, a))
	start := time.Now()
	waitProfile(t, profileJSON{PeerID: a.PeerID, Community: community, Name: "Ada", Skills: []string{"facilitation"}, Version: 1}, start, c)
	waitProfile(t, profileJSON{PeerID: b.PeerID, Community: community, Name: "Bea", Bio: "Circle lead", Skills: []string{}, Version: 1}, start, c)

	harness.WaitFor(t, propagateTimeout, "equal digests and a catch-up session on c", func() error {
		var sa, sc catchUpStatus
		a.MustCLIJSON(&sa, "status", "--json")
		c.MustCLIJSON(&sc, "status", "--json")
		if sa.Digests[community] == "" || sa.Digests[community] != sc.Digests[community] {
			return fmt.Errorf("digests a=%q c=%q", sa.Digests[community], sc.Digests[community])
		}
		pulled := 0
		for _, cu := range sc.CatchUp {
			if cu.PeerID == a.PeerID && cu.Community == community && !cu.OwnRecordsOnly {
				if cu.Error != "" {
					return fmt.Errorf("catch-up error: %s", cu.Error)
				}
				pulled = cu.Pulled
			}
		}
		if pulled < 1 {
			return fmt.Errorf("c's status shows no community catch-up with a that pulled records: %+v", sc.CatchUp)
		}
		return nil
	})
	if out := c.MustCLI("status"); !strings.Contains(out, "catch-up") || !strings.Contains(out, a.PeerID) {
		t.Errorf("status text does not show the catch-up session with a:\n%s", out)
	}
}
