package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/node/api"
)

func TestPairPrivateUsageErrors(t *testing.T) {
	dir := t.TempDir()
	id := strings.Repeat("ab", 16)
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"pair", "goal", "add", "--title", "T"}, 2, "pair goal add takes PAIRING_ID"},
		{[]string{"pair", "goal", "add", id}, 1, `"title" not set`},
		{[]string{"pair", "goal", "add", id, "--title", "T", "--due", "31/12/2026"}, 2, `--due "31/12/2026": want a date as YYYY-MM-DD`},
		{[]string{"pair", "goal", "set", id}, 2, "pair goal set takes PAIRING_ID and GOAL_ID"},
		{[]string{"pair", "goal", "set", id, id}, 2, "nothing to change"},
		{[]string{"pair", "session", "log", id, "--date", "2026-11-20", "--duration", "61s"}, 2, "want whole minutes"},
		{[]string{"pair", "session", "log", id, "--date", "tomorrow", "--duration", "60m"}, 2, `--date "tomorrow"`},
		{[]string{"pair", "note", "add", id, "x", "--text", "T"}, 2, "pair note add takes PAIRING_ID"},
		{[]string{"pair", "contact", "set", id, "--text", "T", "--community", "a", "--community", "b"}, 2, "takes one --community"},
		{[]string{"pair", "items"}, 2, "pair items takes PAIRING_ID"},
		{[]string{"pair", "items", "xyz"}, 1, `"xyz" is not a pairing ID`},
		{[]string{"pair", "items", id}, 1, "no pairing " + id},
		{[]string{"pair", "note", "add", id, "--text", "T"}, 1, "no pairing " + id},
	}
	for _, tt := range tests {
		_, stderr, code := runCLI(t, dir, tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("mentormesh %s: exit %d, stderr %q; want exit %d with %q", strings.Join(tt.args, " "), code, stderr, tt.code, tt.want)
		}
	}
}

func TestParseSessionFlags(t *testing.T) {
	local := func(y int, m time.Month, d, h, min int) time.Time {
		return time.Date(y, m, d, h, min, 0, 0, time.Local)
	}
	for in, want := range map[string]time.Time{
		"2026-11-20":                time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
		" 2026-11-20 ":              time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
		"2026-11-20 15:04":          local(2026, 11, 20, 15, 4),
		"2026-11-20T15:04":          local(2026, 11, 20, 15, 4),
		"2026-11-20T15:04:05+02:00": time.Date(2026, 11, 20, 13, 4, 5, 0, time.UTC),
	} {
		if got, err := parseSessionDate(in); err != nil || !got.Equal(want) {
			t.Errorf("parseSessionDate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "20/11/2026", "2026-13-01", "now"} {
		if got, err := parseSessionDate(in); err == nil {
			t.Errorf("parseSessionDate(%q) = %v, want an error", in, got)
		}
	}
	for in, want := range map[string]int{"60m": 60, "1h30m": 90, "90": 90, " 45 ": 45, "24h": 1440, "0": 0, "25h": 1500} {
		if got, err := parseSessionMinutes(in); err != nil || got != want {
			t.Errorf("parseSessionMinutes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "90s", "1.5", "an hour", "1h0m30s"} {
		if got, err := parseSessionMinutes(in); err == nil {
			t.Errorf("parseSessionMinutes(%q) = %d, want an error", in, got)
		}
	}
}

func TestPrintPairItems(t *testing.T) {
	due := time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	at := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	items := api.PairItems{
		Community: "sociocracy", PairingID: "0123456789abcdef0123456789abcdef", State: "active",
		Mentor: "PEER-A", Mentee: "PEER-B", YourRole: "mentee",
		Goals:      []api.PairItem{{ID: "g1", Type: "goal", Role: "mentor", Title: "Facilitate", Status: "open", Due: &due, UpdatedAt: at}},
		Sessions:   []api.PairItem{{ID: "s1", Type: "session", Role: "mentee", Mine: true, Date: &day, DurationMinutes: 60, Text: "Line one\nline two", UpdatedAt: at}},
		Notes:      []api.PairItem{},
		Contacts:   []api.PairItem{{ID: "c1", Type: "contact", Role: "mentor", Text: "ada@example.org", UpdatedAt: at}},
		Unreadable: 1,
	}
	var b bytes.Buffer
	printPairItems(&b, items)
	out := b.String()
	for _, want := range []string{
		"Pairing 0123456789abcdef0123456789abcdef in sociocracy (active)",
		"mentor: PEER-A\n", "mentee: PEER-B (you)\n",
		"Goals (1)\n  [open] Facilitate, due 2026-12-31\n      by mentor, id g1",
		"Sessions (1)\n  2026-11-20, 60 min, by mentee (you), id s1\n      Line one\n      line two",
		"Notes (0)",
		"Contact details (1)\n  by mentor, ", "\n      ada@example.org",
		"1 item(s) of this pairing could not be read",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("printPairItems output lacks %q:\n%s", want, out)
		}
	}
}
