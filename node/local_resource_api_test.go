package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/sync/record"
)

// openResourceTestLocalLike opens a fresh data directory with like's identity, so
// two stores answer as the same person.
func openResourceTestLocalLike(t *testing.T, like *Local) *Local {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{like.paths.KeyFile(), like.paths.TokenFile()} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	off, err := OpenOffline(dir, "test", nil)
	if err != nil {
		t.Fatalf("OpenOffline: %v", err)
	}
	t.Cleanup(func() {
		if err := off.Close(); err != nil {
			t.Errorf("closing store: %v", err)
		}
	})
	return off.Local
}

// resourceStep is one operation's outcome as JSON, with what legitimately
// differs between two stores (random IDs of new resources, write times)
// replaced.
type resourceStep struct {
	op, out string
}

// runResourceSequence performs the same resource operations on any
// backend. theirs is a resource by someone else that the store holds.
func runResourceSequence(t *testing.T, b api.Backend, theirs api.Resource) []resourceStep {
	t.Helper()
	ctx := context.Background()
	start := time.Now().Add(-time.Second)
	ids := map[string]string{} // random ID -> placeholder
	var steps []resourceStep
	var resources []api.Resource
	add := func(op string, v any, err error) {
		recent := func(tm *time.Time) {
			if tm.Before(start) || tm.After(time.Now().Add(time.Second)) {
				t.Errorf("%s: time %v is not the time of the write", op, tm)
			}
			*tm = time.Time{}
		}
		fixRes := func(r *api.Resource) {
			if r.Author != theirs.Author {
				recent(&r.UpdatedAt)
			}
		}
		if err != nil {
			v = nil
		}
		switch x := v.(type) {
		case nil:
		case api.Resource:
			fixRes(&x)
			v = x
		case api.ResourceDetail:
			fixRes(&x.Resource)
			for i := range x.Endorsers {
				recent(&x.Endorsers[i].At)
			}
			v = x
		case api.ResourceList:
			for i := range x.Resources {
				fixRes(&x.Resources[i])
			}
			v = x
		}
		out := ""
		if err != nil {
			v = nil
			var e *api.Error
			if !errors.As(err, &e) {
				e = &api.Error{Status: http.StatusInternalServerError, Code: api.CodeInternal, Message: err.Error()}
			}
			out = fmt.Sprintf("error %d %s: %s", e.Status, e.Code, e.Message)
		} else {
			data, jerr := json.Marshal(v)
			if jerr != nil {
				t.Fatal(jerr)
			}
			out = string(data)
		}
		for id, p := range ids {
			out = strings.ReplaceAll(out, id, p)
			op = strings.ReplaceAll(op, id, p)
		}
		steps = append(steps, resourceStep{op, out})
	}
	newResource := func(op string, in api.ResourceInput) {
		r, err := b.AddResource(ctx, in)
		if err == nil {
			ids[r.ID] = fmt.Sprintf("<id%d>", len(ids)+1)
			resources = append(resources, r)
		}
		add(op, r, err)
	}

	in := resourceGuideInput("Consent, step by step")
	in.Tags, in.Language, in.Description = &[]string{"Consent", "facilitation"}, rptr("en"), rptr("With examples.")
	newResource("AddResource guide", in)
	newResource("AddResource event", api.ResourceInput{Type: rptr("event"), Title: rptr("Circle meetup"), Text: rptr("Bring a proposal."),
		StartsAt: rptr(time.Date(2026, 12, 1, 18, 0, 0, 0, time.FixedZone("CET", 3600))),
		EndsAt:   rptr(time.Date(2026, 12, 1, 20, 0, 0, 0, time.FixedZone("CET", 3600))),
		Link:     rptr("https://meet.example/c"), Tags: &[]string{"consent"}})
	if len(resources) != 2 {
		t.Fatalf("could not add resources: %v", steps)
	}
	mine := resources[0]
	r, err := b.AddResource(ctx, api.ResourceInput{Type: rptr("guide"), URL: rptr("https://x.org")})
	add("AddResource without title", r, err)
	r, err = b.AddResource(ctx, api.ResourceInput{Type: rptr("podcast"), Title: rptr("P"), URL: rptr("https://x.org")})
	add("AddResource unknown type", r, err)
	// The edit must carry a later millisecond than the event, or the two
	// tie on recency and their order falls to their random IDs, which
	// differ between the two runs compared.
	for !record.Now().After(resources[1].UpdatedAt) {
		time.Sleep(time.Millisecond)
	}
	r, err = b.EditResource(ctx, mine.ID, api.ResourceInput{Title: rptr("Consent decisions"), Text: rptr("Line one\nline two")})
	add("EditResource", r, err)
	r, err = b.EditResource(ctx, theirs.ID, api.ResourceInput{Title: rptr("Mine now")})
	add("EditResource someone else's", r, err)
	r, err = b.EditResource(ctx, mine.ID, api.ResourceInput{Place: rptr("Berlin")})
	add("EditResource place on a guide", r, err)

	for _, q := range []struct {
		name string
		q    api.ResourceQuery
	}{
		{"all", api.ResourceQuery{}},
		{"text", api.ResourceQuery{Text: "consent"}},
		{"type", api.ResourceQuery{Type: "event"}},
		{"tag and language", api.ResourceQuery{Tag: "consent", Language: "en"}},
		{"own, limit 1", api.ResourceQuery{Author: "self", Limit: 1}},
		{"by author", api.ResourceQuery{Author: theirs.Author}},
		{"unknown type", api.ResourceQuery{Type: "podcast"}},
		{"other community", api.ResourceQuery{Community: "elsewhere"}},
	} {
		l, err := b.Resources(ctx, q.q)
		add("Resources "+q.name, l, err)
	}
	for _, ref := range []string{mine.ID, mine.Ref, theirs.Ref, theirs.ID, "nope", "", "12D3KooWnope/" + mine.ID} {
		d, err := b.Resource(ctx, ref, "")
		add(fmt.Sprintf("Resource %q", ref), d, err)
	}
	d, err := b.Resource(ctx, mine.ID, "elsewhere")
	add("Resource other community", d, err)
	d, err = b.EndorseResource(ctx, theirs.ID, api.EndorseInput{Comment: "Clear and practical."})
	add("EndorseResource", d, err)
	d, err = b.EndorseResource(ctx, theirs.Ref, api.EndorseInput{Comment: strings.Repeat("x", 281)})
	add("EndorseResource long comment", d, err)
	d, err = b.EndorseResource(ctx, mine.ID, api.EndorseInput{})
	add("EndorseResource own", d, err)
	d, err = b.EndorseResource(ctx, "0123456789abcdef0123456789abcdef", api.EndorseInput{})
	add("EndorseResource unknown", d, err)
	l, err := b.Resources(ctx, api.ResourceQuery{Author: theirs.Author})
	add("Resources endorsed", l, err)
	add("UnendorseResource", nil, b.UnendorseResource(ctx, theirs.Ref, ""))
	add("UnendorseResource again", nil, b.UnendorseResource(ctx, theirs.ID, ""))
	add("DeleteResource someone else's", nil, b.DeleteResource(ctx, theirs.Ref, ""))
	add("DeleteResource", nil, b.DeleteResource(ctx, mine.ID, ""))
	d, err = b.Resource(ctx, mine.ID, "")
	add("Resource deleted", d, err)
	add("DeleteResource again", nil, b.DeleteResource(ctx, mine.ID, ""))
	add("DeleteResource not joined", nil, b.DeleteResource(ctx, mine.ID, "elsewhere"))
	return steps
}

