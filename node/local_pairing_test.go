package node

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/ingest"
	"github.com/mentormesh/mentormesh/sync/record"
)

// Pairings between Locals over real Badger stores. Records travel between
// them through the ingest pipeline every received record goes through
// (exchange), so no network is needed to test the logic.

// party is one practitioner's data directory, opened without a node.
type party struct {
	*Local
	name string
	id   string // peer ID
	// at is this party's clock (see pairingHooks.now).
	mu sync.Mutex
	at time.Time
}

func newParty(t *testing.T, name string) *party {
	t.Helper()
	off, err := OpenOffline(t.TempDir(), "test", nil)
	if err != nil {
		t.Fatalf("OpenOffline: %v", err)
	}
	t.Cleanup(func() {
		if err := off.Close(); err != nil {
			t.Errorf("closing %s: %v", name, err)
		}
	})
	p := &party{Local: off.Local, name: name, id: off.author.String(), at: time.Now()}
	p.pairing.now = p.now
	if _, err := p.SetProfile(context.Background(), api.ProfileInput{Name: &name}); err != nil {
		t.Fatalf("SetProfile(%s): %v", name, err)
	}
	return p
}

func (p *party) now() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.at
}

// advance moves the party's clock forward.
func (p *party) advance(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.at = p.at.Add(d)
}

