package mentorship_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/mentorship"
)

func mkey(b byte) [32]byte {
	var k [32]byte
	k[0] = b
	return k
}

// mentor is a normalised mentor profile for fixtures.
func mentor(name string, f func(p *mentorship.Profile)) *mentorship.Profile {
	p := mentorship.Profile{Name: name, Roles: []mentorship.Role{mentorship.RoleMentor}, Capacity: 1}
	if f != nil {
		f(&p)
	}
	p = p.Normalize()
	return &p
}

var winter = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

// fixture is a community seen from the asker, mkey(0xff).
func fixture() []mentorship.Candidate {
	return []mentorship.Candidate{
		{Key: mkey(0x10), Profile: mentor("Ana", func(p *mentorship.Profile) {
			p.Skills = []string{"facilitation", "consent decision-making", "rounds"}
			p.Languages = []string{"de", "en"}
			p.TimeZone = "Europe/London"
			p.Capacity = 3
			p.Experience = mentorship.ExperienceExperienced
		}), Outcome: mentorship.Outcome{ActiveAsMentor: 1, CompletedAsMentor: 4, Ratings: 6, RatingSum: 28}},
		{Key: mkey(0x20), Profile: mentor("Ben", func(p *mentorship.Profile) {
			p.Skills = []string{"facilitation"}
			p.Interests = []string{"feedback"}
			p.Languages = []string{"en"}
			p.TimeZone = "Europe/Berlin"
			p.Experience = mentorship.ExperienceTrainer
		})},
		{Key: mkey(0x30), Profile: mentor("Cy", func(p *mentorship.Profile) {
			p.Skills = []string{"facilitation", "consent decision-making", "feedback"}
			p.Languages = []string{"fr"}
			p.TimeZone = "America/New_York"
			p.Capacity = 5
			p.Experience = mentorship.ExperiencePractising
		}), Outcome: mentorship.Outcome{CompletedAsMentor: 1, Ratings: 1, RatingSum: 5}},
		// Left out, each for one reason.
		{Key: mkey(0x40), Profile: func() *mentorship.Profile {
			p := mentor("Dee, mentee only", func(p *mentorship.Profile) { p.Skills = []string{"facilitation"} })
			p.Roles = []mentorship.Role{mentorship.RoleMentee}
			return p
		}()},
		{Key: mkey(0x41), Profile: mentor("Eve, closed", func(p *mentorship.Profile) { p.Skills = []string{"facilitation"}; p.Closed = true })},
		{Key: mkey(0x42), Profile: mentor("Fay, full", func(p *mentorship.Profile) { p.Skills = []string{"facilitation"}; p.Capacity = 2 }),
			Outcome: mentorship.Outcome{ActiveAsMentor: 2}},
		{Key: mkey(0x43), Profile: mentor("Gus, no shared skill", func(p *mentorship.Profile) { p.Skills = []string{"gardening"} })},
		{Key: mkey(0x44), Profile: mentor("Hal, capacity 0", func(p *mentorship.Profile) { p.Skills = []string{"facilitation"}; p.Capacity = 0 })},
		{Key: mkey(0xff), Profile: mentor("Me", func(p *mentorship.Profile) { p.Skills = []string{"facilitation"} })},
		{Key: mkey(0x45), Profile: nil},
		// Equal scores: the smaller key first.
		{Key: mkey(0x02), Profile: mentor("Tie two", func(p *mentorship.Profile) {
			p.Skills = []string{"facilitation"}
			p.Languages = []string{"en"}
			p.TimeZone = "Europe/Berlin"
		})},
		{Key: mkey(0x01), Profile: mentor("Tie one", func(p *mentorship.Profile) {
			p.Skills = []string{"facilitation"}
			p.Languages = []string{"en"}
			p.TimeZone = "Europe/Berlin"
		})},
	}
}

type wantMatch struct {
	name    string
	score   mentorship.Points
	reasons []string
}

