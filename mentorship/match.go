package mentorship

import (
	"fmt"
	"math"
	"math/bits"
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
