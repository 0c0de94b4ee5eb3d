package main_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/internal/harness"
)

// pairItemsJSON is the stable JSON of `pair items --json`.
type pairItemsJSON struct {
	PairingID string         `json:"pairing_id"`
	State     string         `json:"state"`
	YourRole  string         `json:"your_role"`
	Notes     []pairItemJSON `json:"notes"`
	Goals     []pairItemJSON `json:"goals"`
}

type pairItemJSON struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Author string `json:"author"`
	Role   string `json:"role"`
	Mine   bool   `json:"mine"`
	Text   string `json:"text"`
	Title  string `json:"title"`
}

// privateRecords counts the live records of kind private in a status.
func (s statusJSON) privateRecords() int {
	n := 0
	for _, r := range s.Records {
		if r.Kind == "private" {
			n += r.Records
		}
	}
	return n
}

// TestPrivateNoteReachesPartnerNeverOnlineTogether: A (mentee) and B
// (mentor) pair and A writes a private note, but A and B are never online
// at the same time: each only ever meets C, which stores and relays their
// records (the note included) and cannot read the note.
func TestPrivateNoteReachesPartnerNeverOnlineTogether(t *testing.T) {
	t.Parallel()
	h := harness.New(t, bin)
	dirA, dirB := t.TempDir(), t.TempDir()
	c := h.StartNode(t.TempDir())
	c.Name = "C"
	boot := tcpAddr(t, c)
	start := func(dir, name string) *harness.Node {
		n := h.StartNode(dir, "--bootstrap", boot)
		n.Name = name
		waitPeers(t, n, c)
		return n
	}
	stop := func(n *harness.Node) {
		if !n.Stop() {
			t.Fatalf("%s did not stop", n.Name)
		}
	}

	// 1. A and C: A's profile reaches C.
	a := start(dirA, "A")
	a.MustCLI("profile", "set", "--name", "Mentee Ana")
	waitProfile(t, profileJSON{PeerID: a.PeerID, Community: community, Name: "Mentee Ana", Skills: []string{}, Version: 1}, time.Now(), c)
	stop(a)

	// 2. C and B: B gets A's profile from C and offers to mentor A.
	b := start(dirB, "B")
	waitProfile(t, profileJSON{PeerID: a.PeerID, Community: community, Name: "Mentee Ana", Skills: []string{}, Version: 1}, time.Now(), b)
	var p pairingJSON
	b.MustCLIJSON(&p, "pair", "offer", a.PeerID, "--message", "Consent rounds, together.", "--json")
	waitPairing(t, c, p.ID, "the offer", func(p pairingJSON) bool { return p.State == "pending" })
	stop(b)

	// 3. A and C: A accepts and writes a private note; C stores the note
	// and relays the acceptance, but cannot read the note.
	a = start(dirA, "A")
	waitPairing(t, a, p.ID, "the offer", func(p pairingJSON) bool { return p.State == "pending" })
	a.MustCLI("pair", "accept", p.ID)
	const text = "Private: I want to work on holding silence in rounds."
	// The note goes on standard input (--text -), not in the arguments
	// (which the process list and shell history show).
	var note pairItemJSON
	r := a.CLIInput(text+"\n", "pair", "note", "add", p.ID, "--text", "-", "--json")
	if err := r.DecodeJSON(&note); r.Code != 0 || err != nil {
		t.Fatalf("%v\ndecoding: %v", r, err)
	}
	if note.Type != "note" || note.Role != "mentee" || !note.Mine || note.Text != text {
		t.Fatalf("pair note add --text - on A = %+v", note)
	}
	if r := a.CLIInput(strings.Repeat("x", 501), "pair", "contact", "set", p.ID, "--text", "-"); r.Code != 2 ||
		!strings.Contains(r.Stderr, "--text -: standard input holds more than 500 characters") {
		t.Errorf("pair contact set with 501 characters on standard input: %v\nwant exit 2 naming the limit", r)
	}
	waitPairing(t, c, p.ID, "the acceptance", func(p pairingJSON) bool { return p.State == "active" })
	harness.WaitFor(t, propagateTimeout, "the private note stored on C", func() error {
		var st statusJSON
		c.MustCLIJSON(&st, "status", "--json")
		if n := st.privateRecords(); n != 1 {
			return fmt.Errorf("C stores %d private records, want 1", n)
		}
		return nil
	})
	if r := c.CLI("pair", "items", p.ID); r.Code != 1 || !strings.Contains(r.Stderr, "you are not a party to this pairing") || strings.Contains(r.Stdout+r.Stderr, text) {
		t.Errorf("pair items on C: %v\nwant exit 1 saying C is not a party, without the note", r)
	}
	stop(a)

	// 4. C and B: B reads the note, written while B was offline, by a
	// node B has never been connected to.
	b = start(dirB, "B")
	if !a.Exited() {
		t.Fatal("A is still running")
	}
	var items pairItemsJSON
	harness.WaitFor(t, propagateTimeout, "A's note on B", func() error {
		r := b.CLI("pair", "items", p.ID, "--json")
		if r.Code != 0 {
			return fmt.Errorf("%v", r)
		}
		items = pairItemsJSON{}
		if err := r.DecodeJSON(&items); err != nil {
			return err
		}
		if items.State != "active" || len(items.Notes) != 1 {
			return fmt.Errorf("B's items = %+v", items)
		}
		return nil
	})
	if n := items.Notes[0]; n.ID != note.ID || n.Text != text || n.Author != a.PeerID || n.Role != "mentee" || n.Mine || items.YourRole != "mentor" {
		t.Errorf("the note on B = %+v (items %+v)", n, items)
	}
	if out := b.MustCLI("pair", "items", p.ID); !strings.Contains(out, text) || !strings.Contains(out, "by mentee") {
		t.Errorf("pair items on B shows:\n%s\nwant the note, by the mentee", out)
	}
}
