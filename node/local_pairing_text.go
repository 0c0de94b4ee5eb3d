package node

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
)

// The free text of pairing records (the proposer's message, a reason, a
// feedback comment) is meant for the partner: it is sealed to the pair
// with the key of the pairing's private items (mentorship.PairKey), so the
// nodes that store and relay the records cannot read it. This node opens
// it only when its practitioner is one of the parties.

// errPairTextOnDevice refuses text in a pairing record written from a
// linked device, which cannot seal it (its key derives from the root key).
var errPairTextOnDevice = &api.Error{Status: http.StatusConflict, Code: api.CodeConflict,
	Message: "a pairing's message, reason and comment are sealed to the two partners with keys derived from the practitioner's root key, " +
		"which a linked device does not hold: leave the text out here (the proposal or answer itself works from this device), " +
		"or write it from the primary device"}

// pairTextKey returns the key the caller shares with its partner in
// pairing id of community. It refuses on a linked device and for anyone
// who is not a party.
func (l *Local) pairTextKey(community string, id string, mentor, mentee [32]byte) (*mentorship.PairKey, error) {
	if l.isDevice() {
		return nil, errPairTextOnDevice
	}
	partner := mentee
	switch [32]byte(l.author) {
	case mentor:
	case mentee:
		partner = mentor
	default:
		return nil, api.Conflict(fmt.Sprintf("you are not a party to pairing %s", id))
	}
	k, err := mentorship.NewPairKey(l.key, partner, community, id)
	if err != nil {
		return nil, fmt.Errorf("deriving the key of pairing %s: %w", id, err)
	}
	return k, nil
}

// sealPairText seals text for the caller's record p; nil if text is
// empty. Invalid text is a bad request, whatever device this is.
func (l *Local) sealPairText(community string, p mentorship.Pairing, text mentorship.PairText) ([]byte, error) {
	text = text.Normalize()
	if text.IsZero() {
		return nil, nil
	}
	if err := text.CheckFor(p, l.author); err != nil {
		return nil, api.BadRequest(err.Error())
	}
	k, err := l.pairTextKey(community, p.ID(), p.Mentor, p.Mentee)
	if err != nil {
		return nil, err
	}
	sealed, err := k.SealText(nil, p, text)
	if errors.Is(err, mentorship.ErrInvalid) {
		return nil, api.BadRequest(err.Error())
	}
	return sealed, err
}

// sealNextText seals the reason or comment of in into next, the caller's
// next record of pairing v (with the message its earlier record carried).
// Without new text, next keeps what Next carried over, which needs no key.
func (l *Local) sealNextText(community string, v mentorship.PairingView, next mentorship.Pairing, in api.PairingUpdate) (mentorship.Pairing, error) {
	input := mentorship.ActionInput{Reason: in.Reason, Rating: in.Rating, Comment: in.Comment}
	if !input.HasText() {
		return next, nil
	}
	k, err := l.pairTextKey(community, v.ID, v.Mentor, v.Mentee)
	if err != nil {
		return next, err
	}
	next, err = k.SealNext(nil, next, input)
	if errors.Is(err, mentorship.ErrInvalid) {
		return next, api.BadRequest(err.Error())
	}
	return next, err
}

// openedText is a party's text as this node can show it.
type openedText struct {
	text mentorship.PairText
	// sealed: the record carries text this node cannot show.
	sealed bool
}

// openPairTexts opens the text of each party's current record of v, if
// the caller is a party on its primary device; otherwise it only notes
// which records carry text.
func (l *Local) openPairTexts(community string, v mentorship.PairingView) map[[32]byte]openedText {
	out := map[[32]byte]openedText{}
	var k *mentorship.PairKey
	keyTried := false
	for _, who := range [][32]byte{v.Mentor, v.Mentee} {
		r := v.Record(who)
		if r == nil || r.SealedText == nil {
			continue
		}
		if !keyTried {
			keyTried = true
			if v.Role(l.author) != "" {
				k, _ = l.pairTextKey(community, v.ID, v.Mentor, v.Mentee)
			}
		}
		if k == nil {
			out[who] = openedText{sealed: true}
			continue
		}
		t, err := k.OpenText(who, *r)
		if err != nil {
			// Altered, moved or malformed: shown as unreadable, never as
			// text.
			out[who] = openedText{sealed: true}
			continue
		}
		out[who] = openedText{text: t}
	}
	return out
}
