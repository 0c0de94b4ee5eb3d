package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/record"
)

// What is private to a pairing: each goal, session, note and contact item
// is a record of kind "private" written by one partner and sealed to the
// pair (mentorship.PairKey). It replicates like any record, so the partner
// receives it through whichever nodes carry it, even if the two are never
// online together; nodes that are not the partners store and relay it
// without being able to read it.

// privatePair is a pairing as one of its two parties sees it, with the key
// both share for its items.
type privatePair struct {
	community      string
	id             string
	mentor, mentee record.Author
	state          mentorship.PairState
	// accepted is whether, as this node derives the pairing, its responder
	// accepted it: it is active or completed, or was cancelled after
	// acceptance. Only then are its items shown (pairItems).
	accepted bool
	partner  record.Author
	key      *mentorship.PairKey
	// peer IDs of mentor and mentee, computed once.
	mentorID, menteeID string
}

// privateAction is a write to a pairing's items, for checkPrivateWrite.
type privateAction string

const (
	actAddGoal    privateAction = "add goals"
	actUpdateGoal privateAction = "change goals"
	actLogSession privateAction = "log sessions"
	actAddNote    privateAction = "add notes"
	actSetContact privateAction = "share contact details"
)

// openPair finds pairing id (in community, or in the joined community that
// has it if community is "") and checks that the caller is one of its
// parties.
func (l *Local) openPair(ctx context.Context, community, id string) (*privatePair, error) {
	targets := l.joined()
	if community != "" {
		if err := l.checkJoined(community); err != nil {
			return nil, err
		}
		targets = []string{community}
	}
	if !mentorship.IsHexID(id) {
		return nil, api.BadRequest(fmt.Sprintf("%q is not a pairing ID (32 lowercase hex characters, as 'mentormesh pair list' shows)", id))
	}
	err := error(api.BadRequest("this node is in no community; join one first"))
	for _, c := range targets {
		e, perr := l.findPairing(ctx, c, id, l.clock())
		if perr == nil {
			v := e.view
			pp, err := l.pairFor(c, id, v.Mentor, v.Mentee, v.State)
			if err != nil {
				return nil, err
			}
			// Consent is sticky (mentorship.Pairing.Accepted): it tells a
			// pairing cancelled after acceptance from a withdrawn proposal.
			pp.accepted = v.Response != nil && v.Response.Accepted
			return pp, nil
		}
		if err = perr; !api.IsNotFound(perr) {
			break
		}
	}
	return nil, err
}

// pairFor derives the caller's view of a pairing whose parties are known.
// Knowing only the state, it counts the pairing as accepted if it is active
// or completed; openPair, which has the records, also knows of a
// cancellation after acceptance.
func (l *Local) pairFor(community, id string, mentor, mentee record.Author, state mentorship.PairState) (*privatePair, error) {
	if l.isDevice() {
		return nil, errPrivateOnDevice
	}
	pp := &privatePair{community: community, id: id, mentor: mentor, mentee: mentee, state: state,
		accepted: state == mentorship.PairActive || state == mentorship.PairCompleted}
	switch l.author {
	case mentor:
		pp.partner = mentee
	case mentee:
		pp.partner = mentor
	default:
		return nil, &api.Error{Status: http.StatusForbidden, Code: api.CodeForbidden,
			Message: fmt.Sprintf("you are not a party to this pairing (%s): only its mentor and mentee can read or write its goals, sessions, notes and contact details", id)}
	}
	key, err := mentorship.NewPairKey(l.key, pp.partner, community, id)
	if err != nil {
		return nil, fmt.Errorf("deriving the key of pairing %s: %w", id, err)
	}
	pp.key = key
	pp.mentorID, pp.menteeID = mentor.String(), mentee.String()
	return pp, nil
}

// checkPrivateWrite says whether the pairing's state allows act. Items are
// written while the pairing is active. Once it is completed, the partners
// can still close their goals (mark them done or dropped) and keep each
// other's contact details current; nothing new is added. Pending,
// declined, cancelled and expired pairings take no writes (contact details
// are shared only once a pairing is accepted); what was written stays
// readable if the pairing had been accepted (see pairItems).
func (pp *privatePair) checkPrivateWrite(act privateAction) error {
	switch pp.state {
	case mentorship.PairActive:
		return nil
	case mentorship.PairCompleted:
		if act == actUpdateGoal || act == actSetContact {
			return nil
		}
		return api.Conflict(fmt.Sprintf("pairing %s is completed: you can still update your goals and contact details, but no longer %s", pp.id, act))
	case mentorship.PairPending:
		return api.Conflict(fmt.Sprintf("pairing %s is pending: you can %s once it is accepted", pp.id, act))
	default:
		return api.Conflict(fmt.Sprintf("pairing %s is %s: you can no longer %s (what was written stays readable with 'mentormesh pair items %s')", pp.id, pp.state, act, pp.id))
	}
}

