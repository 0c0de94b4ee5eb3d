package mentorship

import "fmt"

// PairState is a pairing's state, derived from both parties' records.
type PairState string

// Pairing states.
const (
	PairPending   PairState = "pending"   // proposed, not yet answered
	PairActive    PairState = "active"    // accepted by the other party
	PairDeclined  PairState = "declined"  // refused by the other party
	PairCancelled PairState = "cancelled" // withdrawn or ended early by either
	PairCompleted PairState = "completed" // finished by either, with feedback
	PairExpired   PairState = "expired"   // left unanswered past its expiry
)

// Outcome summarises one practitioner's pairings in a community, as derived
// from pairing records: what matching uses for free capacity and outcomes,
// and what profiles show.
type Outcome struct {
	// PendingAsMentor and PendingAsMentee count proposals not yet answered
	// (and not expired).
	PendingAsMentor   int
	PendingAsMentee   int
	ActiveAsMentor    int
	CompletedAsMentor int
	ActiveAsMentee    int
	CompletedAsMentee int
	// Ratings counts the ratings received on completed pairings (in either
	// role); RatingSum adds them up (each 1 to 5).
	Ratings   int
	RatingSum int
}

// AverageRating is the mean rating received, 0 if none.
func (o Outcome) AverageRating() float64 {
	if o.Ratings == 0 {
		return 0
	}
	return float64(o.RatingSum) / float64(o.Ratings)
}

// PairStates lists every state, in lifecycle order.
var PairStates = []PairState{PairPending, PairActive, PairCompleted, PairDeclined, PairCancelled, PairExpired}

// ParsePairState parses a state name.
func ParsePairState(s string) (PairState, error) {
	for _, st := range PairStates {
		if string(st) == s {
			return st, nil
		}
	}
	return "", fmt.Errorf("%w pairing state %q: want pending, active, completed, declined, cancelled or expired", ErrInvalid, s)
}

// Open reports whether the pairing is still under way: pending or active.
func (s PairState) Open() bool { return s == PairPending || s == PairActive }

// Outcomes adds up, per practitioner, the outcomes of pairings: active and
// completed pairings in each role, and the ratings received. The rating a
// party receives is the one in its partner's record, and only completed
// pairings count (see PairingView.Feedback).
func Outcomes(views []PairingView) map[[32]byte]Outcome {
	out := make(map[[32]byte]Outcome)
	for _, v := range views {
		mentor, mentee := out[v.Mentor], out[v.Mentee]
		switch v.State {
		case PairPending:
			mentor.PendingAsMentor++
			mentee.PendingAsMentee++
		case PairActive:
			mentor.ActiveAsMentor++
			mentee.ActiveAsMentee++
		case PairCompleted:
			mentor.CompletedAsMentor++
			mentee.CompletedAsMentee++
			if r, _ := v.Feedback(v.Mentee); r > 0 {
				mentor.Ratings++
				mentor.RatingSum += r
			}
			if r, _ := v.Feedback(v.Mentor); r > 0 {
				mentee.Ratings++
				mentee.RatingSum += r
			}
		default:
			continue
		}
		out[v.Mentor], out[v.Mentee] = mentor, mentee
	}
	return out
}