// exchange gives every party every record the others hold, through the
// ingest pipeline (size, decoding, clock, payload and signature checks).
func exchange(t *testing.T, parties ...*party) {
	t.Helper()
	ctx := context.Background()
	for _, from := range parties {
		var recs []*record.Record
		err := from.store.List(ctx, store.Query{Community: DefaultCommunity}, func(r *record.Record) error {
			recs = append(recs, r)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, to := range parties {
			if to == from {
				continue
			}
			pipe := ingest.New(storeAdapter{s: to.store}, mentorship.Kinds{}, ingest.Options{})
			for _, r := range recs {
				out := pipe.Ingest(ctx, r.Raw, ingest.Source{Community: r.Community})
				if out.Verdict == ingest.Reject {
					t.Fatalf("%s refused a %s record of %s: %v", to.name, r.Kind, from.name, out.Err)
				}
			}
		}
	}
}

// snapshot is every current record ID and the outbox of a store: equal
// snapshots mean nothing was written in between.
func partySnapshot(t *testing.T, p *party) []string {
	t.Helper()
	ctx := context.Background()
	var ids []string
	err := p.store.List(ctx, store.Query{Community: DefaultCommunity}, func(r *record.Record) error {
		ids = append(ids, r.ID.String())
		return nil
	})
	if err == nil {
		err = p.store.Outbox(ctx, func(r *record.Record) error {
			ids = append(ids, "outbox "+r.ID.String())
			return nil
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	return ids
}

// refused checks that op fails with an API error of the given status whose
// message contains want, and that it wrote nothing.
func refused(t *testing.T, p *party, status int, want string, op func() error) {
	t.Helper()
	before := partySnapshot(t, p)
	err := op()
	var e *api.Error
	if !errors.As(err, &e) || e.Status != status || !strings.Contains(e.Message, want) {
		t.Errorf("%s: error = %v (%#v), want status %d with %q", p.name, err, e, status, want)
	}
	if after := partySnapshot(t, p); !slices.Equal(before, after) {
		t.Errorf("%s: a refused operation wrote records: before %v, after %v", p.name, before, after)
	}
}

// mustPairing returns a function that fails the test if an operation
// failed: mustPairing(t, "accept")(p.AcceptPairing(...)).
func mustPairing(t *testing.T, what string) func(api.Pairing, error) api.Pairing {
	t.Helper()
	return func(v api.Pairing, err error) api.Pairing {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

func checkState(t *testing.T, p *party, id string, state string, actions ...string) api.Pairing {
	t.Helper()
	v, err := p.Pairing(context.Background(), id, "")
	if err != nil {
		t.Fatalf("%s: Pairing(%s): %v", p.name, id, err)
	}
	if v.State != state || !slices.Equal(v.Actions, append([]string{}, actions...)) {
		t.Errorf("%s sees pairing %s in state %s with actions %v, want %s with %v", p.name, id, v.State, v.Actions, state, actions)
	}
	return v
}

func TestPairingRequestAcceptComplete(t *testing.T) {
	ctx := context.Background()
	ada, ben := newParty(t, "Ada"), newParty(t, "Ben")
	exchange(t, ada, ben)

	start := ben.now()
	p := mustPairing(t, "request")(ben.ProposePairing(ctx, api.PairingProposal{
		Type: api.PairingRequest, PeerID: ada.id, Message: "  Help me facilitate my first circle.  ",
	}))
	id := p.ID
	if err := mentorship.CheckPairingID(id); err != nil {
		t.Errorf("new pairing ID: %v", err)
	}
	want := api.Pairing{
		ID: id, Community: DefaultCommunity, Mentor: ada.id, Mentee: ben.id, Proposer: ben.id,
		Type: "request", MyRole: "mentee", Partner: ada.id, PartnerName: "Ada", State: "pending",
		Actions: []string{"cancel"}, Message: "Help me facilitate my first circle.",
	}
	got := p
	got.ExpiresAt, got.CreatedAt, got.UpdatedAt, got.MentorSide, got.MenteeSide = nil, nil, time.Time{}, api.PairingSide{}, api.PairingSide{}
	if !equalJSON(got, want) {
		t.Errorf("request = %+v, want %+v", got, want)
	}
	if p.CreatedAt == nil || !p.CreatedAt.Equal(start.Truncate(time.Millisecond)) ||
		p.ExpiresAt == nil || !p.ExpiresAt.Equal(start.Truncate(time.Millisecond).Add(30*24*time.Hour)) {
		t.Errorf("request created %v, expires %v; want %v and 30 days later", p.CreatedAt, p.ExpiresAt, start)
	}
	if p.MentorSide.Status != "none" || p.MenteeSide.Status != "proposed" || p.MentorSide.Name != "Ada" {
		t.Errorf("request sides = %+v / %+v, want none (Ada) / proposed", p.MentorSide, p.MenteeSide)
	}

	// Ada knows nothing until the record reaches her.
	if _, err := ada.Pairing(ctx, id, ""); !api.IsNotFound(err) {
		t.Errorf("Ada's Pairing before the exchange: %v, want not found", err)
	}
	exchange(t, ada, ben)
	list, err := ada.Pairings(ctx, api.PairingQuery{})
	if err != nil || len(list) != 1 || list[0].ID != id || list[0].MyRole != "mentor" || list[0].PartnerName != "Ben" ||
		!slices.Equal(list[0].Actions, []string{"accept", "decline"}) {
		t.Fatalf("Ada's Pairings = %+v, %v; want the request, as mentor, to accept or decline", list, err)
	}

	mustPairing(t, "accept")(ada.AcceptPairing(ctx, id, api.PairingUpdate{}))
	checkState(t, ada, id, "active", "cancel", "complete")
	checkState(t, ben, id, "pending", "cancel") // not yet exchanged
	exchange(t, ada, ben)
	checkState(t, ben, id, "active", "cancel", "complete")

	// Ben completes with feedback; Ada may then leave hers.
	done := mustPairing(t, "complete")(ben.CompletePairing(ctx, id, api.PairingUpdate{Rating: 5, Comment: "Clear and kind."}))
	if done.State != "completed" || done.MenteeSide.Rating != 5 || done.MenteeSide.Comment != "Clear and kind." || len(done.Actions) != 0 {
		t.Errorf("Ben's complete = %+v, want completed with his feedback and nothing left to do", done)
	}
	exchange(t, ada, ben)
	checkState(t, ada, id, "completed", "complete")
	mustPairing(t, "Ada's complete")(ada.CompletePairing(ctx, id, api.PairingUpdate{Rating: 4}))
	exchange(t, ada, ben)
	for _, p := range []*party{ada, ben} {
		v := checkState(t, p, id, "completed")
		if v.MentorSide.Rating != 4 || v.MenteeSide.Rating != 5 || v.MentorSide.Status != "completed" || v.MenteeSide.Status != "completed" {
			t.Errorf("%s sees sides %+v / %+v, want both completed, ratings 4 and 5", p.name, v.MentorSide, v.MenteeSide)
		}
		out, err := p.outcomes(ctx, DefaultCommunity)
		if err != nil {
			t.Fatal(err)
		}
		wantOut := map[record.Author]mentorship.Outcome{
			ada.author: {CompletedAsMentor: 1, Ratings: 1, RatingSum: 5},
			ben.author: {CompletedAsMentee: 1, Ratings: 1, RatingSum: 4},
		}
		if len(out) != 2 || out[ada.author] != wantOut[ada.author] || out[ben.author] != wantOut[ben.author] {
			t.Errorf("%s's outcomes = %+v, want %+v", p.name, out, wantOut)
		}
		mentor, mentee, state, err := p.pairParties(ctx, DefaultCommunity, id)
		if err != nil || mentor != ada.author || mentee != ben.author || state != mentorship.PairCompleted {
			t.Errorf("%s's pairParties = %v, %v, %v, %v", p.name, mentor, mentee, state, err)
		}
	}
	refused(t, ben, http.StatusConflict, "it is completed and you have left your feedback", func() error {
		_, err := ben.CompletePairing(ctx, id, api.PairingUpdate{Rating: 1})
		return err
	})
	if _, _, _, err := ada.pairParties(ctx, DefaultCommunity, strings.Repeat("ab", 16)); !api.IsNotFound(err) {
		t.Errorf("pairParties(unknown) error = %v, want not found", err)
	}
}

func TestPairingOfferAndCancel(t *testing.T) {
	ctx := context.Background()
	ada, ben := newParty(t, "Ada"), newParty(t, "Ben")
	exchange(t, ada, ben)
	p := mustPairing(t, "offer")(ada.ProposePairing(ctx, api.PairingProposal{Type: api.PairingOffer, PeerID: ben.id, Message: "Happy to help."}))
	if p.Type != "offer" || p.MyRole != "mentor" || p.Proposer != ada.id || p.Mentee != ben.id {
		t.Errorf("offer = %+v, want Ada offering to mentor Ben", p)
	}
	exchange(t, ada, ben)
	v := checkState(t, ben, p.ID, "pending", "accept", "decline")
	if v.MyRole != "mentee" || v.Message != "Happy to help." {
		t.Errorf("Ben sees %+v", v)
	}
	mustPairing(t, "accept")(ben.AcceptPairing(ctx, p.ID, api.PairingUpdate{}))
	exchange(t, ada, ben)
	checkState(t, ada, p.ID, "active", "cancel", "complete")
	c := mustPairing(t, "cancel")(ada.CancelPairing(ctx, p.ID, api.PairingUpdate{Reason: "Moving abroad."}))
	if c.State != "cancelled" || c.MentorSide.Reason != "Moving abroad." || c.MentorSide.Status != "cancelled" {
		t.Errorf("cancel = %+v", c)
	}
	exchange(t, ada, ben)
	checkState(t, ben, p.ID, "cancelled")
	refused(t, ben, http.StatusConflict, "it is cancelled; nothing more can be done with it", func() error {
		_, err := ben.CompletePairing(ctx, p.ID, api.PairingUpdate{})
		return err
	})
	// Cancelled is not open: they may pair again.
	mustPairing(t, "offer again")(ada.ProposePairing(ctx, api.PairingProposal{Type: api.PairingOffer, PeerID: ben.id}))
}

func TestPairingDeclineAndWithdraw(t *testing.T) {
	ctx := context.Background()
	ada, ben := newParty(t, "Ada"), newParty(t, "Ben")
	exchange(t, ada, ben)
	first := mustPairing(t, "request")(ben.ProposePairing(ctx, api.PairingProposal{Type: api.PairingRequest, PeerID: ada.id}))
	refused(t, ben, http.StatusConflict, "you already have a pending pairing with Ada ("+ada.id+") as your mentor: "+first.ID, func() error {
		_, err := ben.ProposePairing(ctx, api.PairingProposal{Type: api.PairingRequest, PeerID: ada.id})
		return err
	})
	// The same two in the other roles is another pairing.
	mustPairing(t, "offer in the other roles")(ben.ProposePairing(ctx, api.PairingProposal{Type: api.PairingOffer, PeerID: ada.id}))
	exchange(t, ada, ben)
	// Ada offering what Ben asked for is answering him.
	refused(t, ada, http.StatusConflict, "Ben ("+ben.id+") has already asked you to mentor them: answer with 'mentormesh pair accept "+first.ID+"'", func() error {
		_, err := ada.ProposePairing(ctx, api.PairingProposal{Type: api.PairingOffer, PeerID: ben.id})
		return err
	})
	refused(t, ada, http.StatusConflict, "you cannot cancel pairing "+first.ID+": it is pending (waiting for your answer); you can accept or decline it", func() error {
		_, err := ada.CancelPairing(ctx, first.ID, api.PairingUpdate{})
		return err
	})
	d := mustPairing(t, "decline")(ada.DeclinePairing(ctx, first.ID, api.PairingUpdate{Reason: "Full this season."}))
	if d.State != "declined" || d.MentorSide.Reason != "Full this season." {
		t.Errorf("decline = %+v", d)
	}
	exchange(t, ada, ben)
	checkState(t, ben, first.ID, "declined")

	// A proposal withdrawn before the answer arrives cannot be accepted.
	second := mustPairing(t, "request again")(ben.ProposePairing(ctx, api.PairingProposal{Type: api.PairingRequest, PeerID: ada.id}))
	exchange(t, ada, ben)
	mustPairing(t, "withdraw")(ben.CancelPairing(ctx, second.ID, api.PairingUpdate{Reason: "Found someone."}))
	exchange(t, ada, ben)
	refused(t, ada, http.StatusConflict, "it is cancelled", func() error {
		_, err := ada.AcceptPairing(ctx, second.ID, api.PairingUpdate{})
		return err
	})
	// Only the two see it as theirs; Carol can read it but not act.
	carol := newParty(t, "Carol")
	exchange(t, ada, ben, carol)
	if list, err := carol.Pairings(ctx, api.PairingQuery{}); err != nil || len(list) != 0 {
		t.Errorf("Carol's Pairings = %+v, %v; want none", list, err)
	}
	if v, err := carol.Pairing(ctx, second.ID, ""); err != nil || v.MyRole != "" || v.State != "cancelled" || len(v.Actions) != 0 {
		t.Errorf("Carol's Pairing = %+v, %v; want it readable, no role, no actions", v, err)
	}
	refused(t, carol, http.StatusConflict, "not you", func() error {
		_, err := carol.CancelPairing(ctx, second.ID, api.PairingUpdate{})
		return err
	})
}

func TestPairingExpiry(t *testing.T) {
	ctx := context.Background()
	ada, ben := newParty(t, "Ada"), newParty(t, "Ben")
	ada.at = ben.now() // the same clock, until one of them advances
	exchange(t, ada, ben)
	p := mustPairing(t, "request")(ben.ProposePairing(ctx, api.PairingProposal{Type: api.PairingRequest, PeerID: ada.id, ExpiresIn: "1h"}))
	exchange(t, ada, ben)
	ada.advance(59 * time.Minute)
	checkState(t, ada, p.ID, "pending", "accept", "decline")
	ada.advance(time.Minute)
	checkState(t, ada, p.ID, "expired")
	refused(t, ada, http.StatusConflict, "you cannot accept pairing "+p.ID+": it is expired (it was not answered in time)", func() error {
		_, err := ada.AcceptPairing(ctx, p.ID, api.PairingUpdate{})
		return err
	})
	// Ben's clock has not moved: still pending for him. Expired is not
	// open, so once his clock passes the expiry he may ask again.
	checkState(t, ben, p.ID, "pending", "cancel")
	ben.advance(2 * time.Hour)
	checkState(t, ben, p.ID, "expired")
	if list, err := ben.Pairings(ctx, api.PairingQuery{State: "expired"}); err != nil || len(list) != 1 {
		t.Errorf("Ben's expired pairings = %+v, %v; want one", list, err)
	}
	mustPairing(t, "request again")(ben.ProposePairing(ctx, api.PairingProposal{Type: api.PairingRequest, PeerID: ada.id}))

	for _, tt := range []struct{ in, want string }{
		{"soon", "expires_in \"soon\""},
		{"0s", "expires_in 0"},
		{"30s", "between 1m0s and 8760h0m0s"},
		{"9000h", "between 1m0s and 8760h0m0s"},
	} {
		refused(t, ben, http.StatusBadRequest, tt.want, func() error {
			_, err := ben.ProposePairing(ctx, api.PairingProposal{Type: api.PairingOffer, PeerID: ada.id, ExpiresIn: tt.in})
			return err
		})
	}
}

// capacityOf makes p's node see mentor's capacity as n.
func capacityOf(p *party, mentor *party, n int) {
	p.pairing.capacity = func(_ context.Context, _ string, a record.Author) (int, bool, error) {
		return n, a == mentor.author, nil
	}
}

func TestPairingCapacity(t *testing.T) {
	ctx := context.Background()
	ada, ben, cat, dan := newParty(t, "Ada"), newParty(t, "Ben"), newParty(t, "Cat"), newParty(t, "Dan")
	for _, p := range []*party{ada, ben, cat, dan} {
		capacityOf(p, ada, 1)
	}
	exchange(t, ada, ben, cat, dan)
	fromBen := mustPairing(t, "Ben's request")(ben.ProposePairing(ctx, api.PairingProposal{Type: api.PairingRequest, PeerID: ada.id}))
	fromCat := mustPairing(t, "Cat's request")(cat.ProposePairing(ctx, api.PairingProposal{Type: api.PairingRequest, PeerID: ada.id}))
	toDan := mustPairing(t, "Ada's offer")(ada.ProposePairing(ctx, api.PairingProposal{Type: api.PairingOffer, PeerID: dan.id}))
	exchange(t, ada, ben, cat, dan)
	mustPairing(t, "accept Ben")(ada.AcceptPairing(ctx, fromBen.ID, api.PairingUpdate{}))
	refused(t, ada, http.StatusConflict, "you are at capacity (1 of 1 active mentees)", func() error {
		_, err := ada.AcceptPairing(ctx, fromCat.ID, api.PairingUpdate{})
		return err
	})
	exchange(t, ada, ben, cat, dan)
	// A mentee accepting an offer is held to the mentor's load too.
	refused(t, dan, http.StatusConflict, "Ada is at capacity (1 of 1 active mentees)", func() error {
		_, err := dan.AcceptPairing(ctx, toDan.ID, api.PairingUpdate{})
		return err
	})
	// Declining is always possible.
	mustPairing(t, "decline at capacity")(dan.DeclinePairing(ctx, toDan.ID, api.PairingUpdate{}))
	// Once Ben's pairing is completed, Ada has room again.
	mustPairing(t, "complete Ben")(ben.CompletePairing(ctx, fromBen.ID, api.PairingUpdate{}))
	exchange(t, ada, ben, cat, dan)
	mustPairing(t, "accept Cat")(ada.AcceptPairing(ctx, fromCat.ID, api.PairingUpdate{}))
	out, err := ada.outcomes(ctx, DefaultCommunity)
	if err != nil || out[ada.author].ActiveAsMentor != 1 || out[ada.author].CompletedAsMentor != 1 {
		t.Errorf("Ada's outcome = %+v, %v; want 1 active and 1 completed as mentor", out[ada.author], err)
	}
}

// TestPairingConcurrentAccepts: two acceptances racing for the last place
// of a mentor: exactly one wins.
func TestPairingConcurrentAccepts(t *testing.T) {
	ctx := context.Background()
	ada, ben, cat := newParty(t, "Ada"), newParty(t, "Ben"), newParty(t, "Cat")
	capacityOf(ada, ada, 1)
	exchange(t, ada, ben, cat)
	var ids []string
	for _, p := range []*party{ben, cat} {
		ids = append(ids, mustPairing(t, "request")(p.ProposePairing(ctx, api.PairingProposal{Type: api.PairingRequest, PeerID: ada.id})).ID)
	}
	exchange(t, ada, ben, cat)
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() { _, errs[i] = ada.AcceptPairing(ctx, id, api.PairingUpdate{}) })
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("concurrent accepts at capacity 1: errors %v and %v, want exactly one to fail", errs[0], errs[1])
	}
	if list, _ := ada.Pairings(ctx, api.PairingQuery{State: "active"}); len(list) != 1 {
		t.Errorf("Ada has %d active pairings, want 1", len(list))
	}
}

func TestPairingBadInput(t *testing.T) {
	ctx := context.Background()
	ada, ben := newParty(t, "Ada"), newParty(t, "Ben")
	stranger := newParty(t, "Stranger") // never exchanged: no profile on Ben's node
	exchange(t, ada, ben)
	pending := mustPairing(t, "request")(ben.ProposePairing(ctx, api.PairingProposal{Type: api.PairingRequest, PeerID: ada.id}))
	exchange(t, ada, ben)
	propose := func(in api.PairingProposal) func() error {
		return func() error { _, err := ben.ProposePairing(ctx, in); return err }
	}
	tests := []struct {
		name   string
		status int
		want   string
		op     func() error
	}{
		{"to yourself", 400, "you cannot pair with yourself", propose(api.PairingProposal{Type: "request", PeerID: ben.id})},
		{"unknown peer", 404, "no profile of " + stranger.id + " in community \"sociocracy\" on this node", propose(api.PairingProposal{Type: "offer", PeerID: stranger.id})},
		{"not a peer ID", 400, "is not a peer ID", propose(api.PairingProposal{Type: "offer", PeerID: "ada"})},
		{"no peer", 400, "peer_id is missing", propose(api.PairingProposal{Type: "offer"})},
		{"bad type", 400, "pairing type \"mentor\"", propose(api.PairingProposal{Type: "mentor", PeerID: ada.id})},
		{"long message", 400, "message is 1001 characters, at most 1000", propose(api.PairingProposal{Type: "offer", PeerID: ada.id, Message: strings.Repeat("m", 1001)})},
		{"control character", 400, "message contains a control character", propose(api.PairingProposal{Type: "offer", PeerID: ada.id, Message: "\x1b[2J"})},
		{"community not joined", 400, "not in community \"elsewhere\"", propose(api.PairingProposal{Community: "elsewhere", Type: "offer", PeerID: ada.id})},
		{"bad ID", 400, "is not a pairing ID", func() error { _, err := ben.CancelPairing(ctx, "nope", api.PairingUpdate{}); return err }},
		{"unknown ID", 404, "no pairing " + strings.Repeat("0", 32) + " on this node", func() error {
			_, err := ben.CancelPairing(ctx, strings.Repeat("0", 32), api.PairingUpdate{})
			return err
		}},
		{"reason with accept", 400, "a reason goes with decline or cancel", func() error {
			_, err := ben.AcceptPairing(ctx, pending.ID, api.PairingUpdate{Reason: "x"})
			return err
		}},
		{"rating with cancel", 400, "a rating or comment goes with complete", func() error {
			_, err := ben.CancelPairing(ctx, pending.ID, api.PairingUpdate{Rating: 3})
			return err
		}},
		{"long reason", 400, "reason is 501 characters", func() error {
			_, err := ben.CancelPairing(ctx, pending.ID, api.PairingUpdate{Reason: strings.Repeat("r", 501)})
			return err
		}},
		{"proposer accepts", 409, "you proposed it", func() error { _, err := ben.AcceptPairing(ctx, pending.ID, api.PairingUpdate{}); return err }},
		{"complete while pending", 409, "it is pending (waiting for their answer); you can cancel it", func() error {
			_, err := ben.CompletePairing(ctx, pending.ID, api.PairingUpdate{Rating: 5})
			return err
		}},
		{"bad state filter", 400, "unknown state \"open\"", func() error { _, err := ben.Pairings(ctx, api.PairingQuery{State: "open"}); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { refused(t, ben, tt.status, tt.want, tt.op) })
	}
	// Ada's rating out of range is refused when she completes.
	mustPairing(t, "accept")(ada.AcceptPairing(ctx, pending.ID, api.PairingUpdate{}))
	refused(t, ada, 400, "rating 6, want 1 to 5", func() error {
		_, err := ada.CompletePairing(ctx, pending.ID, api.PairingUpdate{Rating: 6})
		return err
	})
}

// TestPairingTombstonesAndForgeries: a proposer's tombstone (which this
// node never writes, but another client may) hides the pairing; a record a
// third party writes in a partner's name changes nothing.
func TestPairingTombstonesAndForgeries(t *testing.T) {
	ctx := context.Background()
	ada, ben, eve := newParty(t, "Ada"), newParty(t, "Ben"), newParty(t, "Eve")
	exchange(t, ada, ben, eve)
	p := mustPairing(t, "request")(ben.ProposePairing(ctx, api.PairingProposal{Type: api.PairingRequest, PeerID: ada.id}))
	exchange(t, ada, ben, eve)

	// Eve writes "Ada accepted" at the pairing's key, under her own key.
	v, err := eve.findPairing(ctx, DefaultCommunity, p.ID, eve.now())
	if err != nil {
		t.Fatal(err)
	}
	forged := mentorship.Pairing{Mentor: v.view.Mentor, Mentee: v.view.Mentee, Proposer: v.view.Proposer, Nonce: v.view.Proposal.Nonce,
		Status: mentorship.StatusAccepted, Accepted: true}
	payload, err := forged.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eve.write(ctx, record.Addr{Community: DefaultCommunity, Author: eve.author, Kind: mentorship.KindPairing, Key: p.ID}, 0, false, payload); err != nil {
		t.Fatal(err)
	}
	exchange(t, ada, ben, eve)
	checkState(t, ben, p.ID, "pending", "cancel")

	// Ben's tombstone: the pairing is gone everywhere, and nobody can act.
	addr := record.Addr{Community: DefaultCommunity, Author: ben.author, Kind: mentorship.KindPairing, Key: p.ID}
	if _, err := ben.write(ctx, addr, 1, true, nil); err != nil {
		t.Fatal(err)
	}
	exchange(t, ada, ben, eve)
	for _, x := range []*party{ada, ben} {
		if _, err := x.Pairing(ctx, p.ID, ""); !api.IsNotFound(err) {
			t.Errorf("%s: Pairing after the proposer's tombstone: %v, want not found", x.name, err)
		}
		if list, err := x.Pairings(ctx, api.PairingQuery{}); err != nil || len(list) != 0 {
			t.Errorf("%s: Pairings after the tombstone = %+v, %v", x.name, list, err)
		}
	}
	refused(t, ada, http.StatusNotFound, "no pairing "+p.ID, func() error {
		_, err := ada.AcceptPairing(ctx, p.ID, api.PairingUpdate{})
		return err
	})
}

// equalJSON compares two API values field by field.
func equalJSON(a, b api.Pairing) bool {
	return a.ID == b.ID && a.Community == b.Community && a.Mentor == b.Mentor && a.Mentee == b.Mentee &&
		a.Proposer == b.Proposer && a.Type == b.Type && a.MyRole == b.MyRole && a.Partner == b.Partner &&
		a.PartnerName == b.PartnerName && a.State == b.State && slices.Equal(a.Actions, b.Actions) && a.Message == b.Message
}

// TestPairingCapacityFromProfile: the capacity a mentor sets in their
// profile (not a test hook) is what accepting is held to, on the
// mentor's node and on the mentee's; 0 (not set) limits nothing.
func TestPairingCapacityFromProfile(t *testing.T) {
	ctx := context.Background()
	ada, ben, cat := newParty(t, "Ada"), newParty(t, "Ben"), newParty(t, "Cat")
	one := 1
	if _, err := ada.SetProfile(ctx, api.ProfileInput{Capacity: &one, Roles: &[]string{"mentor"}}); err != nil {
		t.Fatal(err)
	}
	exchange(t, ada, ben, cat)
	fromBen := mustPairing(t, "Ben's request")(ben.ProposePairing(ctx, api.PairingProposal{Type: api.PairingRequest, PeerID: ada.id}))
	fromCat := mustPairing(t, "Cat's request")(cat.ProposePairing(ctx, api.PairingProposal{Type: api.PairingRequest, PeerID: ada.id}))
	exchange(t, ada, ben, cat)
	mustPairing(t, "accept Ben")(ada.AcceptPairing(ctx, fromBen.ID, api.PairingUpdate{}))
	refused(t, ada, http.StatusConflict, "you are at capacity (1 of 1 active mentees)", func() error {
		_, err := ada.AcceptPairing(ctx, fromCat.ID, api.PairingUpdate{})
		return err
	})
	// Ben has no capacity set: he may mentor any number.
	benOffer := mustPairing(t, "Ben's offer to Cat")(ben.ProposePairing(ctx, api.PairingProposal{Type: api.PairingOffer, PeerID: cat.id}))
	exchange(t, ada, ben, cat)
	mustPairing(t, "Cat accepts Ben's offer")(cat.AcceptPairing(ctx, benOffer.ID, api.PairingUpdate{}))
}
