package node

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/ingest"
	"github.com/mentormesh/mentormesh/sync/record"
)

// Private items between Locals over real Badger stores. Records move
// between them through the same ingest pipeline as gossip and catch-up
// (privRelay), so every check a receiving node makes applies.

const privPairing = "00112233445566778899aabbccddeeff"

// privLocal opens a fresh data directory without a node.
func privLocal(t *testing.T) *Local {
	t.Helper()
	off, err := OpenOffline(t.TempDir(), "test", nil)
	if err != nil {
		t.Fatalf("OpenOffline: %v", err)
	}
	t.Cleanup(func() {
		if err := off.Close(); err != nil {
			t.Errorf("closing: %v", err)
		}
	})
	return off.Local
}

// privRelay ingests every record of from's store into to's, as a peer
// would receive them, and returns how many to accepted.
func privRelay(t *testing.T, from, to *Local) int {
	t.Helper()
	ctx := context.Background()
	pipe := ingest.New(storeAdapter{s: to.store}, mentorship.Kinds{}, ingest.Options{
		Joined:        func(c string) bool { return slices.Contains(to.joined(), c) },
		IsUnknownKind: func(err error) bool { return errors.Is(err, mentorship.ErrUnknownKind) },
	})
	accepted := 0
	for _, c := range from.joined() {
		err := from.store.List(ctx, store.Query{Community: c}, func(rec *record.Record) error {
			out := pipe.Ingest(ctx, rec.Raw, ingest.Source{Community: c})
			switch out.Verdict {
			case ingest.Reject:
				t.Errorf("relaying %s/%s: rejected: %v", rec.Kind, rec.Key, out.Err)
			case ingest.Accept:
				accepted++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return accepted
}

// privPair is l's view of pairing privPairing between mentor and mentee.
func privPair(t *testing.T, l *Local, mentor, mentee *Local, state mentorship.PairState) *privatePair {
	t.Helper()
	pp, err := l.pairFor(DefaultCommunity, privPairing, mentor.author, mentee.author, state)
	if err != nil {
		t.Fatalf("pairFor: %v", err)
	}
	return pp
}

// privCount counts the private records in l's store (live and tombstones).
func privCount(t *testing.T, l *Local) int {
	t.Helper()
	n := 0
	err := l.store.List(context.Background(), store.Query{Community: DefaultCommunity, Kind: mentorship.KindPrivate}, func(*record.Record) error { n++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func wantAPIError(t *testing.T, what string, err error, status int, mention string) {
	t.Helper()
	var e *api.Error
	if !errors.As(err, &e) || e.Status != status || !strings.Contains(e.Message, mention) {
		t.Errorf("%s: error = %v, want %d mentioning %q", what, err, status, mention)
	}
}

func must[T any](t *testing.T, what string) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

// TestPrivateItemsReachPartnerThroughThirdNode: the mentor writes; a third
// node stores and relays the records but cannot read them; the mentee
// reads them, and the mentor reads the mentee's answer.
func TestPrivateItemsReachPartnerThroughThirdNode(t *testing.T) {
	ctx := context.Background()
	a, b, c := privLocal(t), privLocal(t), privLocal(t)
	ppA := privPair(t, a, a, b, mentorship.PairActive)
	due := time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)
	goal := must[api.PairItem](t, "AddGoal")(a.addGoal(ctx, ppA, api.GoalInput{Title: "Facilitate a consent round", Due: &due}))
	must[api.PairItem](t, "LogSession")(a.logSession(ctx, ppA, api.SessionInput{Date: time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC), DurationMinutes: 60, Notes: "Role selection.\nNext: proposals."}))
	must[api.PairItem](t, "AddNote")(a.addNote(ctx, ppA, api.NoteInput{Text: "Ask about the quarterly review."}))
	must[api.PairItem](t, "SetContact")(a.setContact(ctx, ppA, api.ContactInput{Text: "ada@example.org"}))
	if goal.Status != "open" || goal.Role != "mentor" || !goal.Mine || goal.Version != 1 || goal.Due == nil || !goal.Due.Equal(due) {
		t.Errorf("AddGoal = %+v", goal)
	}

	// A to C, then C to B: A and B never exchange anything directly.
	if n := privRelay(t, a, c); n != 4 {
		t.Errorf("C accepted %d records from A, want 4", n)
	}
	if n := privCount(t, c); n != 4 {
		t.Errorf("C stores %d private records, want 4", n)
	}
	// C can neither list the pairing nor open the records, whichever
	// partner it pretends to pair with.
	_, err := c.pairFor(DefaultCommunity, privPairing, a.author, b.author, mentorship.PairActive)
	wantAPIError(t, "C reads", err, 403, "you are not a party to this pairing")
	for _, as := range []*Local{a, b} {
		pp, err := c.pairFor(DefaultCommunity, privPairing, c.author, as.author, mentorship.PairActive)
		if err != nil {
			t.Fatal(err)
		}
		items, err := c.pairItems(ctx, pp)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(items.Goals) + len(items.Sessions) + len(items.Notes) + len(items.Contacts); n != 0 {
			t.Errorf("C (as a party with %s) read %d items", as.author, n)
		}
	}
	if n := privRelay(t, c, b); n != 4 {
		t.Errorf("B accepted %d records from C, want 4", n)
	}

	ppB := privPair(t, b, a, b, mentorship.PairActive)
	items := must[api.PairItems](t, "B's PairItems")(b.pairItems(ctx, ppB))
	if len(items.Goals) != 1 || len(items.Sessions) != 1 || len(items.Notes) != 1 || len(items.Contacts) != 1 || items.Unreadable != 0 {
		t.Fatalf("B's items = %+v, want one of each", items)
	}
	if g := items.Goals[0]; g.ID != goal.ID || g.Title != "Facilitate a consent round" || g.Mine || g.Role != "mentor" || g.Author != a.author.String() {
		t.Errorf("B sees goal %+v", g)
	}
	if s := items.Sessions[0]; s.DurationMinutes != 60 || !strings.Contains(s.Text, "Next: proposals.") || s.Date.Hour() != 15 {
		t.Errorf("B sees session %+v", s)
	}
	if items.Contacts[0].Text != "ada@example.org" || items.YourRole != "mentee" || items.State != "active" {
		t.Errorf("B's items = %+v", items)
	}

	// B answers; A reads both sides.
	must[api.PairItem](t, "B's AddNote")(b.addNote(ctx, ppB, api.NoteInput{Text: "Thanks, noted."}))
	must[api.PairItem](t, "B's SetContact")(b.setContact(ctx, ppB, api.ContactInput{Text: "bob@example.org"}))
	privRelay(t, b, a)
	items = must[api.PairItems](t, "A's PairItems")(a.pairItems(ctx, ppA))
	if len(items.Notes) != 2 || len(items.Contacts) != 2 {
		t.Fatalf("A's items = %+v, want two notes and two contacts", items)
	}
	if items.Contacts[0].Role != "mentor" || !items.Contacts[0].Mine || items.Contacts[1].Text != "bob@example.org" || items.Contacts[1].Mine {
		t.Errorf("A's contacts = %+v", items.Contacts)
	}
}

func TestPrivateGoalUpdates(t *testing.T) {
	ctx := context.Background()
	a, b := privLocal(t), privLocal(t)
	ppA := privPair(t, a, a, b, mentorship.PairActive)
	ppB := privPair(t, b, a, b, mentorship.PairActive)
	goal := must[api.PairItem](t, "AddGoal")(a.addGoal(ctx, ppA, api.GoalInput{Title: "Run a circle"}))
	note := must[api.PairItem](t, "AddNote")(a.addNote(ctx, ppA, api.NoteInput{Text: "n"}))
	done := "done"
	got := must[api.PairItem](t, "UpdateGoal")(a.updateGoal(ctx, ppA, goal.ID, api.GoalUpdate{Status: &done}))
	if got.ID != goal.ID || got.Status != "done" || got.Title != "Run a circle" || got.Version != 2 {
		t.Errorf("UpdateGoal = %+v, want the goal done at version 2", got)
	}
	title := "Run two circles"
	got = must[api.PairItem](t, "UpdateGoal title")(a.updateGoal(ctx, ppA, goal.ID, api.GoalUpdate{Title: &title}))
	if got.Status != "done" || got.Title != title || got.Version != 3 {
		t.Errorf("UpdateGoal title = %+v", got)
	}

	privRelay(t, a, b)
	before := privCount(t, b)
	_, err := b.updateGoal(ctx, ppB, goal.ID, api.GoalUpdate{Status: &done})
	wantAPIError(t, "B changes A's goal", err, 403, "written by your partner")
	_, err = a.updateGoal(ctx, ppA, note.ID, api.GoalUpdate{Status: &done})
	wantAPIError(t, "goal set on a note", err, 400, "is a note, not a goal")
	_, err = a.updateGoal(ctx, ppA, strings.Repeat("ab", 16), api.GoalUpdate{Status: &done})
	wantAPIError(t, "unknown goal", err, 404, "no goal")
	_, err = a.updateGoal(ctx, ppA, "not-an-id", api.GoalUpdate{Status: &done})
	wantAPIError(t, "malformed goal ID", err, 400, "not a goal ID")
	bad := "finished"
	_, err = a.updateGoal(ctx, ppA, goal.ID, api.GoalUpdate{Status: &bad})
	wantAPIError(t, "unknown status", err, 400, "unknown status")
	_, err = a.updateGoal(ctx, ppA, goal.ID, api.GoalUpdate{})
	wantAPIError(t, "no change", err, 400, "nothing to change")
	empty := ""
	_, err = a.updateGoal(ctx, ppA, goal.ID, api.GoalUpdate{Title: &empty})
	wantAPIError(t, "empty title", err, 400, "title is required")
	if n := privCount(t, b); n != before {
		t.Errorf("B stores %d private records after refused writes, want %d", n, before)
	}
	items := must[api.PairItems](t, "PairItems")(a.pairItems(ctx, ppA))
	if len(items.Goals) != 1 || items.Goals[0].Version != 3 || items.Goals[0].Title != title {
		t.Errorf("goals after refused updates = %+v", items.Goals)
	}
}

// TestPrivateBadInputWritesNothing: every refused write leaves the store
// (and the outbox) as it was.
func TestPrivateBadInputWritesNothing(t *testing.T) {
	ctx := context.Background()
	a, b := privLocal(t), privLocal(t)
	pp := privPair(t, a, a, b, mentorship.PairActive)
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name    string
		write   func() error
		mention string
	}{
		{"goal without title", func() error { _, err := a.addGoal(ctx, pp, api.GoalInput{Title: "  "}); return err }, "title is required"},
		{"goal title too long", func() error {
			_, err := a.addGoal(ctx, pp, api.GoalInput{Title: strings.Repeat("g", 201)})
			return err
		}, "at most 200"},
		{"goal bad status", func() error { _, err := a.addGoal(ctx, pp, api.GoalInput{Title: "G", Status: "later"}); return err }, "unknown status"},
		{"session without date", func() error {
			_, err := a.logSession(ctx, pp, api.SessionInput{DurationMinutes: 30})
			return err
		}, "date is required"},
		{"session zero minutes", func() error { _, err := a.logSession(ctx, pp, api.SessionInput{Date: day}); return err }, "duration is 0 minutes"},
		{"session over a day", func() error {
			_, err := a.logSession(ctx, pp, api.SessionInput{Date: day, DurationMinutes: 1441})
			return err
		}, "1441 minutes"},
		{"session notes too long", func() error {
			_, err := a.logSession(ctx, pp, api.SessionInput{Date: day, DurationMinutes: 30, Notes: strings.Repeat("n", 4001)})
			return err
		}, "at most 4000"},
		{"empty note", func() error { _, err := a.addNote(ctx, pp, api.NoteInput{}); return err }, "text is required"},
		{"note with a bidi override", func() error { _, err := a.addNote(ctx, pp, api.NoteInput{Text: "a\u202eb"}); return err }, "bidirectional"},
		{"contact too long", func() error {
			_, err := a.setContact(ctx, pp, api.ContactInput{Text: strings.Repeat("c", 501)})
			return err
		}, "at most 500"},
		{"empty contact", func() error { _, err := a.setContact(ctx, pp, api.ContactInput{Text: ""}); return err }, "contact details are required"},
	}
	for _, tc := range cases {
		wantAPIError(t, tc.name, tc.write(), 400, tc.mention)
	}
	if n := privCount(t, a); n != 0 {
		t.Errorf("%d private records stored after refused writes, want 0", n)
	}
	outbox := 0
	if err := a.store.Outbox(ctx, func(*record.Record) error { outbox++; return nil }); err != nil || outbox != 0 {
		t.Errorf("outbox holds %d records (err %v), want 0", outbox, err)
	}
}

// TestPrivateWritesFollowPairingState: what each state allows.
func TestPrivateWritesFollowPairingState(t *testing.T) {
	ctx := context.Background()
	a, b := privLocal(t), privLocal(t)
	active := privPair(t, a, a, b, mentorship.PairActive)
	goal := must[api.PairItem](t, "AddGoal")(a.addGoal(ctx, active, api.GoalInput{Title: "G"}))
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	done := "done"
	writes := map[string]func(pp *privatePair) error{
		"add goal": func(pp *privatePair) error { _, err := a.addGoal(ctx, pp, api.GoalInput{Title: "G2"}); return err },
		"update goal": func(pp *privatePair) error {
			_, err := a.updateGoal(ctx, pp, goal.ID, api.GoalUpdate{Status: &done})
			return err
		},
		"log session": func(pp *privatePair) error {
			_, err := a.logSession(ctx, pp, api.SessionInput{Date: day, DurationMinutes: 30})
			return err
		},
		"add note":    func(pp *privatePair) error { _, err := a.addNote(ctx, pp, api.NoteInput{Text: "n"}); return err },
		"set contact": func(pp *privatePair) error { _, err := a.setContact(ctx, pp, api.ContactInput{Text: "c"}); return err },
	}
	allowed := map[mentorship.PairState][]string{
		mentorship.PairCompleted: {"update goal", "set contact"},
		mentorship.PairPending:   nil,
		mentorship.PairDeclined:  nil,
		mentorship.PairCancelled: nil,
		mentorship.PairExpired:   nil,
	}
	for state, ok := range allowed {
		pp := privPair(t, a, a, b, state)
		for name, w := range writes {
			before := privCount(t, a)
			err := w(pp)
			if slices.Contains(ok, name) {
				if err != nil {
					t.Errorf("%s in a %s pairing: %v, want it allowed", name, state, err)
				}
				continue
			}
			wantAPIError(t, name+" in a "+string(state)+" pairing", err, 409, string(state))
			if n := privCount(t, a); n != before {
				t.Errorf("%s in a %s pairing wrote a record", name, state)
			}
		}
		// Reading is always allowed to the parties.
		if _, err := a.pairItems(ctx, pp); err != nil {
			t.Errorf("items of a %s pairing: %v", state, err)
		}
	}
}

// TestPrivateContactIsReplaced: setting contact details again updates the
// one item.
func TestPrivateContactIsReplaced(t *testing.T) {
	ctx := context.Background()
	a, b := privLocal(t), privLocal(t)
	pp := privPair(t, a, a, b, mentorship.PairActive)
	first := must[api.PairItem](t, "SetContact")(a.setContact(ctx, pp, api.ContactInput{Text: "old@example.org"}))
	second := must[api.PairItem](t, "SetContact again")(a.setContact(ctx, pp, api.ContactInput{Text: "new@example.org"}))
	if second.ID != first.ID || second.Version != 2 {
		t.Errorf("second SetContact = %+v, want item %s at version 2", second, first.ID)
	}
	items := must[api.PairItems](t, "PairItems")(a.pairItems(ctx, pp))
	if len(items.Contacts) != 1 || items.Contacts[0].Text != "new@example.org" {
		t.Errorf("contacts = %+v, want only the new one", items.Contacts)
	}
}

// TestPrivateUnreadableCounted: records of the pairing that do not open
// (here: the partner's, sealed for another pairing's key and moved) are
// counted, and the rest is listed.
func TestPrivateUnreadableCounted(t *testing.T) {
	ctx := context.Background()
	a, b := privLocal(t), privLocal(t)
	pp := privPair(t, a, a, b, mentorship.PairActive)
	must[api.PairItem](t, "AddNote")(a.addNote(ctx, pp, api.NoteInput{Text: "readable"}))
	// B seals a note with the key of another pairing, under this
	// pairing's key: valid for every relay, unreadable for the pair.
	other, err := b.pairFor(DefaultCommunity, "ffeeddccbbaa99887766554433221100", a.author, b.author, mentorship.PairActive)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := mentorship.NewItemID(nil)
	_, payload, err := other.key.Seal(nil, id, mentorship.Item{Type: mentorship.ItemNote, Text: "moved"})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := mentorship.PrivateRecordKey(privPairing, id)
	if _, err := b.write(ctx, record.Addr{Community: DefaultCommunity, Author: b.author, Kind: mentorship.KindPrivate, Key: key}, 0, false, payload); err != nil {
		t.Fatal(err)
	}
	if n := privRelay(t, b, a); n != 1 {
		t.Fatalf("A accepted %d records, want 1", n)
	}
	items := must[api.PairItems](t, "PairItems")(a.pairItems(ctx, pp))
	if items.Unreadable != 1 || len(items.Notes) != 1 || items.Notes[0].Text != "readable" {
		t.Errorf("items = %+v, want one readable note and one unreadable", items)
	}
}

// TestPrivateFindsThePairingsCommunity: with no community given, items go
// to (and are read from) the joined community that has the pairing.
func TestPrivateFindsThePairingsCommunity(t *testing.T) {
	ctx := context.Background()
	open := func(name string) *Local {
		off, err := OpenOffline(t.TempDir(), "test", []string{DefaultCommunity, "gophers"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = off.Close() })
		if _, err := off.SetProfile(ctx, api.ProfileInput{Name: &name}); err != nil {
			t.Fatal(err)
		}
		return off.Local
	}
	a, b := open("Ada"), open("Ben")
	privRelay(t, a, b)
	p, err := b.ProposePairing(ctx, api.PairingProposal{Community: "gophers", Type: api.PairingRequest, PeerID: a.author.String()})
	if err != nil {
		t.Fatal(err)
	}
	privRelay(t, b, a)
	if _, err := a.AcceptPairing(ctx, p.ID, api.PairingUpdate{}); err != nil {
		t.Fatal(err)
	}
	note := must[api.PairItem](t, "AddNote")(a.AddNote(ctx, p.ID, api.NoteInput{Text: "in gophers"}))
	key, _ := mentorship.PrivateRecordKey(p.ID, note.ID)
	if _, err := a.store.Current(ctx, record.Addr{Community: "gophers", Author: a.author, Kind: mentorship.KindPrivate, Key: key}); err != nil {
		t.Errorf("the note is not in gophers: %v", err)
	}
	privRelay(t, a, b)
	items := must[api.PairItems](t, "PairItems")(b.PairItems(ctx, "", p.ID))
	if items.Community != "gophers" || len(items.Notes) != 1 || items.Notes[0].Text != "in gophers" {
		t.Errorf("B's items = %+v", items)
	}
	_, err = b.PairItems(ctx, DefaultCommunity, p.ID)
	wantAPIError(t, "PairItems in the other community", err, 404, "no pairing")
}

// BenchmarkPairItems lists a pairing of 200 items (100 by each partner)
// among 200 items of other pairings by the same two authors.
func BenchmarkPairItems(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	off, err := OpenOffline(dir, "bench", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer off.Close()
	a := off.Local
	other, err := OpenOffline(b.TempDir(), "bench", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer other.Close()
	for _, pairing := range []string{privPairing, "ffeeddccbbaa99887766554433221100", "0123456789abcdef0123456789abcdef"} {
		for _, w := range []*Local{a, other.Local} {
			pp, err := w.pairFor(DefaultCommunity, pairing, a.author, other.author, mentorship.PairActive)
			if err != nil {
				b.Fatal(err)
			}
			for i := range 100 {
				if _, err := w.addNote(ctx, pp, api.NoteInput{Text: strings.Repeat("n", i+1)}); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	// a gets the other's records directly (no ingest needed for a benchmark).
	err = other.store.List(ctx, store.Query{Community: DefaultCommunity, Kind: mentorship.KindPrivate}, func(rec *record.Record) error {
		_, err := a.store.Apply(ctx, rec, store.ApplyOptions{})
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		pp, err := a.pairFor(DefaultCommunity, privPairing, a.author, other.author, mentorship.PairActive)
		if err != nil {
			b.Fatal(err)
		}
		items, err := a.pairItems(ctx, pp)
		if err != nil || len(items.Notes) != 200 {
			b.Fatalf("%d notes, %v", len(items.Notes), err)
		}
	}
}
