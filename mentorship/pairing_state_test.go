package mentorship_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/mentormesh/mentormesh/mentorship"
)

// side returns a record of Ben's request to Ada (see proposal) with the
// given status and accepted flag, as written by who.
func side(t tb, who [32]byte, st mentorship.PairStatus, accepted bool) mentorship.PairingRecord {
	t.Helper()
	p := proposal(t)
	if who != p.Proposer && st != mentorship.StatusProposed {
		p = mentorship.Pairing{Mentor: p.Mentor, Mentee: p.Mentee, Proposer: p.Proposer, Nonce: p.Nonce}
	}
	p.Status, p.Accepted = st, accepted
	if err := p.Validate(); err != nil {
		t.Fatalf("side(%v, %v): %v", st, accepted, err)
	}
	return mentorship.PairingRecord{Author: who, Pairing: p}
}

var (
	beforeExpiry = t0.Add(24 * time.Hour)
	afterExpiry  = t0.Add(31 * 24 * time.Hour)
	atExpiry     = t0.Add(30 * 24 * time.Hour)
)

// TestDeriveTable checks every combination of the proposer's (Ben's) status
// with every responder (Ada) record, before and after the proposal expires.
func TestDeriveTable(t *testing.T) {
	const (
		pending   = mentorship.PairPending
		active    = mentorship.PairActive
		declined  = mentorship.PairDeclined
		cancelled = mentorship.PairCancelled
		completed = mentorship.PairCompleted
		expired   = mentorship.PairExpired
	)
	type resp struct {
		name     string
		status   mentorship.PairStatus // 0: no record
		accepted bool
	}
	responses := []resp{
		{"no answer", 0, false},
		{"proposed (meaningless from the responder)", mentorship.StatusProposed, false},
		{"accepted", mentorship.StatusAccepted, true},
		{"declined", mentorship.StatusDeclined, false},
		{"cancelled without accepting", mentorship.StatusCancelled, false},
		{"cancelled after accepting", mentorship.StatusCancelled, true},
		{"completed without accepting", mentorship.StatusCompleted, false},
		{"completed after accepting", mentorship.StatusCompleted, true},
	}
	// want[proposer status][response] = {before expiry, after expiry}
	want := map[mentorship.PairStatus][8][2]mentorship.PairState{
		mentorship.StatusProposed: {
			{pending, expired}, {pending, expired}, {active, active}, {declined, declined},
			{declined, declined}, {cancelled, cancelled}, {declined, declined}, {completed, completed},
		},
		// An "accepted" proposer record (no client writes one) stands by
		// the proposal like "proposed".
		mentorship.StatusAccepted: {
			{pending, expired}, {pending, expired}, {active, active}, {declined, declined},
			{declined, declined}, {cancelled, cancelled}, {declined, declined}, {completed, completed},
		},
		mentorship.StatusCancelled: {
			{cancelled, cancelled}, {cancelled, cancelled}, {cancelled, cancelled}, {declined, declined},
			{declined, declined}, {cancelled, cancelled}, {declined, declined}, {completed, completed},
		},
		// A proposer "declining" its own proposal withdraws it.
		mentorship.StatusDeclined: {
			{cancelled, cancelled}, {cancelled, cancelled}, {cancelled, cancelled}, {declined, declined},
			{declined, declined}, {cancelled, cancelled}, {declined, declined}, {completed, completed},
		},
		// Completing without consent counts as a withdrawal.
		mentorship.StatusCompleted: {
			{cancelled, cancelled}, {cancelled, cancelled}, {completed, completed}, {declined, declined},
			{declined, declined}, {completed, completed}, {declined, declined}, {completed, completed},
		},
	}
	for pst, row := range want {
		for i, r := range responses {
			for j, now := range []time.Time{beforeExpiry, afterExpiry} {
				name := fmt.Sprintf("proposer %s, responder %s, %s expiry", pst, r.name, []string{"before", "after"}[j])
				t.Run(name, func(t *testing.T) {
					recs := []mentorship.PairingRecord{side(t, ben, pst, pst == mentorship.StatusAccepted)}
					if r.status != 0 {
						recs = append(recs, side(t, ada, r.status, r.accepted))
					}
					v, ok := mentorship.DerivePairing(proposal(t).ID(), recs, now)
					if !ok || v.State != row[i][j] {
						t.Errorf("DerivePairing = %v, %v; want %v", v.State, ok, row[i][j])
					}
				})
			}
		}
	}
}

