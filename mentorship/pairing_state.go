package mentorship

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// PairingRecord is one current pairing record as a node holds it: the
// author, taken from the signed envelope, and the decoded payload.
type PairingRecord struct {
	Author  [32]byte
	Pairing Pairing
}

// PairingView is a pairing's state as derived from its records.
type PairingView struct {
	ID       string
	Mentor   [32]byte
	Mentee   [32]byte
	Proposer [32]byte
	State    PairState
	// Proposal is the proposer's current record: sealed message, expiry and the
	// proposer's status.
	Proposal Pairing
	// Response is the responder's current record, nil while it has none.
	Response *Pairing
}

// Responder is the party that did not propose.
func (v PairingView) Responder() [32]byte {
	if v.Proposer == v.Mentor {
		return v.Mentee
	}
	return v.Mentor
}

// IsOffer reports whether the mentor proposed (an offer) rather than the
// mentee (a request).
func (v PairingView) IsOffer() bool { return v.Proposer == v.Mentor }

// Role returns "mentor" or "mentee" for a party, "" for anyone else.
func (v PairingView) Role(who [32]byte) string {
	switch who {
	case v.Mentor:
		return "mentor"
	case v.Mentee:
		return "mentee"
	}
	return ""
}

// Partner returns the other party of who; ok is false if who is not a party.
func (v PairingView) Partner(who [32]byte) (partner [32]byte, ok bool) {
	switch who {
	case v.Mentor:
		return v.Mentee, true
	case v.Mentee:
		return v.Mentor, true
	}
	return partner, false
}

// Record returns the current record of a party, nil if it has none.
func (v PairingView) Record(who [32]byte) *Pairing {
	switch who {
	case v.Proposer:
		p := v.Proposal
		return &p
	case v.Responder():
		return v.Response
	}
	return nil
}

// Feedback returns the rating a party left, and whether its feedback
// counts: only in completed pairings, from a record with status completed.
// The comment that goes with it is in the record's sealed text, which only
// the partners can open (PairKey.OpenText).
func (v PairingView) Feedback(from [32]byte) (rating int, counts bool) {
	r := v.Record(from)
	if v.State != PairCompleted || r == nil || r.Status != StatusCompleted {
		return 0, false
	}
	return r.Rating, true
}

// DerivePairing computes the state of pairing id from the current pairing
// records at key id that a node holds, as of now. recs may come in any
// order and may include records of anyone (they must be valid payloads, as
// DecodePairing returns them); ok is false if they show no pairing id.
//
// The rules (docs/PROTOCOL.md, "pairing"): the proposer's record P is the
// record at key id whose author is its proposer and whose parties and nonce
// hash to id. Without P there is no pairing. The responder's record R is
// the record by the other party that names the same parties and nonce; any
// other record is ignored. Then, with consent = R present and R.Accepted:
//
//	no consent: R declined, cancelled or completed -> declined
//	            P cancelled, declined or completed -> cancelled
//	            now at or after P's expiry         -> expired
//	            otherwise                          -> pending
//	consent:    P or R completed                   -> completed
//	            P or R cancelled (P: or declined)  -> cancelled
//	            otherwise                          -> active
//
// Each party writes one record per key, so recs normally hold at most one
// record per author; if several are given, the one with the greatest
// encoding counts, so the result never depends on their order.
func DerivePairing(id string, recs []PairingRecord, now time.Time) (PairingView, bool) {
	var prop *PairingRecord
	for i := range recs {
		r := &recs[i]
		if r.Author == r.Pairing.Proposer && r.Pairing.ID() == id && (prop == nil || later(r, prop)) {
			prop = r
		}
	}
	if prop == nil {
		return PairingView{}, false
	}
	P := prop.Pairing
	v := PairingView{ID: id, Mentor: P.Mentor, Mentee: P.Mentee, Proposer: P.Proposer, Proposal: P}
	responder := v.Responder()
	var resp *PairingRecord
	for i := range recs {
		r := &recs[i]
		q := r.Pairing
		if r.Author == responder && q.Mentor == P.Mentor && q.Mentee == P.Mentee &&
			q.Proposer == P.Proposer && q.Nonce == P.Nonce && (resp == nil || later(r, resp)) {
			resp = r
		}
	}
	if resp != nil {
		r := resp.Pairing
		v.Response = &r
	}
	v.State = pairState(P, v.Response, now)
	return v, true
}

