package main_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/mentormesh/mentormesh/internal/harness"
)

// cliJSON runs a command with --json on n and decodes its output into a
// generic value.
func cliJSON[T any](t *testing.T, n *harness.Node, args ...string) T {
	t.Helper()
	var v T
	n.MustCLIJSON(&v, append(args, "--json")...)
	return v
}

// digestOf returns n's digest of the default community.
func digestOf(t *testing.T, n *harness.Node) string {
	t.Helper()
	var st struct {
		Digests map[string]string `json:"digests"`
	}
	n.MustCLIJSON(&st, "status", "--json")
	return st.Digests[community]
}

// refusedNoChange runs a command that must fail with a message containing
// want, and checks that n's records did not change.
func refusedNoChange(t *testing.T, n *harness.Node, want string, args ...string) {
	t.Helper()
	before := digestOf(t, n)
	r := n.CLI(args...)
	if r.Code == 0 || !strings.Contains(r.Stderr, want) {
		t.Fatalf("%s: want a refusal mentioning %q\n%v", strings.Join(args, " "), want, r)
	}
	if after := digestOf(t, n); after != before {
		t.Errorf("%s was refused but changed %s's records", strings.Join(args, " "), n.Name)
	}
}

// TestMentorshipScenario is issue 4's scenario across three real nodes:
// profiles, a ranked mentor search, request -> accept -> goals, sessions
// and a private note -> complete with feedback, a note the third node
// stores but cannot read, resources added, endorsed and found, statistics
// that add up, and bad input refused without changing anything.
func TestMentorshipScenario(t *testing.T) {
	t.Parallel()
	h := harness.New(t, bin)
	a := h.StartNode(t.TempDir())
	boot := tcpAddr(t, a)
	b := h.StartNode(t.TempDir(), "--bootstrap", boot)
	c := h.StartNode(t.TempDir(), "--bootstrap", boot)
	a.Name, b.Name, c.Name = "A (mentee Sam)", "B (mentor Amara)", "C (mentor Jonas)"
	waitPeers(t, a, b, c)
	waitPeers(t, b, a)
	waitPeers(t, c, a)
	nodes := []*harness.Node{a, b, c}
	converged := func(what string) {
		t.Helper()
		harness.WaitFor(t, propagateTimeout, what, func() error {
			da, db, dc := digestOf(t, a), digestOf(t, b), digestOf(t, c)
			if da != db || db != dc {
				return fmt.Errorf("digests differ: %s %s %s", da, db, dc)
			}
			return nil
		})
	}

	// Profiles.
	a.MustCLI("profile", "set", "--name", "Sam", "--lang", "en", "--tz", "Europe/London",
		"--role", "mentee", "--interest", "facilitation")
	b.MustCLI("profile", "set", "--name", "Amara", "--lang", "en", "--tz", "Europe/Berlin",
		"--skill", "facilitation", "--skill", "consent decision-making", "--role", "mentor",
		"--capacity", "2", "--experience", "trainer")
	c.MustCLI("profile", "set", "--name", "Jonas", "--lang", "de", "--tz", "America/New_York",
		"--skill", "facilitation", "--role", "mentor", "--capacity", "1", "--experience", "practising")
	converged("profiles everywhere")

	// A mentor search on A ranks Amara (both skills, shared language, close
	// time zone, more experience) above Jonas, with reasons.
	type match struct {
		PeerID  string  `json:"peer_id"`
		Score   float64 `json:"score"`
		Reasons []struct {
			Text string `json:"text"`
		} `json:"reasons"`
	}
	found := cliJSON[struct {
		Mentors []match `json:"mentors"`
	}](t, a, "mentor", "find", "--skill", "facilitation", "--skill", "consent decision-making")
	if len(found.Mentors) != 2 || found.Mentors[0].PeerID != b.PeerID || found.Mentors[1].PeerID != c.PeerID ||
		found.Mentors[0].Score <= found.Mentors[1].Score || len(found.Mentors[0].Reasons) == 0 {
		t.Fatalf("mentor find on A: %+v, want Amara then Jonas, with reasons", found.Mentors)
	}

	// Request -> accept.
	req := cliJSON[pairingJSON](t, a, "pair", "request", b.PeerID, "--message", "Help me facilitate consent rounds")
	waitPairing(t, b, req.ID, "request", func(p pairingJSON) bool { return p.State == "pending" })
	b.MustCLI("pair", "accept", req.ID)
	waitPairing(t, a, req.ID, "acceptance", func(p pairingJSON) bool { return p.State == "active" })

	// Goals, a session and a private note, from both sides.
	const secret = "I freeze when someone objects"
	a.MustCLI("pair", "goal", "add", req.ID, "--title", "Facilitate a consent round")
	b.MustCLI("pair", "session", "log", req.ID, "--date", "2026-11-20", "--duration", "60m", "--notes", "Practised the rounds")
	a.MustCLI("pair", "note", "add", req.ID, "--text", secret)
	type itemsJSON struct {
		Goals    []struct{ Title string } `json:"goals"`
		Sessions []struct {
			DurationMinutes int `json:"duration_minutes"`
		} `json:"sessions"`
		Notes []struct{ Text string } `json:"notes"`
	}
	harness.WaitFor(t, propagateTimeout, "B to read the pairing's items", func() error {
		r := b.CLI("pair", "items", req.ID, "--json")
		var it itemsJSON
		if r.Code != 0 || r.DecodeJSON(&it) != nil {
			return fmt.Errorf("%v", r)
		}
		if len(it.Goals) != 1 || len(it.Sessions) != 1 || len(it.Notes) != 1 || it.Notes[0].Text != secret ||
			it.Sessions[0].DurationMinutes != 60 {
			return fmt.Errorf("items on B: %+v", it)
		}
		return nil
	})

	// C holds the sealed records but cannot read them.
	converged("private items everywhere")
	if r := c.CLI("pair", "items", req.ID); r.Code == 0 || !strings.Contains(r.Stderr, "not a party") {
		t.Errorf("pair items on the third node: want a refusal, got %v", r)
	}
	var export struct {
		Records []struct {
			Kind   string `json:"kind"`
			Signed string `json:"signed"`
		} `json:"records"`
	}
	c.MustCLIJSON(&export, "export", "--all", "--out", "-")
	sealed := 0
	for _, rec := range export.Records {
		raw, err := base64.StdEncoding.DecodeString(rec.Signed)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), secret) || strings.Contains(string(raw), "Facilitate a consent round") {
			t.Fatalf("a %s record on C contains the pair's plaintext", rec.Kind)
		}
		if rec.Kind == "private" {
			sealed++
		}
	}
	if sealed != 3 {
		t.Errorf("C stores %d sealed items, want 3 (goal, session, note)", sealed)
	}

	// Complete with feedback on both sides; C sees it, and Amara's profile
	// shows the outcome.
	a.MustCLI("pair", "complete", req.ID, "--rating", "5", "--comment", "Patient and practical")
	b.MustCLI("pair", "complete", req.ID, "--rating", "4", "--comment", "Well prepared")
	waitPairing(t, c, req.ID, "completion", func(p pairingJSON) bool {
		return p.State == "completed" && p.MenteeSide.Rating == 5 && p.MentorSide.Rating == 4
	})
	amara := cliJSON[struct {
		Mentorships struct {
			CompletedAsMentor int     `json:"completed_as_mentor"`
			AverageRating     float64 `json:"average_rating"`
		} `json:"mentorships"`
	}](t, c, "profile", "show", b.PeerID)
	if amara.Mentorships.CompletedAsMentor != 1 || amara.Mentorships.AverageRating != 5 {
		t.Errorf("Amara's profile on C: %+v, want 1 completed, average 5", amara.Mentorships)
	}

	// Resources: added on B, endorsed on C, found on A.
	res := cliJSON[struct {
		ID string `json:"id"`
	}](t, b, "resource", "add", "--type", "guide", "--title", "Consent decision-making, step by step",
		"--url", "https://example.org/consent", "--tag", "consent decision-making", "--lang", "en")
	converged("the resource everywhere")
	c.MustCLI("resource", "endorse", res.ID, "--comment", "Clear and practical")
	converged("the endorsement everywhere")
	search := cliJSON[struct {
		Resources []struct {
			ID           string `json:"id"`
			Endorsements int    `json:"endorsements"`
		} `json:"resources"`
	}](t, a, "resource", "search", "consent")
	if len(search.Resources) != 1 || search.Resources[0].ID != res.ID || search.Resources[0].Endorsements != 1 {
		t.Errorf("resource search on A: %+v, want the guide with 1 endorsement", search.Resources)
	}

	// Bad input changes nothing.
	refusedNoChange(t, a, "no profile", "pair", "request", "12D3KooWQ8sMSbDGRTNo1xvJYpZ5pKvx2VE6ZgnwyDy4PcjEsX8K")
	refusedNoChange(t, a, "at most 80", "profile", "set", "--name", strings.Repeat("x", 81))
	refusedNoChange(t, b, "completed", "pair", "accept", req.ID)
	refusedNoChange(t, a, "needs --type and --title", "resource", "add", "--type", "guide", "--url", "https://example.org/x")
	// Jonas (capacity 1) takes Sam, then cannot take Amara too.
	toJonas := cliJSON[pairingJSON](t, a, "pair", "request", c.PeerID)
	fromAmara := cliJSON[pairingJSON](t, b, "pair", "request", c.PeerID)
	waitPairing(t, c, fromAmara.ID, "Amara's request", func(p pairingJSON) bool { return p.State == "pending" })
	waitPairing(t, c, toJonas.ID, "Sam's request", func(p pairingJSON) bool { return p.State == "pending" })
	c.MustCLI("pair", "accept", toJonas.ID)
	refusedNoChange(t, c, "capacity", "pair", "accept", fromAmara.ID)
	converged("the last pairings everywhere")

	// Statistics add up, on every node alike.
	type statsJSON struct {
		Practitioners int `json:"practitioners"`
		Mentors       int `json:"mentors"`
		Pairings      struct {
			Pending   *int `json:"pending"`
			Active    int  `json:"active"`
			Completed int  `json:"completed"`
		} `json:"pairings"`
		Ratings       int            `json:"ratings"`
		AverageRating float64        `json:"average_rating"`
		Resources     map[string]int `json:"resources"`
	}
	var first []byte
	for _, n := range nodes {
		st := cliJSON[statsJSON](t, n, "stats")
		if st.Practitioners != 3 || st.Mentors != 2 || st.Pairings.Active != 1 || st.Pairings.Completed != 1 ||
			st.Pairings.Pending == nil || *st.Pairings.Pending != 1 || st.Ratings != 2 || st.AverageRating != 4.5 ||
			st.Resources["guide"] != 1 {
			t.Errorf("stats on %s: %+v", n.Name, st)
		}
		b, _ := json.Marshal(st)
		if first == nil {
			first = b
		} else if string(b) != string(first) {
			t.Errorf("stats differ between nodes: %s vs %s", b, first)
		}
	}
}