func TestDeriveExpiryBoundary(t *testing.T) {
	recs := []mentorship.PairingRecord{side(t, ben, mentorship.StatusProposed, false)}
	id := proposal(t).ID()
	for _, tt := range []struct {
		now  time.Time
		want mentorship.PairState
	}{
		{atExpiry.Add(-time.Millisecond), mentorship.PairPending},
		{atExpiry, mentorship.PairExpired},
	} {
		if v, _ := mentorship.DerivePairing(id, recs, tt.now); v.State != tt.want {
			t.Errorf("DerivePairing(at expiry %+v) = %v, want %v", tt.now.Sub(atExpiry), v.State, tt.want)
		}
	}
}

func TestDeriveIgnores(t *testing.T) {
	id := proposal(t).ID()
	P := side(t, ben, mentorship.StatusProposed, false)
	accepted := side(t, ada, mentorship.StatusAccepted, true)

	forged := accepted
	forged.Author = carol // Carol writes "Ada accepted" under her own key
	otherNonce := accepted
	otherNonce.Pairing.Nonce[0] ^= 1
	notProposer := P
	notProposer.Author = ada // a proposal record by the other party
	byResponderAsProposer := side(t, ada, mentorship.StatusAccepted, true)
	byResponderAsProposer.Pairing.Proposer = ada // claims Ada proposed

	tests := []struct {
		name  string
		recs  []mentorship.PairingRecord
		ok    bool
		state mentorship.PairState
	}{
		{"nothing", nil, false, ""},
		{"only the response: no proposal, no pairing", []mentorship.PairingRecord{accepted}, false, ""},
		{"proposal written by the wrong author", []mentorship.PairingRecord{notProposer, accepted}, false, ""},
		{"acceptance forged by a third party", []mentorship.PairingRecord{P, forged}, true, mentorship.PairPending},
		{"acceptance of another nonce", []mentorship.PairingRecord{P, otherNonce}, true, mentorship.PairPending},
		{"acceptance naming another proposer", []mentorship.PairingRecord{P, byResponderAsProposer}, true, mentorship.PairPending},
		{"real acceptance among the junk", []mentorship.PairingRecord{forged, P, otherNonce, accepted, notProposer}, true, mentorship.PairActive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, ok := mentorship.DerivePairing(id, tt.recs, beforeExpiry)
			if ok != tt.ok || v.State != tt.state {
				t.Errorf("DerivePairing = %q, %v; want %q, %v", v.State, ok, tt.state, tt.ok)
			}
		})
	}
	if _, ok := mentorship.DerivePairing(strings.Repeat("0", 32), []mentorship.PairingRecord{P, accepted}, beforeExpiry); ok {
		t.Errorf("DerivePairing(another ID) found a pairing")
	}
}

// view derives the pairing from Ben's and Ada's records (nil: none).
func view(t tb, recs []mentorship.PairingRecord, now time.Time) mentorship.PairingView {
	t.Helper()
	v, ok := mentorship.DerivePairing(proposal(t).ID(), recs, now)
	if !ok {
		t.Fatalf("DerivePairing(%+v) found no pairing", recs)
	}
	return v
}