func (pp *privatePair) addr(author record.Author, key string) record.Addr {
	return record.Addr{Community: pp.community, Author: author, Kind: mentorship.KindPrivate, Key: key}
}

// view turns an opened item into its API form.
func (pp *privatePair) view(rec *record.Record, self record.Author, id string, it mentorship.Item) api.PairItem {
	v := api.PairItem{
		ID:        id,
		Type:      it.Type.String(),
		Author:    pp.mentorID,
		Role:      "mentor",
		Mine:      rec.Author == self,
		Version:   rec.Version,
		UpdatedAt: rec.Timestamp.UTC(),
	}
	if rec.Author == pp.mentee {
		v.Author, v.Role = pp.menteeID, "mentee"
	}
	switch it.Type {
	case mentorship.ItemGoal:
		v.Title, v.Status = it.Title, it.Status.String()
		if !it.Due.IsZero() {
			d := it.Due.UTC()
			v.Due = &d
		}
	case mentorship.ItemSession:
		d := it.Date.UTC()
		v.Date, v.DurationMinutes, v.Text = &d, it.Minutes, it.Text
	default:
		v.Text = it.Text
	}
	return v
}

// sealAndWrite seals it as version prev+1 of the caller's item itemID and
// writes it. Invalid items are refused before anything is written.
func (l *Local) sealAndWrite(ctx context.Context, pp *privatePair, itemID string, prev uint64, it mentorship.Item) (api.PairItem, error) {
	key, payload, err := pp.key.Seal(nil, itemID, it)
	if err != nil {
		if errors.Is(err, mentorship.ErrInvalid) {
			return api.PairItem{}, api.BadRequest(err.Error())
		}
		return api.PairItem{}, fmt.Errorf("sealing the %s: %w", it.Type, err)
	}
	rec, err := l.write(ctx, pp.addr(l.author, key), prev, false, payload)
	if err != nil {
		return api.PairItem{}, err
	}
	return pp.view(rec, l.author, itemID, it.Normalize()), nil
}

// addItem writes a new item after checking the pairing allows act.
func (l *Local) addItem(ctx context.Context, pp *privatePair, act privateAction, it mentorship.Item) (api.PairItem, error) {
	if err := pp.checkPrivateWrite(act); err != nil {
		return api.PairItem{}, err
	}
	id, err := mentorship.NewItemID(nil)
	if err != nil {
		return api.PairItem{}, err
	}
	return l.sealAndWrite(ctx, pp, id, 0, it)
}

// AddGoal implements api.Backend.
func (l *Local) AddGoal(ctx context.Context, pairingID string, in api.GoalInput) (api.PairItem, error) {
	pp, err := l.openPair(ctx, in.Community, pairingID)
	if err != nil {
		return api.PairItem{}, err
	}
	return l.addGoal(ctx, pp, in)
}

func (l *Local) addGoal(ctx context.Context, pp *privatePair, in api.GoalInput) (api.PairItem, error) {
	it := mentorship.Item{Type: mentorship.ItemGoal, Title: in.Title, Status: mentorship.GoalOpen}
	if in.Status != "" {
		s, err := mentorship.ParseGoalStatus(in.Status)
		if err != nil {
			return api.PairItem{}, api.BadRequest(err.Error())
		}
		it.Status = s
	}
	if in.Due != nil {
		it.Due = *in.Due
	}
	return l.addItem(ctx, pp, actAddGoal, it)
}

// LogSession implements api.Backend.
func (l *Local) LogSession(ctx context.Context, pairingID string, in api.SessionInput) (api.PairItem, error) {
	pp, err := l.openPair(ctx, in.Community, pairingID)
	if err != nil {
		return api.PairItem{}, err
	}
	return l.logSession(ctx, pp, in)
}

func (l *Local) logSession(ctx context.Context, pp *privatePair, in api.SessionInput) (api.PairItem, error) {
	return l.addItem(ctx, pp, actLogSession, mentorship.Item{Type: mentorship.ItemSession, Date: in.Date, Minutes: in.DurationMinutes, Text: in.Notes})
}

// AddNote implements api.Backend.
func (l *Local) AddNote(ctx context.Context, pairingID string, in api.NoteInput) (api.PairItem, error) {
	pp, err := l.openPair(ctx, in.Community, pairingID)
	if err != nil {
		return api.PairItem{}, err
	}
	return l.addNote(ctx, pp, in)
}

