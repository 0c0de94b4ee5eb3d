package node

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/record"
)

// pairingHooks is Local's pairing state: a lock and, for tests, a clock and
// a capacity source.
type pairingHooks struct {
	// mu serialises pairing actions from reading the state to writing the
	// record, so two concurrent accepts cannot both pass the capacity check.
	mu sync.Mutex
	// now is the clock that decides expiry; nil means time.Now.
	now func() time.Time
	// capacity, if set, replaces mentorCapacity's profile lookup.
	capacity func(ctx context.Context, community string, author record.Author) (int, bool, error)
}

func (l *Local) clock() time.Time {
	if l.pairing.now != nil {
		return l.pairing.now()
	}
	return time.Now()
}

// pairingEntry is one pairing of a community as derived on this node.
type pairingEntry struct {
	community string
	view      mentorship.PairingView
	// recs are the parties' current records, for their timestamps.
	recs map[[32]byte]*record.Record
}

// loadPairings derives the pairings of community from the pairing records
// this node holds (only pairing id if id is not ""). Tombstones and expired
// records count as no record.
func (l *Local) loadPairings(ctx context.Context, community, id string, now time.Time) ([]pairingEntry, error) {
	type group struct {
		recs []mentorship.PairingRecord
		raw  map[[32]byte]*record.Record
	}
	groups := map[string]*group{}
	err := l.store.List(ctx, store.Query{Community: community, Kind: mentorship.KindPairing}, func(rec *record.Record) error {
		if rec.Deleted || (id != "" && rec.Key != id) || rec.Expired(now) || l.blocked(rec.Author) {
			return nil
		}
		p, err := mentorship.DecodePairing(rec.Payload)
		if err != nil {
			// Every record was validated before it was stored; one that no
			// longer decodes counts as no record.
			return nil
		}
		g := groups[rec.Key]
		if g == nil {
			g = &group{raw: map[[32]byte]*record.Record{}}
			groups[rec.Key] = g
		}
		g.recs = append(g.recs, mentorship.PairingRecord{Author: rec.Author, Pairing: p})
		g.raw[rec.Author] = rec
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading pairings: %w", err)
	}
	var out []pairingEntry
	for key, g := range groups {
		v, ok := mentorship.DerivePairing(key, g.recs, now)
		if !ok {
			continue
		}
		e := pairingEntry{community: community, view: v, recs: map[[32]byte]*record.Record{}}
		for _, who := range [][32]byte{v.Mentor, v.Mentee} {
			if r := g.raw[who]; r != nil && v.Record(who) != nil {
				e.recs[who] = r
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// findPairing returns pairing id in community, or in the joined community
// that has it if community is "".
func (l *Local) findPairing(ctx context.Context, community, id string, now time.Time) (pairingEntry, error) {
	if err := mentorship.CheckPairingID(id); err != nil {
		return pairingEntry{}, api.BadRequest(fmt.Sprintf("%q is not a pairing ID (32 lowercase hex digits; 'mentormesh pair list' shows them)", id))
	}
	targets := l.joined()
	if community != "" {
		if err := l.checkJoined(community); err != nil {
			return pairingEntry{}, err
		}
		targets = []string{community}
	}
	for _, c := range targets {
		es, err := l.loadPairings(ctx, c, id, now)
		if err != nil {
			return pairingEntry{}, err
		}
		if len(es) > 0 {
			return es[0], nil
		}
	}
	return pairingEntry{}, api.NotFound(fmt.Sprintf("no pairing %s on this node (check the ID with 'mentormesh pair list'; a proposal made to you may not have reached this node yet)", id))
}

// outcomes derives every practitioner's pairing outcomes in community from
// the pairing records this node holds.
func (l *Local) outcomes(ctx context.Context, community string) (map[record.Author]mentorship.Outcome, error) {
	es, err := l.loadPairings(ctx, community, "", l.clock())
	if err != nil {
		return nil, err
	}
	views := make([]mentorship.PairingView, len(es))
	for i, e := range es {
		views[i] = e.view
	}
	out := map[record.Author]mentorship.Outcome{}
	for who, o := range mentorship.Outcomes(views) {
		out[record.Author(who)] = o
	}
	return out, nil
}

// pairParties returns the mentor and mentee of pairing id in community
// (every joined community if ""), and its derived state, or an api.NotFound
// error if this node knows no such pairing.
func (l *Local) pairParties(ctx context.Context, community, id string) (mentor, mentee record.Author, state mentorship.PairState, err error) {
	e, err := l.findPairing(ctx, community, id, l.clock())
	if err != nil {
		return mentor, mentee, state, err
	}
	return e.view.Mentor, e.view.Mentee, e.view.State, nil
}

// mentorCapacity returns how many active mentees author takes on in
// community, as their profile says; ok is false when the profile says
// nothing (no limit).
func (l *Local) mentorCapacity(ctx context.Context, community string, author record.Author) (capacity int, ok bool, err error) {
	if l.pairing.capacity != nil {
		return l.pairing.capacity(ctx, community, author)
	}
	rec, err := l.store.Current(ctx, record.Addr{Community: community, Author: author, Kind: mentorship.KindProfile})
	if errors.Is(err, store.ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("reading the mentor's profile: %w", err)
	}
	if rec.Deleted {
		return 0, false, nil
	}
	p, err := mentorship.DecodeProfile(rec.Payload)
	if err != nil {
		return 0, false, fmt.Errorf("reading the mentor's profile: %w", err)
	}
	// Capacity 0 is "not set": such a mentor is not offered by `mentor
	// find` (docs/MATCHING.md), but pairings they take part in directly
	// are not limited.
	if p.Capacity == 0 {
		return 0, false, nil
	}
	return p.Capacity, true, nil
}

// pairingCommunity is the community a new pairing goes to: the one given,
// or the first joined.
func (l *Local) pairingCommunity(community string) (string, error) {
	if community != "" {
		return community, l.checkJoined(community)
	}
	j := l.joined()
	if len(j) == 0 {
		return "", api.BadRequest("this node has joined no community")
	}
	return j[0], nil
}

// ProposePairing implements api.Backend.
func (l *Local) ProposePairing(ctx context.Context, in api.PairingProposal) (api.Pairing, error) {
	community, err := l.pairingCommunity(in.Community)
	if err != nil {
		return api.Pairing{}, err
	}
	if in.Type != api.PairingRequest && in.Type != api.PairingOffer {
		return api.Pairing{}, api.BadRequest(fmt.Sprintf("pairing type %q: want %q (ask a mentor) or %q (offer to mentor)", in.Type, api.PairingRequest, api.PairingOffer))
	}
	if in.PeerID == "" {
		return api.Pairing{}, api.BadRequest("whom to pair with: peer_id is missing")
	}
	peer, err := record.ParseAuthor(in.PeerID)
	if err != nil {
		return api.Pairing{}, api.BadRequest(err.Error())
	}
	if peer == l.author {
		return api.Pairing{}, api.BadRequest("you cannot pair with yourself: give the peer ID of someone else")
	}
	var expiresIn time.Duration
	if in.ExpiresIn != "" {
		if expiresIn, err = time.ParseDuration(in.ExpiresIn); err != nil {
			return api.Pairing{}, api.BadRequest(fmt.Sprintf("expires_in %q: want a duration such as 720h", in.ExpiresIn))
		}
		if expiresIn == 0 {
			return api.Pairing{}, api.BadRequest("expires_in 0: want a duration between 1m and 8760h")
		}
	}
	name, err := l.profileName(ctx, community, peer)
	if err != nil {
		return api.Pairing{}, err
	}
	if name == "" {
		return api.Pairing{}, api.NotFound(fmt.Sprintf("no profile of %s in community %q on this node: check the peer ID ('mentormesh profile show %s'), or wait until their profile reaches this node", peer, community, peer))
	}
	mentor, mentee := peer, l.author
	if in.Type == api.PairingOffer {
		mentor, mentee = l.author, peer
	}

	l.pairing.mu.Lock()
	defer l.pairing.mu.Unlock()
	now := l.clock()
	es, err := l.loadPairings(ctx, community, "", now)
	if err != nil {
		return api.Pairing{}, err
	}
	for _, e := range es {
		v := e.view
		if v.Mentor != mentor || v.Mentee != mentee || !v.State.Open() {
			continue
		}
		if v.State == mentorship.PairPending && v.Proposer == peer {
			what := "asked you to mentor them"
			if v.IsOffer() {
				what = "offered to mentor you"
			}
			return api.Pairing{}, api.Conflict(fmt.Sprintf("%s (%s) has already %s: answer with 'mentormesh pair accept %s' (or decline)", name, peer, what, v.ID))
		}
		role := "mentor"
		if mentor == l.author {
			role = "mentee"
		}
		return api.Pairing{}, api.Conflict(fmt.Sprintf("you already have a %s pairing with %s (%s) as your %s: %s ('mentormesh pair show %s')",
			v.State, name, peer, role, v.ID, v.ID))
	}
	var nonce [16]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return api.Pairing{}, fmt.Errorf("choosing a pairing ID: %w", err)
	}
	p, err := mentorship.NewProposal(mentor, mentee, l.author, nonce, now, expiresIn)
	if err != nil {
		return api.Pairing{}, api.BadRequest(err.Error())
	}
	// The ID is known now (it hashes the parties and the nonce): the message
	// is sealed to the pair at the record's address.
	if p.SealedText, err = l.sealPairText(community, p, mentorship.PairText{Message: in.Message}); err != nil {
		return api.Pairing{}, err
	}
	payload, err := p.Encode()
	if err != nil {
		return api.Pairing{}, api.BadRequest(err.Error())
	}
	addr := record.Addr{Community: community, Author: l.author, Kind: mentorship.KindPairing, Key: p.ID()}
	if _, err := l.write(ctx, addr, 0, false, payload); err != nil {
		return api.Pairing{}, err
	}
	return l.pairingAfterWrite(ctx, community, p.ID(), now)
}

// AcceptPairing implements api.Backend.
func (l *Local) AcceptPairing(ctx context.Context, id string, in api.PairingUpdate) (api.Pairing, error) {
	return l.actOnPairing(ctx, id, mentorship.ActionAccept, in)
}

// DeclinePairing implements api.Backend.
func (l *Local) DeclinePairing(ctx context.Context, id string, in api.PairingUpdate) (api.Pairing, error) {
	return l.actOnPairing(ctx, id, mentorship.ActionDecline, in)
}

// CancelPairing implements api.Backend.
func (l *Local) CancelPairing(ctx context.Context, id string, in api.PairingUpdate) (api.Pairing, error) {
	return l.actOnPairing(ctx, id, mentorship.ActionCancel, in)
}

// CompletePairing implements api.Backend.
func (l *Local) CompletePairing(ctx context.Context, id string, in api.PairingUpdate) (api.Pairing, error) {
	return l.actOnPairing(ctx, id, mentorship.ActionComplete, in)
}

// actOnPairing writes the caller's next record of pairing id, if its
// derived state allows the action; otherwise it writes nothing.
func (l *Local) actOnPairing(ctx context.Context, id string, action mentorship.PairAction, in api.PairingUpdate) (api.Pairing, error) {
	l.pairing.mu.Lock()
	defer l.pairing.mu.Unlock()
	now := l.clock()
	e, err := l.findPairing(ctx, in.Community, id, now)
	if err != nil {
		return api.Pairing{}, err
	}
	v := e.view
	next, err := v.Next(l.author, action, mentorship.ActionInput{Reason: in.Reason, Rating: in.Rating, Comment: in.Comment})
	switch {
	case errors.Is(err, mentorship.ErrNotParty):
		return api.Pairing{}, api.Conflict(fmt.Sprintf("you cannot %s pairing %s: it is between %s and %s, not you",
			action, id, record.Author(v.Mentor), record.Author(v.Mentee)))
	case errors.Is(err, mentorship.ErrTransition):
		return api.Pairing{}, api.Conflict(err.Error())
	case err != nil:
		return api.Pairing{}, api.BadRequest(err.Error())
	}
	if action == mentorship.ActionAccept {
		if err := l.checkCanAccept(ctx, e, now); err != nil {
			return api.Pairing{}, err
		}
	}
	if next, err = l.sealNextText(e.community, v, next, in); err != nil {
		return api.Pairing{}, err
	}
	payload, err := next.Encode()
	if err != nil {
		return api.Pairing{}, api.BadRequest(err.Error())
	}
	addr := record.Addr{Community: e.community, Author: l.author, Kind: mentorship.KindPairing, Key: id}
	meta, _, err := l.store.CurrentMeta(ctx, addr)
	if err != nil {
		return api.Pairing{}, fmt.Errorf("reading your pairing record: %w", err)
	}
	if _, err := l.write(ctx, addr, meta.Version, false, payload); err != nil {
		return api.Pairing{}, err
	}
	return l.pairingAfterWrite(ctx, e.community, id, now)
}

// checkCanAccept refuses an acceptance that would take the mentor beyond
// their capacity, or pair the two a second time in the same roles.
func (l *Local) checkCanAccept(ctx context.Context, e pairingEntry, now time.Time) error {
	v := e.view
	es, err := l.loadPairings(ctx, e.community, "", now)
	if err != nil {
		return err
	}
	active := 0
	for _, o := range es {
		if o.view.State != mentorship.PairActive || o.view.Mentor != v.Mentor {
			continue
		}
		active++
		if o.view.Mentee == v.Mentee {
			partner, _ := v.Partner(l.author)
			return api.Conflict(fmt.Sprintf("you already have an active pairing with %s in the same roles: %s ('mentormesh pair show %s'); decline this one",
				record.Author(partner), o.view.ID, o.view.ID))
		}
	}
	mentor := record.Author(v.Mentor)
	capacity, ok, err := l.mentorCapacity(ctx, e.community, mentor)
	if err != nil || !ok || active < capacity {
		return err
	}
	if mentor == l.author {
		return api.Conflict(fmt.Sprintf("you are at capacity (%d of %d active mentees): complete or cancel a pairing, or raise the capacity in your profile, before you accept another", active, capacity))
	}
	name, _ := l.profileName(ctx, e.community, mentor)
	return api.Conflict(fmt.Sprintf("%s is at capacity (%d of %d active mentees): they cannot take on another mentee now; decline, or accept later", cmp.Or(name, mentor.String()), active, capacity))
}

// pairingAfterWrite reads back pairing id after the caller wrote to it.
func (l *Local) pairingAfterWrite(ctx context.Context, community, id string, now time.Time) (api.Pairing, error) {
	e, err := l.findPairing(ctx, community, id, now)
	if err != nil {
		return api.Pairing{}, fmt.Errorf("reading the pairing back: %w", err)
	}
	return l.pairingJSON(ctx, e), nil
}

// Pairings implements api.Backend: the caller's pairings.
func (l *Local) Pairings(ctx context.Context, q api.PairingQuery) ([]api.Pairing, error) {
	var state mentorship.PairState
	if q.State != "" {
		s, err := mentorship.ParsePairState(q.State)
		if err != nil {
			return nil, api.BadRequest(fmt.Sprintf("unknown state %q: want pending, active, completed, declined, cancelled or expired", q.State))
		}
		state = s
	}
	targets := l.joined()
	if q.Community != "" {
		if err := l.checkJoined(q.Community); err != nil {
			return nil, err
		}
		targets = []string{q.Community}
	}
	now := l.clock()
	out := []api.Pairing{}
	for _, c := range targets {
		es, err := l.loadPairings(ctx, c, "", now)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			if e.view.Role(l.author) == "" || (state != "" && e.view.State != state) {
				continue
			}
			out = append(out, l.pairingJSON(ctx, e))
		}
	}
	slices.SortFunc(out, func(a, b api.Pairing) int {
		return cmp.Or(b.UpdatedAt.Compare(a.UpdatedAt), strings.Compare(a.ID, b.ID), strings.Compare(a.Community, b.Community))
	})
	return out, nil
}

// Pairing implements api.Backend.
func (l *Local) Pairing(ctx context.Context, id, community string) (api.Pairing, error) {
	e, err := l.findPairing(ctx, community, id, l.clock())
	if err != nil {
		return api.Pairing{}, err
	}
	return l.pairingJSON(ctx, e), nil
}

// profileName returns the display name in author's profile in community,
// "" if this node has none.
func (l *Local) profileName(ctx context.Context, community string, author record.Author) (string, error) {
	if l.blocked(author) {
		return "", nil
	}
	rec, err := l.store.Current(ctx, record.Addr{Community: community, Author: author, Kind: mentorship.KindProfile})
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading profile: %w", err)
	}
	if rec.Deleted || rec.Expired(time.Now()) {
		return "", nil
	}
	p, err := mentorship.DecodeProfile(rec.Payload)
	if err != nil {
		return "", nil
	}
	return p.Name, nil
}

func msTime(ms uint64) *time.Time {
	if ms == 0 {
		return nil
	}
	t := time.UnixMilli(int64(ms)).UTC()
	return &t
}

// pairingJSON is the API view of a pairing, from the caller's side.
func (l *Local) pairingJSON(ctx context.Context, e pairingEntry) api.Pairing {
	v := e.view
	out := api.Pairing{
		ID:        v.ID,
		Community: e.community,
		Mentor:    record.Author(v.Mentor).String(),
		Mentee:    record.Author(v.Mentee).String(),
		Proposer:  record.Author(v.Proposer).String(),
		Type:      api.PairingRequest,
		MyRole:    v.Role(l.author),
		State:     string(v.State),
		Actions:   []string{},
		ExpiresAt: msTime(v.Proposal.ExpiresAt),
		CreatedAt: msTime(v.Proposal.ProposedAt),
	}
	if v.IsOffer() {
		out.Type = api.PairingOffer
	}
	for _, a := range v.Actions(l.author) {
		out.Actions = append(out.Actions, string(a))
	}
	for _, r := range e.recs {
		if ts := r.Timestamp.UTC(); ts.After(out.UpdatedAt) {
			out.UpdatedAt = ts
		}
	}
	texts := l.openPairTexts(e.community, v)
	out.Message = texts[v.Proposer].text.Message
	side := func(who [32]byte) api.PairingSide {
		s := api.PairingSide{PeerID: record.Author(who).String(), Status: mentorship.PairStatus(0).String()}
		s.Name, _ = l.profileName(ctx, e.community, who)
		t := texts[who]
		if r := v.Record(who); r != nil {
			s.Status, s.Reason = r.Status.String(), t.text.Reason
		}
		var counts bool
		if s.Rating, counts = v.Feedback(who); counts {
			s.Comment = t.text.Comment
		}
		s.TextSealed = t.sealed
		if r := e.recs[who]; r != nil {
			ts := r.Timestamp.UTC()
			s.UpdatedAt = &ts
		}
		return s
	}
	out.MentorSide, out.MenteeSide = side(v.Mentor), side(v.Mentee)
	if partner, ok := v.Partner(l.author); ok {
		out.Partner = record.Author(partner).String()
		if partner == v.Mentor {
			out.PartnerName = out.MentorSide.Name
		} else {
			out.PartnerName = out.MenteeSide.Name
		}
	}
	return out
}
