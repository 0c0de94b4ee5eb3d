package mentorship

import (
	"errors"
	"fmt"
)

// Record kinds defined by the domain.
const (
	// KindProfile is a practitioner's profile (empty key).
	KindProfile = "profile"
	// KindPairing is one party's side of a mentorship pairing (key: the
	// pairing ID). A pairing's state is derived from both sides' records.
	KindPairing = "pairing"
	// KindPrivate is an item inside a pairing (goal, session, note, contact
	// details), sealed so only the two partners can read it (key:
	// "<pairing ID>/<item ID>").
	KindPrivate = "private"
	// KindResource is a shared resource: article, guide, event... (key: the
	// resource ID).
	KindResource = "resource"
	// KindEndorsement is one practitioner's endorsement of a resource (key:
	// the resource's address, see EndorsementKey).
	KindEndorsement = "endorsement"
	// KindModeration is a steward's list of the peers it blocks in a
	// community (empty key; see ModerationList).
	KindModeration = "moderation"
)

// ErrUnknownKind is returned for a kind this version does not know. Nodes
// ignore such records (neither store nor penalise them), so a newer kind
// does not get its writers' peers punished by older nodes.
var ErrUnknownKind = errors.New("unknown record kind")

// ErrInvalid marks payloads that break the domain's rules.
var ErrInvalid = errors.New("invalid")

// Kinds validates kind-specific payloads. It is what the replication layer's
// ingest pipeline calls for every record before storing it.
type Kinds struct{}

// ValidatePayload checks a record's key and payload for its kind. Tombstones
// (deleted records) carry no payload and are checked by key only.
func (Kinds) ValidatePayload(kind, key string, deleted bool, payload []byte) error {
	switch kind {
	case KindProfile:
		if key != "" {
			return fmt.Errorf("%w: a profile record has the empty key, got %q", ErrInvalid, key)
		}
		if deleted {
			return nil
		}
		_, err := DecodeProfile(payload)
		return err
	case KindPairing:
		return validatePairingRecord(key, deleted, payload)
	case KindPrivate:
		return validatePrivateRecord(key, deleted, payload)
	case KindResource:
		return validateResourceRecord(key, deleted, payload)
	case KindEndorsement:
		return validateEndorsementRecord(key, deleted, payload)
	case KindModeration:
		return validateModerationRecord(key, deleted, payload)
	case KindDevice:
		return validateDeviceRecord(key, deleted, payload)
	default:
		return fmt.Errorf("%w %q", ErrUnknownKind, kind)
	}
}

// IsUnknownKind reports whether err is ValidatePayload's refusal of a kind
// the domain does not know (for ingest.Options.IsUnknownKind).
func IsUnknownKind(err error) bool { return errors.Is(err, ErrUnknownKind) }

// RootOnly reports the kinds only an author's own key may sign, never a
// linked device (for ingest.Options.RootOnly): the device list, and
// private items, whose keys derive from the root key a device never holds.
// A device-signed private record can only be a replay (the sealed payload
// of an older version at a higher one, a rollback), so none counts.
func RootOnly(kind string) bool { return kind == KindDevice || kind == KindPrivate }
