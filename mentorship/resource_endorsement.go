package mentorship

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/mentormesh/mentormesh/internal/pbwire"
)

// Endorsement limits.
const (
	MaxEndorsementCommentLen = 280
	maxEndorsementSz         = 2 << 10
	// endorsementKeyLen is 64 hex characters of the resource author's key,
	// a slash and the 32-character resource ID.
	endorsementKeyLen = 64 + 1 + 32
)

// Endorsement is one practitioner's endorsement of a resource, with an
// optional comment. It lives at (community, endorser, "endorsement",
// EndorsementKey(resource author, resource ID)), so each person endorses a
// resource at most once; withdrawing it is a tombstone.
//
// The key cannot say who signs the record, so payload validation cannot
// refuse an endorsement of one's own resource: writers refuse to write one
// and views do not count one (see docs/PROTOCOL.md).
type Endorsement struct {
	Comment string
}

// Field numbers of the endorsement payload (docs/PROTOCOL.md).
const fEndorsementComment = 1

// EndorsementKey returns the record key of an endorsement of resource id by
// author: the author's key in lowercase hex, a slash and the ID.
func EndorsementKey(author [32]byte, id string) string {
	return hex.EncodeToString(author[:]) + "/" + id
}

// ParseEndorsementKey splits an endorsement key into the endorsed
// resource's author and ID, checking the exact format.
func ParseEndorsementKey(key string) (author [32]byte, id string, err error) {
	hexAuthor, id, ok := strings.Cut(key, "/")
	if !ok || len(key) != endorsementKeyLen || len(hexAuthor) != 64 {
		return author, "", fmt.Errorf("%w endorsement: key %q is not <64 hex characters>/<resource ID>", ErrInvalid, key)
	}
	if strings.ToLower(hexAuthor) != hexAuthor {
		return author, "", fmt.Errorf("%w endorsement: key %q: author is not lowercase hex", ErrInvalid, key)
	}
	if _, err := hex.Decode(author[:], []byte(hexAuthor)); err != nil {
		return [32]byte{}, "", fmt.Errorf("%w endorsement: key %q: author is not hex", ErrInvalid, key)
	}
	if err := CheckResourceID(id); err != nil {
		return [32]byte{}, "", fmt.Errorf("%w endorsement: key %q: resource ID is not 32 lowercase hex characters", ErrInvalid, key)
	}
	return author, id, nil
}

// Normalize trims the comment.
func (e Endorsement) Normalize() Endorsement {
	e.Comment = strings.TrimSpace(e.Comment)
	return e
}

// Validate checks the comment: optional, one line, at most 280 characters.
func (e Endorsement) Validate() error {
	return checkTextOf("endorsement", "comment", e.Comment, MaxEndorsementCommentLen, false)
}

// Encode returns the payload bytes of a normalized, valid endorsement
// (empty without a comment).
func (e Endorsement) Encode() ([]byte, error) {
	e = e.Normalize()
	if err := e.Validate(); err != nil {
		return nil, err
	}
	var enc pbwire.Encoder
	enc.String(fEndorsementComment, e.Comment)
	return enc.Bytes(), nil
}

// DecodeEndorsement parses and validates an endorsement payload, skipping
// unknown fields.
func DecodeEndorsement(b []byte) (Endorsement, error) {
	var e Endorsement
	if len(b) > maxEndorsementSz {
		return e, fmt.Errorf("%w endorsement: %d bytes, at most %d", ErrInvalid, len(b), maxEndorsementSz)
	}
	d := pbwire.NewDecoder(b)
	for d.Next() {
		if d.Field().Num == fEndorsementComment {
			e.Comment = d.StringValue()
		}
	}
	if err := d.Err(); err != nil {
		return Endorsement{}, fmt.Errorf("%w endorsement: %w", ErrInvalid, err)
	}
	if err := e.Validate(); err != nil {
		return Endorsement{}, err
	}
	return e, nil
}

func validateEndorsementRecord(key string, deleted bool, payload []byte) error {
	if _, _, err := ParseEndorsementKey(key); err != nil {
		return err
	}
	if deleted {
		return nil
	}
	_, err := DecodeEndorsement(payload)
	return err
}