func (l *Local) addNote(ctx context.Context, pp *privatePair, in api.NoteInput) (api.PairItem, error) {
	return l.addItem(ctx, pp, actAddNote, mentorship.Item{Type: mentorship.ItemNote, Text: in.Text})
}

// UpdateGoal implements api.Backend.
func (l *Local) UpdateGoal(ctx context.Context, pairingID, goalID string, in api.GoalUpdate) (api.PairItem, error) {
	pp, err := l.openPair(ctx, in.Community, pairingID)
	if err != nil {
		return api.PairItem{}, err
	}
	return l.updateGoal(ctx, pp, goalID, in)
}

func (l *Local) updateGoal(ctx context.Context, pp *privatePair, goalID string, in api.GoalUpdate) (api.PairItem, error) {
	if err := pp.checkPrivateWrite(actUpdateGoal); err != nil {
		return api.PairItem{}, err
	}
	if in.Title == nil && in.Status == nil && in.Due == nil {
		return api.PairItem{}, api.BadRequest("nothing to change: give a title, a status or a due date")
	}
	if !mentorship.IsHexID(goalID) {
		return api.PairItem{}, api.BadRequest(fmt.Sprintf("%q is not a goal ID (32 lowercase hex characters, as 'mentormesh pair items %s' shows)", goalID, pp.id))
	}
	key, _ := mentorship.PrivateRecordKey(pp.id, goalID)
	cur, err := l.currentItem(ctx, pp.addr(l.author, key))
	if err != nil {
		return api.PairItem{}, err
	}
	if cur == nil {
		if theirs, err := l.currentItem(ctx, pp.addr(pp.partner, key)); err != nil {
			return api.PairItem{}, err
		} else if theirs != nil {
			return api.PairItem{}, &api.Error{Status: http.StatusForbidden, Code: api.CodeForbidden,
				Message: fmt.Sprintf("item %s was written by your partner: only its writer can change it (add your own goal or a note instead)", goalID)}
		}
		return api.PairItem{}, api.NotFound(fmt.Sprintf("you have no goal %s in pairing %s ('mentormesh pair items %s' lists them)", goalID, pp.id, pp.id))
	}
	_, it, err := pp.key.Open(l.author, key, cur.Payload)
	if err != nil {
		return api.PairItem{}, fmt.Errorf("opening your goal %s: %w", goalID, err)
	}
	if it.Type != mentorship.ItemGoal {
		return api.PairItem{}, api.BadRequest(fmt.Sprintf("item %s is a %s, not a goal", goalID, it.Type))
	}
	if in.Title != nil {
		it.Title = *in.Title
	}
	if in.Status != nil {
		s, err := mentorship.ParseGoalStatus(*in.Status)
		if err != nil {
			return api.PairItem{}, api.BadRequest(err.Error())
		}
		it.Status = s
	}
	if in.Due != nil {
		it.Due = *in.Due
	}
	return l.sealAndWrite(ctx, pp, goalID, cur.Version, it)
}

// currentItem returns the live record at addr, or nil if there is none
// (never written, deleted or expired).
func (l *Local) currentItem(ctx context.Context, addr record.Addr) (*record.Record, error) {
	rec, err := l.store.Current(ctx, addr)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading item: %w", err)
	}
	if rec.Deleted || rec.Expired(time.Now()) {
		return nil, nil
	}
	return rec, nil
}

// SetContact implements api.Backend.
func (l *Local) SetContact(ctx context.Context, pairingID string, in api.ContactInput) (api.PairItem, error) {
	pp, err := l.openPair(ctx, in.Community, pairingID)
	if err != nil {
		return api.PairItem{}, err
	}
	return l.setContact(ctx, pp, in)
}

// setContact updates the caller's contact item in the pairing, or writes
// the first one.
func (l *Local) setContact(ctx context.Context, pp *privatePair, in api.ContactInput) (api.PairItem, error) {
	if err := pp.checkPrivateWrite(actSetContact); err != nil {
		return api.PairItem{}, err
	}
	it := mentorship.Item{Type: mentorship.ItemContact, Text: in.Text}
	// Check first, so bad input is reported before the search.
	if err := it.Normalize().Validate(); err != nil {
		return api.PairItem{}, api.BadRequest(err.Error())
	}
	var found *record.Record
	var foundID string
	err := l.pairRecords(ctx, pp, l.author, func(rec *record.Record) error {
		id, cur, err := pp.key.Open(rec.Author, rec.Key, rec.Payload)
		if err == nil && cur.Type == mentorship.ItemContact && found == nil {
			found, foundID = rec, id
		}
		return nil
	})
	if err != nil {
		return api.PairItem{}, err
	}
	if found == nil {
		id, err := mentorship.NewItemID(nil)
		if err != nil {
			return api.PairItem{}, err
		}
		return l.sealAndWrite(ctx, pp, id, 0, it)
	}
	return l.sealAndWrite(ctx, pp, foundID, found.Version, it)
}

