package node

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
)

// Private items of real pairings (proposed, accepted, completed and
// cancelled through the pairing code), between parties that exchange
// records through the ingest pipeline (exchange, local_pairing_test.go).

func mustItem(t *testing.T, what string) func(api.PairItem, error) api.PairItem {
	t.Helper()
	return func(v api.PairItem, err error) api.PairItem {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

func mustItems(t *testing.T, p *party, id string) api.PairItems {
	t.Helper()
	items, err := p.PairItems(context.Background(), "", id)
	if err != nil {
		t.Fatalf("%s: PairItems(%s): %v", p.name, id, err)
	}
	return items
}

// activePairing has mentee ask mentor, mentor accept, and both learn of it.
func activePairing(t *testing.T, mentor, mentee *party) string {
	t.Helper()
	ctx := context.Background()
	exchange(t, mentor, mentee)
	p := mustPairing(t, "request")(mentee.ProposePairing(ctx, api.PairingProposal{Type: api.PairingRequest, PeerID: mentor.id}))
	exchange(t, mentor, mentee)
	mustPairing(t, "accept")(mentor.AcceptPairing(ctx, p.ID, api.PairingUpdate{}))
	exchange(t, mentor, mentee)
	checkState(t, mentee, p.ID, "active", "cancel", "complete")
	return p.ID
}

// TestPrivateItemsOfAPairing: the mentor writes goals, a session and
// contact details; a third party relays them to the mentee (the two
// partners never exchange records directly) without being able to read
// them or to write in the pairing; the mentee reads them; after the
// pairing is completed, only goal updates and contact details are allowed.
func TestPrivateItemsOfAPairing(t *testing.T) {
	ctx := context.Background()
	ada, ben, cat := newParty(t, "Ada"), newParty(t, "Ben"), newParty(t, "Cat")
	exchange(t, ada, ben, cat)
	// Nothing can be written while the pairing is pending.
	p := mustPairing(t, "request")(ben.ProposePairing(ctx, api.PairingProposal{Type: api.PairingRequest, PeerID: ada.id}))
	refused(t, ben, http.StatusConflict, "is pending", func() error {
		_, err := ben.AddNote(ctx, p.ID, api.NoteInput{Text: "too early"})
		return err
	})
	exchange(t, ada, ben)
	mustPairing(t, "accept")(ada.AcceptPairing(ctx, p.ID, api.PairingUpdate{}))
	id := p.ID

	due := time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)
	goal := mustItem(t, "AddGoal")(ada.AddGoal(ctx, id, api.GoalInput{Title: "Facilitate a consent round", Due: &due}))
	second := mustItem(t, "AddGoal 2")(ada.AddGoal(ctx, id, api.GoalInput{Title: "Run a selection", Status: "in-progress"}))
	mustItem(t, "LogSession")(ada.LogSession(ctx, id, api.SessionInput{Date: time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC), DurationMinutes: 60, Notes: "Role selection."}))
	mustItem(t, "SetContact")(ada.SetContact(ctx, id, api.ContactInput{Text: "ada@example.org"}))
	if goal.Role != "mentor" || !goal.Mine || goal.Status != "open" || second.Status != "in-progress" {
		t.Errorf("goals as written: %+v, %+v", goal, second)
	}

	// Ada's records (acceptance and items) reach Cat, then Ben from Cat.
	exchange(t, ada, cat)
	refused(t, cat, http.StatusForbidden, "you are not a party to this pairing", func() error {
		_, err := cat.PairItems(ctx, "", id)
		return err
	})
	refused(t, cat, http.StatusForbidden, "you are not a party to this pairing", func() error {
		_, err := cat.AddNote(ctx, id, api.NoteInput{Text: "let me in"})
		return err
	})
	if n := privCount(t, cat.Local); n != 4 {
		t.Errorf("Cat stores %d private records, want Ada's 4", n)
	}
	exchange(t, cat, ben)

	items := mustItems(t, ben, id)
	if items.State != "active" || items.YourRole != "mentee" || items.Mentor != ada.id || items.Mentee != ben.id ||
		len(items.Goals) != 2 || len(items.Sessions) != 1 || len(items.Contacts) != 1 || len(items.Notes) != 0 || items.Unreadable != 0 {
		t.Fatalf("Ben's items = %+v", items)
	}
	// Goals with a due date first.
	if items.Goals[0].ID != goal.ID || items.Goals[0].Mine || items.Goals[0].Author != ada.id || items.Goals[1].ID != second.ID {
		t.Errorf("Ben's goals = %+v", items.Goals)
	}
	done := "done"
	refused(t, ben, http.StatusForbidden, "written by your partner", func() error {
		_, err := ben.UpdateGoal(ctx, id, goal.ID, api.GoalUpdate{Status: &done})
		return err
	})
	mustItem(t, "Ben's note")(ben.AddNote(ctx, id, api.NoteInput{Text: "Thank you for today."}))

	// Ben completes; Ada learns of it (through Cat) and may still close
	// her goals and update her contact details, nothing more.
	mustPairing(t, "complete")(ben.CompletePairing(ctx, id, api.PairingUpdate{Rating: 5}))
	exchange(t, ben, cat)
	exchange(t, cat, ada)
	checkState(t, ada, id, "completed", "complete")
	got := mustItem(t, "UpdateGoal after completion")(ada.UpdateGoal(ctx, id, goal.ID, api.GoalUpdate{Status: &done}))
	if got.Status != "done" || got.Version != 2 {
		t.Errorf("UpdateGoal after completion = %+v", got)
	}
	mustItem(t, "SetContact after completion")(ada.SetContact(ctx, id, api.ContactInput{Text: "ada@example.net"}))
	for name, op := range map[string]func() error{
		"add a goal": func() error { _, err := ada.AddGoal(ctx, id, api.GoalInput{Title: "More"}); return err },
		"log a session": func() error {
			_, err := ada.LogSession(ctx, id, api.SessionInput{Date: time.Now(), DurationMinutes: 30})
			return err
		},
		"add a note": func() error { _, err := ada.AddNote(ctx, id, api.NoteInput{Text: "n"}); return err },
	} {
		t.Run(name, func(t *testing.T) {
			refused(t, ada, http.StatusConflict, "is completed", op)
		})
	}
	items = mustItems(t, ada, id)
	if items.State != "completed" || len(items.Notes) != 1 || items.Notes[0].Role != "mentee" || items.Notes[0].Mine ||
		len(items.Contacts) != 1 || items.Contacts[0].Text != "ada@example.net" || items.Goals[0].Status != "done" {
		t.Errorf("Ada's items after completion = %+v", items)
	}

	// Bad references: unknown or malformed pairing, community not joined.
	refused(t, ada, http.StatusNotFound, "no pairing", func() error {
		_, err := ada.PairItems(ctx, "", strings.Repeat("ab", 16))
		return err
	})
	refused(t, ada, http.StatusBadRequest, "not a pairing ID", func() error {
		_, err := ada.AddNote(ctx, "1234", api.NoteInput{Text: "n"})
		return err
	})
	refused(t, ada, http.StatusBadRequest, "elsewhere", func() error {
		_, err := ada.PairItems(ctx, "elsewhere", id)
		return err
	})
}

