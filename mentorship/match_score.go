package mentorship

import (
	"bytes"
	"container/heap"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The scoring factors of matching (docs/MATCHING.md), the reasons that
// explain them, and the heap that keeps the best results.

// preparedQuery is a validated, normalised query with its zone resolved.
type preparedQuery struct {
	skills  []string
	langs   []string
	hasZone bool
	offset  int // the query's UTC offset, seconds
	at      time.Time
	minExp  Experience
	limit   int
}

func prepareQuery(q MatchQuery) (*preparedQuery, error) {
	pq := &preparedQuery{
		skills: NormalizeTags(q.Skills),
		langs:  normalizeSet(q.Languages, func(s string) string { return strings.ToLower(strings.TrimSpace(s)) }),
		minExp: q.MinExperience,
		limit:  q.Limit,
		at:     q.At,
	}
	if len(pq.skills) > MaxQuerySkills {
		return nil, fmt.Errorf("%w query: %d skills, at most %d", ErrInvalid, len(pq.skills), MaxQuerySkills)
	}
	for _, s := range pq.skills {
		if err := checkText("skill", s, MaxSkillLen, false); err != nil {
			return nil, err
		}
	}
	if len(pq.langs) > MaxQueryLanguages {
		return nil, fmt.Errorf("%w query: %d languages, at most %d", ErrInvalid, len(pq.langs), MaxQueryLanguages)
	}
	for _, l := range pq.langs {
		if err := CheckLanguage(l); err != nil {
			return nil, err
		}
	}
	if pq.limit == 0 {
		pq.limit = DefaultMatchLimit
	}
	if pq.limit < 0 || pq.limit > MaxMatchLimit {
		return nil, fmt.Errorf("%w query: limit %d, want 1 to %d", ErrInvalid, q.Limit, MaxMatchLimit)
	}
	if pq.minExp > ExperienceTrainer {
		return nil, fmt.Errorf("%w query: unknown experience level %d", ErrInvalid, pq.minExp)
	}
	if tz := NormalizeTimeZone(q.TimeZone); tz != "" {
		if err := CheckTimeZone(tz); err != nil {
			return nil, err
		}
		off, ok := ZoneOffset(tz, q.At)
		if !ok {
			return nil, fmt.Errorf("%w query: unknown time zone %q: want an IANA name such as Europe/Berlin, or a UTC offset such as UTC+05:30", ErrInvalid, tz)
		}
		pq.hasZone, pq.offset = true, off
	}
	return pq, nil
}

// skillMatch returns bit masks of the query skills the profile lists as a
// skill, and (among the others) as an interest.
func (pq *preparedQuery) skillMatch(p *Profile) (skills, interests uint64) {
	for qi, s := range pq.skills {
		if slices.Contains(p.Skills, s) {
			skills |= 1 << qi
		} else if slices.Contains(p.Interests, s) {
			interests |= 1 << qi
		}
	}
	return skills, interests
}

// skillPoints: a query skill the mentor lists as a skill counts 1, as an
// interest only 1/2; the factor is WeightSkills times the share.
func (pq *preparedQuery) skillPoints(sm, im uint64) Points {
	if len(pq.skills) == 0 {
		return 0
	}
	n := 2*popcount(sm) + popcount(im)
	return Points(WeightSkills * 1000 * n / (2 * len(pq.skills)))
}

func popcount(x uint64) int {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n
}

func (pq *preparedQuery) sharedLanguages(p *Profile) []string {
	var shared []string
	for _, l := range pq.langs {
		if slices.Contains(p.Languages, l) {
			shared = append(shared, l)
		}
	}
	return shared
}

// overlap returns the seconds two 09:00-21:00 local days share, for zones
// offset by diff seconds. The difference is taken around the clock: UTC-12
// and UTC+14 are two hours apart, on different dates.
func overlap(diff int) int {
	d := ((diff % 86400) + 86400) % 86400
	d = min(d, 86400-d)
	return max(0, dayEnd-dayStart-d)
}

// zonePoints scores zones offset by diff seconds: WeightTimeZone times the
// share of the local day they have in common.
func zonePoints(diff int) Points {
	return Points(WeightTimeZone * 1000 * overlap(diff) / (dayEnd - dayStart))
}

func capacityPoints(free int) Points {
	return Points(WeightCapacity * 1000 * min(free, fullFreePlaces) / fullFreePlaces)
}

func experiencePoints(e Experience) Points {
	return Points(WeightExperience * 1000 * int(e) / int(ExperienceTrainer))
}

// outcomePoints: completed mentorships as mentor (up to fullCompleted) for
// half the weight; for the other half the Bayesian average rating, from 1
// (nothing) to 5 (full).
func outcomePoints(o Outcome) Points {
	half := WeightOutcomes * 1000 / 2
	completed := half * min(max(o.CompletedAsMentor, 0), fullCompleted) / fullCompleted
	n := max(o.Ratings, 0)
	sum := min(max(o.RatingSum, n), 5*n) // ratings are 1 to 5
	// (priorCount*priorMean + sum) / (priorCount + n), mapped from 1..5 to 0..half.
	num := ratingPriorCount*ratingPriorMean + sum - (ratingPriorCount + n)
	rating := half * num / (4 * (ratingPriorCount + n))
	return Points(completed + rating)
}

// explain scores one mentor again, from the profile, with the reasons.
func (pq *preparedQuery) explain(key [32]byte, p *Profile, o Outcome) Match {
	m := Match{Key: key, Profile: p, Outcome: o, FreePlaces: p.Capacity - o.ActiveAsMentor}
	add := func(f Factor, pts Points, text string) {
		m.Score += pts
		m.Reasons = append(m.Reasons, Reason{Factor: f, Points: pts, Text: text})
	}
	if len(pq.skills) > 0 {
		sm, im := pq.skillMatch(p)
		var names []string
		for qi, s := range pq.skills {
			switch {
			case sm&(1<<qi) != 0:
				names = append(names, s)
			case im&(1<<qi) != 0:
				names = append(names, s+" (interest)")
			}
		}
		add(FactorSkills, pq.skillPoints(sm, im), fmt.Sprintf("%d of %d skills: %s", len(names), len(pq.skills), strings.Join(names, ", ")))
	}
	if len(pq.langs) > 0 {
		var text string
		switch shared := pq.sharedLanguages(p); {
		case len(shared) > 0:
			text = "speaks " + strings.Join(shared, ", ")
		case len(p.Languages) == 0:
			text = "languages not given"
		default:
			text = fmt.Sprintf("speaks none of %s (speaks %s)", strings.Join(pq.langs, ", "), strings.Join(p.Languages, ", "))
		}
		var pts Points
		if len(pq.sharedLanguages(p)) > 0 {
			pts = WeightLanguage * 1000
		}
		add(FactorLanguage, pts, text)
	}
	if pq.hasZone {
		var text string
		var pts Points
		switch off, ok := ZoneOffset(p.TimeZone, pq.at); {
		case p.TimeZone == "":
			text = "time zone not given"
		case !ok:
			text = fmt.Sprintf("time zone %s unknown", p.TimeZone)
		default:
			diff := off - pq.offset
			text = fmt.Sprintf("%s, %s overlap", relativeOffset(diff), hours(overlap(diff)))
			pts = zonePoints(diff)
		}
		add(FactorTimeZone, pts, text)
	}
	add(FactorCapacity, capacityPoints(m.FreePlaces), fmt.Sprintf("%d of %d places free", m.FreePlaces, p.Capacity))
	expText := "experience not given"
	if p.Experience != ExperienceUnset {
		expText = p.Experience.String()
	}
	add(FactorExperience, experiencePoints(p.Experience), expText)
	add(FactorOutcomes, outcomePoints(o), outcomeText(o))
	return m
}

func outcomeText(o Outcome) string {
	switch {
	case o.CompletedAsMentor == 0 && o.Ratings == 0:
		return "no completed mentorships yet"
	case o.Ratings == 0:
		return fmt.Sprintf("%d completed, no ratings", o.CompletedAsMentor)
	}
	return fmt.Sprintf("%d completed, %.1f avg of %d ratings", o.CompletedAsMentor, o.AverageRating(), o.Ratings)
}

// relativeOffset writes a difference of UTC offsets: "same time as you",
// "+1h from you", "-5h30 from you".
func relativeOffset(diff int) string {
	if diff == 0 {
		return "same time as you"
	}
	sign := "+"
	if diff < 0 {
		sign, diff = "-", -diff
	}
	return sign + hours(diff) + " from you"
}

// hours writes seconds as "11h" or "5h30".
func hours(sec int) string {
	if m := sec / 60 % 60; m != 0 {
		return fmt.Sprintf("%dh%02d", sec/3600, m)
	}
	return fmt.Sprintf("%dh", sec/3600)
}

// scored is a candidate's score during ranking.
type scored struct {
	score Points
	idx   int32
	key   *[32]byte
}

// better orders results: higher score first, then smaller key.
func better(a, b scored) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return bytes.Compare(a.key[:], b.key[:]) < 0
}

// topK keeps the k best scored candidates in a heap whose root is the worst.
type topK struct {
	k int
	h []scored
}

func (t *topK) Len() int           { return len(t.h) }
func (t *topK) Less(i, j int) bool { return better(t.h[j], t.h[i]) }
func (t *topK) Swap(i, j int)      { t.h[i], t.h[j] = t.h[j], t.h[i] }
func (t *topK) Push(x any)         { t.h = append(t.h, x.(scored)) }
func (t *topK) Pop() any {
	x := t.h[len(t.h)-1]
	t.h = t.h[:len(t.h)-1]
	return x
}

func (t *topK) offer(s scored) {
	if len(t.h) < t.k {
		heap.Push(t, s)
		return
	}
	if better(s, t.h[0]) {
		t.h[0] = s
		heap.Fix(t, 0)
	}
}

func (t *topK) sorted() []scored {
	out := slices.Clone(t.h)
	slices.SortFunc(out, func(a, b scored) int {
		if better(a, b) {
			return -1
		}
		if better(b, a) {
			return 1
		}
		return 0
	})
	return out
}