// TestTransitions checks every action by every party in every state: what
// is allowed, what state it leads to, and that refusals explain themselves.
func TestTransitions(t *testing.T) {
	st := func(who [32]byte, s mentorship.PairStatus, acc bool) mentorship.PairingRecord {
		return side(t, who, s, acc)
	}
	P := mentorship.StatusProposed
	states := []struct {
		name string
		recs []mentorship.PairingRecord
		now  time.Time
	}{
		{"pending", []mentorship.PairingRecord{st(ben, P, false)}, beforeExpiry},
		{"expired", []mentorship.PairingRecord{st(ben, P, false)}, afterExpiry},
		{"declined", []mentorship.PairingRecord{st(ben, P, false), st(ada, mentorship.StatusDeclined, false)}, beforeExpiry},
		{"withdrawn", []mentorship.PairingRecord{st(ben, mentorship.StatusCancelled, false)}, beforeExpiry},
		{"active", []mentorship.PairingRecord{st(ben, P, false), st(ada, mentorship.StatusAccepted, true)}, afterExpiry},
		{"cancelled by responder", []mentorship.PairingRecord{st(ben, P, false), st(ada, mentorship.StatusCancelled, true)}, beforeExpiry},
		{"completed by proposer", []mentorship.PairingRecord{st(ben, mentorship.StatusCompleted, false), st(ada, mentorship.StatusAccepted, true)}, beforeExpiry},
		{"completed by responder", []mentorship.PairingRecord{st(ben, P, false), st(ada, mentorship.StatusCompleted, true)}, beforeExpiry},
		{"completed by both", []mentorship.PairingRecord{st(ben, mentorship.StatusCompleted, false), st(ada, mentorship.StatusCompleted, true)}, beforeExpiry},
	}
	// want[state][who][action] = resulting state, or "" if refused.
	type outcomes map[mentorship.PairAction]mentorship.PairState
	want := map[string]map[string]outcomes{
		"pending": {
			"proposer":  {mentorship.ActionCancel: mentorship.PairCancelled},
			"responder": {mentorship.ActionAccept: mentorship.PairActive, mentorship.ActionDecline: mentorship.PairDeclined},
		},
		"expired":                {"proposer": {}, "responder": {}},
		"declined":               {"proposer": {}, "responder": {}},
		"withdrawn":              {"proposer": {}, "responder": {}},
		"cancelled by responder": {"proposer": {}, "responder": {}},
		"active": {
			"proposer":  {mentorship.ActionCancel: mentorship.PairCancelled, mentorship.ActionComplete: mentorship.PairCompleted},
			"responder": {mentorship.ActionCancel: mentorship.PairCancelled, mentorship.ActionComplete: mentorship.PairCompleted},
		},
		"completed by proposer":  {"proposer": {}, "responder": {mentorship.ActionComplete: mentorship.PairCompleted}},
		"completed by responder": {"proposer": {mentorship.ActionComplete: mentorship.PairCompleted}, "responder": {}},
		"completed by both":      {"proposer": {}, "responder": {}},
	}
	actions := []mentorship.PairAction{mentorship.ActionAccept, mentorship.ActionDecline, mentorship.ActionCancel, mentorship.ActionComplete}
	for _, s := range states {
		v := view(t, s.recs, s.now)
		for _, who := range []struct {
			role string
			key  [32]byte
		}{{"proposer", ben}, {"responder", ada}} {
			allowed := want[s.name][who.role]
			var wantActions []mentorship.PairAction
			for _, a := range actions {
				if _, ok := allowed[a]; ok {
					wantActions = append(wantActions, a)
				}
			}
			if got := v.Actions(who.key); !slices.Equal(got, wantActions) {
				t.Errorf("%s: Actions(%s) = %v, want %v", s.name, who.role, got, wantActions)
			}
			for _, a := range actions {
				in := mentorship.ActionInput{}
				switch a {
				case mentorship.ActionComplete:
					in = mentorship.ActionInput{Rating: 4, Comment: "Good."}
				case mentorship.ActionCancel, mentorship.ActionDecline:
					in = mentorship.ActionInput{Reason: "Time."}
				}
				next, err := v.Next(who.key, a, in)
				wantState, ok := allowed[a]
				if !ok {
					var te *mentorship.TransitionError
					if !errors.Is(err, mentorship.ErrTransition) || !errors.As(err, &te) {
						t.Errorf("%s: %s %s error = %v, want a TransitionError", s.name, who.role, a, err)
						continue
					}
					if msg := err.Error(); !strings.Contains(msg, "you cannot "+string(a)) || !strings.Contains(msg, string(v.State)) {
						t.Errorf("%s: %s %s error = %q, want it to name the action and the state %s", s.name, who.role, a, msg, v.State)
					}
					continue
				}
				if err != nil {
					t.Errorf("%s: %s %s error = %v, want it allowed", s.name, who.role, a, err)
					continue
				}
				if _, err := next.Encode(); err != nil {
					t.Errorf("%s: %s %s wrote an invalid record: %v", s.name, who.role, a, err)
				}
				// Replace who's record with next and derive again.
				recs := slices.DeleteFunc(slices.Clone(s.recs), func(r mentorship.PairingRecord) bool { return r.Author == who.key })
				recs = append(recs, mentorship.PairingRecord{Author: who.key, Pairing: next})
				if got := view(t, recs, s.now).State; got != wantState {
					t.Errorf("%s: after %s %s, state = %v, want %v", s.name, who.role, a, got, wantState)
				}
				if who.key == ada && v.Response != nil && v.Response.Accepted && !next.Accepted {
					t.Errorf("%s: %s %s dropped the accepted flag", s.name, who.role, a)
				}
			}
		}
		if _, err := v.Next(carol, mentorship.ActionCancel, mentorship.ActionInput{}); !errors.Is(err, mentorship.ErrNotParty) {
			t.Errorf("%s: a third party's cancel error = %v, want %v", s.name, err, mentorship.ErrNotParty)
		}
	}
}

