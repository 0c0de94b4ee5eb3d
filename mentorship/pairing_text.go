package mentorship

import (
	"fmt"
	"io"
	"strings"

	"github.com/mentormesh/mentormesh/internal/pbwire"
)

// The free text of a pairing record (the proposer's message, a reason for
// declining or cancelling, the feedback comment) is meant for the partner
// only. It travels sealed to the pair in the record's SealedText, with the
// key of the pairing's private items (seal.go) and associated data that
// binds the pairing record's address under its own label, so nodes that
// are not parties store and relay it without being able to read it, and a
// sealed text can never pass for a private item or the other way round.

// PairTextLabel is the label of the associated data of pairing texts; it
// keeps them apart from private items (SealLabel), sealed with the same key.
const PairTextLabel = "mentormesh/pairing-text/v1"

// PairText is the plaintext of a pairing record's sealed text.
type PairText struct {
	Message string // the proposer's goal or message: the proposer's records only
	Reason  string // why it was declined or cancelled: only with those statuses
	Comment string // feedback for the partner: only with completed
}

// Field numbers of the pairing text (docs/PROTOCOL.md).
const (
	fTextMessage = 1
	fTextReason  = 2
	fTextComment = 3
)

// IsZero reports whether t holds no text.
func (t PairText) IsZero() bool { return t == PairText{} }

// Normalize trims the text, so the same text always encodes the same way.
func (t PairText) Normalize() PairText {
	t.Message = strings.TrimSpace(t.Message)
	t.Reason = strings.TrimSpace(t.Reason)
	t.Comment = strings.TrimSpace(t.Comment)
	return t
}

// Validate checks the text rules and lengths.
func (t PairText) Validate() error {
	if err := checkPairingText("message", t.Message, MaxPairMessageLen); err != nil {
		return err
	}
	if err := checkPairingText("reason", t.Reason, MaxPairReasonLen); err != nil {
		return err
	}
	return checkPairingText("comment", t.Comment, MaxPairCommentLen)
}

// checkPairingText applies the text rules to a pairing's free text, which
// may span lines.
func checkPairingText(what, s string, max int) error {
	return checkTextOf("pairing", what, s, max, true)
}

// CheckFor checks that t may go in p written by author: a message only in
// the proposer's records, a reason only with declined or cancelled, a
// comment only with completed. Only the parties can check this, so it is
// part of sealing and opening, not of record validation.
func (t PairText) CheckFor(p Pairing, author [32]byte) error {
	switch {
	case t.Message != "" && author != p.Proposer:
		return fmt.Errorf("%w pairing: a message goes only in the proposer's record", ErrInvalid)
	case t.Reason != "" && p.Status != StatusDeclined && p.Status != StatusCancelled:
		return fmt.Errorf("%w pairing: a reason goes only with declined or cancelled, not %s", ErrInvalid, p.Status)
	case t.Comment != "" && p.Status != StatusCompleted:
		return fmt.Errorf("%w pairing: a comment goes only with completed, not %s", ErrInvalid, p.Status)
	}
	return t.Validate()
}

// Encode returns the plaintext bytes of a normalized, valid text.
func (t PairText) Encode() ([]byte, error) {
	t = t.Normalize()
	if err := t.Validate(); err != nil {
		return nil, err
	}
	var e pbwire.Encoder
	e.String(fTextMessage, t.Message)
	e.String(fTextReason, t.Reason)
	e.String(fTextComment, t.Comment)
	// The longest texts (a message and a comment of four-byte characters,
	// about 12 000 bytes) fit the largest padded size.
	if n := len(e.Bytes()); n > maxItemSize {
		return nil, fmt.Errorf("%w pairing: the text is %d bytes encoded, at most %d: shorten it", ErrInvalid, n, maxItemSize)
	}
	return e.Bytes(), nil
}