// pairRecords calls fn for each live private record of author in the
// pairing.
func (l *Local) pairRecords(ctx context.Context, pp *privatePair, author record.Author, fn func(*record.Record) error) error {
	prefix := pp.id + "/"
	now := time.Now()
	err := l.store.List(ctx, store.Query{Community: pp.community, Kind: mentorship.KindPrivate, Author: &author}, func(rec *record.Record) error {
		if !strings.HasPrefix(rec.Key, prefix) || rec.Deleted || rec.Expired(now) {
			return nil
		}
		return fn(rec)
	})
	if err != nil {
		return fmt.Errorf("reading the pairing's items: %w", err)
	}
	return nil
}

// PairItems implements api.Backend.
func (l *Local) PairItems(ctx context.Context, community, pairingID string) (api.PairItems, error) {
	pp, err := l.openPair(ctx, community, pairingID)
	if err != nil {
		return api.PairItems{}, err
	}
	return l.pairItems(ctx, pp)
}

// pairItems lists the pairing's items. A pairing this node does not derive
// as accepted (pending, declined, expired, or withdrawn before an answer)
// shows none: the rule that such pairings take no writes is enforced by
// the writer's node only, so items found there were written by a modified
// client, for example by a proposer the reader turned down. Items of an
// accepted pairing are shown whenever they were written, after its end
// too: the derived state does not say when it ended, and record times are
// the writers' own claims.
func (l *Local) pairItems(ctx context.Context, pp *privatePair) (api.PairItems, error) {
	out := api.PairItems{
		Community: pp.community, PairingID: pp.id, State: string(pp.state),
		Mentor: pp.mentorID, Mentee: pp.menteeID, YourRole: "mentor",
		Goals: []api.PairItem{}, Sessions: []api.PairItem{}, Notes: []api.PairItem{}, Contacts: []api.PairItem{},
	}
	if l.author == pp.mentee {
		out.YourRole = "mentee"
	}
	if !pp.accepted {
		return out, nil
	}
	for _, author := range []record.Author{pp.mentor, pp.mentee} {
		err := l.pairRecords(ctx, pp, author, func(rec *record.Record) error {
			id, it, err := pp.key.Open(rec.Author, rec.Key, rec.Payload)
			if err != nil {
				// Not sealed to this pair at this address, altered, or from
				// an incompatible client: counted, not fatal.
				out.Unreadable++
				return nil
			}
			v := pp.view(rec, l.author, id, it)
			switch it.Type {
			case mentorship.ItemGoal:
				out.Goals = append(out.Goals, v)
			case mentorship.ItemSession:
				out.Sessions = append(out.Sessions, v)
			case mentorship.ItemNote:
				out.Notes = append(out.Notes, v)
			case mentorship.ItemContact:
				out.Contacts = append(out.Contacts, v)
			}
			return nil
		})
		if err != nil {
			return api.PairItems{}, err
		}
	}
	slices.SortFunc(out.Goals, func(a, b api.PairItem) int {
		if (a.Due == nil) != (b.Due == nil) {
			if a.Due == nil {
				return 1
			}
			return -1
		}
		if a.Due != nil {
			if c := a.Due.Compare(*b.Due); c != 0 {
				return c
			}
		}
		return cmp.Or(strings.Compare(a.Title, b.Title), strings.Compare(a.ID, b.ID))
	})
	slices.SortFunc(out.Sessions, func(a, b api.PairItem) int {
		return cmp.Or(a.Date.Compare(*b.Date), strings.Compare(a.ID, b.ID))
	})
	slices.SortFunc(out.Notes, func(a, b api.PairItem) int {
		return cmp.Or(a.UpdatedAt.Compare(b.UpdatedAt), strings.Compare(a.ID, b.ID))
	})
	// The mentor's contact details first.
	slices.SortFunc(out.Contacts, func(a, b api.PairItem) int {
		return cmp.Or(boolCmp(a.Role != "mentor", b.Role != "mentor"), a.UpdatedAt.Compare(b.UpdatedAt), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	default:
		return 1
	}
}