// pairState applies the derivation rules of DerivePairing.
func pairState(P Pairing, R *Pairing, now time.Time) PairState {
	consent := R != nil && R.Accepted
	pDone := P.Status == StatusCompleted
	// The proposer never accepts or declines its own proposal; a record
	// that says it did counts as a withdrawal only if it declines.
	pGone := P.Status == StatusCancelled || P.Status == StatusDeclined
	if !consent {
		switch {
		case R != nil && R.Status != StatusProposed && R.Status != StatusAccepted:
			// Any "no" from a responder who never accepted is a refusal.
			return PairDeclined
		case pGone || pDone:
			// A completion without consent cannot hurt the other party.
			return PairCancelled
		case P.ExpiresAt != 0 && now.UnixMilli() >= int64(P.ExpiresAt):
			return PairExpired
		}
		return PairPending
	}
	switch {
	case pDone || R.Status == StatusCompleted:
		return PairCompleted
	case pGone || R.Status == StatusCancelled:
		return PairCancelled
	}
	return PairActive
}

// later orders duplicate records of one author by their encoding, so the
// choice between them does not depend on the order they came in.
func later(a, b *PairingRecord) bool {
	ea, _ := a.Pairing.Encode()
	eb, _ := b.Pairing.Encode()
	return bytes.Compare(ea, eb) > 0
}

// PairAction is something a party does to a pairing.
type PairAction string

// Pairing actions, after the proposal.
const (
	ActionAccept   PairAction = "accept"
	ActionDecline  PairAction = "decline"
	ActionCancel   PairAction = "cancel"
	ActionComplete PairAction = "complete"
)

// ErrTransition marks an action the pairing's state does not allow.
var ErrTransition = errors.New("action not allowed in this state")

// ErrNotParty marks an action by someone who is neither mentor nor mentee.
var ErrNotParty = errors.New("not a party of the pairing")

// TransitionError explains a refused action: the pairing's state and what
// can be done instead. It matches ErrTransition.
type TransitionError struct{ msg string }

func (e *TransitionError) Error() string        { return e.msg }
func (e *TransitionError) Is(target error) bool { return target == ErrTransition }

// Actions lists what who may do next, in a fixed order (accept, decline,
// cancel, complete); empty if nothing, or if who is not a party.
//
//	proposer:  pending: cancel; active: cancel, complete
//	responder: pending: accept, decline; active: cancel, complete
//	either:    completed, and its own record is not completed yet: complete
//	           (to leave its feedback)
func (v PairingView) Actions(who [32]byte) []PairAction {
	mine := v.Record(who)
	if v.Role(who) == "" {
		return nil
	}
	switch v.State {
	case PairPending:
		if who == v.Proposer {
			return []PairAction{ActionCancel}
		}
		return []PairAction{ActionAccept, ActionDecline}
	case PairActive:
		return []PairAction{ActionCancel, ActionComplete}
	case PairCompleted:
		if mine == nil || mine.Status != StatusCompleted {
			return []PairAction{ActionComplete}
		}
	}
	return nil
}

// Describe says what the state means for who, for messages to people:
// "pending (waiting for your answer)".
func (v PairingView) Describe(who [32]byte) string {
	switch {
	case v.State == PairPending && who == v.Proposer:
		return "pending (waiting for their answer)"
	case v.State == PairPending && who == v.Responder():
		return "pending (waiting for your answer)"
	case v.State == PairExpired:
		return "expired (it was not answered in time)"
	case v.State == PairCompleted && len(v.Actions(who)) > 0:
		return "completed (you have not left your feedback yet)"
	}
	return string(v.State)
}

// ActionInput is what goes with an action: a reason with decline or cancel,
// a rating (1 to 5, or 0 for none) and a comment with complete. The reason
// and the comment are sealed (PairKey.SealNext); the rating is public.
type ActionInput struct {
	Reason  string
	Rating  int
	Comment string
}

func (in ActionInput) text() PairText {
	return PairText{Reason: in.Reason, Comment: in.Comment}.Normalize()
}

// HasText reports whether in carries text to seal.
func (in ActionInput) HasText() bool { return !in.text().IsZero() }

