package mentorship

import (
	"bytes"
	"container/heap"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"time"
)

// Matching ranks mentors for a mentee's query. The scoring is documented in
// docs/MATCHING.md; keep the two in step.

// Factor weights: a result scores 0 to 100 points, the sum of its factors.
const (
	WeightSkills     = 40
	WeightLanguage   = 15
	WeightTimeZone   = 15
	WeightCapacity   = 10
	WeightExperience = 10
	// WeightOutcomes is half for completed mentorships, half for ratings.
	WeightOutcomes = 10
)

// Matching parameters.
const (
	// DefaultMatchLimit and MaxMatchLimit bound the number of results.
	DefaultMatchLimit = 10
	MaxMatchLimit     = 100
	// MaxQuerySkills and MaxQueryLanguages bound a query.
	MaxQuerySkills    = MaxSkills
	MaxQueryLanguages = MaxLanguages
	// The local day whose overlap the time-zone factor measures.
	dayStart = 9 * 3600
	dayEnd   = 21 * 3600
	// Free places count up to fullFreePlaces; completed mentorships up to
	// fullCompleted.
	fullFreePlaces = 3
	fullCompleted  = 5
	// The rating factor averages the ratings received with ratingPriorCount
	// ratings of ratingPriorMean (a Bayesian average), so one 5-star rating
	// does not outrank a long good record.
	ratingPriorCount = 3
	ratingPriorMean  = 3
)

// Points are thousandths of a score point. Scores are added in integers so
// that equal scores are exactly equal and every node ranks alike.
type Points int

// Float returns p in points.
func (p Points) Float() float64 { return float64(p) / 1000 }

// String writes p with one decimal.
func (p Points) String() string { return fmt.Sprintf("%.1f", p.Float()) }

// Factor names a scoring factor.
type Factor string

// Factors, in the order reasons list them.
const (
	FactorSkills     Factor = "skills"
	FactorLanguage   Factor = "language"
	FactorTimeZone   Factor = "time_zone"
	FactorCapacity   Factor = "capacity"
	FactorExperience Factor = "experience"
	FactorOutcomes   Factor = "outcomes"
)

// MatchQuery is what a mentee looks for.
type MatchQuery struct {
	// Skills are matched against mentors' skills and interests, as exact
	// tags after normalisation. If given, mentors sharing none are left out.
	Skills []string
	// Languages: a mentor speaking one of them scores the language factor.
	Languages []string
	// TimeZone is the mentee's zone; "" leaves the factor out.
	TimeZone string
	// MinExperience leaves out mentors with a lower (or no) level.
	MinExperience Experience
	// Limit is the number of results: 0 means DefaultMatchLimit.
	Limit int
	// Self is the asker, never a result.
	Self [32]byte
	// At is the moment UTC offsets are taken at (daylight saving time).
	At time.Time
}

// Candidate is a practitioner to consider: their key, their normalised
// profile (Profile.Normalize; the node stores them so) and the outcome of
// their pairings.
type Candidate struct {
	Key     [32]byte
	Profile *Profile
	Outcome Outcome
}

// Reason explains one factor of a score.
type Reason struct {
	Factor Factor
	Points Points
	Text   string
}

// Match is one ranked mentor.
type Match struct {
	Key        [32]byte
	Profile    *Profile
	Outcome    Outcome
	Score      Points
	FreePlaces int
	// Reasons, one per factor that applies, in the order of the factors.
	Reasons []Reason
}

// MatchResult is a ranked list of mentors.
type MatchResult struct {
	// Matches are the best mentors, best first; ties go to the smaller key
	// (which is also the smaller peer ID).
	Matches []Match
	// Eligible counts the mentors that passed the filters (role mentor,
	// open, a free place, the minimum experience, a shared skill).
	Eligible int
	// SkillHits counts, per normalised query skill, the eligible-but-for-
	// skills mentors listing it as a skill or an interest (0 suggests a typo).
	SkillHits map[string]int
}

// Rank scores candidates against q and returns the best. It is a pure,
// deterministic function of its arguments (and of the time-zone database
// for zone names). Candidates left out: q.Self, profiles without the mentor
// role, with availability closed, without a free place (capacity minus
// active mentees; zero free capacity excludes rather than penalises, as a
// mentor at capacity cannot accept), below q.MinExperience, and, when
// q.Skills is not empty, sharing none of the skills. Keys must be unique.
//
// Rank indexes the candidates first; to answer many queries over the same
// profiles, keep a Directory and call its Rank.
func Rank(q MatchQuery, cands []Candidate) (MatchResult, error) {
	d := NewDirectory()
	outcomes := map[[32]byte]Outcome{}
	for _, c := range cands {
		if c.Profile != nil {
			d.Put(c.Key, c.Profile)
		}
		if c.Outcome != (Outcome{}) {
			outcomes[c.Key] = c.Outcome
		}
	}
	d.SetOutcomes(outcomes)
	return d.Rank(q)
}