// TestPrivateItemsStayInTheirPairing: a second pairing of the same two
// people has its own key and its own items; once cancelled it takes no
// writes.
func TestPrivateItemsStayInTheirPairing(t *testing.T) {
	ctx := context.Background()
	ada, ben := newParty(t, "Ada"), newParty(t, "Ben")
	first := activePairing(t, ada, ben)
	mustItem(t, "note in the first")(ada.AddNote(ctx, first, api.NoteInput{Text: "first pairing"}))
	mustPairing(t, "complete")(ada.CompletePairing(ctx, first, api.PairingUpdate{}))
	exchange(t, ada, ben)
	second := activePairing(t, ada, ben)
	if second == first {
		t.Fatal("the second pairing has the first one's ID")
	}
	mustItem(t, "note in the second")(ben.AddNote(ctx, second, api.NoteInput{Text: "second pairing"}))
	exchange(t, ada, ben)
	for _, p := range []*party{ada, ben} {
		a, b := mustItems(t, p, first), mustItems(t, p, second)
		if len(a.Notes) != 1 || a.Notes[0].Text != "first pairing" || len(b.Notes) != 1 || b.Notes[0].Text != "second pairing" || a.Unreadable+b.Unreadable != 0 {
			t.Errorf("%s: first pairing's notes %+v, second's %+v", p.name, a.Notes, b.Notes)
		}
	}
	mustPairing(t, "cancel")(ben.CancelPairing(ctx, second, api.PairingUpdate{}))
	refused(t, ben, http.StatusConflict, "is cancelled", func() error {
		_, err := ben.SetContact(ctx, second, api.ContactInput{Text: "c"})
		return err
	})
	if items := mustItems(t, ben, second); items.State != "cancelled" || len(items.Notes) != 1 {
		t.Errorf("a cancelled pairing's items = %+v, want them still readable", items)
	}
}