// Next returns the record who writes to perform action on the pairing. It
// fails with a *TransitionError if the state does not allow the action,
// ErrNotParty if who is not a party, and ErrInvalid for bad input.
//
// The record's SealedText is the proposer's, carried over verbatim (it
// holds the message, and stays readable without the key, so a linked
// device can write it); the responder's has none. If in has a reason or a
// comment, the caller seals the new text with PairKey.SealNext.
func (v PairingView) Next(who [32]byte, action PairAction, in ActionInput) (Pairing, error) {
	if v.Role(who) == "" {
		return Pairing{}, fmt.Errorf("%w: pairing %s is between others", ErrNotParty, v.ID)
	}
	switch action {
	case ActionAccept, ActionDecline, ActionCancel, ActionComplete:
	default:
		return Pairing{}, fmt.Errorf("%w pairing action %q: want accept, decline, cancel or complete", ErrInvalid, action)
	}
	if in.Reason != "" && action != ActionDecline && action != ActionCancel {
		return Pairing{}, fmt.Errorf("%w pairing: a reason goes with decline or cancel, not %s", ErrInvalid, action)
	}
	if (in.Rating != 0 || in.Comment != "") && action != ActionComplete {
		return Pairing{}, fmt.Errorf("%w pairing: a rating or comment goes with complete, not %s", ErrInvalid, action)
	}
	if err := in.text().Validate(); err != nil {
		return Pairing{}, err
	}
	if !slices.Contains(v.Actions(who), action) {
		return Pairing{}, v.refusal(who, action)
	}
	var next Pairing
	if who == v.Proposer {
		next = v.Proposal
		next.Accepted = false
	} else {
		next = Pairing{Mentor: v.Mentor, Mentee: v.Mentee, Proposer: v.Proposer, Nonce: v.Proposal.Nonce}
		// Consent is sticky: it stays on every later version.
		next.Accepted = v.Response != nil && v.Response.Accepted
	}
	next.Rating = 0
	switch action {
	case ActionAccept:
		next.Status, next.Accepted = StatusAccepted, true
	case ActionDecline:
		next.Status = StatusDeclined
	case ActionCancel:
		next.Status = StatusCancelled
	case ActionComplete:
		next.Status, next.Rating = StatusCompleted, in.Rating
	}
	if err := next.Validate(); err != nil {
		return Pairing{}, err
	}
	return next, nil
}

func (v PairingView) refusal(who [32]byte, action PairAction) error {
	can := v.Actions(who)
	var b strings.Builder
	fmt.Fprintf(&b, "you cannot %s pairing %s: ", action, v.ID)
	if (action == ActionAccept || action == ActionDecline) && who == v.Proposer {
		b.WriteString("you proposed it, and ")
	}
	fmt.Fprintf(&b, "it is %s", v.Describe(who))
	switch {
	case len(can) > 0:
		names := make([]string, len(can))
		for i, a := range can {
			names[i] = string(a)
		}
		fmt.Fprintf(&b, "; you can %s it", strings.Join(names, " or "))
	case v.State == PairCompleted:
		b.WriteString(" and you have left your feedback")
	default:
		b.WriteString("; nothing more can be done with it")
	}
	return &TransitionError{msg: b.String()}
}

// NewProposal returns the proposer's opening record of a new pairing,
// without text (a message is sealed into it with PairKey.SealText once its
// ID is known). The nonce must be random (16 bytes from a cryptographic
// source); expiresIn 0 means DefaultPairingExpiry.
func NewProposal(mentor, mentee, proposer [32]byte, nonce [16]byte, now time.Time, expiresIn time.Duration) (Pairing, error) {
	if expiresIn == 0 {
		expiresIn = DefaultPairingExpiry
	}
	if expiresIn < MinPairingExpiry || expiresIn > MaxPairingExpiry {
		return Pairing{}, fmt.Errorf("%w pairing: expiry in %v, want between %v and %v (%d days)",
			ErrInvalid, expiresIn, MinPairingExpiry, MaxPairingExpiry, MaxPairingExpiry/(24*time.Hour))
	}
	at := uint64(now.UnixMilli())
	p := Pairing{
		Mentor: mentor, Mentee: mentee, Proposer: proposer, Nonce: nonce,
		Status:     StatusProposed,
		ProposedAt: at,
		ExpiresAt:  at + uint64(expiresIn.Milliseconds()),
	}
	if err := p.Validate(); err != nil {
		return Pairing{}, err
	}
	return p, nil
}