// DecodePairText parses and validates a text plaintext. Unknown fields are
// skipped, so a newer writer can add fields.
func DecodePairText(b []byte) (PairText, error) {
	var t PairText
	d := pbwire.NewDecoder(b)
	for d.Next() {
		switch d.Field().Num {
		case fTextMessage:
			t.Message = d.StringValue()
		case fTextReason:
			t.Reason = d.StringValue()
		case fTextComment:
			t.Comment = d.StringValue()
		}
	}
	if err := d.Err(); err != nil {
		return PairText{}, fmt.Errorf("%w pairing text: %w", ErrInvalid, err)
	}
	if err := t.Validate(); err != nil {
		return PairText{}, err
	}
	return t, nil
}

// checkRecord checks that p belongs to this key's pairing.
func (k *PairKey) checkRecord(p Pairing) error {
	if id := p.ID(); id != k.pairingID {
		return fmt.Errorf("%w: the record belongs to pairing %s, not %s", ErrCannotOpen, id, k.pairingID)
	}
	return nil
}

// SealText seals t as the text of the caller's pairing record p (whose
// other fields are final) and returns the envelope for p.SealedText; nil
// if t is empty (a record without text carries none). rnd supplies the
// nonce (nil means crypto/rand). The associated data binds the record's
// address: the community, the caller as author and the pairing ID as key.
func (k *PairKey) SealText(rnd io.Reader, p Pairing, t PairText) ([]byte, error) {
	t = t.Normalize()
	if t.IsZero() {
		return nil, nil
	}
	if err := k.checkRecord(p); err != nil {
		return nil, err
	}
	if err := t.CheckFor(p, k.self); err != nil {
		return nil, err
	}
	plain, err := t.Encode()
	if err != nil {
		return nil, err
	}
	return k.sealBytes(rnd, sealAAD(PairTextLabel, k.community, k.self, k.pairingID), plain, "pairing text")
}

// OpenText opens the text of p, the pairing record written by author, who
// must be one of the partners. A record without text gives the empty
// text. It fails with an error wrapping ErrCannotOpen if the text does not
// open (sealed by someone else, for another address, or altered), or
// ErrInvalid if what it holds is not a valid text for this record.
func (k *PairKey) OpenText(author [32]byte, p Pairing) (PairText, error) {
	if p.SealedText == nil {
		return PairText{}, nil
	}
	if err := k.checkRecord(p); err != nil {
		return PairText{}, err
	}
	if author != k.self && author != k.partner {
		return PairText{}, fmt.Errorf("%w: the record was written by neither partner", ErrCannotOpen)
	}
	plain, err := k.openBytes(sealAAD(PairTextLabel, k.community, author, k.pairingID), p.SealedText, "pairing text")
	if err != nil {
		return PairText{}, err
	}
	t, err := DecodePairText(plain)
	if err != nil {
		return PairText{}, err
	}
	if t.IsZero() || t != t.Normalize() {
		return PairText{}, fmt.Errorf("%w pairing text: empty or not trimmed", ErrInvalid)
	}
	if err := t.CheckFor(p, author); err != nil {
		return PairText{}, err
	}
	return t, nil
}

// SealNext seals the text of next, the caller's record that Next returned
// for in: the text its previous record carried (the proposer's message)
// with in's reason or comment. It returns next with its SealedText set.
func (k *PairKey) SealNext(rnd io.Reader, next Pairing, in ActionInput) (Pairing, error) {
	var t PairText
	if next.SealedText != nil {
		prev, err := k.OpenText(k.self, next)
		if err != nil {
			return Pairing{}, fmt.Errorf("reading the text of your earlier record: %w", err)
		}
		t.Message = prev.Message
	}
	in2 := in.text()
	t.Reason, t.Comment = in2.Reason, in2.Comment
	sealed, err := k.SealText(rnd, next, t)
	if err != nil {
		return Pairing{}, err
	}
	next.SealedText = sealed
	return next, nil
}
