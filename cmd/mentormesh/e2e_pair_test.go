package main_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/internal/harness"
)

// pairingJSON is the stable JSON of `pair show --json` and friends.
type pairingJSON struct {
	ID          string   `json:"id"`
	Community   string   `json:"community"`
	Mentor      string   `json:"mentor"`
	Mentee      string   `json:"mentee"`
	Proposer    string   `json:"proposer"`
	Type        string   `json:"type"`
	MyRole      string   `json:"my_role"`
	PartnerName string   `json:"partner_name"`
	State       string   `json:"state"`
	Actions     []string `json:"actions"`
	Message     string   `json:"message"`
	MentorSide  sideJSON `json:"mentor_side"`
	MenteeSide  sideJSON `json:"mentee_side"`
}

type sideJSON struct {
	Status  string `json:"status"`
	Rating  int    `json:"rating"`
	Comment string `json:"comment"`
}

// waitPairing waits until `pair show ID --json` on n satisfies ok.
func waitPairing(t *testing.T, n *harness.Node, id, what string, ok func(p pairingJSON) bool) pairingJSON {
	t.Helper()
	var got pairingJSON
	start := time.Now()
	harness.WaitFor(t, propagateTimeout, what+" on "+n.Name, func() error {
		r := n.CLI("pair", "show", id, "--json")
		if r.Code != 0 {
			return fmt.Errorf("%v", r)
		}
		got = pairingJSON{}
		if err := r.DecodeJSON(&got); err != nil {
			return err
		}
		if !ok(got) {
			return fmt.Errorf("pairing on %s = %+v", n.Name, got)
		}
		return nil
	})
	t.Logf("%s on %s after %v", what, n.Name, time.Since(start).Round(time.Millisecond))
	return got
}

// TestPairingBetweenTwoNodes: a mentee on node A asks the mentor on node B;
// the request, the acceptance and both sides' feedback travel by gossip.
func TestPairingBetweenTwoNodes(t *testing.T) {
	t.Parallel()
	h := harness.New(t, bin)
	a := h.StartNode(t.TempDir())
	b := h.StartNode(t.TempDir(), "--bootstrap", tcpAddr(t, a))
	a.Name, b.Name = "A", "B"
	waitPeers(t, a, b)
	waitPeers(t, b, a)

	a.MustCLI("profile", "set", "--name", "Mentee Ana")
	mentor := profileJSON{PeerID: b.PeerID, Community: community, Name: "Mentor Bo", Skills: []string{}, Version: 1}
	b.MustCLI("profile", "set", "--name", mentor.Name)
	waitProfile(t, mentor, time.Now(), a)

	var p pairingJSON
	a.MustCLIJSON(&p, "pair", "request", b.PeerID, "--message", "Learn to facilitate consent rounds.", "--json")
	if p.State != "pending" || p.MyRole != "mentee" || p.Mentor != b.PeerID || p.Mentee != a.PeerID || p.PartnerName != "Mentor Bo" {
		t.Fatalf("pair request on A = %+v", p)
	}
	got := waitPairing(t, b, p.ID, "request", func(p pairingJSON) bool { return p.State == "pending" })
	if got.MyRole != "mentor" || got.PartnerName != "Mentee Ana" || !slices.Equal(got.Actions, []string{"accept", "decline"}) ||
		got.Message != "Learn to facilitate consent rounds." {
		t.Errorf("the request as B sees it = %+v", got)
	}

	b.MustCLI("pair", "accept", p.ID)
	waitPairing(t, a, p.ID, "acceptance", func(p pairingJSON) bool { return p.State == "active" })

	a.MustCLI("pair", "complete", p.ID, "--rating", "5", "--comment", "Patient and practical.")
	waitPairing(t, b, p.ID, "completion", func(p pairingJSON) bool {
		return p.State == "completed" && slices.Equal(p.Actions, []string{"complete"})
	})
	b.MustCLI("pair", "complete", p.ID, "--rating", "4", "--comment", "Well prepared every time.")
	for _, n := range []*harness.Node{a, b} {
		done := waitPairing(t, n, p.ID, "both sides' feedback", func(p pairingJSON) bool { return p.MentorSide.Rating != 0 })
		if done.State != "completed" || len(done.Actions) != 0 ||
			done.MenteeSide != (sideJSON{Status: "completed", Rating: 5, Comment: "Patient and practical."}) ||
			done.MentorSide != (sideJSON{Status: "completed", Rating: 4, Comment: "Well prepared every time."}) {
			t.Errorf("the completed pairing on %s = %+v", n.Name, done)
		}
	}
	var list []pairingJSON
	b.MustCLIJSON(&list, "pair", "list", "--state", "completed", "--json")
	if len(list) != 1 || list[0].ID != p.ID {
		t.Errorf("pair list --state completed on B = %+v, want the one pairing", list)
	}
	// An illegal transition is refused with a clear message and exit 1.
	if r := a.CLI("pair", "cancel", p.ID); r.Code != 1 || !strings.Contains(r.Stderr, "it is completed") {
		t.Errorf("pair cancel of a completed pairing: %v", r)
	}
}
