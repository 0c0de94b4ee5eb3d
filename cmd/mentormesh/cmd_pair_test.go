package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mentormesh/mentormesh/node/api"
)

// runCLI runs the app in process against a fresh data directory.
func runCLI(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	app := newApp(&out, &errOut)
	full := append([]string{"mentormesh", "--data-dir", dir, "--log-level", "error"}, args...)
	err := app.RunContext(context.Background(), hoistFlags(app, full))
	var ec cli.ExitCoder
	switch {
	case err == nil:
	case errors.As(err, &ec):
		code = ec.ExitCode()
		errOut.WriteString(err.Error())
	default:
		code = 1
		errOut.WriteString(err.Error())
	}
	return out.String(), errOut.String(), code
}

func TestPairUsageErrors(t *testing.T) {
	dir := t.TempDir()
	peer := "12D3KooWPFJ2JvZtCiDgM6ReqArCuVr9AoKYEBVjE86NNT9KSMoj"
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"pair", "request"}, 2, "pair request takes one PEER_ID"},
		{[]string{"pair", "offer", "a", "b"}, 2, "pair offer takes one PEER_ID"},
		{[]string{"pair", "accept"}, 2, "pair accept takes one pairing ID"},
		{[]string{"pair", "complete", strings.Repeat("a", 32), "--rating", "0"}, 2, "--rating 0: give 1 (poor) to 5 (excellent)"},
		{[]string{"pair", "show"}, 2, "pair show takes one pairing ID"},
		{[]string{"pair", "list", "x"}, 2, "pair list takes no arguments"},
		{[]string{"pair", "list", "--community", "a", "--community", "b"}, 2, "pair list takes one --community"},
		{[]string{"pair", "request", peer}, 1, "no profile of " + peer},
		{[]string{"pair", "show", "xyz"}, 1, "\"xyz\" is not a pairing ID"},
		{[]string{"pair", "cancel", strings.Repeat("a", 32)}, 1, "no pairing " + strings.Repeat("a", 32) + " on this node"},
		{[]string{"pair", "list", "--state", "open"}, 1, "unknown state \"open\""},
	}
	for _, tt := range tests {
		_, stderr, code := runCLI(t, dir, tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("mentormesh %s: exit %d, stderr %q; want exit %d with %q", strings.Join(tt.args, " "), code, stderr, tt.code, tt.want)
		}
	}
	out, _, code := runCLI(t, dir, "pair", "list")
	if code != 0 || !strings.Contains(out, "No pairings yet") {
		t.Errorf("pair list on an empty store: exit %d, %q", code, out)
	}
	out, _, code = runCLI(t, dir, "pair", "list", "--json")
	if code != 0 || strings.TrimSpace(out) != "[]" {
		t.Errorf("pair list --json on an empty store: exit %d, %q; want []", code, out)
	}
}

func TestPrintPairing(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	exp := at.Add(30 * 24 * time.Hour)
	p := api.Pairing{
		ID: "0123456789abcdef0123456789abcdef", Community: "sociocracy",
		Mentor: "PEER-A", Mentee: "PEER-B", Proposer: "PEER-B", Type: "request",
		MyRole: "mentor", Partner: "PEER-B", PartnerName: "Ben",
		State: "pending", Actions: []string{"accept", "decline"},
		Message: "Learn consent rounds.\nAnd selection.", ExpiresAt: &exp, CreatedAt: &at,
		MentorSide: api.PairingSide{PeerID: "PEER-A", Name: "Ada", Status: "none"},
		MenteeSide: api.PairingSide{PeerID: "PEER-B", Name: "Ben", Status: "proposed"},
	}
	var b bytes.Buffer
	printPairing(&b, p)
	for _, want := range []string{
		"Pairing 0123456789abcdef0123456789abcdef (sociocracy)",
		"state:    pending: waiting for your answer",
		"mentor:   you, Ada (PEER-A): no answer yet",
		"mentee:   Ben (PEER-B): proposed",
		"proposed: by the mentee (a request) on " + localTime(at) + "; unanswered, it expires on " + localTime(exp),
		"message:  Learn consent rounds.\n            And selection.",
		"next:     'mentormesh pair accept 0123456789abcdef0123456789abcdef' or 'mentormesh pair decline 0123456789abcdef0123456789abcdef'",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("printPairing output lacks %q:\n%s", want, b.String())
		}
	}

	p.State, p.Actions = "completed", []string{}
	p.MentorSide = api.PairingSide{PeerID: "PEER-A", Name: "Ada", Status: "completed", Rating: 4}
	p.MenteeSide = api.PairingSide{PeerID: "PEER-B", Name: "Ben", Status: "completed", Rating: 5, Comment: "Thank you.\nReally."}
	b.Reset()
	printPairing(&b, p)
	for _, want := range []string{
		"state:    completed\n",
		"feedback from the mentor: 4/5\n",
		"feedback from the mentee: 5/5\n    Thank you.\n    Really.\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("printPairing(completed) output lacks %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "next:") || strings.Contains(b.String(), "expires") {
		t.Errorf("printPairing(completed) shows a next step or an expiry:\n%s", b.String())
	}
}

func TestPairLabels(t *testing.T) {
	base := api.Pairing{Mentor: "A", Mentee: "B", Partner: "B", PartnerName: "Ben", MyRole: "mentor",
		MentorSide: api.PairingSide{PeerID: "A", Name: "Ada"}, MenteeSide: api.PairingSide{PeerID: "B"}}
	tests := []struct {
		name        string
		mod         func(p *api.Pairing)
		state, role string
	}{
		{"incoming", func(p *api.Pairing) { p.State, p.Actions = "pending", []string{"accept", "decline"} }, "pending: waiting for your answer", "you mentor Ben (B)"},
		{"outgoing", func(p *api.Pairing) { p.State, p.Actions = "pending", []string{"cancel"} }, "pending: waiting for their answer", "you mentor Ben (B)"},
		{"feedback due", func(p *api.Pairing) { p.State, p.Actions = "completed", []string{"complete"} }, "completed: you have not left your feedback yet", "you mentor Ben (B)"},
		{"mentee, no profile", func(p *api.Pairing) { p.State, p.MyRole, p.Partner, p.PartnerName = "active", "mentee", "A", "" }, "active", "A mentors you"},
		{"someone else's", func(p *api.Pairing) { p.State, p.MyRole, p.Partner, p.PartnerName = "pending", "", "", "" }, "pending", "Ada (A) mentors B"},
		{"expired", func(p *api.Pairing) { p.State = "expired" }, "expired: not answered in time", "you mentor Ben (B)"},
	}
	for _, tt := range tests {
		p := base
		tt.mod(&p)
		if got := stateLabel(p); got != tt.state {
			t.Errorf("%s: stateLabel = %q, want %q", tt.name, got, tt.state)
		}
		if got := roleLine(p); got != tt.role {
			t.Errorf("%s: roleLine = %q, want %q", tt.name, got, tt.role)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"short", "short"},
		{"two\nlines", "two …"},
		{strings.Repeat("é", 80), strings.Repeat("é", 71) + "…"},
	} {
		if got := shorten(tt.in, 72); got != tt.want {
			t.Errorf("shorten(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
