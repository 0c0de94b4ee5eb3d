package mentorship

import (
	"cmp"
	"slices"
)

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

// SummarizeCommunity computes a community's statistics from its profiles
// (each with its author's outcome) and the outcomes of all its
// practitioners, with or without a profile. topSkills bounds TopSkills.
func SummarizeCommunity(profiles []Candidate, outcomes []Outcome, topSkills int) CommunityStats {
	var s CommunityStats
	skills := map[string]int{}
	for _, c := range profiles {
		p := c.Profile
		if p == nil {
			continue
		}
		s.Practitioners++
		if p.HasRole(RoleMentee) {
			s.Mentees++
		}
		if p.HasRole(RolePeer) {
			s.Peers++
		}
		if p.HasRole(RoleMentor) {
			s.Mentors++
			if free := p.Capacity - c.Outcome.ActiveAsMentor; free > 0 && !p.Closed {
				s.MentorsAvailable++
				s.FreePlaces += free
			}
		}
		for _, t := range p.Skills {
			skills[t]++
		}
	}
	for _, o := range outcomes {
		s.ActivePairings += o.ActiveAsMentor
		s.CompletedPairings += o.CompletedAsMentor
		s.Ratings += o.Ratings
		s.RatingSum += o.RatingSum
	}
	s.TopSkills = make([]TagCount, 0, len(skills))
	for t, n := range skills {
		s.TopSkills = append(s.TopSkills, TagCount{Tag: t, Count: n})
	}
	slices.SortFunc(s.TopSkills, func(a, b TagCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Tag, b.Tag))
	})
	s.TopSkills = s.TopSkills[:min(len(s.TopSkills), max(topSkills, 0))]
	return s
}
