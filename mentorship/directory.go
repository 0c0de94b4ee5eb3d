package mentorship

import (
	"cmp"
	"slices"
)

// Directory indexes a community's profiles for matching and statistics. It
// is kept current with Put and Remove, so a query never decodes profiles:
// it walks the inverted lists of the asked skills (or every profile when no
// skill is asked) over a compact per-profile array.
//
// A Directory is not safe for concurrent modification; Rank and the other
// read methods may run concurrently with each other.
type Directory struct {
	// Per slot: the compact form ranking reads for every candidate, then
	// what it reads for the few it returns.
	slots    []slot
	profiles []*Profile
	keys     [][32]byte
	// outc is the outcome of each slot's practitioner, from outcomes (the
	// outcomes of all practitioners, with or without a profile).
	outc     []Outcome
	outcomes map[[32]byte]Outcome
	index    map[[32]byte]int32
	free     []int32 // empty slots, reused first
	live     int

	skills    postings
	interests postings
	languages postings

	zoneID   map[string]uint32
	zones    []string
	zoneRefs []int32
	freeZone []uint32
}

// slot is one profile in the compact form ranking reads (12 bytes, so a
// cache line holds five).
type slot struct {
	zone uint32
	// outcomePts is outcomePoints of the slot's outcome.
	outcomePts int32
	capacity   uint8
	experience Experience
	flags      uint8
	// active is the outcome's ActiveAsMentor, at most 255.
	active uint8
}

const (
	flagLive = 1 << iota // the slot holds a profile
	flagMentor
	flagMentee
	flagPeer
	flagClosed
)

// postings maps a tag to the slots listing it, in no particular order.
type postings map[string][]int32

func (ps postings) add(tag string, i int32) { ps[tag] = append(ps[tag], i) }

func (ps postings) remove(tag string, i int32) {
	list := ps[tag]
	j := slices.Index(list, i)
	if j < 0 {
		return
	}
	list[j] = list[len(list)-1]
	list = list[:len(list)-1]
	if len(list) == 0 {
		delete(ps, tag)
		return
	}
	ps[tag] = list
}

// update moves slot i from the tags of old to those of new.
func (ps postings) update(i int32, old, new []string) {
	for _, t := range old {
		if !slices.Contains(new, t) {
			ps.remove(t, i)
		}
	}
	for _, t := range new {
		if !slices.Contains(old, t) {
			ps.add(t, i)
		}
	}
}

// NewDirectory returns an empty directory.
func NewDirectory() *Directory {
	return &Directory{
		index:     map[[32]byte]int32{},
		skills:    postings{},
		interests: postings{},
		languages: postings{},
		zoneID:    map[string]uint32{},
	}
}

// Len returns the number of profiles.
func (d *Directory) Len() int { return d.live }

// Get returns key's profile, or nil.
func (d *Directory) Get(key [32]byte) *Profile {
	if i, ok := d.index[key]; ok {
		return d.profiles[i]
	}
	return nil
}

// Put adds or replaces key's profile. p must be normalised
// (Profile.Normalize) and is kept, not copied: do not modify it later.
// A nil p removes the profile.
func (d *Directory) Put(key [32]byte, p *Profile) {
	if p == nil {
		d.Remove(key)
		return
	}
	i, ok := d.index[key]
	var old Profile
	if ok {
		old = *d.profiles[i]
		d.releaseZone(d.slots[i].zone)
	} else {
		if n := len(d.free); n > 0 {
			i, d.free = d.free[n-1], d.free[:n-1]
			d.keys[i] = key
		} else {
			i = int32(len(d.slots))
			d.slots = append(d.slots, slot{})
			d.profiles = append(d.profiles, nil)
			d.keys = append(d.keys, key)
			d.outc = append(d.outc, Outcome{})
		}
		d.index[key] = i
		d.live++
		d.outc[i] = d.outcomes[key]
	}
	d.skills.update(i, old.Skills, p.Skills)
	d.interests.update(i, old.Interests, p.Interests)
	d.languages.update(i, old.Languages, p.Languages)
	s := slot{zone: d.holdZone(p.TimeZone), capacity: uint8(min(max(p.Capacity, 0), 255)), experience: p.Experience, flags: flagLive}
	s.setOutcome(d.outc[i])
	for _, r := range p.Roles {
		switch r {
		case RoleMentor:
			s.flags |= flagMentor
		case RoleMentee:
			s.flags |= flagMentee
		case RolePeer:
			s.flags |= flagPeer
		}
	}
	if p.Closed {
		s.flags |= flagClosed
	}
	d.slots[i] = s
	d.profiles[i] = p
}

