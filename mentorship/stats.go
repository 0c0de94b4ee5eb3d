package mentorship

// CommunityStats summarises a community's profiles and pairings, so a
// community can evaluate its own practice.
type CommunityStats struct {
	// Practitioners counts profiles; Mentors, Mentees and Peers those
	// offering each role (a profile may offer several).
	Practitioners int
	Mentors       int
	Mentees       int
	Peers         int
	// MentorsAvailable counts mentors a search can find: availability open
	// and at least one free place. FreePlaces adds up their free places.
	MentorsAvailable int
	FreePlaces       int
	// ActivePairings and CompletedPairings count pairings, not sides: each
	// pairing has one mentor, so they add up the mentors' counts.
	PendingPairings   int
	ActivePairings    int
	CompletedPairings int
	// Ratings and RatingSum add up the ratings received, in either role.
	Ratings   int
	RatingSum int
	// TopSkills are the skills most profiles list, most first, ties in
	// alphabetical order.
	TopSkills []TagCount
}

// TagCount is a tag and the number of profiles listing it.
type TagCount struct {
	Tag   string
	Count int
}

// AverageRating is the mean of all ratings, 0 if none.
func (s CommunityStats) AverageRating() float64 {
	return Outcome{Ratings: s.Ratings, RatingSum: s.RatingSum}.AverageRating()
}

func (s *CommunityStats) addOutcome(o Outcome) {
	s.PendingPairings += o.PendingAsMentor
	s.ActivePairings += o.ActiveAsMentor
	s.CompletedPairings += o.CompletedAsMentor
	s.Ratings += o.Ratings
	s.RatingSum += o.RatingSum
}
