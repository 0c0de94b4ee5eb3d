package mentorship

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/mentormesh/mentormesh/internal/pbwire"
)

// Moderation list limits.
const (
	MaxModerationEntries = 500
	MaxModerationReason  = 200
	maxModerationSz      = 24 << 10
)

// ModerationList is a steward's signed list of the peers it blocks in a
// community (kind "moderation", empty key). Nodes that follow the steward
// treat the listed peers as if their user had blocked them. A tombstone is
// an empty list.
type ModerationList struct {
	Blocked []ModerationEntry
}

// ModerationEntry is one blocked peer of a moderation list.
type ModerationEntry struct {
	// Peer is the blocked peer's Ed25519 public key.
	Peer [32]byte
	// Reason is shown to the steward's followers (optional, one line).
	Reason string
	// Since is when the steward listed the peer, in Unix milliseconds
	// (optional).
	Since uint64
}

// Field numbers of the moderation payload (docs/PROTOCOL.md).
const (
	fModBlocked = 1

	fModEntryPeer   = 1
	fModEntryReason = 2
	fModEntrySince  = 3
)

// Normalize trims reasons, sorts the entries by peer and keeps the first
// entry of a peer listed twice, so a list always encodes the same way.
func (m ModerationList) Normalize() ModerationList {
	out := ModerationList{Blocked: make([]ModerationEntry, 0, len(m.Blocked))}
	for _, e := range m.Blocked {
		e.Reason = strings.TrimSpace(e.Reason)
		out.Blocked = append(out.Blocked, e)
	}
	slices.SortStableFunc(out.Blocked, func(a, b ModerationEntry) int { return bytes.Compare(a.Peer[:], b.Peer[:]) })
	out.Blocked = slices.CompactFunc(out.Blocked, func(a, b ModerationEntry) bool { return a.Peer == b.Peer })
	return out
}

// Validate checks the list against the domain's rules: at most
// MaxModerationEntries entries in ascending peer order without repeats,
// reasons of one line of at most MaxModerationReason characters, times no
// later than the year 9999 (as every record time).
func (m ModerationList) Validate() error {
	if len(m.Blocked) > MaxModerationEntries {
		return fmt.Errorf("%w moderation list: %d entries, at most %d", ErrInvalid, len(m.Blocked), MaxModerationEntries)
	}
	for i, e := range m.Blocked {
		if i > 0 && bytes.Compare(m.Blocked[i-1].Peer[:], e.Peer[:]) >= 0 {
			return fmt.Errorf("%w moderation list: entries must be in ascending peer order, without repeats", ErrInvalid)
		}
		if err := CheckModerationReason(e.Reason); err != nil {
			return err
		}
		if e.Since > maxUnixMilli {
			return fmt.Errorf("%w moderation list: entry time %d is after the year 9999", ErrInvalid, e.Since)
		}
	}
	return nil
}

// CheckModerationReason checks a reason as a list entry's: one line of at
// most MaxModerationReason characters, without control characters.
func CheckModerationReason(reason string) error {
	return checkTextOf("moderation list", "reason", reason, MaxModerationReason, false)
}

// Listed returns the entry of peer, if the list has one.
func (m ModerationList) Listed(peer [32]byte) (ModerationEntry, bool) {
	i, ok := slices.BinarySearchFunc(m.Blocked, peer, func(e ModerationEntry, p [32]byte) int { return bytes.Compare(e.Peer[:], p[:]) })
	if !ok {
		return ModerationEntry{}, false
	}
	return m.Blocked[i], true
}

// Encode returns the payload bytes of a normalized, valid list. An empty
// list encodes as no bytes.
func (m ModerationList) Encode() ([]byte, error) {
	m = m.Normalize()
	if err := m.Validate(); err != nil {
		return nil, err
	}
	var e pbwire.Encoder
	for _, en := range m.Blocked {
		var sub pbwire.Encoder
		sub.BytesField(fModEntryPeer, en.Peer[:])
		sub.String(fModEntryReason, en.Reason)
		sub.Uint(fModEntrySince, en.Since)
		e.BytesField(fModBlocked, sub.Bytes())
	}
	if n := len(e.Bytes()); n > maxModerationSz {
		return nil, fmt.Errorf("%w moderation list: %d bytes encoded, at most %d: shorten the reasons", ErrInvalid, n, maxModerationSz)
	}
	return e.Bytes(), nil
}

// DecodeModeration parses and validates a moderation payload. Unknown
// fields (in the list and in entries) are skipped, so lists written by a
// newer version are still accepted and relayed.
func DecodeModeration(b []byte) (ModerationList, error) {
	var m ModerationList
	if len(b) > maxModerationSz {
		return m, fmt.Errorf("%w moderation list: %d bytes, at most %d", ErrInvalid, len(b), maxModerationSz)
	}
	d := pbwire.NewDecoder(b, fModBlocked)
	for d.Next() {
		if d.Field().Num != fModBlocked {
			continue
		}
		if len(m.Blocked) == MaxModerationEntries {
			d.Fail(fmt.Errorf("more than %d entries", MaxModerationEntries))
			break
		}
		e, err := decodeModerationEntry(d.BytesValue())
		if err != nil {
			d.Fail(err)
			break
		}
		m.Blocked = append(m.Blocked, e)
	}
	if err := d.Err(); err != nil {
		return ModerationList{}, fmt.Errorf("%w moderation list: %w", ErrInvalid, err)
	}
	if err := m.Validate(); err != nil {
		return ModerationList{}, err
	}
	return m, nil
}

func decodeModerationEntry(b []byte) (ModerationEntry, error) {
	var e ModerationEntry
	hasPeer := false
	d := pbwire.NewDecoder(b)
	for d.Next() {
		switch d.Field().Num {
		case fModEntryPeer:
			v := d.BytesValue()
			if d.Err() == nil && len(v) != len(e.Peer) {
				d.Fail(fmt.Errorf("entry peer is %d bytes, want %d", len(v), len(e.Peer)))
				break
			}
			copy(e.Peer[:], v)
			hasPeer = true
		case fModEntryReason:
			e.Reason = d.StringValue()
		case fModEntrySince:
			e.Since = d.Varint()
		}
	}
	if err := d.Err(); err != nil {
		return e, fmt.Errorf("entry: %w", err)
	}
	if !hasPeer {
		return e, fmt.Errorf("entry without a peer")
	}
	return e, nil
}

func validateModerationRecord(key string, deleted bool, payload []byte) error {
	if key != "" {
		return fmt.Errorf("%w: a moderation record has the empty key, got %q", ErrInvalid, key)
	}
	if deleted {
		return nil
	}
	_, err := DecodeModeration(payload)
	return err
}
