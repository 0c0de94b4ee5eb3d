package mentorship

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
