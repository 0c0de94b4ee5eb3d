package node

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/record"
)

const resourceTestCommunity = DefaultCommunity

// openResourceTestLocal opens a fresh data directory (own identity, real Badger)
// without a node.
func openResourceTestLocal(t testing.TB, name string) *Local {
	t.Helper()
	off, err := OpenOffline(t.TempDir(), "test", nil)
	if err != nil {
		t.Fatalf("OpenOffline: %v", err)
	}
	t.Cleanup(func() {
		if err := off.Close(); err != nil {
			t.Errorf("closing store: %v", err)
		}
	})
	if name != "" {
		if _, err := off.SetProfile(context.Background(), api.ProfileInput{Name: &name}); err != nil {
			t.Fatalf("SetProfile(%s): %v", name, err)
		}
	}
	return off.Local
}

// replicate copies every current record of from's store into to's, as
// gossip and catch-up would.
func resourceReplicate(t *testing.T, from, to *Local) {
	t.Helper()
	ctx := context.Background()
	err := from.store.List(ctx, store.Query{Community: resourceTestCommunity}, func(rec *record.Record) error {
		_, err := to.store.Apply(ctx, rec, store.ApplyOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("replicating: %v", err)
	}
}

// resourceStoreState lists the IDs of every current record and of the outbox, to
// tell whether an operation wrote anything.
func resourceStoreState(t *testing.T, l *Local) string {
	t.Helper()
	ctx := context.Background()
	var ids []string
	err := l.store.List(ctx, store.Query{Community: resourceTestCommunity}, func(rec *record.Record) error {
		ids = append(ids, rec.ID.String())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = l.store.Outbox(ctx, func(rec *record.Record) error {
		ids = append(ids, "outbox:"+rec.ID.String())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	return strings.Join(ids, ",")
}

func rptr[T any](v T) *T { return &v }

// wantResourceError fails unless err is an *api.Error with this status whose
// message mentions each of mention.
func wantResourceError(t *testing.T, op string, err error, status int, mention ...string) {
	t.Helper()
	var e *api.Error
	if !errors.As(err, &e) || e.Status != status {
		t.Errorf("%s: error = %v, want an API error with status %d", op, err, status)
		return
	}
	for _, m := range mention {
		if !strings.Contains(e.Message, m) {
			t.Errorf("%s: error %q does not mention %q", op, e.Message, m)
		}
	}
}

func resourceGuideInput(title string) api.ResourceInput {
	return api.ResourceInput{Type: rptr("guide"), Title: rptr(title), URL: rptr("https://example.org/" + strings.ReplaceAll(strings.ToLower(title), " ", "-"))}
}

func TestResourceAddEditDelete(t *testing.T) {
	ctx := context.Background()
	ada := openResourceTestLocal(t, "Ada")
	start := time.Now().Add(-time.Second)

	in := resourceGuideInput("Consent, step by step")
	in.Tags = &[]string{"Consent", " consent ", "Facilitation"}
	in.Language = rptr("EN")
	in.Description = rptr("  How a circle decides.\r\nWith examples. ")
	r, err := ada.AddResource(ctx, in)
	if err != nil {
		t.Fatalf("AddResource: %v", err)
	}
	if mentorship.CheckResourceID(r.ID) != nil || r.Ref != ada.author.String()+"/"+r.ID {
		t.Errorf("AddResource: id %q, ref %q; want a fresh ID and ref <peer>/<id>", r.ID, r.Ref)
	}
	if r.UpdatedAt.Before(start) || r.UpdatedAt.After(time.Now()) {
		t.Errorf("AddResource: updated_at %v is not the time of the write", r.UpdatedAt)
	}
	want := api.Resource{
		Ref: r.Ref, ID: r.ID, Author: ada.author.String(), AuthorName: "Ada", Community: resourceTestCommunity,
		Type: "guide", Title: "Consent, step by step", URL: "https://example.org/consent,-step-by-step",
		Description: "How a circle decides.\nWith examples.", Tags: []string{"consent", "facilitation"}, Language: "en",
		Version: 1, UpdatedAt: r.UpdatedAt,
	}
	if !equalResource(r, want) {
		t.Errorf("AddResource = %+v\nwant %+v", r, want)
	}

	// Edit: only the given fields change.
	e, err := ada.EditResource(ctx, r.ID, api.ResourceInput{Title: rptr("Consent decisions"), Tags: &[]string{}})
	if err != nil {
		t.Fatalf("EditResource: %v", err)
	}
	want.Title, want.Tags, want.Version, want.UpdatedAt = "Consent decisions", []string{}, 2, e.UpdatedAt
	if !equalResource(e, want) {
		t.Errorf("EditResource = %+v\nwant %+v", e, want)
	}
	// The same values again write nothing.
	before := resourceStoreState(t, ada)
	if e2, err := ada.EditResource(ctx, r.ID, api.ResourceInput{Title: rptr(" Consent decisions ")}); err != nil || e2.Version != 2 {
		t.Errorf("EditResource(no change) = version %d, %v; want version 2", e2.Version, err)
	}
	if after := resourceStoreState(t, ada); after != before {
		t.Errorf("EditResource(no change) wrote a record")
	}
	// By full reference, and turning it into an event.
	when := time.Date(2026, 12, 1, 18, 0, 0, 0, time.FixedZone("CET", 3600))
	e, err = ada.EditResource(ctx, r.Ref, api.ResourceInput{Type: rptr("event"), StartsAt: &when, Link: rptr("https://meet.example/c")})
	if err != nil {
		t.Fatalf("EditResource(to event): %v", err)
	}
	if e.Type != "event" || e.StartsAt == nil || !e.StartsAt.Equal(when) || e.StartsAt.Location() != time.UTC || e.Version != 3 {
		t.Errorf("EditResource(to event) = %+v, want an event at %v (UTC), version 3", e, when)
	}
	// Back to a guide: the event fields go.
	e, err = ada.EditResource(ctx, r.ID, api.ResourceInput{Type: rptr("guide")})
	if err != nil || e.StartsAt != nil || e.Link != "" || e.Type != "guide" {
		t.Errorf("EditResource(to guide) = %+v, %v; want a guide without event fields", e, err)
	}

	if err := ada.DeleteResource(ctx, r.ID, ""); err != nil {
		t.Fatalf("DeleteResource: %v", err)
	}
	list, err := ada.Resources(ctx, api.ResourceQuery{})
	if err != nil || list.Total != 0 || len(list.Resources) != 0 {
		t.Errorf("Resources after delete = %+v, %v; want none", list, err)
	}
	_, err = ada.Resource(ctx, r.ID, "")
	wantResourceError(t, "Resource(deleted)", err, http.StatusNotFound, "deleted")
	err = ada.DeleteResource(ctx, r.ID, "")
	wantResourceError(t, "DeleteResource(deleted)", err, http.StatusNotFound, "deleted")
	_, err = ada.EditResource(ctx, r.ID, api.ResourceInput{Title: rptr("Back")})
	wantResourceError(t, "EditResource(deleted)", err, http.StatusNotFound, "deleted")
	if counts, err := ada.resourceCounts(ctx, resourceTestCommunity); err != nil || len(counts) != 0 {
		t.Errorf("resourceCounts after delete = %v, %v; want none", counts, err)
	}
}

func equalResource(a, b api.Resource) bool {
	return fmt.Sprintf("%+v", a) == fmt.Sprintf("%+v", b)
}

func TestResourceBadInputWritesNothing(t *testing.T) {
	ctx := context.Background()
	ada := openResourceTestLocal(t, "Ada")
	bo := openResourceTestLocal(t, "Bo")
	mine, err := ada.AddResource(ctx, resourceGuideInput("Mine"))
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := bo.AddResource(ctx, resourceGuideInput("Theirs"))
	if err != nil {
		t.Fatal(err)
	}
	resourceReplicate(t, bo, ada)
	event := func(f func(*api.ResourceInput)) api.ResourceInput {
		in := api.ResourceInput{Type: rptr("event"), Title: rptr("Meetup"), Text: rptr("Bring a proposal"),
			StartsAt: rptr(time.Date(2026, 12, 1, 18, 0, 0, 0, time.UTC)), Place: rptr("Berlin")}
		f(&in)
		return in
	}
	guide := func(f func(*api.ResourceInput)) api.ResourceInput {
		in := resourceGuideInput("G")
		f(&in)
		return in
	}
	adds := []struct {
		name    string
		in      api.ResourceInput
		mention string
	}{
		{"no type", guide(func(in *api.ResourceInput) { in.Type = nil }), "type is required"},
		{"unknown type", guide(func(in *api.ResourceInput) { in.Type = rptr("podcast") }), "podcast"},
		{"no title", guide(func(in *api.ResourceInput) { in.Title = nil }), "title is required"},
		{"blank title", guide(func(in *api.ResourceInput) { in.Title = rptr("  ") }), "title is required"},
		{"title too long", guide(func(in *api.ResourceInput) { in.Title = rptr(strings.Repeat("t", 201)) }), "title is 201 characters, at most 200"},
		{"no URL nor text", guide(func(in *api.ResourceInput) { in.URL = nil }), "URL or a short text"},
		{"URL not http", guide(func(in *api.ResourceInput) { in.URL = rptr("file:///etc/passwd") }), "http:// or https://"},
		{"text too long", guide(func(in *api.ResourceInput) { in.Text = rptr(strings.Repeat("x", 4001)) }), "text is 4001"},
		{"21 tags", guide(func(in *api.ResourceInput) {
			in.Tags = rptr(strings.Fields("a b c d e f g h i j k l m n o p q r s t u"))
		}), "21 tags"},
		{"language", guide(func(in *api.ResourceInput) { in.Language = rptr("english") }), "ISO 639"},
		{"guide with a place", guide(func(in *api.ResourceInput) { in.Place = rptr("Berlin") }), "only events"},
		{"event without start", event(func(in *api.ResourceInput) { in.StartsAt = nil }), "start time"},
		{"event without place or link", event(func(in *api.ResourceInput) { in.Place = nil }), "place or an online link"},
		{"event ending before it starts", event(func(in *api.ResourceInput) { in.EndsAt = rptr(time.Date(2026, 12, 1, 17, 0, 0, 0, time.UTC)) }), "before it starts"},
		{"community not joined", guide(func(in *api.ResourceInput) { in.Community = "elsewhere" }), "elsewhere"},
		{"invalid community", guide(func(in *api.ResourceInput) { in.Community = "Not A Community" }), "community"},
	}
	before := resourceStoreState(t, ada)
	for _, tt := range adds {
		_, err := ada.AddResource(ctx, tt.in)
		wantResourceError(t, "AddResource("+tt.name+")", err, http.StatusBadRequest, tt.mention)
	}
	edits := []struct {
		name    string
		ref     string
		in      api.ResourceInput
		status  int
		mention string
	}{
		{"title too long", mine.ID, api.ResourceInput{Title: rptr(strings.Repeat("t", 201))}, 400, "title is 201"},
		{"clear the only URL", mine.ID, api.ResourceInput{URL: rptr("")}, 400, "URL or a short text"},
		{"to an event without start", mine.ID, api.ResourceInput{Type: rptr("event")}, 400, "start time"},
		{"not an ID", "nope", api.ResourceInput{Title: rptr("x")}, 400, "not a resource ID"},
		{"unknown ID", mentorship.NewResourceID(), api.ResourceInput{Title: rptr("x")}, 404, "no resource"},
		{"someone else's", theirs.ID, api.ResourceInput{Title: rptr("Mine now")}, 403, "Bo"},
		{"someone else's by full ref", theirs.Ref, api.ResourceInput{Title: rptr("Mine now")}, 403, "only its author can edit"},
		{"bad peer in ref", "12D3KooWnope/" + mine.ID, api.ResourceInput{Title: rptr("x")}, 400, "not a peer ID"},
	}
	for _, tt := range edits {
		_, err := ada.EditResource(ctx, tt.ref, tt.in)
		wantResourceError(t, "EditResource("+tt.name+")", err, tt.status, tt.mention)
	}
	wantResourceError(t, "DeleteResource(someone else's)", ada.DeleteResource(ctx, theirs.ID, ""), 403, "Bo", "only its author can delete")
	wantResourceError(t, "DeleteResource(unknown)", ada.DeleteResource(ctx, mentorship.NewResourceID(), ""), 404, "no resource")
	wantResourceError(t, "DeleteResource(empty ref)", ada.DeleteResource(ctx, "", ""), 400, "resource ID")
	_, err = ada.EndorseResource(ctx, theirs.ID, api.EndorseInput{Comment: strings.Repeat("c", 281)})
	wantResourceError(t, "EndorseResource(long comment)", err, 400, "comment is 281")
	_, err = ada.EndorseResource(ctx, theirs.ID, api.EndorseInput{Comment: "two\nlines"})
	wantResourceError(t, "EndorseResource(multiline comment)", err, 400, "comment")
	_, err = ada.EndorseResource(ctx, mine.ID, api.EndorseInput{})
	wantResourceError(t, "EndorseResource(own)", err, 400, "your own")
	_, err = ada.EndorseResource(ctx, mentorship.NewResourceID(), api.EndorseInput{})
	wantResourceError(t, "EndorseResource(unknown)", err, 404, "no resource", "may not have reached this node")
	_, err = ada.EndorseResource(ctx, theirs.ID, api.EndorseInput{Community: "elsewhere"})
	wantResourceError(t, "EndorseResource(community not joined)", err, 400, "elsewhere")
	wantResourceError(t, "UnendorseResource(not endorsed)", ada.UnendorseResource(ctx, theirs.ID, ""), 404, "not endorsed")
	if after := resourceStoreState(t, ada); after != before {
		t.Errorf("refused operations changed the store:\nbefore %s\nafter  %s", before, after)
	}
}

func TestEndorsements(t *testing.T) {
	ctx := context.Background()
	ada, bo, cy := openResourceTestLocal(t, "Ada"), openResourceTestLocal(t, "Bo"), openResourceTestLocal(t, "")
	r, err := ada.AddResource(ctx, resourceGuideInput("Facilitation handbook"))
	if err != nil {
		t.Fatal(err)
	}
	resourceReplicate(t, ada, bo)
	resourceReplicate(t, ada, cy)

	d, err := bo.EndorseResource(ctx, r.ID, api.EndorseInput{Comment: " Clear and practical. "})
	if err != nil {
		t.Fatalf("EndorseResource: %v", err)
	}
	if d.Endorsements != 1 || !d.EndorsedByMe || len(d.Endorsers) != 1 ||
		d.Endorsers[0].PeerID != bo.author.String() || d.Endorsers[0].Name != "Bo" || d.Endorsers[0].Comment != "Clear and practical." {
		t.Errorf("EndorseResource = %+v, want one endorsement by Bo with the comment", d)
	}
	endorsementAddr := record.Addr{Community: resourceTestCommunity, Author: bo.author, Kind: mentorship.KindEndorsement,
		Key: mentorship.EndorsementKey(ada.author, r.ID)}
	version := func() uint64 {
		rec, err := bo.store.Current(ctx, endorsementAddr)
		if err != nil {
			t.Fatalf("reading endorsement: %v", err)
		}
		return rec.Version
	}
	// Once per person: again with the same comment writes nothing, with
	// another comment replaces it.
	if _, err := bo.EndorseResource(ctx, r.Ref, api.EndorseInput{Comment: "Clear and practical."}); err != nil || version() != 1 {
		t.Errorf("EndorseResource(same again) = %v, version %d; want no new version", err, version())
	}
	if d, err := bo.EndorseResource(ctx, r.ID, api.EndorseInput{}); err != nil || d.Endorsements != 1 || d.Endorsers[0].Comment != "" || version() != 2 {
		t.Errorf("EndorseResource(no comment) = %+v, %v, version %d; want one endorsement without comment, version 2", d, err, version())
	}
	if _, err := cy.EndorseResource(ctx, r.ID, api.EndorseInput{Comment: "Yes"}); err != nil {
		t.Fatal(err)
	}

	// The author's node counts what reaches it.
	resourceReplicate(t, bo, ada)
	resourceReplicate(t, cy, ada)
	d, err = ada.Resource(ctx, r.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if d.Endorsements != 2 || d.EndorsedByMe || len(d.Endorsers) != 2 {
		t.Errorf("Resource at the author = %+v, want 2 endorsements, not by the author", d)
	}
	for _, e := range d.Endorsers {
		if e.PeerID == cy.author.String() && e.Name != "" {
			t.Errorf("endorser without profile has name %q, want none", e.Name)
		}
	}
	list, err := ada.Resources(ctx, api.ResourceQuery{})
	if err != nil || len(list.Resources) != 1 || list.Resources[0].Endorsements != 2 {
		t.Errorf("Resources at the author = %+v, %v; want the resource with 2 endorsements", list, err)
	}

	// A self-endorsement written by a client that skips the check is not
	// counted by anyone.
	self := record.Addr{Community: resourceTestCommunity, Author: ada.author, Kind: mentorship.KindEndorsement, Key: mentorship.EndorsementKey(ada.author, r.ID)}
	if _, err := ada.write(ctx, self, 0, false, nil); err != nil {
		t.Fatal(err)
	}
	resourceReplicate(t, ada, bo)
	for _, l := range []*Local{ada, bo} {
		if d, err := l.Resource(ctx, r.ID, ""); err != nil || d.Endorsements != 2 || d.EndorsedByMe != (l == bo) {
			t.Errorf("Resource with a self-endorsement = %+v, %v; want 2 endorsements", d, err)
		}
	}

	// Withdrawing.
	if err := bo.UnendorseResource(ctx, r.ID, ""); err != nil {
		t.Fatalf("UnendorseResource: %v", err)
	}
	// Bo has Cy's endorsement too (replicated through Ada's node).
	if d, err := bo.Resource(ctx, r.ID, ""); err != nil || d.Endorsements != 1 || d.EndorsedByMe {
		t.Errorf("Resource after unendorse at Bo = %+v, %v; want Cy's endorsement only", d, err)
	}
	wantResourceError(t, "UnendorseResource(again)", bo.UnendorseResource(ctx, r.ID, ""), 404, "not endorsed")
	// Endorse again after withdrawing: a new version of the same address.
	if d, err := bo.EndorseResource(ctx, r.ID, api.EndorseInput{}); err != nil || d.Endorsements != 2 || version() != 4 {
		t.Errorf("EndorseResource after unendorse = %+v, %v, version %d; want 2 endorsements, version 4", d, err, version())
	}

	// A deleted resource can no longer be endorsed, and its endorsements
	// are not counted.
	if err := ada.DeleteResource(ctx, r.ID, ""); err != nil {
		t.Fatal(err)
	}
	resourceReplicate(t, ada, cy)
	before := resourceStoreState(t, cy)
	_, err = cy.EndorseResource(ctx, r.ID, api.EndorseInput{Comment: "Still good"})
	wantResourceError(t, "EndorseResource(deleted)", err, http.StatusConflict, "deleted")
	if after := resourceStoreState(t, cy); after != before {
		t.Errorf("EndorseResource(deleted) changed the store")
	}
	// Withdrawing still works.
	if err := cy.UnendorseResource(ctx, r.ID, ""); err != nil {
		t.Errorf("UnendorseResource(of a deleted resource) = %v, want nil", err)
	}
}

func TestResourceAmbiguousID(t *testing.T) {
	ctx := context.Background()
	ada, bo := openResourceTestLocal(t, "Ada"), openResourceTestLocal(t, "Bo")
	id := mentorship.NewResourceID()
	// Two authors who use the same ID (a buggy or hostile client).
	for _, l := range []*Local{ada, bo} {
		payload, err := mentorship.Resource{Type: mentorship.ResourceArticle, Title: "Same ID", Text: "t"}.Encode()
		if err != nil {
			t.Fatal(err)
		}
		addr := record.Addr{Community: resourceTestCommunity, Author: l.author, Kind: mentorship.KindResource, Key: id}
		if _, err := l.write(ctx, addr, 0, false, payload); err != nil {
			t.Fatal(err)
		}
	}
	resourceReplicate(t, bo, ada)
	_, err := ada.Resource(ctx, id, "")
	wantResourceError(t, "Resource(ambiguous)", err, 400, "2 authors", ada.author.String()+"/"+id, bo.author.String()+"/"+id)
	_, err = ada.EndorseResource(ctx, id, api.EndorseInput{})
	wantResourceError(t, "EndorseResource(ambiguous)", err, 400, "2 authors")
	d, err := ada.Resource(ctx, bo.author.String()+"/"+id, "")
	if err != nil || d.Author != bo.author.String() {
		t.Errorf("Resource(full ref) = %+v, %v; want Bo's", d, err)
	}
	if _, err := ada.EndorseResource(ctx, bo.author.String()+"/"+strings.ToUpper(id), api.EndorseInput{}); err != nil {
		t.Errorf("EndorseResource(full ref, uppercase ID) = %v", err)
	}
	// The caller's own resource is unambiguous for edit and delete.
	if r, err := ada.EditResource(ctx, id, api.ResourceInput{Title: rptr("Mine")}); err != nil || r.Author != ada.author.String() {
		t.Errorf("EditResource(own, ID shared) = %+v, %v; want Ada's edited", r, err)
	}
	list, err := ada.Resources(ctx, api.ResourceQuery{})
	if err != nil || list.Total != 2 {
		t.Errorf("Resources = %+v, %v; want both", list, err)
	}
}

func TestResourceSearchLocal(t *testing.T) {
	ctx := context.Background()
	ada, bo := openResourceTestLocal(t, "Ada"), openResourceTestLocal(t, "Bo")
	add := func(l *Local, in api.ResourceInput) api.Resource {
		t.Helper()
		r, err := l.AddResource(ctx, in)
		if err != nil {
			t.Fatalf("AddResource(%s): %v", *in.Title, err)
		}
		return r
	}
	consent := resourceGuideInput("Consent decision-making")
	consent.Tags, consent.Language = &[]string{"consent"}, rptr("en")
	c := add(ada, consent)
	rounds := api.ResourceInput{Type: rptr("video"), Title: rptr("Rounds"), URL: rptr("https://v.example/r"),
		Description: rptr("How consent rounds work"), Language: rptr("de")}
	v := add(bo, rounds)
	meetup := api.ResourceInput{Type: rptr("event"), Title: rptr("Meetup"), Text: rptr("Practice"), Tags: &[]string{"consent"},
		StartsAt: rptr(time.Date(2026, 12, 1, 18, 0, 0, 0, time.UTC)), Place: rptr("Berlin")}
	m := add(bo, meetup)
	resourceReplicate(t, bo, ada)
	resourceReplicate(t, ada, bo)
	// Bo endorses Ada's guide; Ada endorses Bo's video twice-over (only one counts).
	if _, err := bo.EndorseResource(ctx, c.ID, api.EndorseInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := ada.EndorseResource(ctx, v.ID, api.EndorseInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := ada.EndorseResource(ctx, v.ID, api.EndorseInput{Comment: "again"}); err != nil {
		t.Fatal(err)
	}
	resourceReplicate(t, bo, ada)

	ids := func(l api.ResourceList) []string {
		var out []string
		for _, r := range l.Resources {
			out = append(out, r.ID)
		}
		return out
	}
	tests := []struct {
		name string
		q    api.ResourceQuery
		want []string
	}{
		{"all, endorsed then recent", api.ResourceQuery{}, []string{v.ID, c.ID, m.ID}},
		{"text", api.ResourceQuery{Text: "consent"}, []string{c.ID, m.ID, v.ID}},
		{"tag", api.ResourceQuery{Tag: "Consent"}, []string{c.ID, m.ID}},
		{"type", api.ResourceQuery{Type: "Event"}, []string{m.ID}},
		{"language", api.ResourceQuery{Language: "de"}, []string{v.ID}},
		{"author self", api.ResourceQuery{Author: "self"}, []string{c.ID}},
		{"author by peer ID", api.ResourceQuery{Author: bo.author.String()}, []string{v.ID, m.ID}},
		{"limit", api.ResourceQuery{Limit: 1}, []string{v.ID}},
		{"nothing", api.ResourceQuery{Text: "holacracy"}, nil},
	}
	for _, tt := range tests {
		got, err := ada.Resources(ctx, tt.q)
		if err != nil || !slices.Equal(ids(got), tt.want) {
			t.Errorf("Resources(%s) = %q, %v; want %q", tt.name, ids(got), err, tt.want)
		}
	}
	all, err := ada.Resources(ctx, api.ResourceQuery{Limit: 1})
	if err != nil || all.Total != 3 || all.Community != resourceTestCommunity {
		t.Errorf("Resources(limit 1) total = %d, community %q, %v; want 3 in %s", all.Total, all.Community, err, resourceTestCommunity)
	}
	r := all.Resources[0]
	if r.Endorsements != 1 || !r.EndorsedByMe || r.AuthorName != "Bo" {
		t.Errorf("Resources(limit 1)[0] = %+v, want Bo's video endorsed once, by Ada", r)
	}
	text, err := ada.Resources(ctx, api.ResourceQuery{Text: "consent"})
	if err != nil || text.Resources[0].Relevance == 0 {
		t.Errorf("Resources(text)[0] relevance = %+v, %v; want > 0", text.Resources, err)
	}
	for _, bad := range []struct {
		q       api.ResourceQuery
		mention string
	}{
		{api.ResourceQuery{Type: "podcast"}, "podcast"},
		{api.ResourceQuery{Language: "english"}, "ISO 639"},
		{api.ResourceQuery{Author: "nobody"}, "not a peer ID"},
		{api.ResourceQuery{Limit: -1}, "limit"},
		{api.ResourceQuery{Community: "Bad Name"}, "community"},
	} {
		_, err := ada.Resources(ctx, bad.q)
		wantResourceError(t, fmt.Sprintf("Resources(%+v)", bad.q), err, 400, bad.mention)
	}

	counts, err := ada.resourceCounts(ctx, resourceTestCommunity)
	if want := map[string]int{"guide": 1, "video": 1, "event": 1}; err != nil || fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("resourceCounts = %v, %v; want %v", counts, err, want)
	}
}
