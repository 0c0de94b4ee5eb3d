package mentorship_test

import (
	"reflect"
	"testing"

	"github.com/mentormesh/mentormesh/mentorship"
)

func TestDirectorySummarize(t *testing.T) {
	roles := func(rs ...mentorship.Role) func(p *mentorship.Profile) {
		return func(p *mentorship.Profile) { p.Roles = rs }
	}
	open3 := mentor("open, 3 places, 1 active", func(p *mentorship.Profile) { p.Capacity = 3; p.Skills = []string{"facilitation", "rounds"} })
	full := mentor("full", func(p *mentorship.Profile) { p.Capacity = 1; p.Skills = []string{"facilitation"} })
	closed := mentor("closed", func(p *mentorship.Profile) { p.Capacity = 2; p.Closed = true; p.Skills = []string{"feedback"} })
	both := mentor("mentor and mentee", func(p *mentorship.Profile) {
		p.Roles = []mentorship.Role{mentorship.RoleMentor, mentorship.RoleMentee}
		p.Capacity = 1
		p.Skills = []string{"rounds"}
	})
	mentee := mentor("mentee", roles(mentorship.RoleMentee))
	peer := mentor("peer", roles(mentorship.RolePeer))
	none := mentor("no role", roles())
	profiles := []mentorship.Candidate{
		{Key: key(1), Profile: open3, Outcome: mentorship.Outcome{ActiveAsMentor: 1, CompletedAsMentor: 2, Ratings: 3, RatingSum: 14}},
		{Key: key(2), Profile: full, Outcome: mentorship.Outcome{ActiveAsMentor: 1}},
		{Key: key(3), Profile: closed},
		{Key: key(4), Profile: both},
		{Key: key(5), Profile: mentee, Outcome: mentorship.Outcome{ActiveAsMentee: 2, CompletedAsMentee: 2, Ratings: 2, RatingSum: 9}},
		{Key: key(6), Profile: peer},
		{Key: key(7), Profile: none},
		{Key: key(8), Profile: nil},
	}
	// Outcomes of everyone, including a practitioner without a profile
	// (key 9, mentee of the second active pairing).
	d := mentorship.NewDirectory()
	outcomes := map[[32]byte]mentorship.Outcome{key(9): {ActiveAsMentee: 1}}
	for _, c := range profiles {
		d.Put(c.Key, c.Profile)
		if c.Outcome != (mentorship.Outcome{}) {
			outcomes[c.Key] = c.Outcome
		}
	}
	d.SetOutcomes(outcomes)
	got := d.Summarize(2)
	want := mentorship.CommunityStats{
		Practitioners: 7, Mentors: 4, Mentees: 2, Peers: 1,
		MentorsAvailable: 2, FreePlaces: 3,
		ActivePairings: 2, CompletedPairings: 2,
		Ratings: 5, RatingSum: 23,
		TopSkills: []mentorship.TagCount{{Tag: "facilitation", Count: 2}, {Tag: "rounds", Count: 2}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Summarize =\n%+v, want\n%+v", got, want)
	}
	if avg := got.AverageRating(); avg != 4.6 {
		t.Errorf("AverageRating = %v, want 4.6", avg)
	}
	// Hiding the open mentor and the mentee takes their profiles, skills
	// and outcomes out of every count.
	hidden := func(k [32]byte) bool { return k == key(1) || k == key(5) }
	gotHidden := d.SummarizeWithout(3, hidden)
	wantHidden := mentorship.CommunityStats{
		Practitioners: 5, Mentors: 3, Mentees: 1, Peers: 1,
		MentorsAvailable: 1, FreePlaces: 1,
		ActivePairings: 1,
		TopSkills:      []mentorship.TagCount{{Tag: "facilitation", Count: 1}, {Tag: "feedback", Count: 1}, {Tag: "rounds", Count: 1}},
	}
	if !reflect.DeepEqual(gotHidden, wantHidden) {
		t.Errorf("SummarizeWithout(keys 1 and 5) =\n%+v, want\n%+v", gotHidden, wantHidden)
	}
	if all := d.SummarizeWithout(2, func([32]byte) bool { return false }); !reflect.DeepEqual(all, want) {
		t.Errorf("SummarizeWithout(no one hidden) =\n%+v, want Summarize's\n%+v", all, want)
	}
	if empty := mentorship.NewDirectory().Summarize(10); empty.TopSkills == nil || empty.Practitioners != 0 {
		t.Errorf("Summarize(nothing) = %+v, want zeros and an empty (not nil) TopSkills", empty)
	}
}
