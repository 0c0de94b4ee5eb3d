package main

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

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

// countingReader counts the bytes read from an endless stream of 'x'.
type countingReader struct{ n int64 }

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	r.n += int64(len(p))
	return len(p), nil
}

func TestReadPrivateText(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
		code int // 0: no error
	}{
		{"Private note.\n", 4000, "Private note.", 0},
		{"  two\nlines\r\n\n", 4000, "two\nlines", 0},
		{"", 500, "", 0},
		{strings.Repeat("é", 500) + "\n", 500, strings.Repeat("é", 500), 0},
		{strings.Repeat("é", 501), 500, "", 2},
		{strings.Repeat("x", 201), 200, "", 2},
		{strings.Repeat(" ", 5000) + "x", 500, "", 2},
	}
	for _, tt := range tests {
		got, err := readPrivateText(strings.NewReader(tt.in), "text", tt.max)
		code := 0
		var ec cli.ExitCoder
		if errors.As(err, &ec) {
			code = ec.ExitCode()
		} else if err != nil {
			code = -1
		}
		if got != tt.want || code != tt.code {
			t.Errorf("readPrivateText(%.20q..., %d) = %.20q..., exit %d (%v); want %.20q..., exit %d", tt.in, tt.max, got, code, err, tt.want, tt.code)
		}
		if code == 2 && !strings.Contains(err.Error(), fmt.Sprintf("more than %d characters", tt.max)) {
			t.Errorf("readPrivateText over %d: error %q, want it to name the limit", tt.max, err)
		}
	}
	// An endless input is read no further than the limit allows.
	r := &countingReader{}
	if _, err := readPrivateText(r, "notes", 4000); err == nil || r.n > 64<<10 {
		t.Errorf("readPrivateText(endless) read %d bytes, error %v; want an error after at most 64 KiB", r.n, err)
	}
}

// TestPrivateTextFlagFromStdin: "-" reads the flag's text from the app's
// standard input; any other value is the text.
func TestPrivateTextFlagFromStdin(t *testing.T) {
	for _, tt := range []struct{ arg, stdin, want string }{
		{"-", "from stdin\n", "from stdin"},
		{"inline", "unused", "inline"},
	} {
		var got string
		app := &cli.App{
			Reader: strings.NewReader(tt.stdin),
			Flags:  []cli.Flag{&cli.StringFlag{Name: "text"}},
			Action: func(c *cli.Context) (err error) {
				got, err = privateTextFlag(c, "text", 100)
				return err
			},
		}
		if err := app.Run([]string{"mentormesh", "--text", tt.arg}); err != nil || got != tt.want {
			t.Errorf("--text %s with stdin %q = %q, %v; want %q", tt.arg, tt.stdin, got, err, tt.want)
		}
	}
}