func TestRankFixture(t *testing.T) {
	base := mentorship.MatchQuery{
		Skills:    []string{"Facilitation", "consent  decision-making", "feedback"},
		Languages: []string{"EN"},
		TimeZone:  "Europe/Berlin",
		Self:      mkey(0xff),
		At:        winter,
	}
	tests := []struct {
		name     string
		q        func(q *mentorship.MatchQuery)
		eligible int
		want     []wantMatch
	}{
		{"skills, language and zone", nil, 5, []wantMatch{
			// 26666 + 15000 + 13750 + 6666 + 7500 + (4000 + 3888)
			{"Ana", 77470, []string{
				"skills 26.7: 2 of 3 skills: consent decision-making, facilitation",
				"language 15.0: speaks en",
				"time_zone 13.8: -1h from you, 11h overlap",
				"capacity 6.7: 2 of 3 places free",
				"experience 7.5: experienced",
				"outcomes 7.9: 4 completed, 4.7 avg of 6 ratings",
			}},
			// 40000 + 0 + 7500 + 10000 + 5000 + (1000 + 3125)
			{"Cy", 66625, []string{
				"skills 40.0: 3 of 3 skills: consent decision-making, facilitation, feedback",
				"language 0.0: speaks none of en (speaks fr)",
				"time_zone 7.5: -6h from you, 6h overlap",
				"capacity 10.0: 5 of 5 places free",
				"experience 5.0: practising",
				"outcomes 4.1: 1 completed, 5.0 avg of 1 ratings",
			}},
			// 20000 + 15000 + 15000 + 3333 + 10000 + (0 + 2500)
			{"Ben", 65833, []string{
				"skills 20.0: 2 of 3 skills: facilitation, feedback (interest)",
				"language 15.0: speaks en",
				"time_zone 15.0: same time as you, 12h overlap",
				"capacity 3.3: 1 of 1 places free",
				"experience 10.0: trainer",
				"outcomes 2.5: no completed mentorships yet",
			}},
			// 13333 + 15000 + 15000 + 3333 + 0 + 2500
			{"Tie one", 49166, nil},
			{"Tie two", 49166, nil},
		}},
		{"limit", func(q *mentorship.MatchQuery) { q.Limit = 2 }, 5, []wantMatch{{"Ana", 77470, nil}, {"Cy", 66625, nil}}},
		{"minimum experience", func(q *mentorship.MatchQuery) { q.MinExperience = mentorship.ExperienceExperienced }, 2,
			[]wantMatch{{"Ana", 77470, nil}, {"Ben", 65833, nil}}},
		{"no skills: every available mentor", func(q *mentorship.MatchQuery) {
			q.Skills = nil
			q.Languages = nil
			q.TimeZone = ""
		}, 6, []wantMatch{
			// 6666 + 7500 + 7888; 10000 + 5000 + 4125; 3333 + 10000 + 2500
			{"Ana", 22054, []string{"capacity 6.7: 2 of 3 places free", "experience 7.5: experienced", "outcomes 7.9: 4 completed, 4.7 avg of 6 ratings"}},
			{"Cy", 19125, nil},
			{"Ben", 15833, nil},
			{"Tie one", 5833, nil},
			{"Tie two", 5833, nil},
			{"Gus, no shared skill", 5833, []string{"capacity 3.3: 1 of 1 places free", "experience 0.0: experience not given", "outcomes 2.5: no completed mentorships yet"}},
		}},
		{"a skill nobody lists", func(q *mentorship.MatchQuery) { q.Skills = []string{"facilitaton"} }, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := base
			if tt.q != nil {
				tt.q(&q)
			}
			res, err := mentorship.Rank(q, fixture())
			if err != nil {
				t.Fatalf("Rank error = %v", err)
			}
			if res.Eligible != tt.eligible {
				t.Errorf("Eligible = %d, want %d", res.Eligible, tt.eligible)
			}
			var got []string
			for _, m := range res.Matches {
				got = append(got, fmt.Sprintf("%s %d", m.Profile.Name, m.Score))
			}
			var want []string
			for _, w := range tt.want {
				want = append(want, fmt.Sprintf("%s %d", w.name, w.score))
			}
			if !slices.Equal(got, want) {
				t.Fatalf("Rank order =\n%q, want\n%q", got, want)
			}
			for i, w := range tt.want {
				if w.reasons == nil {
					continue
				}
				var reasons []string
				for _, r := range res.Matches[i].Reasons {
					reasons = append(reasons, fmt.Sprintf("%s %s: %s", r.Factor, r.Points, r.Text))
				}
				if !slices.Equal(reasons, w.reasons) {
					t.Errorf("%s: reasons =\n%q, want\n%q", w.name, reasons, w.reasons)
				}
			}
		})
	}
}

