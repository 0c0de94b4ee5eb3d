package mentorship

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/mentormesh/mentormesh/internal/pbwire"
)

// A pairing is a mentorship between two practitioners, a mentor and a
// mentee. Each party writes only its own record of kind "pairing" at the
// key = the pairing's ID; the pairing's state is derived from the two
// records (see DerivePairing), so consent can be checked by anyone and no
// record is ever written by two people.

// Pairing limits. The text limits apply to the sealed text (PairText).
const (
	MaxPairMessageLen = 1000
	MaxPairReasonLen  = 500
	MaxPairCommentLen = 2000
	// DefaultPairingExpiry is how long a proposal waits for an answer
	// unless the proposer chooses otherwise.
	DefaultPairingExpiry = 30 * 24 * time.Hour
	// MaxPairingExpiry bounds how long a proposal may wait.
	MaxPairingExpiry = 365 * 24 * time.Hour
	// MinPairingExpiry is the shortest wait a proposer may choose.
	MinPairingExpiry = time.Minute
	// maxPairingSz bounds the payload: the largest sealed text (16 430
	// bytes, seal.go) and the other fields (about 150 bytes) fit.
	maxPairingSz = 17 << 10
	// maxUnixMilli is the end of year 9999, the bound on record times.
	maxUnixMilli = 253402300799999
)

// PairStatus is what one party's record says about the pairing.
type PairStatus uint64

// Record statuses (wire values of field 5).
const (
	StatusProposed  PairStatus = 1 // the proposer's opening record
	StatusAccepted  PairStatus = 2 // the responder agreed
	StatusDeclined  PairStatus = 3 // the responder refused
	StatusCancelled PairStatus = 4 // withdrawn (proposer) or ended early (either)
	StatusCompleted PairStatus = 5 // finished, with optional feedback
)

var statusNames = [...]string{"none", "proposed", "accepted", "declined", "cancelled", "completed"}

// String returns the status' name; "none" for 0 (no record).
func (s PairStatus) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", uint64(s))
}

// Pairing is the payload of one party's pairing record.
type Pairing struct {
	Mentor   [32]byte
	Mentee   [32]byte
	Proposer [32]byte // Mentor (an offer) or Mentee (a request)
	// Nonce is chosen at random by the proposer; with the three parties it
	// determines the pairing's ID (see ID).
	Nonce  [16]byte
	Status PairStatus
	// Accepted is sticky: once the responder accepted, every later version
	// of its record keeps it, so consent stays visible after a cancel or a
	// completion.
	Accepted bool
	// ProposedAt and ExpiresAt are Unix milliseconds (proposer's records);
	// 0 means unknown and never.
	ProposedAt uint64
	ExpiresAt  uint64
	Rating     int // 1 to 5, only when completed; 0 = none
	// SealedText is the record's free text (the proposer's message, a
	// reason, a comment: PairText), sealed to the two parties
	// (PairKey.SealText); nil when the record has none. Nodes check only
	// its envelope; only the parties can read it.
	SealedText []byte
}

// Field numbers of the pairing payload (docs/PROTOCOL.md).
const (
	fPairMentor     = 1
	fPairMentee     = 2
	fPairProposer   = 3
	fPairNonce      = 4
	fPairStatus     = 5
	fPairAccepted   = 6
	fPairProposedAt = 8
	fPairExpiresAt  = 9
	fPairRating     = 11
	fPairSealedText = 13
	// Fields 7, 10 and 12 carried the message, reason and comment in
	// plaintext before they were sealed; a payload with any of them is
	// invalid, so no node stores or relays such text.
	fPairRetiredMessage = 7
	fPairRetiredReason  = 10
	fPairRetiredComment = 12
)

// pairingIDDomain separates pairing-ID hashes from any other use of SHA-256
// in mentormesh.
const pairingIDDomain = "mentormesh/pairing-id/v1\x00"

