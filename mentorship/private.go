package mentorship

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mentormesh/mentormesh/internal/pbwire"
)

// What is private to a pairing: goals, the session log, notes and contact
// details. Each item is one record of kind "private" at key
// "<pairing ID>/<item ID>", written by one of the two partners, whose
// payload is sealed to the pair (seal.go). Every node stores and relays
// these records; only the two partners can read them. All item types share
// the kind, the key format and (through padding) the payload sizes, so a
// third party cannot tell a goal from a note.

// ItemType says what a private item is.
type ItemType uint64

// Item types (field 1 of the item, docs/PROTOCOL.md).
const (
	ItemGoal    ItemType = 1
	ItemSession ItemType = 2
	ItemNote    ItemType = 3
	ItemContact ItemType = 4
)

// String returns the type's name: goal, session, note or contact.
func (t ItemType) String() string {
	switch t {
	case ItemGoal:
		return "goal"
	case ItemSession:
		return "session"
	case ItemNote:
		return "note"
	case ItemContact:
		return "contact"
	}
	return fmt.Sprintf("item type %d", uint64(t))
}

// GoalStatus is where a goal stands.
type GoalStatus uint64

// Goal statuses (field 3 of a goal item).
const (
	GoalOpen       GoalStatus = 1
	GoalInProgress GoalStatus = 2
	GoalDone       GoalStatus = 3
	GoalDropped    GoalStatus = 4
)

// GoalStatuses lists the statuses in order, for help texts.
var GoalStatuses = []GoalStatus{GoalOpen, GoalInProgress, GoalDone, GoalDropped}

// String returns the status's name: open, in-progress, done or dropped.
func (s GoalStatus) String() string {
	switch s {
	case GoalOpen:
		return "open"
	case GoalInProgress:
		return "in-progress"
	case GoalDone:
		return "done"
	case GoalDropped:
		return "dropped"
	}
	return fmt.Sprintf("status %d", uint64(s))
}

// ParseGoalStatus parses a status name (in_progress and "in progress" are
// accepted for in-progress).
func ParseGoalStatus(s string) (GoalStatus, error) {
	n := strings.NewReplacer("_", "-", " ", "-").Replace(strings.ToLower(strings.TrimSpace(s)))
	for _, st := range GoalStatuses {
		if st.String() == n {
			return st, nil
		}
	}
	return 0, fmt.Errorf("%w goal: unknown status %q (one of: open, in-progress, done, dropped)", ErrInvalid, s)
}

// Private item limits. Text limits count characters.
const (
	MaxGoalTitleLen     = 200
	MaxSessionNotesLen  = 4000
	MaxNoteLen          = 4000
	MaxContactLen       = 500
	MaxSessionMinutes   = 1440
	maxItemMilli        = 253402300799999 // 9999-12-31T23:59:59.999Z, as record timestamps
	privateIDHexLen     = 32
	privateKeyLen       = 2*privateIDHexLen + 1
	privateIDRandomSize = 16
)

// Item is the plaintext of a private item. Which fields apply depends on
// Type:
//
//	goal:    Title (required), Status (required), Due (optional)
//	session: Date (required), Minutes (required), Text (the notes, optional)
//	note:    Text (required)
//	contact: Text (required)
//
// Times are kept to the millisecond (Unix ms on the wire).
type Item struct {
	Type    ItemType
	Title   string
	Status  GoalStatus
	Due     time.Time
	Date    time.Time
	Minutes int
	Text    string
}

// Field numbers of the item plaintext (docs/PROTOCOL.md).
const (
	fItemType    = 1
	fItemTitle   = 2
	fItemStatus  = 3
	fItemDue     = 4
	fItemDate    = 5
	fItemMinutes = 6
	fItemText    = 7
)