func TestRankSkillHits(t *testing.T) {
	res, err := mentorship.Rank(mentorship.MatchQuery{Skills: []string{"facilitaton", "rounds"}, At: winter, Self: mkey(0xff)}, fixture())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"facilitaton": 0, "rounds": 1}
	if !reflect.DeepEqual(res.SkillHits, want) {
		t.Errorf("SkillHits = %v, want %v", res.SkillHits, want)
	}
}

// TestRankRatingPrior: one 5-star rating does not beat a long good record.
func TestRankRatingPrior(t *testing.T) {
	p := mentor("M", func(p *mentorship.Profile) { p.Skills = []string{"facilitation"} })
	cands := []mentorship.Candidate{
		{Key: mkey(1), Profile: p, Outcome: mentorship.Outcome{CompletedAsMentor: 1, Ratings: 1, RatingSum: 5}},
		{Key: mkey(2), Profile: p, Outcome: mentorship.Outcome{CompletedAsMentor: 1, Ratings: 10, RatingSum: 46}},
		{Key: mkey(3), Profile: p, Outcome: mentorship.Outcome{CompletedAsMentor: 1}},
		{Key: mkey(4), Profile: p, Outcome: mentorship.Outcome{CompletedAsMentor: 1, Ratings: 2, RatingSum: 2}},
	}
	res, err := mentorship.Rank(mentorship.MatchQuery{At: winter}, cands)
	if err != nil {
		t.Fatal(err)
	}
	var order []byte
	for _, m := range res.Matches {
		order = append(order, m.Key[0])
	}
	// 10 ratings averaging 4.6, one 5, none (the prior: 3), two 1s.
	if want := []byte{2, 1, 3, 4}; !slices.Equal(order, want) {
		t.Errorf("order = %v, want %v", order, want)
	}
}

func TestRankTimeZones(t *testing.T) {
	cand := func(tz string) []mentorship.Candidate {
		return []mentorship.Candidate{{Key: mkey(1), Profile: mentor("M", func(p *mentorship.Profile) { p.TimeZone = tz })}}
	}
	tests := []struct {
		query, cand string
		at          time.Time
		want        string
	}{
		{"Europe/Berlin", "America/New_York", winter, "time_zone 7.5: -6h from you, 6h overlap"},
		// New York is on summer time from 8 March 2026, Berlin from 29 March.
		{"Europe/Berlin", "America/New_York", time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC), "time_zone 8.8: -5h from you, 7h overlap"},
		{"Europe/Berlin", "America/New_York", time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC), "time_zone 7.5: -6h from you, 6h overlap"},
		{"UTC", "Asia/Kolkata", winter, "time_zone 8.1: +5h30 from you, 6h30 overlap"},
		{"UTC+05:30", "Asia/Kathmandu", winter, "time_zone 14.7: +0h15 from you, 11h45 overlap"},
		{"UTC-12:00", "UTC+14:00", winter, "time_zone 12.5: +26h from you, 10h overlap"},
		{"America/Los_Angeles", "Asia/Tokyo", winter, // 17h apart is 7h around the clock
			"time_zone 6.2: +17h from you, 5h overlap"},
		{"Europe/London", "Pacific/Auckland", winter, "time_zone 1.2: +13h from you, 1h overlap"},
		{"UTC", "UTC+12:00", winter, "time_zone 0.0: +12h from you, 0h overlap"},
		{"utc+1", "Europe/Paris", winter, "time_zone 15.0: same time as you, 12h overlap"},
		{"UTC", "", winter, "time_zone 0.0: time zone not given"},
		{"UTC", "Mars/Olympus_Mons", winter, "time_zone 0.0: time zone Mars/Olympus_Mons unknown"},
	}
	for _, tt := range tests {
		res, err := mentorship.Rank(mentorship.MatchQuery{TimeZone: tt.query, At: tt.at}, cand(tt.cand))
		if err != nil || len(res.Matches) != 1 {
			t.Errorf("Rank(%s vs %s) = %+v, %v", tt.query, tt.cand, res, err)
			continue
		}
		r := res.Matches[0].Reasons[0]
		if got := fmt.Sprintf("%s %s: %s", r.Factor, r.Points, r.Text); got != tt.want {
			t.Errorf("Rank(%s vs %s at %s) zone reason = %q, want %q", tt.query, tt.cand, tt.at.Format(time.DateOnly), got, tt.want)
		}
	}
}