func TestNextInput(t *testing.T) {
	pending := view(t, []mentorship.PairingRecord{side(t, ben, mentorship.StatusProposed, false)}, beforeExpiry)
	active := view(t, []mentorship.PairingRecord{side(t, ben, mentorship.StatusProposed, false), side(t, ada, mentorship.StatusAccepted, true)}, beforeExpiry)
	tests := []struct {
		name   string
		v      mentorship.PairingView
		who    [32]byte
		action mentorship.PairAction
		in     mentorship.ActionInput
	}{
		{"reason with accept", pending, ada, mentorship.ActionAccept, mentorship.ActionInput{Reason: "x"}},
		{"rating with decline", pending, ada, mentorship.ActionDecline, mentorship.ActionInput{Rating: 3}},
		{"comment with cancel", active, ben, mentorship.ActionCancel, mentorship.ActionInput{Comment: "x"}},
		{"rating 6", active, ben, mentorship.ActionComplete, mentorship.ActionInput{Rating: 6}},
		{"comment too long", active, ben, mentorship.ActionComplete, mentorship.ActionInput{Comment: strings.Repeat("c", 2001)}},
		{"reason too long", active, ben, mentorship.ActionCancel, mentorship.ActionInput{Reason: strings.Repeat("r", 501)}},
		{"unknown action", active, ben, "pause", mentorship.ActionInput{}},
	}
	for _, tt := range tests {
		if _, err := tt.v.Next(tt.who, tt.action, tt.in); !errors.Is(err, mentorship.ErrInvalid) {
			t.Errorf("%s: Next error = %v, want %v", tt.name, err, mentorship.ErrInvalid)
		}
	}
	// The proposer's records keep the sealed message and expiry; the
	// comment is for the caller to seal (PairKey.SealNext).
	sealed := sealedText(t, 256)
	prop := side(t, ben, mentorship.StatusProposed, false)
	prop.Pairing.SealedText = sealed
	withText := view(t, []mentorship.PairingRecord{prop, side(t, ada, mentorship.StatusAccepted, true)}, beforeExpiry)
	next, err := withText.Next(ben, mentorship.ActionComplete, mentorship.ActionInput{Rating: 5, Comment: "  Thanks!  "})
	if err != nil {
		t.Fatal(err)
	}
	p := proposal(t)
	if !bytes.Equal(next.SealedText, sealed) || next.ExpiresAt != p.ExpiresAt || next.ProposedAt != p.ProposedAt || next.Rating != 5 {
		t.Errorf("proposer's completion = %+v, want the proposal's sealed text and times", next)
	}
	if resp, err := withText.Next(ada, mentorship.ActionComplete, mentorship.ActionInput{Rating: 4}); err != nil || resp.SealedText != nil {
		t.Errorf("responder's completion = %+v, %v; want no sealed text", resp, err)
	}
}