// Normalize trims text and truncates times to the millisecond, so the same
// item always encodes the same way.
func (it Item) Normalize() Item {
	it.Title = strings.TrimSpace(it.Title)
	it.Text = strings.TrimSpace(it.Text)
	if !it.Due.IsZero() {
		it.Due = time.UnixMilli(it.Due.UnixMilli()).UTC()
	}
	if !it.Date.IsZero() {
		it.Date = time.UnixMilli(it.Date.UnixMilli()).UTC()
	}
	return it
}

// Validate checks the item against the domain's rules. Messages are written
// for the person who typed the values.
func (it Item) Validate() error {
	what := it.Type.String()
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w %s: %s", ErrInvalid, what, fmt.Sprintf(format, args...))
	}
	// Fields that belong to another type must be absent: a reader never
	// guesses which meaning a field has.
	var allowed map[string]bool
	switch it.Type {
	case ItemGoal:
		allowed = map[string]bool{"title": true, "status": true, "due date": true}
		if it.Title == "" {
			return bad("a title is required")
		}
		if err := privateText(what, "title", it.Title, MaxGoalTitleLen, false); err != nil {
			return err
		}
		if it.Status < GoalOpen || it.Status > GoalDropped {
			return bad("a status is required (one of: open, in-progress, done, dropped)")
		}
		if !it.Due.IsZero() && !privateTimeOK(it.Due) {
			return bad("due date %v is out of range", it.Due)
		}
	case ItemSession:
		allowed = map[string]bool{"date": true, "duration": true, "text": true}
		if it.Date.IsZero() {
			return bad("a date is required")
		}
		if !privateTimeOK(it.Date) {
			return bad("date %v is out of range", it.Date)
		}
		if it.Minutes < 1 || it.Minutes > MaxSessionMinutes {
			return bad("duration is %d minutes, want 1 to %d (24 hours)", it.Minutes, MaxSessionMinutes)
		}
		if err := privateText(what, "notes", it.Text, MaxSessionNotesLen, true); err != nil {
			return err
		}
	case ItemNote:
		allowed = map[string]bool{"text": true}
		if it.Text == "" {
			return bad("the text is required")
		}
		if err := privateText(what, "text", it.Text, MaxNoteLen, true); err != nil {
			return err
		}
	case ItemContact:
		allowed = map[string]bool{"text": true}
		if it.Text == "" {
			return bad("contact details are required")
		}
		if err := privateText(what, "contact details", it.Text, MaxContactLen, true); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w private item: unknown type %d", ErrInvalid, uint64(it.Type))
	}
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"title", it.Title != ""},
		{"status", it.Status != 0},
		{"due date", !it.Due.IsZero()},
		{"date", !it.Date.IsZero()},
		{"duration", it.Minutes != 0},
		{"text", it.Text != ""},
	} {
		if f.set && !allowed[f.name] {
			return bad("a %s has no %s", what, f.name)
		}
	}
	return nil
}

func privateTimeOK(t time.Time) bool {
	ms := t.UnixMilli()
	return ms >= 1 && ms <= maxItemMilli
}

// privateText applies the text rules with messages naming the item.
func privateText(item, field, s string, max int, multiline bool) error {
	return checkTextOf(item, field, s, max, multiline)
}

// maxItemSize is the largest item plaintext: it must fit the largest padded
// size with the padding marker (seal.go).
const maxItemSize = maxPadded - 1

// Encode returns the plaintext bytes of a normalized, valid item.
func (it Item) Encode() ([]byte, error) {
	it = it.Normalize()
	if err := it.Validate(); err != nil {
		return nil, err
	}
	var e pbwire.Encoder
	e.Uint(fItemType, uint64(it.Type))
	e.String(fItemTitle, it.Title)
	e.Uint(fItemStatus, uint64(it.Status))
	if !it.Due.IsZero() {
		e.Uint(fItemDue, uint64(it.Due.UnixMilli()))
	}
	if !it.Date.IsZero() {
		e.Uint(fItemDate, uint64(it.Date.UnixMilli()))
	}
	e.Uint(fItemMinutes, uint64(it.Minutes))
	e.String(fItemText, it.Text)
	// Limits count characters, which take up to four bytes each. The
	// largest valid item fits (4000 four-byte characters and the other
	// fields are about 16 020 bytes); keep the check in case limits grow.
	if n := len(e.Bytes()); n > maxItemSize {
		return nil, fmt.Errorf("%w %s: %d bytes encoded, at most %d: shorten the text", ErrInvalid, it.Type, n, maxItemSize)
	}
	return e.Bytes(), nil
}