// PairingID returns the ID of the pairing with these parties and nonce: the
// first 16 bytes of SHA-256(domain || mentor || mentee || proposer || nonce)
// as 32 lowercase hex digits. Binding the ID to the parties means no one
// can write a second, different pairing under an ID someone else chose: a
// record whose parties do not hash to its key is invalid.
func PairingID(mentor, mentee, proposer [32]byte, nonce [16]byte) string {
	h := sha256.New()
	h.Write([]byte(pairingIDDomain))
	h.Write(mentor[:])
	h.Write(mentee[:])
	h.Write(proposer[:])
	h.Write(nonce[:])
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// ID returns the pairing's ID (see PairingID).
func (p Pairing) ID() string { return PairingID(p.Mentor, p.Mentee, p.Proposer, p.Nonce) }

// CheckPairingID checks the format of a pairing ID: 32 lowercase hex digits.
func CheckPairingID(id string) error {
	if len(id) != 32 {
		return fmt.Errorf("%w pairing ID %q: want 32 lowercase hex digits", ErrInvalid, id)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return fmt.Errorf("%w pairing ID %q: want 32 lowercase hex digits", ErrInvalid, id)
		}
	}
	return nil
}

// Equal reports whether p and q are the same payload.
func (p Pairing) Equal(q Pairing) bool {
	return p.Mentor == q.Mentor && p.Mentee == q.Mentee && p.Proposer == q.Proposer && p.Nonce == q.Nonce &&
		p.Status == q.Status && p.Accepted == q.Accepted && p.ProposedAt == q.ProposedAt &&
		p.ExpiresAt == q.ExpiresAt && p.Rating == q.Rating && bytes.Equal(p.SealedText, q.SealedText)
}

// Validate checks the payload against the domain's rules. It cannot check
// who wrote the record (that is the derivation's job, see DerivePairing).
func (p Pairing) Validate() error {
	var zero [32]byte
	switch {
	case p.Mentor == zero:
		return fmt.Errorf("%w pairing: the mentor is missing", ErrInvalid)
	case p.Mentee == zero:
		return fmt.Errorf("%w pairing: the mentee is missing", ErrInvalid)
	case p.Mentor == p.Mentee:
		return fmt.Errorf("%w pairing: the mentor and the mentee are the same person", ErrInvalid)
	case p.Proposer != p.Mentor && p.Proposer != p.Mentee:
		return fmt.Errorf("%w pairing: the proposer is neither the mentor nor the mentee", ErrInvalid)
	case p.Status < StatusProposed || p.Status > StatusCompleted:
		return fmt.Errorf("%w pairing: unknown status %d", ErrInvalid, uint64(p.Status))
	case p.Status == StatusAccepted && !p.Accepted:
		return fmt.Errorf("%w pairing: status accepted without the accepted flag", ErrInvalid)
	case (p.Status == StatusProposed || p.Status == StatusDeclined) && p.Accepted:
		return fmt.Errorf("%w pairing: status %s with the accepted flag", ErrInvalid, p.Status)
	case p.Status == StatusProposed && p.ExpiresAt == 0:
		return fmt.Errorf("%w pairing: a proposal needs an expiry time", ErrInvalid)
	case p.ExpiresAt > maxUnixMilli || p.ProposedAt > maxUnixMilli:
		return fmt.Errorf("%w pairing: time after the year 9999", ErrInvalid)
	case p.ExpiresAt != 0 && p.ExpiresAt <= p.ProposedAt:
		return fmt.Errorf("%w pairing: expires before it was proposed", ErrInvalid)
	case p.Rating != 0 && p.Status != StatusCompleted:
		return fmt.Errorf("%w pairing: a rating goes only with completed, not %s", ErrInvalid, p.Status)
	case p.Rating < 0 || p.Rating > 5:
		return fmt.Errorf("%w pairing: rating %d, want 1 to 5", ErrInvalid, p.Rating)
	case p.SealedText != nil && p.Status == StatusAccepted:
		// Acceptance carries no text (PairText.checkFor): a sealed text
		// here can only be padding for a covert channel.
		return fmt.Errorf("%w pairing: an acceptance carries no text", ErrInvalid)
	}
	if p.SealedText != nil {
		if _, _, err := decodeSealed(p.SealedText, "pairing text"); err != nil {
			return err
		}
	}
	return nil
}

