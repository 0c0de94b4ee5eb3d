package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/record"
)

// statsTopSkills is how many skills Stats lists.
const statsTopSkills = 10

// applyProfileInput sets the fields of in that are not nil on p.
func applyProfileInput(p *mentorship.Profile, in api.ProfileInput) error {
	setStr := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	setList := func(dst *[]string, v *[]string) {
		if v != nil {
			*dst = slices.Clone(*v)
		}
	}
	setInt := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	setStr(&p.Name, in.Name)
	setStr(&p.Bio, in.Bio)
	setList(&p.Skills, in.Skills)
	setStr(&p.Pronouns, in.Pronouns)
	setList(&p.Languages, in.Languages)
	setStr(&p.TimeZone, in.TimeZone)
	setStr(&p.Location, in.Location)
	setList(&p.Interests, in.Interests)
	setInt(&p.Capacity, in.Capacity)
	setInt(&p.HoursPerMonth, in.HoursPerMonth)
	setList(&p.Links, in.Links)
	if in.Experience != nil {
		e, err := mentorship.ParseExperience(*in.Experience)
		if err != nil {
			return err
		}
		p.Experience = e
	}
	if in.Roles != nil {
		p.Roles = nil
		for _, s := range *in.Roles {
			r, err := mentorship.ParseRole(s)
			if err != nil {
				return err
			}
			p.Roles = append(p.Roles, r)
		}
	}
	if in.Availability != nil {
		switch strings.ToLower(strings.TrimSpace(*in.Availability)) {
		case "open":
			p.Closed = false
		case "closed":
			p.Closed = true
		default:
			return fmt.Errorf("%w profile: availability %q: want open or closed", mentorship.ErrInvalid, *in.Availability)
		}
	}
	return nil
}

// checkZoneKnown refuses a time zone the user types that this node's
// time-zone database does not know ("Berlin" for "Europe/Berlin"). Records
// from peers are checked for syntax only, so that every node decides
// alike; a writer can afford to be stricter about its own.
func checkZoneKnown(tz *string) error {
	if tz == nil {
		return nil
	}
	z := mentorship.NormalizeTimeZone(*tz)
	if z == "" || mentorship.CheckTimeZone(z) != nil {
		return nil // empty clears; malformed is reported by validation
	}
	if _, ok := mentorship.ZoneOffset(z, time.Now()); !ok {
		return api.BadRequest(fmt.Sprintf("invalid profile: unknown time zone %q: want an IANA name such as Europe/Berlin or America/New_York, or a UTC offset such as UTC+05:30", z))
	}
	return nil
}