// TestPrivateAPIRoundTrip: the same operations over the HTTP API and its
// client give the answers of the in-process backend.
func TestPrivateAPIRoundTrip(t *testing.T) {
	ctx := context.Background()
	ada, ben := newParty(t, "Ada"), newParty(t, "Ben")
	adaAPI, _ := serveParty(t, ada)
	benAPI, _ := serveParty(t, ben)
	id := activePairing(t, ada, ben)

	due := time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC)
	goal, err := adaAPI.AddGoal(ctx, id, api.GoalInput{Title: "Facilitate", Due: &due})
	if err != nil {
		t.Fatalf("AddGoal over HTTP: %v", err)
	}
	status := "in_progress"
	if _, err := adaAPI.UpdateGoal(ctx, id, goal.ID, api.GoalUpdate{Status: &status}); err != nil {
		t.Fatalf("UpdateGoal over HTTP: %v", err)
	}
	if _, err := adaAPI.LogSession(ctx, id, api.SessionInput{Community: DefaultCommunity, Date: time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC), DurationMinutes: 45, Notes: "Line one\nline two"}); err != nil {
		t.Fatalf("LogSession over HTTP: %v", err)
	}
	if _, err := benAPI.AddNote(ctx, id, api.NoteInput{Text: "Note by Ben"}); err != nil {
		t.Fatalf("AddNote over HTTP: %v", err)
	}
	if _, err := benAPI.SetContact(ctx, id, api.ContactInput{Text: "ben@example.org"}); err != nil {
		t.Fatalf("SetContact over HTTP: %v", err)
	}
	exchange(t, ada, ben)
	for _, p := range []struct {
		party  *party
		client *api.Client
	}{{ada, adaAPI}, {ben, benAPI}} {
		remote, err := p.client.PairItems(ctx, DefaultCommunity, id)
		if err != nil {
			t.Fatalf("PairItems over HTTP: %v", err)
		}
		sameJSON(t, p.party.name+"'s PairItems", remote, mustItems(t, p.party, id))
		if len(remote.Goals) != 1 || remote.Goals[0].Status != "in-progress" || remote.Goals[0].Version != 2 ||
			len(remote.Sessions) != 1 || len(remote.Notes) != 1 || len(remote.Contacts) != 1 {
			t.Errorf("%s's items over HTTP = %+v", p.party.name, remote)
		}
	}
	// Errors keep their status over HTTP.
	_, err = benAPI.UpdateGoal(ctx, id, goal.ID, api.GoalUpdate{Status: &status})
	if apiStatus(err) != http.StatusForbidden {
		t.Errorf("Ben's UpdateGoal of Ada's goal over HTTP: %v, want 403", err)
	}
	_, err = adaAPI.AddNote(ctx, id, api.NoteInput{Text: strings.Repeat("x", mentorship.MaxNoteLen+1)})
	if apiStatus(err) != http.StatusBadRequest || !strings.Contains(err.Error(), "at most 4000") {
		t.Errorf("an over-long note over HTTP: %v, want 400", err)
	}
}