// Encode returns the payload bytes of a valid pairing record.
func (p Pairing) Encode() ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	var e pbwire.Encoder
	e.BytesField(fPairMentor, p.Mentor[:])
	e.BytesField(fPairMentee, p.Mentee[:])
	e.BytesField(fPairProposer, p.Proposer[:])
	e.BytesField(fPairNonce, p.Nonce[:])
	e.Uint(fPairStatus, uint64(p.Status))
	e.Bool(fPairAccepted, p.Accepted)
	e.Uint(fPairProposedAt, p.ProposedAt)
	e.Uint(fPairExpiresAt, p.ExpiresAt)
	e.Uint(fPairRating, uint64(p.Rating))
	e.BytesField(fPairSealedText, p.SealedText)
	// The largest valid envelope fits; keep the check in case limits grow.
	if n := len(e.Bytes()); n > maxPairingSz {
		return nil, fmt.Errorf("%w pairing: %d bytes encoded, at most %d: shorten the text", ErrInvalid, n, maxPairingSz)
	}
	return e.Bytes(), nil
}

// DecodePairing parses and validates a pairing payload. Unknown fields are
// skipped, so records of newer versions are still accepted and relayed;
// the retired plaintext fields 7, 10 and 12 are accepted and dropped.
func DecodePairing(b []byte) (Pairing, error) {
	var p Pairing
	if len(b) > maxPairingSz {
		return p, fmt.Errorf("%w pairing: %d bytes, at most %d", ErrInvalid, len(b), maxPairingSz)
	}
	var seen [fPairNonce + 1]bool
	fixed := func(d *pbwire.Decoder, dst []byte, what string) {
		v := d.BytesValue()
		if d.Err() == nil && len(v) != len(dst) {
			d.Fail(fmt.Errorf("%s is %d bytes, want %d", what, len(v), len(dst)))
			return
		}
		copy(dst, v)
	}
	d := pbwire.NewDecoder(b)
	for d.Next() {
		num := d.Field().Num
		switch num {
		case fPairMentor:
			fixed(d, p.Mentor[:], "mentor")
		case fPairMentee:
			fixed(d, p.Mentee[:], "mentee")
		case fPairProposer:
			fixed(d, p.Proposer[:], "proposer")
		case fPairNonce:
			fixed(d, p.Nonce[:], "nonce")
		case fPairStatus:
			p.Status = PairStatus(d.Varint())
		case fPairAccepted:
			p.Accepted = d.Bool()
		case fPairProposedAt:
			p.ProposedAt = d.Varint()
		case fPairExpiresAt:
			p.ExpiresAt = d.Varint()
		case fPairRating:
			if v := d.Varint(); v > 5 {
				d.Fail(fmt.Errorf("rating %d, want 1 to 5", v))
			} else {
				p.Rating = int(v)
			}
		case fPairSealedText:
			p.SealedText = bytes.Clone(d.BytesValue())
		case fPairRetiredMessage, fPairRetiredReason, fPairRetiredComment:
			// Written by nodes before the text was sealed (field 13): still
			// valid, so that stores and peers holding such records keep
			// agreeing on them, but the text is dropped, never shown nor
			// written again.
			_ = d.StringValue()
		}
		if int(num) < len(seen) {
			seen[num] = true
		}
	}
	if err := d.Err(); err != nil {
		return Pairing{}, fmt.Errorf("%w pairing: %w", ErrInvalid, err)
	}
	if !seen[fPairNonce] {
		return Pairing{}, fmt.Errorf("%w pairing: the nonce is missing", ErrInvalid)
	}
	if !seen[fPairProposer] {
		return Pairing{}, fmt.Errorf("%w pairing: the proposer is missing", ErrInvalid)
	}
	if err := p.Validate(); err != nil {
		return Pairing{}, err
	}
	return p, nil
}

func validatePairingRecord(key string, deleted bool, payload []byte) error {
	if err := CheckPairingID(key); err != nil {
		return err
	}
	if deleted {
		// Nodes never delete pairings (they are cancelled), but a tombstone
		// is a valid record: it counts as no record at all.
		return nil
	}
	p, err := DecodePairing(payload)
	if err != nil {
		return err
	}
	if id := p.ID(); id != key {
		return fmt.Errorf("%w pairing: key %s is not the pairing's ID %s", ErrInvalid, key, id)
	}
	return nil
}