// profileView turns a stored profile record into its API view.
func profileView(rec *record.Record, o mentorship.Outcome) (api.Profile, error) {
	p, err := mentorship.DecodeProfile(rec.Payload)
	if err != nil {
		return api.Profile{}, fmt.Errorf("stored profile %s: %w", rec.ID, err)
	}
	roles := []string{}
	for _, r := range p.Roles {
		roles = append(roles, r.String())
	}
	return api.Profile{
		PeerID:        rec.Author.String(),
		Community:     rec.Community,
		Name:          p.Name,
		Bio:           p.Bio,
		Skills:        nonNil(p.Skills),
		Pronouns:      p.Pronouns,
		Languages:     nonNil(p.Languages),
		TimeZone:      p.TimeZone,
		Location:      p.Location,
		Interests:     nonNil(p.Interests),
		Experience:    p.Experience.String(),
		Roles:         roles,
		Capacity:      p.Capacity,
		Availability:  p.Availability(),
		HoursPerMonth: p.HoursPerMonth,
		Links:         nonNil(p.Links),
		Mentorships: api.Mentorships{
			ActiveAsMentor:    o.ActiveAsMentor,
			CompletedAsMentor: o.CompletedAsMentor,
			ActiveAsMentee:    o.ActiveAsMentee,
			CompletedAsMentee: o.CompletedAsMentee,
			Ratings:           o.Ratings,
			AverageRating:     round2(o.AverageRating()),
			FreePlaces:        max(0, p.Capacity-o.ActiveAsMentor),
		},
		Version:   rec.Version,
		UpdatedAt: rec.Timestamp.UTC(),
	}, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

// community returns the community a read command acts in: c if given (it
// must be joined), else the first joined one.
func (l *Local) community(c string) (string, error) {
	if c == "" {
		joined := l.joined()
		if len(joined) == 0 {
			return "", api.BadRequest("this node has joined no community")
		}
		return joined[0], nil
	}
	if err := record.CheckCommunity(c); err != nil {
		return "", api.BadRequest(err.Error())
	}
	return c, l.checkJoined(c)
}

// ListProfiles implements api.Backend. It reads the store (profiles in
// full, with bios), not the directory.
func (l *Local) ListProfiles(ctx context.Context, community string) ([]api.Profile, error) {
	c, err := l.community(community)
	if err != nil {
		return nil, err
	}
	outcomes, err := l.outcomes(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("reading pairing outcomes: %w", err)
	}
	now := time.Now()
	out := []api.Profile{}
	err = l.store.List(ctx, store.Query{Community: c, Kind: mentorship.KindProfile}, func(rec *record.Record) error {
		if rec.Deleted || rec.Expired(now) || l.blocked(rec.Author) {
			return nil
		}
		p, err := profileView(rec, outcomes[rec.Author])
		if err != nil {
			return err
		}
		out = append(out, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing profiles: %w", err)
	}
	slices.SortFunc(out, func(a, b api.Profile) int {
		return cmp.Or(strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), strings.Compare(a.PeerID, b.PeerID))
	})
	return out, nil
}

// FindMentors implements api.Backend.
func (l *Local) FindMentors(ctx context.Context, q api.MentorQuery) (api.MentorResults, error) {
	c, err := l.community(q.Community)
	if err != nil {
		return api.MentorResults{}, err
	}
	q.Community = c
	at := time.Now().UTC().Truncate(time.Second)
	// Languages and time zone default to the asker's own profile's (a zone
	// this node cannot resolve is left out rather than refused).
	if len(q.Languages) == 0 || q.TimeZone == "" {
		own, err := l.ownProfile(ctx, c)
		if err != nil {
			return api.MentorResults{}, err
		}
		if len(q.Languages) == 0 {
			q.Languages = own.Languages
		}
		if _, ok := mentorship.ZoneOffset(own.TimeZone, at); q.TimeZone == "" && ok {
			q.TimeZone = own.TimeZone
		}
	}
	minExp, err := mentorship.ParseExperience(q.Experience)
	if err != nil {
		return api.MentorResults{}, api.BadRequest(err.Error())
	}
	mq := mentorship.MatchQuery{
		Skills:        q.Skills,
		Languages:     q.Languages,
		TimeZone:      q.TimeZone,
		MinExperience: minExp,
		Limit:         q.Limit,
		Self:          [32]byte(l.author),
		At:            at,
	}
	pd, err := l.profileDirectory(ctx, c)
	if err != nil {
		return api.MentorResults{}, err
	}
	// Blocked practitioners are never offered: rank more, then drop them.
	_, blocked := l.mod.snapshot()
	want := mq.Limit
	if len(blocked) > 0 && want >= 0 && want <= mentorship.MaxMatchLimit {
		if want == 0 {
			want = mentorship.DefaultMatchLimit
		}
		mq.Limit = mentorship.MaxMatchLimit
	}
	pd.mu.RLock()
	res, err := pd.dir.Rank(mq)
	pd.mu.RUnlock()
	if err != nil {
		return api.MentorResults{}, api.BadRequest(err.Error())
	}
	if len(blocked) > 0 {
		res.Matches = slices.DeleteFunc(res.Matches, func(m mentorship.Match) bool { return l.blocked(record.Author(m.Key)) })
		if len(res.Matches) > want {
			res.Matches = res.Matches[:want]
		}
	}
	// The query as applied, normalised as matching saw it.
	q.Skills = nonNil(mentorship.NormalizeTags(q.Skills))
	q.Languages = nonNil(mentorship.Profile{Languages: q.Languages}.Normalize().Languages)
	q.TimeZone = mentorship.NormalizeTimeZone(q.TimeZone)
	q.Experience = minExp.String()
	if q.Limit == 0 {
		q.Limit = mentorship.DefaultMatchLimit
	}
	out := api.MentorResults{
		Community:   c,
		Query:       q,
		At:          at,
		Eligible:    res.Eligible,
		Mentors:     make([]api.MentorMatch, len(res.Matches)),
		Suggestions: map[string][]string{},
	}
	for skill, hits := range res.SkillHits {
		if hits == 0 {
			out.Suggestions[skill] = nonNil(mentorship.SuggestTags(skill))
		}
	}
	for i, m := range res.Matches {
		out.Mentors[i] = mentorView(i+1, m)
	}
	return out, nil
}

// ownProfile returns the caller's profile in community, zero if none.
func (l *Local) ownProfile(ctx context.Context, community string) (mentorship.Profile, error) {
	rec, err := l.store.Current(ctx, record.Addr{Community: community, Author: l.author, Kind: mentorship.KindProfile})
	if errors.Is(err, store.ErrNotFound) {
		return mentorship.Profile{}, nil
	}
	if err != nil {
		return mentorship.Profile{}, fmt.Errorf("reading your profile: %w", err)
	}
	if rec.Deleted || rec.Expired(time.Now()) {
		return mentorship.Profile{}, nil
	}
	p, err := mentorship.DecodeProfile(rec.Payload)
	if err != nil {
		return mentorship.Profile{}, fmt.Errorf("reading your profile: %w", err)
	}
	return p, nil
}

func mentorView(rank int, m mentorship.Match) api.MentorMatch {
	p := m.Profile
	v := api.MentorMatch{
		Rank:          rank,
		PeerID:        record.Author(m.Key).String(),
		Name:          p.Name,
		Score:         m.Score.Float(),
		Reasons:       make([]api.MatchReason, len(m.Reasons)),
		Pronouns:      p.Pronouns,
		Skills:        nonNil(p.Skills),
		Interests:     nonNil(p.Interests),
		Languages:     nonNil(p.Languages),
		TimeZone:      p.TimeZone,
		Experience:    p.Experience.String(),
		Capacity:      p.Capacity,
		FreePlaces:    m.FreePlaces,
		HoursPerMonth: p.HoursPerMonth,
		Completed:     m.Outcome.CompletedAsMentor,
		Ratings:       m.Outcome.Ratings,
		AverageRating: round2(m.Outcome.AverageRating()),
	}
	for i, r := range m.Reasons {
		v.Reasons[i] = api.MatchReason{Factor: string(r.Factor), Points: r.Points.Float(), Text: r.Text}
	}
	return v
}

// Stats implements api.Backend.
func (l *Local) Stats(ctx context.Context, community string) (api.Stats, error) {
	c, err := l.community(community)
	if err != nil {
		return api.Stats{}, err
	}
	pd, err := l.profileDirectory(ctx, c)
	if err != nil {
		return api.Stats{}, err
	}
	// Blocked practitioners count nowhere: not their profiles, skills or
	// pairing outcomes (loadPairings already leaves out their records).
	var hidden func([32]byte) bool
	if l.mod.any() {
		hidden = func(k [32]byte) bool { return l.blocked(record.Author(k)) }
	}
	pd.mu.RLock()
	s := pd.dir.SummarizeWithout(statsTopSkills, hidden)
	pd.mu.RUnlock()
	resources, err := l.resourceCounts(ctx, c)
	if err != nil {
		return api.Stats{}, fmt.Errorf("counting resources: %w", err)
	}
	if resources == nil {
		resources = map[string]int{}
	}
	out := api.Stats{
		Community:               c,
		Practitioners:           s.Practitioners,
		Mentors:                 s.Mentors,
		Mentees:                 s.Mentees,
		Peers:                   s.Peers,
		MentorsWithFreeCapacity: s.MentorsAvailable,
		FreePlaces:              s.FreePlaces,
		Pairings:                api.StatsPairings{Pending: &s.PendingPairings, Active: s.ActivePairings, Completed: s.CompletedPairings},
		Ratings:                 s.Ratings,
		AverageRating:           round2(s.AverageRating()),
		Resources:               resources,
		TopSkills:               make([]api.SkillCount, len(s.TopSkills)),
	}
	for i, t := range s.TopSkills {
		out.TopSkills[i] = api.SkillCount{Skill: t.Tag, Profiles: t.Count}
	}
	return out, nil
}