func TestRankQueryErrors(t *testing.T) {
	tests := []struct {
		name    string
		q       mentorship.MatchQuery
		mention string
	}{
		{"bad language", mentorship.MatchQuery{Languages: []string{"english"}}, "language"},
		{"unknown zone", mentorship.MatchQuery{TimeZone: "Mars/Olympus_Mons"}, "unknown time zone"},
		{"malformed zone", mentorship.MatchQuery{TimeZone: "../etc"}, "time zone"},
		{"limit too high", mentorship.MatchQuery{Limit: mentorship.MaxMatchLimit + 1}, "limit"},
		{"negative limit", mentorship.MatchQuery{Limit: -1}, "limit"},
		{"too many skills", mentorship.MatchQuery{Skills: skills(31, "s")}, "skills"},
		{"skill too long", mentorship.MatchQuery{Skills: []string{strings.Repeat("x", 49)}}, "skill"},
		{"unknown experience", mentorship.MatchQuery{MinExperience: 9}, "experience"},
	}
	for _, tt := range tests {
		_, err := mentorship.Rank(tt.q, fixture())
		if !errors.Is(err, mentorship.ErrInvalid) || !strings.Contains(err.Error(), tt.mention) {
			t.Errorf("Rank(%s) error = %v, want ErrInvalid mentioning %q", tt.name, err, tt.mention)
		}
	}
}

// randomCandidates makes n varied candidates from a fixed seed.
func randomCandidates(n int, seed uint64) []mentorship.Candidate {
	r := rand.New(rand.NewPCG(seed, 1))
	vocab := mentorship.Vocabulary()
	zones := []string{"Europe/Berlin", "Europe/London", "America/New_York", "America/Sao_Paulo", "Asia/Kolkata",
		"Asia/Tokyo", "Australia/Sydney", "Africa/Nairobi", "UTC", "UTC+05:30", "UTC-03:00", "Pacific/Auckland", ""}
	langs := []string{"en", "de", "fr", "es", "pt", "nl", "it", "sw", "hi", "ja"}
	pick := func(from []string, max int) []string {
		var out []string
		for range r.IntN(max + 1) {
			out = append(out, from[r.IntN(len(from))])
		}
		return out
	}
	cands := make([]mentorship.Candidate, n)
	for i := range cands {
		roles := []mentorship.Role{mentorship.RoleMentee}
		if r.IntN(10) < 7 {
			roles = append(roles, mentorship.RoleMentor)
		}
		p := mentorship.Profile{
			Name:       fmt.Sprintf("Practitioner %d", i),
			Skills:     append(pick(vocab, 6), fmt.Sprintf("tag %d", r.IntN(5000))),
			Interests:  pick(vocab, 4),
			Languages:  pick(langs, 3),
			TimeZone:   zones[r.IntN(len(zones))],
			Experience: mentorship.Experience(r.IntN(5)),
			Roles:      roles,
			Capacity:   r.IntN(6),
			Closed:     r.IntN(10) == 0,
		}.Normalize()
		var k [32]byte
		for j := range k {
			k[j] = byte(r.Uint32())
		}
		o := mentorship.Outcome{ActiveAsMentor: r.IntN(3), CompletedAsMentor: r.IntN(8)}
		if o.CompletedAsMentor > 0 {
			o.Ratings = r.IntN(o.CompletedAsMentor + 1)
			o.RatingSum = o.Ratings + r.IntN(4*o.Ratings+1)
		}
		cands[i] = mentorship.Candidate{Key: k, Profile: &p, Outcome: o}
	}
	return cands
}