// DecodeItem parses and validates an item plaintext. Unknown fields are
// skipped, so a newer writer can add fields.
func DecodeItem(b []byte) (Item, error) {
	var it Item
	if len(b) > maxItemSize {
		return it, fmt.Errorf("%w private item: %d bytes, at most %d", ErrInvalid, len(b), maxItemSize)
	}
	d := pbwire.NewDecoder(b)
	millis := func(what string) time.Time {
		v := d.Varint()
		if v > maxItemMilli {
			d.Fail(fmt.Errorf("%s %d out of range", what, v))
			return time.Time{}
		}
		return time.UnixMilli(int64(v)).UTC()
	}
	for d.Next() {
		switch d.Field().Num {
		case fItemType:
			it.Type = ItemType(d.Varint())
		case fItemTitle:
			it.Title = d.StringValue()
		case fItemStatus:
			it.Status = GoalStatus(d.Varint())
		case fItemDue:
			it.Due = millis("due date")
		case fItemDate:
			it.Date = millis("date")
		case fItemMinutes:
			v := d.Varint()
			if v > MaxSessionMinutes {
				d.Fail(fmt.Errorf("duration %d minutes out of range", v))
				break
			}
			it.Minutes = int(v)
		case fItemText:
			it.Text = d.StringValue()
		}
	}
	if err := d.Err(); err != nil {
		return Item{}, fmt.Errorf("%w private item: %w", ErrInvalid, err)
	}
	if err := it.Validate(); err != nil {
		return Item{}, err
	}
	return it, nil
}

// NewItemID returns a fresh item (or pairing) ID: 16 bytes from rnd (nil
// means crypto/rand) as 32 lowercase hex characters.
func NewItemID(rnd io.Reader) (string, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	var b [privateIDRandomSize]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", fmt.Errorf("generating an ID: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// IsHexID reports whether s has the format of the IDs writers create
// (pairings, private items): 32 lowercase hex characters.
func IsHexID(s string) bool {
	if len(s) != privateIDHexLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// PrivateRecordKey returns the record key of an item: "<pairing>/<item>".
func PrivateRecordKey(pairingID, itemID string) (string, error) {
	if !IsHexID(pairingID) {
		return "", fmt.Errorf("%w: pairing ID %q is not 32 lowercase hex characters", ErrInvalid, pairingID)
	}
	if !IsHexID(itemID) {
		return "", fmt.Errorf("%w: item ID %q is not 32 lowercase hex characters", ErrInvalid, itemID)
	}
	return pairingID + "/" + itemID, nil
}

// ParsePrivateRecordKey splits a private record key into its pairing and
// item IDs, checking their exact format.
func ParsePrivateRecordKey(key string) (pairingID, itemID string, err error) {
	p, i, ok := strings.Cut(key, "/")
	if !ok || len(key) != privateKeyLen || !IsHexID(p) || !IsHexID(i) {
		return "", "", fmt.Errorf("%w: a private record's key is <pairing ID>/<item ID>, each 32 lowercase hex characters; got %q", ErrInvalid, key)
	}
	return p, i, nil
}

// validatePrivateRecord is what every node checks of a private record: the
// key's format and the sealed envelope's structure and sizes. Nobody but
// the pair can check more.
func validatePrivateRecord(key string, deleted bool, payload []byte) error {
	if _, _, err := ParsePrivateRecordKey(key); err != nil {
		return err
	}
	if deleted {
		return nil
	}
	_, _, err := decodeSealed(payload, "private record")
	return err
}