func TestRefusalMessages(t *testing.T) {
	pending := view(t, []mentorship.PairingRecord{side(t, ben, mentorship.StatusProposed, false)}, beforeExpiry)
	expired := view(t, []mentorship.PairingRecord{side(t, ben, mentorship.StatusProposed, false)}, afterExpiry)
	id := proposal(t).ID()
	tests := []struct {
		v      mentorship.PairingView
		who    [32]byte
		action mentorship.PairAction
		want   string
	}{
		{pending, ben, mentorship.ActionAccept, "you cannot accept pairing " + id + ": you proposed it, and it is pending (waiting for their answer); you can cancel it"},
		{pending, ada, mentorship.ActionComplete, "you cannot complete pairing " + id + ": it is pending (waiting for your answer); you can accept or decline it"},
		{expired, ada, mentorship.ActionAccept, "you cannot accept pairing " + id + ": it is expired (it was not answered in time); nothing more can be done with it"},
	}
	for _, tt := range tests {
		_, err := tt.v.Next(tt.who, tt.action, mentorship.ActionInput{})
		if err == nil || err.Error() != tt.want {
			t.Errorf("Next(%s) error = %v, want %q", tt.action, err, tt.want)
		}
	}
}

// party is one of the two parties in the property tests.
var parties = [2][32]byte{ada, ben}

// TestDeriveProperties: any set of records, in any order, with any junk
// from third parties or of other pairings, derives the same view; and a
// pairing is active or completed only with the responder's consent.
func TestDeriveProperties(t *testing.T) {
	statuses := rapid.SampledFrom([]mentorship.PairStatus{
		mentorship.StatusProposed, mentorship.StatusAccepted, mentorship.StatusDeclined,
		mentorship.StatusCancelled, mentorship.StatusCompleted,
	})
	anyRecord := func(t *rapid.T, label string) mentorship.PairingRecord {
		p := proposal(t)
		if rapid.Bool().Draw(t, label+" offer") {
			p.Proposer = ada
		}
		p.Status = statuses.Draw(t, label+" status")
		p.Accepted = p.Status == mentorship.StatusAccepted ||
			(p.Status != mentorship.StatusProposed && p.Status != mentorship.StatusDeclined && rapid.Bool().Draw(t, label+" accepted"))
		if p.Status == mentorship.StatusCompleted {
			p.Rating = rapid.IntRange(0, 5).Draw(t, label+" rating")
		}
		if rapid.Bool().Draw(t, label+" other nonce") {
			p.Nonce[0] = rapid.Byte().Draw(t, label+" nonce")
		}
		author := rapid.SampledFrom([][32]byte{ada, ben, carol}).Draw(t, label+" author")
		return mentorship.PairingRecord{Author: author, Pairing: p}
	}
	rapid.Check(t, func(t *rapid.T) {
		id := proposal(t).ID()
		now := rapid.SampledFrom([]time.Time{beforeExpiry, atExpiry, afterExpiry}).Draw(t, "now")
		// At most one record per author, as in a store.
		var recs []mentorship.PairingRecord
		for i := range rapid.IntRange(0, 4).Draw(t, "records") {
			r := anyRecord(t, fmt.Sprint(i))
			if !slices.ContainsFunc(recs, func(o mentorship.PairingRecord) bool { return o.Author == r.Author }) {
				recs = append(recs, r)
			}
		}
		v, ok := mentorship.DerivePairing(id, recs, now)
		perm := rapid.Permutation(recs).Draw(t, "order")
		v2, ok2 := mentorship.DerivePairing(id, perm, now)
		if ok != ok2 || !sameView(v, v2) {
			t.Fatalf("DerivePairing depends on the order: %+v, %v then %+v, %v", v, ok, v2, ok2)
		}
		if !ok {
			return
		}
		// Records of third parties and of other pairings change nothing.
		var core []mentorship.PairingRecord
		for _, r := range recs {
			if (r.Author == v.Proposer && r.Pairing.Equal(v.Proposal)) || (v.Response != nil && r.Author == v.Responder() && r.Pairing.Equal(*v.Response)) {
				core = append(core, r)
			}
		}
		if v3, _ := mentorship.DerivePairing(id, core, now); !sameView(v, v3) {
			t.Fatalf("DerivePairing with junk = %+v, without = %+v", v, v3)
		}
		if (v.State == mentorship.PairActive || v.State == mentorship.PairCompleted) && (v.Response == nil || !v.Response.Accepted) {
			t.Fatalf("state %v without the responder's consent: %+v", v.State, v)
		}
		for _, who := range parties {
			if r, _ := v.Feedback(who); r != 0 && v.State != mentorship.PairCompleted {
				t.Fatalf("feedback counted in state %v", v.State)
			}
		}
	})
}