// TestResourceAPIRoundTrip runs the same resource operations in process and
// through the HTTP server and client, and requires identical answers.
func TestResourceAPIRoundTrip(t *testing.T) {
	ctx := context.Background()
	inProc := openResourceTestLocal(t, "Ada")
	remote := openResourceTestLocalLike(t, inProc)
	if _, err := remote.SetProfile(ctx, api.ProfileInput{Name: rptr("Ada")}); err != nil {
		t.Fatal(err)
	}
	bo := openResourceTestLocal(t, "Bo")
	theirs, err := bo.AddResource(ctx, resourceGuideInput("Theirs"))
	if err != nil {
		t.Fatal(err)
	}
	resourceReplicate(t, bo, inProc)
	resourceReplicate(t, bo, remote)
	srv := httptest.NewServer(api.NewServer(remote, api.ServerOptions{Token: "test-token"}))
	t.Cleanup(srv.Close)
	client := api.NewClient(strings.TrimPrefix(srv.URL, "http://"), "test-token")

	want := runResourceSequence(t, inProc, theirs)
	got := runResourceSequence(t, client, theirs)
	if len(got) != len(want) {
		t.Fatalf("over HTTP %d steps, in process %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("step %s:\n over HTTP  = %s\n in process = %s", want[i].op, got[i].out, want[i].out)
		}
	}

	// Hold the in-process answers to what the API promises, so both
	// cannot agree on a wrong answer.
	expect := map[string]string{
		"AddResource guide":             `"id":"<id1>"`,
		"AddResource event":             `"starts_at":"2026-12-01T17:00:00Z","ends_at":"2026-12-01T19:00:00Z"`,
		"AddResource without title":     "error 400 bad_request: invalid resource: a title is required",
		"AddResource unknown type":      `error 400 bad_request: invalid resource: unknown type "podcast"`,
		"EditResource":                  `"title":"Consent decisions","url":"https://example.org/consent,-step-by-step","text":"Line one\nline two"`,
		"EditResource someone else's":   "error 403 forbidden: resource " + theirs.ID + " is by Bo",
		"EditResource place on a guide": "error 400 bad_request: invalid resource: only events",
		"Resources text":                `"total":2`,
		"Resources type":                `"total":1,"resources":[{"ref":"` + inProc.author.String() + `/<id2>"`,
		"Resources own, limit 1":        `"total":2`,
		"Resources unknown type":        "error 400",
		"Resources other community":     `error 400 bad_request: this node is not in community "elsewhere"`,
		"Resource other community":      `error 400 bad_request: this node is not in community "elsewhere"`,
		`Resource "` + theirs.Ref + `"`: `"author_name":"Bo"`,
		`Resource "nope"`:               "error 400 bad_request: \"nope\" is not a resource ID",
		`Resource ""`:                   "error 400 bad_request: give a resource ID",
		"EndorseResource":               `"endorsements":1,"endorsed_by_me":true`,
		"EndorseResource long comment":  "error 400 bad_request: invalid endorsement: comment is 281 characters",
		"EndorseResource own":           "error 400 bad_request: you cannot endorse your own resource",
		"EndorseResource unknown":       "error 404 not_found: no resource 0123456789abcdef0123456789abcdef",
		"Resources endorsed":            `"endorsements":1,"endorsed_by_me":true`,
		"UnendorseResource":             "null",
		"UnendorseResource again":       "error 404 not_found: you have not endorsed",
		"DeleteResource someone else's": "error 403 forbidden",
		"DeleteResource":                "null",
		"Resource deleted":              "error 404 not_found: resource <id1> was deleted",
		"DeleteResource again":          "error 404 not_found: you deleted resource <id1> already",
		"DeleteResource not joined":     `error 400 bad_request: this node is not in community "elsewhere"`,
	}
	seen := map[string]bool{}
	for _, s := range want {
		seen[s.op] = true
		if w, ok := expect[s.op]; ok && !strings.Contains(s.out, w) {
			t.Errorf("%s = %s\n want it to contain %s", s.op, s.out, w)
		}
	}
	for op := range expect {
		if !seen[op] {
			t.Errorf("no step %q", op)
		}
	}
}