// scratch is per-query working memory, pooled and cleared after use.
type scratch struct {
	masks    []uint64 // per slot: low 32 bits the query skills listed as skills, high 32 as interests
	touched  []uint64 // bit set of the slots with a mask
	speakers []uint64 // bit set of the slots speaking a query language
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func (sc *scratch) reset(n int) {
	if cap(sc.masks) < n {
		sc.masks = make([]uint64, n)
	}
	sc.masks = sc.masks[:n]
	words := (n + 63) / 64
	if cap(sc.speakers) < words {
		sc.speakers = make([]uint64, words)
		sc.touched = make([]uint64, words)
	}
	sc.speakers, sc.touched = sc.speakers[:words], sc.touched[:words]
}

// clear zeroes what a query set, leaving the buffers ready for the next.
func (sc *scratch) clear() {
	for w, word := range sc.touched {
		for ; word != 0; word &= word - 1 {
			sc.masks[w*64+bits0(word)] = 0
		}
	}
	clear(sc.touched)
	clear(sc.speakers)
}

// bits0 is the index of the lowest set bit of a non-zero word.
func bits0(x uint64) int { return bits.TrailingZeros64(x) }

// Rank ranks the directory's mentors for q, with the outcomes last set by
// SetOutcomes. See the package function Rank for the rules.
func (d *Directory) Rank(q MatchQuery) (MatchResult, error) {
	pq, err := prepareQuery(q)
	if err != nil {
		return MatchResult{}, err
	}
	n := len(d.slots)
	sc := scratchPool.Get().(*scratch)
	sc.reset(n)
	defer func() {
		sc.clear()
		scratchPool.Put(sc)
	}()
	self := int32(-1)
	if i, ok := d.index[q.Self]; ok {
		self = i
	}
	for _, l := range pq.langs {
		for _, i := range d.languages[l] {
			sc.speakers[i/64] |= 1 << (i % 64)
		}
	}
	// The candidates: those listing a query skill, or everyone.
	for qi, t := range pq.skills {
		for _, i := range d.skills[t] {
			sc.masks[i] |= 1 << qi
			sc.touched[i/64] |= 1 << (i % 64)
		}
		for _, i := range d.interests[t] {
			sc.masks[i] |= 1 << (32 + qi)
			sc.touched[i/64] |= 1 << (i % 64)
		}
	}
	zoneOffsets := make([]int32, len(d.zones))
	const unresolved, unknown = math.MinInt32, math.MinInt32 + 1
	for i := range zoneOffsets {
		zoneOffsets[i] = unresolved
	}
	hits := make([]int, len(pq.skills))
	top := &topK{k: pq.limit}
	eligible := 0
	consider := func(i int32) {
		s := &d.slots[i]
		const need = flagLive | flagMentor
		if s.flags&(need|flagClosed) != need || s.experience < pq.minExp || s.capacity <= s.active || i == self {
			return
		}
		var pts Points
		if len(pq.skills) > 0 {
			m := sc.masks[i]
			sm := m & (1<<32 - 1)
			im := m >> 32 &^ sm
			for qi := range pq.skills {
				if (sm|im)&(1<<qi) != 0 {
					hits[qi]++
				}
			}
			pts = pq.skillPoints(sm, im)
		}
		eligible++
		if sc.speakers[i/64]&(1<<(i%64)) != 0 {
			pts += WeightLanguage * 1000
		}
		if pq.hasZone {
			off := zoneOffsets[s.zone]
			if off == unresolved {
				off = unknown
				if sec, ok := ZoneOffset(d.zones[s.zone], pq.at); ok {
					off = int32(sec)
				}
				zoneOffsets[s.zone] = off
			}
			if off != unknown {
				pts += zonePoints(int(off) - pq.offset)
			}
		}
		pts += capacityPoints(int(s.capacity)-int(s.active)) + experiencePoints(s.experience) + Points(s.outcomePts)
		top.offer(scored{score: pts, idx: i, key: &d.keys[i]})
	}
	if len(pq.skills) > 0 {
		// In slot order, which reads the slots front to back.
		for w, word := range sc.touched {
			for ; word != 0; word &= word - 1 {
				consider(int32(w*64 + bits0(word)))
			}
		}
	} else {
		for i := range d.slots {
			consider(int32(i))
		}
	}
	res := MatchResult{Eligible: eligible, SkillHits: make(map[string]int, len(pq.skills))}
	for qi, s := range pq.skills {
		res.SkillHits[s] = hits[qi]
	}
	best := top.sorted()
	res.Matches = make([]Match, len(best))
	for i, b := range best {
		res.Matches[i] = pq.explain(d.keys[b.idx], d.profiles[b.idx], d.outc[b.idx])
	}
	return res, nil
}

// preparedQuery is a validated, normalised query with its zone resolved.
type preparedQuery struct {
	skills  []string
	langs   []string
	hasZone bool
	offset  int // the query's UTC offset, seconds
	at      time.Time
	minExp  Experience
	limit   int
	offsets map[string]zoneOffset // candidates' zones, resolved once
}

type zoneOffset struct {
	seconds int
	ok      bool
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