func sameView(a, b mentorship.PairingView) bool {
	if (a.Response == nil) != (b.Response == nil) || (a.Response != nil && !a.Response.Equal(*b.Response)) {
		return false
	}
	return a.ID == b.ID && a.Mentor == b.Mentor && a.Mentee == b.Mentee && a.Proposer == b.Proposer &&
		a.State == b.State && a.Proposal.Equal(b.Proposal)
}

// model is the pairing lifecycle as the issue describes it, written
// independently of the derivation rules.
type model struct {
	state     mentorship.PairState
	completed map[[32]byte]bool
}

// TestLifecycleProperty plays random actions by random parties at random
// times and checks, after each, that the derived state is the model's and
// that refused actions were those the model forbids.
func TestLifecycleProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		offer := rapid.Bool().Draw(t, "offer")
		proposer, responder := ben, ada
		if offer {
			proposer, responder = ada, ben
		}
		p, err := mentorship.NewProposal(ada, ben, proposer, nonce, t0, 0)
		if err != nil {
			t.Fatal(err)
		}
		id := p.ID()
		records := map[[32]byte]mentorship.Pairing{proposer: p}
		m := model{state: mentorship.PairPending, completed: map[[32]byte]bool{}}
		now := t0
		responderAccepted := false
		for step := range rapid.IntRange(1, 12).Draw(t, "steps") {
			now = now.Add(time.Duration(rapid.IntRange(0, 20).Draw(t, fmt.Sprint("days ", step))) * 24 * time.Hour)
			if m.state == mentorship.PairPending && !now.Before(t0.Add(mentorship.DefaultPairingExpiry)) {
				m.state = mentorship.PairExpired
			}
			var recs []mentorship.PairingRecord
			for a, r := range records {
				recs = append(recs, mentorship.PairingRecord{Author: a, Pairing: r})
			}
			v, ok := mentorship.DerivePairing(id, recs, now)
			if !ok || v.State != m.state {
				t.Fatalf("step %d: state = %v (%v), model says %v; records %+v", step, v.State, ok, m.state, records)
			}
			who := rapid.SampledFrom([][32]byte{ada, ben}).Draw(t, fmt.Sprint("who ", step))
			action := rapid.SampledFrom([]mentorship.PairAction{
				mentorship.ActionAccept, mentorship.ActionDecline, mentorship.ActionCancel, mentorship.ActionComplete,
			}).Draw(t, fmt.Sprint("action ", step))
			in := mentorship.ActionInput{}
			if action == mentorship.ActionComplete {
				in.Rating = rapid.IntRange(0, 5).Draw(t, fmt.Sprint("rating ", step))
			}
			next, err := v.Next(who, action, in)
			allowed, after := m.apply(who == proposer, who, action)
			if allowed != (err == nil) {
				t.Fatalf("step %d: %s by %s in %v: error %v, model allows: %v", step, action, v.Role(who), m.state, err, allowed)
			}
			if err != nil {
				if !errors.Is(err, mentorship.ErrTransition) {
					t.Fatalf("step %d: error %v, want a transition error", step, err)
				}
				continue
			}
			b, err := next.Encode()
			if err == nil {
				err = (mentorship.Kinds{}).ValidatePayload(mentorship.KindPairing, id, false, b)
			}
			if err != nil {
				t.Fatalf("step %d: %s wrote a record nodes would refuse: %v", step, action, err)
			}
			if who == responder {
				if responderAccepted && !next.Accepted {
					t.Fatalf("step %d: the responder's consent was dropped", step)
				}
				responderAccepted = next.Accepted
			}
			records[who] = next
			m.state = after
		}
	})
}

