package api

import (
	"context"
	"time"
)

// PairingBackend is the pairing part of Backend: consent-based mentorship
// pairings. Each party writes only its own record; the state is derived
// from both (docs/PROTOCOL.md).
type PairingBackend interface {
	// ProposePairing asks a mentor (type "request") or offers to mentor
	// (type "offer") the practitioner in.PeerID.
	ProposePairing(ctx context.Context, in PairingProposal) (Pairing, error)
	// AcceptPairing and DeclinePairing answer a proposal made to the caller.
	AcceptPairing(ctx context.Context, id string, in PairingUpdate) (Pairing, error)
	DeclinePairing(ctx context.Context, id string, in PairingUpdate) (Pairing, error)
	// CancelPairing withdraws a pending proposal or ends an active pairing.
	CancelPairing(ctx context.Context, id string, in PairingUpdate) (Pairing, error)
	// CompletePairing completes an active pairing, with optional feedback;
	// once completed, the other party may complete it too to leave its own.
	CompletePairing(ctx context.Context, id string, in PairingUpdate) (Pairing, error)
	// Pairings lists the caller's pairings, most recently updated first.
	Pairings(ctx context.Context, q PairingQuery) ([]Pairing, error)
	// Pairing returns one pairing (anyone's: pairing records are public).
	// Community "" searches every joined community.
	Pairing(ctx context.Context, id, community string) (Pairing, error)
}

// Pairing types (PairingProposal.Type).
const (
	PairingRequest = "request" // the caller asks the peer to mentor them
	PairingOffer   = "offer"   // the caller offers to mentor the peer
)

// PairingProposal is the body of POST /api/v1/pairings.
type PairingProposal struct {
	// Community "" means the first joined community.
	Community string `json:"community,omitempty"`
	// Type is "request" or "offer".
	Type   string `json:"type"`
	PeerID string `json:"peer_id"`
	// Message is the goal or a word to the other party (up to 1000
	// characters), sealed so that only the two parties can read it; it
	// cannot be written from a linked device.
	Message string `json:"message,omitempty"`
	// ExpiresIn is how long the proposal waits for an answer, as a Go
	// duration ("720h"); "" means 30 days. Between 1 minute and 365 days.
	ExpiresIn string `json:"expires_in,omitempty"`
}

// PairingUpdate is the body of POST /api/v1/pairings/{id}/accept, decline,
// cancel and complete. Reason goes with decline and cancel, Rating (1 to 5,
// 0 for none) and Comment with complete. Reason and Comment are sealed so
// that only the two parties can read them (they cannot be written from a
// linked device); the rating is public.
type PairingUpdate struct {
	// Community "" searches every joined community for the pairing.
	Community string `json:"community,omitempty"`
	Reason    string `json:"reason,omitempty"`
	Rating    int    `json:"rating,omitempty"`
	Comment   string `json:"comment,omitempty"`
}

// PairingQuery filters GET /api/v1/pairings.
type PairingQuery struct {
	// Community "" means every joined community.
	Community string
	// State "" means any: pending, active, completed, declined, cancelled
	// or expired.
	State string
}

// Pairing is a pairing as this node derives it from the two parties'
// records.
type Pairing struct {
	ID        string `json:"id"`
	Community string `json:"community"`
	Mentor    string `json:"mentor"`   // peer ID
	Mentee    string `json:"mentee"`   // peer ID
	Proposer  string `json:"proposer"` // peer ID: the mentor (offer) or the mentee (request)
	// Type is "request" (the mentee proposed) or "offer" (the mentor did).
	Type string `json:"type"`
	// MyRole is "mentor" or "mentee" when the caller is a party, else "".
	MyRole string `json:"my_role"`
	// Partner is the other party's peer ID when the caller is a party.
	Partner     string `json:"partner,omitempty"`
	PartnerName string `json:"partner_name,omitempty"`
	// State is pending, active, completed, declined, cancelled or expired.
	State string `json:"state"`
	// Actions are what the caller can do now: accept, decline, cancel,
	// complete (possibly none).
	Actions []string `json:"actions"`
	// Message is the proposer's message, shown only to the two parties
	// (sealed to them); see MentorSide/MenteeSide.TextSealed.
	Message   string     `json:"message"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	CreatedAt *time.Time `json:"created_at,omitempty"`
	UpdatedAt time.Time  `json:"updated_at"`
	// MentorSide and MenteeSide are what each party's own record says.
	MentorSide PairingSide `json:"mentor_side"`
	MenteeSide PairingSide `json:"mentee_side"`
}

// PairingSide is one party's record of a pairing.
type PairingSide struct {
	PeerID string `json:"peer_id"`
	Name   string `json:"name,omitempty"`
	// Status is none (no record yet), proposed, accepted, declined,
	// cancelled or completed.
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
	// Rating (1 to 5) and Comment are the feedback this party gave its
	// partner; shown only once the pairing is completed.
	Rating  int    `json:"rating,omitempty"`
	Comment string `json:"comment,omitempty"`
	// TextSealed is true when this party's record carries text (the
	// proposer's message, a reason, a comment) sealed to the two parties
	// that this node cannot show: the caller is not a party, or this is a
	// linked device, or the text did not open. Message, Reason and Comment
	// then stay empty.
	TextSealed bool       `json:"text_sealed,omitempty"`
	UpdatedAt  *time.Time `json:"updated_at,omitempty"`
}
