package main_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mentormesh/mentormesh/internal/harness"
)

// JSON output of the resource commands, by their stable field names.
type (
	resourceJSON struct {
		Ref          string   `json:"ref"`
		ID           string   `json:"id"`
		Author       string   `json:"author"`
		AuthorName   string   `json:"author_name"`
		Type         string   `json:"type"`
		Title        string   `json:"title"`
		URL          string   `json:"url"`
		Tags         []string `json:"tags"`
		Language     string   `json:"language"`
		StartsAt     string   `json:"starts_at"`
		Place        string   `json:"place"`
		Endorsements int      `json:"endorsements"`
		EndorsedByMe bool     `json:"endorsed_by_me"`
		Version      uint64   `json:"version"`
		Endorsers    []struct {
			PeerID  string `json:"peer_id"`
			Name    string `json:"name"`
			Comment string `json:"comment"`
		} `json:"endorsers"`
	}
	resourceListJSON struct {
		Total     int            `json:"total"`
		Resources []resourceJSON `json:"resources"`
	}
)

// TestResourcesAcrossNodes: a resource added on one node is found on
// another, endorsed there, and the endorsement counts back on the first;
// mistakes are refused with a clear message and write nothing.
func TestResourcesAcrossNodes(t *testing.T) {
	t.Parallel()
	h := harness.New(t, bin)
	a := h.StartNode(t.TempDir())
	b := h.StartNode(t.TempDir(), "--bootstrap", tcpAddr(t, a))
	a.Name, b.Name = "A", "B"
	waitPeers(t, a, b)
	waitPeers(t, b, a)
	a.MustCLI("profile", "set", "--name", "Ada")
	b.MustCLI("profile", "set", "--name", "Bo")

	out := a.MustCLI("resource", "add", "--type", "guide", "--title", "Consent decision-making, step by step",
		"--url", "https://example.org/consent", "--tag", "Consent", "--tag", "facilitation", "--lang", "en")
	for _, want := range []string{"Consent decision-making, step by step", "type:", "guide", "Ada", "consent, facilitation", "https://example.org/consent"} {
		if !strings.Contains(out, want) {
			t.Errorf("resource add printed:\n%s\nwant it to show %q", out, want)
		}
	}
	var ev resourceJSON
	a.MustCLIJSON(&ev, "resource", "add", "--type", "event", "--title", "Circle meetup", "--text", "Bring a proposal.",
		"--starts", "2026-12-01T18:00Z", "--ends", "2026-12-01T20:00Z", "--place", "Berlin", "--json")
	if ev.Type != "event" || ev.StartsAt != "2026-12-01T18:00:00Z" || ev.Place != "Berlin" || ev.Version != 1 {
		t.Errorf("resource add (event) = %+v, want an event at 2026-12-01T18:00Z in Berlin", ev)
	}

	// B finds the guide by text once it has arrived.
	var guide resourceJSON
	harness.WaitFor(t, propagateTimeout, "the guide on B", func() error {
		var l resourceListJSON
		r := b.CLI("resource", "search", "consent", "--type", "guide", "--json")
		if r.Code != 0 {
			return fmt.Errorf("%v", r)
		}
		if err := r.DecodeJSON(&l); err != nil {
			return err
		}
		if l.Total != 1 {
			return fmt.Errorf("search on B found %d resources: %+v", l.Total, l.Resources)
		}
		guide = l.Resources[0]
		return nil
	})
	if guide.Author != a.PeerID || guide.AuthorName != "Ada" || guide.Title != "Consent decision-making, step by step" {
		t.Errorf("search on B = %+v, want Ada's guide", guide)
	}

	if out := b.MustCLI("resource", "endorse", guide.ID, "--comment", "Clear and practical."); !strings.Contains(out, "1 endorsement") {
		t.Errorf("resource endorse printed %q, want it to say 1 endorsement", out)
	}
	harness.WaitFor(t, propagateTimeout, "the endorsement on A", func() error {
		var d resourceJSON
		r := a.CLI("resource", "show", guide.ID, "--json")
		if r.Code != 0 {
			return fmt.Errorf("%v", r)
		}
		if err := r.DecodeJSON(&d); err != nil {
			return err
		}
		if d.Endorsements != 1 || len(d.Endorsers) != 1 || d.Endorsers[0].Name != "Bo" || d.Endorsers[0].Comment != "Clear and practical." {
			return fmt.Errorf("resource show on A = %+v, want Bo's endorsement", d)
		}
		return nil
	})
	out = a.MustCLI("resource", "list")
	for _, want := range []string{guide.ID + "  [guide] Consent decision-making", "by Ada · 1 endorsement · en · tags: consent, facilitation",
		"[event] Circle meetup", "Berlin"} {
		if !strings.Contains(out, want) {
			t.Errorf("resource list printed:\n%s\nwant it to contain %q", out, want)
		}
	}

	// Mistakes: refused, clearly, and nothing is written.
	var before resourceListJSON
	a.MustCLIJSON(&before, "resource", "list", "--json")
	for _, tt := range []struct {
		node *harness.Node
		args []string
		code int // 0: any non-zero
		want string
	}{
		{a, []string{"resource", "add", "--title", "No type"}, 2, "--type"},
		{a, []string{"resource", "add", "--type", "guide", "--title", "Nowhere"}, 0, "URL or a short text"},
		{a, []string{"resource", "add", "--type", "podcast", "--title", "P", "--url", "https://x.org"}, 0, "unknown type"},
		{a, []string{"resource", "add", "--type", "event", "--title", "E", "--text", "t", "--starts", "tomorrow", "--place", "P"}, 2, "--starts"},
		{a, []string{"resource", "endorse", guide.ID}, 0, "your own"},
		{b, []string{"resource", "rm", guide.ID}, 0, "only its author"},
		{b, []string{"resource", "edit", guide.ID, "--title", "Mine now"}, 0, "only its author"},
		{a, []string{"resource", "show", "nope"}, 0, "not a resource ID"},
		{a, []string{"resource", "show"}, 2, "one resource ID"},
		{a, []string{"resource", "list", "--community", "sociocracy", "--community", "other"}, 2, "one community"},
	} {
		r := tt.node.CLI(tt.args...)
		if r.Code == 0 || (tt.code != 0 && r.Code != tt.code) || !strings.Contains(r.Stderr, tt.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d (0: any failure) and a message mentioning %q",
				strings.Join(tt.args, " "), r.Code, r.Stderr, tt.code, tt.want)
		}
	}
	var after resourceListJSON
	a.MustCLIJSON(&after, "resource", "list", "--json")
	if after.Total != before.Total || after.Resources[0].Version != before.Resources[0].Version {
		t.Errorf("refused commands changed the resources: %+v, then %+v", before, after)
	}

	// Withdraw, delete.
	b.MustCLI("resource", "unendorse", guide.ID)
	a.MustCLI("resource", "rm", guide.ID)
	harness.WaitFor(t, propagateTimeout, "the deletion on B", func() error {
		r := b.CLI("resource", "show", guide.ID)
		if r.Code == 0 || !strings.Contains(r.Stderr, "deleted") {
			return fmt.Errorf("%v", r)
		}
		return nil
	})
}