// randomQuery makes a varied query.
func randomQuery(r *rand.Rand, self [32]byte) mentorship.MatchQuery {
	vocab := mentorship.Vocabulary()
	zones := []string{"Europe/Berlin", "America/Chicago", "Asia/Singapore", "UTC", "UTC-05:00", ""}
	var sk []string
	for range 1 + r.IntN(3) {
		sk = append(sk, vocab[r.IntN(len(vocab))])
	}
	return mentorship.MatchQuery{
		Skills:        sk,
		Languages:     []string{[]string{"en", "de", "fr", "sw"}[r.IntN(4)]},
		TimeZone:      zones[r.IntN(len(zones))],
		MinExperience: mentorship.Experience(r.IntN(3)),
		Limit:         1 + r.IntN(20),
		Self:          self,
		At:            winter.Add(time.Duration(r.IntN(365*24)) * time.Hour),
	}
}

// TestRankProperties: results are sorted, each score is the sum of its
// reasons, a smaller limit gives a prefix of a larger one, the input's order
// does not matter, and every result passes the filters.
func TestRankProperties(t *testing.T) {
	cands := randomCandidates(3000, 7)
	r := rand.New(rand.NewPCG(7, 2))
	for i := range 50 {
		q := randomQuery(r, cands[i].Key)
		res, err := mentorship.Rank(q, cands)
		if err != nil {
			t.Fatal(err)
		}
		q100 := q
		q100.Limit = mentorship.MaxMatchLimit
		all, err := mentorship.Rank(q100, cands)
		if err != nil {
			t.Fatal(err)
		}
		shuffled := slices.Clone(cands)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		again, err := mentorship.Rank(q, shuffled)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Matches) != min(q.Limit, res.Eligible) {
			t.Errorf("query %d: %d matches, want min(limit %d, eligible %d)", i, len(res.Matches), q.Limit, res.Eligible)
		}
		if !reflect.DeepEqual(res.Matches, all.Matches[:len(res.Matches)]) {
			t.Errorf("query %d: limit %d is not a prefix of limit %d", i, q.Limit, q100.Limit)
		}
		if !reflect.DeepEqual(res, again) {
			t.Errorf("query %d: ranking depends on the candidates' order", i)
		}
		for j, m := range all.Matches {
			var sum mentorship.Points
			for _, reason := range m.Reasons {
				sum += reason.Points
			}
			if sum != m.Score || m.Score < 0 || m.Score > 100000 {
				t.Errorf("query %d: score %d, reasons add up to %d", i, m.Score, sum)
			}
			if j > 0 {
				prev := all.Matches[j-1]
				if prev.Score < m.Score || prev.Score == m.Score && string(prev.Key[:]) >= string(m.Key[:]) {
					t.Errorf("query %d: result %d (%d) before %d (%d) breaks the order", i, j-1, prev.Score, j, m.Score)
				}
			}
			p := m.Profile
			if m.Key == q.Self || !p.HasRole(mentorship.RoleMentor) || p.Closed || m.FreePlaces <= 0 || p.Experience < q.MinExperience {
				t.Errorf("query %d: %s should have been left out", i, p.Name)
			}
		}
	}
}