func (s *slot) setOutcome(o Outcome) {
	s.outcomePts = int32(outcomePoints(o))
	s.active = uint8(min(max(o.ActiveAsMentor, 0), 255))
}

// Remove removes key's profile, if any.
func (d *Directory) Remove(key [32]byte) {
	i, ok := d.index[key]
	if !ok {
		return
	}
	p := d.profiles[i]
	d.skills.update(i, p.Skills, nil)
	d.interests.update(i, p.Interests, nil)
	d.languages.update(i, p.Languages, nil)
	d.releaseZone(d.slots[i].zone)
	d.slots[i] = slot{}
	d.profiles[i] = nil
	d.keys[i] = [32]byte{}
	d.outc[i] = Outcome{}
	d.free = append(d.free, i)
	delete(d.index, key)
	d.live--
}

// SetOutcomes replaces the pairing outcomes of the community's
// practitioners (with or without a profile; those missing have none).
// The directory keeps the map: do not modify it later.
func (d *Directory) SetOutcomes(outcomes map[[32]byte]Outcome) {
	d.outcomes = outcomes
	clear(d.outc)
	for i := range d.slots {
		d.slots[i].setOutcome(Outcome{})
	}
	for k, o := range outcomes {
		if i, ok := d.index[k]; ok {
			d.outc[i] = o
			d.slots[i].setOutcome(o)
		}
	}
}

// Outcome returns key's outcome.
func (d *Directory) Outcome(key [32]byte) Outcome { return d.outcomes[key] }

// holdZone returns the ID of a zone name, counting one more user of it.
func (d *Directory) holdZone(z string) uint32 {
	id, ok := d.zoneID[z]
	if !ok {
		if n := len(d.freeZone); n > 0 {
			id, d.freeZone = d.freeZone[n-1], d.freeZone[:n-1]
			d.zones[id] = z
		} else {
			id = uint32(len(d.zones))
			d.zones = append(d.zones, z)
			d.zoneRefs = append(d.zoneRefs, 0)
		}
		d.zoneID[z] = id
	}
	d.zoneRefs[id]++
	return id
}

func (d *Directory) releaseZone(id uint32) {
	d.zoneRefs[id]--
	if d.zoneRefs[id] == 0 {
		delete(d.zoneID, d.zones[id])
		d.zones[id] = ""
		d.freeZone = append(d.freeZone, id)
	}
}

// Each calls fn for every profile, in no particular order, until fn
// returns false.
func (d *Directory) Each(fn func(key [32]byte, p *Profile) bool) {
	for i := range d.slots {
		if p := d.profiles[i]; p != nil && !fn(d.keys[i], p) {
			return
		}
	}
}

// Summarize computes the community's statistics from the directory's
// profiles and outcomes. topSkills bounds CommunityStats.TopSkills.
func (d *Directory) Summarize(topSkills int) CommunityStats {
	return d.SummarizeWithout(topSkills, nil)
}

// SummarizeWithout is Summarize as if the practitioners for which hidden
// returns true had neither a profile nor outcomes (a node hides the
// practitioners its user blocked). A nil hidden hides no one.
func (d *Directory) SummarizeWithout(topSkills int, hidden func(key [32]byte) bool) CommunityStats {
	var s CommunityStats
	shown := func(i int32) bool { return hidden == nil || !hidden(d.keys[i]) }
	for i := range d.slots {
		sl := &d.slots[i]
		if sl.flags&flagLive == 0 || !shown(int32(i)) {
			continue
		}
		s.Practitioners++
		if sl.flags&flagMentee != 0 {
			s.Mentees++
		}
		if sl.flags&flagPeer != 0 {
			s.Peers++
		}
		if sl.flags&flagMentor != 0 {
			s.Mentors++
			if free := int(sl.capacity) - int(sl.active); free > 0 && sl.flags&flagClosed == 0 {
				s.MentorsAvailable++
				s.FreePlaces += free
			}
		}
	}
	for k, o := range d.outcomes {
		if hidden == nil || !hidden(k) {
			s.addOutcome(o)
		}
	}
	s.TopSkills = make([]TagCount, 0, len(d.skills))
	for t, list := range d.skills {
		n := len(list)
		if hidden != nil {
			n = 0
			for _, i := range list {
				if shown(i) {
					n++
				}
			}
		}
		if n > 0 {
			s.TopSkills = append(s.TopSkills, TagCount{Tag: t, Count: n})
		}
	}
	sortTagCounts(s.TopSkills)
	s.TopSkills = s.TopSkills[:min(len(s.TopSkills), max(topSkills, 0))]
	return s
}

func sortTagCounts(tc []TagCount) {
	slices.SortFunc(tc, func(a, b TagCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Tag, b.Tag))
	})
}