// apply returns whether the model allows the action and the state after it.
func (m *model) apply(isProposer bool, who [32]byte, a mentorship.PairAction) (bool, mentorship.PairState) {
	switch {
	case m.state == mentorship.PairPending && isProposer && a == mentorship.ActionCancel:
		return true, mentorship.PairCancelled
	case m.state == mentorship.PairPending && !isProposer && a == mentorship.ActionAccept:
		return true, mentorship.PairActive
	case m.state == mentorship.PairPending && !isProposer && a == mentorship.ActionDecline:
		return true, mentorship.PairDeclined
	case m.state == mentorship.PairActive && a == mentorship.ActionCancel:
		return true, mentorship.PairCancelled
	case m.state == mentorship.PairActive && a == mentorship.ActionComplete,
		m.state == mentorship.PairCompleted && a == mentorship.ActionComplete && !m.completed[who]:
		m.completed[who] = true
		return true, mentorship.PairCompleted
	}
	return false, m.state
}

func TestOutcomes(t *testing.T) {
	done := func(mentorRating, menteeRating int) []mentorship.PairingRecord {
		a := side(t, ada, mentorship.StatusCompleted, true)
		a.Pairing.Rating = mentorRating
		b := side(t, ben, mentorship.StatusCompleted, false)
		b.Pairing.Rating = menteeRating
		return []mentorship.PairingRecord{a, b}
	}
	views := []mentorship.PairingView{
		view(t, done(4, 5), beforeExpiry),
		view(t, done(0, 3), beforeExpiry),
		view(t, []mentorship.PairingRecord{side(t, ben, mentorship.StatusProposed, false), side(t, ada, mentorship.StatusAccepted, true)}, beforeExpiry),
		view(t, []mentorship.PairingRecord{side(t, ben, mentorship.StatusProposed, false)}, beforeExpiry),
	}
	// A completion without consent: the proposer's rating does not count.
	noConsent := side(t, ben, mentorship.StatusCompleted, false)
	noConsent.Pairing.Rating = 1
	views = append(views, view(t, []mentorship.PairingRecord{noConsent}, beforeExpiry))

	got := mentorship.Outcomes(views)
	want := map[[32]byte]mentorship.Outcome{
		// Ada receives Ben's ratings (5 and 3), Ben receives Ada's (4);
		// Ben's unanswered proposal is pending on both sides.
		ada: {PendingAsMentor: 1, ActiveAsMentor: 1, CompletedAsMentor: 2, Ratings: 2, RatingSum: 8},
		ben: {PendingAsMentee: 1, ActiveAsMentee: 1, CompletedAsMentee: 2, Ratings: 1, RatingSum: 4},
	}
	if len(got) != len(want) || got[ada] != want[ada] || got[ben] != want[ben] {
		t.Errorf("Outcomes = %+v, want %+v", got, want)
	}
	if avg := got[ada].AverageRating(); avg != 4 {
		t.Errorf("Ada's average rating = %v, want 4", avg)
	}
}

func TestParsePairState(t *testing.T) {
	for _, s := range mentorship.PairStates {
		if got, err := mentorship.ParsePairState(string(s)); got != s || err != nil {
			t.Errorf("ParsePairState(%q) = %q, %v", s, got, err)
		}
	}
	if _, err := mentorship.ParsePairState("Active"); !errors.Is(err, mentorship.ErrInvalid) {
		t.Errorf("ParsePairState(Active) error = %v, want %v", err, mentorship.ErrInvalid)
	}
}
