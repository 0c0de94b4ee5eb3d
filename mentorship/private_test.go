package mentorship_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/mentormesh/mentormesh/internal/pbwire"
	"github.com/mentormesh/mentormesh/mentorship"
)

var (
	day  = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	goal = func(title string, s mentorship.GoalStatus) mentorship.Item {
		return mentorship.Item{Type: mentorship.ItemGoal, Title: title, Status: s}
	}
	session = func(d time.Time, min int, notes string) mentorship.Item {
		return mentorship.Item{Type: mentorship.ItemSession, Date: d, Minutes: min, Text: notes}
	}
	note    = func(s string) mentorship.Item { return mentorship.Item{Type: mentorship.ItemNote, Text: s} }
	contact = func(s string) mentorship.Item { return mentorship.Item{Type: mentorship.ItemContact, Text: s} }
)

func TestItemValidate(t *testing.T) {
	withDue := goal("G", mentorship.GoalOpen)
	withDue.Due = day
	goalWithText := goal("G", mentorship.GoalOpen)
	goalWithText.Text = "x"
	noteWithStatus := note("n")
	noteWithStatus.Status = mentorship.GoalDone
	sessionWithTitle := session(day, 30, "")
	sessionWithTitle.Title = "t"
	contactWithDate := contact("c")
	contactWithDate.Date = day
	tests := []struct {
		name    string
		it      mentorship.Item
		mention string // "" if valid
	}{
		{"goal", goal("Run a circle", mentorship.GoalOpen), ""},
		{"goal with due date", withDue, ""},
		{"goal every status", goal("G", mentorship.GoalDropped), ""},
		{"goal no title", goal("", mentorship.GoalOpen), "title is required"},
		{"goal no status", goal("G", 0), "status is required"},
		{"goal status 5", goal("G", 5), "status is required"},
		{"goal title 200", goal(strings.Repeat("é", 200), mentorship.GoalOpen), ""},
		{"goal title 201", goal(strings.Repeat("é", 201), mentorship.GoalOpen), "201 characters, at most 200"},
		{"goal title newline", goal("a\nb", mentorship.GoalOpen), "control character"},
		{"goal title bidi", goal("a\u202eb", mentorship.GoalOpen), "bidirectional"},
		{"goal with text", goalWithText, "a goal has no text"},
		{"session", session(day, 60, "Notes\n\twith tab"), ""},
		{"session no notes", session(day, 1, ""), ""},
		{"session 1440 minutes", session(day, 1440, ""), ""},
		{"session 0 minutes", session(day, 0, ""), "duration is 0 minutes"},
		{"session 1441 minutes", session(day, 1441, ""), "1441 minutes"},
		{"session negative", session(day, -5, ""), "-5 minutes"},
		{"session no date", session(time.Time{}, 30, ""), "date is required"},
		{"session before 1970", session(time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), 30, ""), "out of range"},
		{"session year 10000", session(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), 30, ""), "out of range"},
		{"session notes 4000", session(day, 30, strings.Repeat("ü", 4000)), ""},
		{"session notes 4001", session(day, 30, strings.Repeat("ü", 4001)), "4001 characters"},
		{"session notes carriage return", session(day, 30, "a\r\nb"), "control character"},
		{"session with title", sessionWithTitle, "a session has no title"},
		{"note", note("Text"), ""},
		{"note empty", note(""), "text is required"},
		{"note 4000", note(strings.Repeat("😀", 4000)), ""},
		{"note 4001", note(strings.Repeat("😀", 4001)), "4001 characters"},
		{"note not UTF-8", note("a\xffb"), "UTF-8"},
		{"note with status", noteWithStatus, "a note has no status"},
		{"contact", contact("ada@example.org"), ""},
		{"contact multi-line", contact("ada@example.org\n+44 20 7946 0000"), ""},
		{"contact empty", contact(""), "contact details are required"},
		{"contact 500", contact(strings.Repeat("c", 500)), ""},
		{"contact 501", contact(strings.Repeat("c", 501)), "501 characters, at most 500"},
		{"contact with date", contactWithDate, "a contact has no date"},
		{"no type", mentorship.Item{Text: "x"}, "unknown type 0"},
		{"type 5", mentorship.Item{Type: 5, Text: "x"}, "unknown type 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.it.Validate()
			if tt.mention == "" {
				if err != nil {
					t.Errorf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, mentorship.ErrInvalid) || !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("Validate() = %v, want %v mentioning %q", err, mentorship.ErrInvalid, tt.mention)
			}
			if err != nil && strings.Contains(err.Error(), "profile") {
				t.Errorf("Validate() = %v, which speaks of a profile", err)
			}
		})
	}
}

func TestItemEncode(t *testing.T) {
	withDue := goal(" Facilitate a consent round ", mentorship.GoalInProgress)
	withDue.Due = time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		it   mentorship.Item
		want string
	}{
		// vector1.json's item, with space to trim.
		{"goal", withDue, "0801121a466163696c6974617465206120636f6e73656e7420726f756e6418022080f095cbac34"},
		{"note", note("hi"), "08033a026869"},
		{"contact", contact("\n c \n"), "08043a0163"},
		{"session", session(time.UnixMilli(1000).Add(999*time.Microsecond), 60, ""), "0802" + "28e807" + "303c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.it.Encode()
			if err != nil {
				t.Fatalf("Encode() error = %v", err)
			}
			if got := hex.EncodeToString(b); got != tt.want {
				t.Errorf("Encode() = %s, want %s", got, tt.want)
			}
		})
	}
	if _, err := goal("", mentorship.GoalOpen).Encode(); !errors.Is(err, mentorship.ErrInvalid) {
		t.Errorf("Encode(goal without title) = %v, want %v", err, mentorship.ErrInvalid)
	}
}

func TestDecodeItem(t *testing.T) {
	enc := func(f func(e *pbwire.Encoder)) []byte {
		var e pbwire.Encoder
		f(&e)
		return e.Bytes()
	}
	tests := []struct {
		name string
		in   []byte
		want *mentorship.Item // nil: invalid
	}{
		{"note", enc(func(e *pbwire.Encoder) { e.Uint(1, 3); e.String(7, "hi") }), &mentorship.Item{Type: mentorship.ItemNote, Text: "hi"}},
		{"unknown field skipped", enc(func(e *pbwire.Encoder) { e.Uint(1, 3); e.String(7, "hi"); e.String(99, "future") }), &mentorship.Item{Type: mentorship.ItemNote, Text: "hi"}},
		{"unknown varint field skipped", enc(func(e *pbwire.Encoder) { e.Uint(1, 4); e.String(7, "c"); e.Uint(8, 1) }), &mentorship.Item{Type: mentorship.ItemContact, Text: "c"}},
		{"empty", nil, nil},
		{"no type", enc(func(e *pbwire.Encoder) { e.String(7, "hi") }), nil},
		{"field of another type", enc(func(e *pbwire.Encoder) { e.Uint(1, 3); e.Uint(3, 1); e.String(7, "hi") }), nil},
		{"out of order", enc(func(e *pbwire.Encoder) { e.String(7, "hi"); e.Uint(1, 3) }), nil},
		{"repeated", enc(func(e *pbwire.Encoder) { e.Uint(1, 3); e.String(7, "a"); e.String(7, "b") }), nil},
		{"type as bytes", enc(func(e *pbwire.Encoder) { e.String(1, "x"); e.String(7, "hi") }), nil},
		{"text as varint", enc(func(e *pbwire.Encoder) { e.Uint(1, 3); e.Uint(7, 5) }), nil},
		{"text not UTF-8", enc(func(e *pbwire.Encoder) { e.Uint(1, 3); e.String(7, "\xff") }), nil},
		{"text not normalized", enc(func(e *pbwire.Encoder) { e.Uint(1, 3); e.String(7, " hi") }), &mentorship.Item{Type: mentorship.ItemNote, Text: " hi"}},
		{"date beyond 9999", enc(func(e *pbwire.Encoder) { e.Uint(1, 2); e.Uint(5, 253402300800000); e.Uint(6, 30) }), nil},
		{"huge minutes", enc(func(e *pbwire.Encoder) { e.Uint(1, 2); e.Uint(5, 1); e.Uint(6, 1<<40) }), nil},
		{"huge type", enc(func(e *pbwire.Encoder) { e.Uint(1, 1<<63); e.String(7, "x") }), nil},
		{"over the size cap", enc(func(e *pbwire.Encoder) { e.Uint(1, 3); e.String(7, strings.Repeat("a", 16400)) }), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mentorship.DecodeItem(tt.in)
			if tt.want == nil {
				if !errors.Is(err, mentorship.ErrInvalid) {
					t.Errorf("DecodeItem(%x) = %+v, %v; want %v", tt.in, got, err, mentorship.ErrInvalid)
				}
				return
			}
			if err != nil || got != *tt.want {
				t.Errorf("DecodeItem(%x) = %+v, %v; want %+v", tt.in, got, err, *tt.want)
			}
		})
	}
}

// TestItemProperty: whatever Encode accepts decodes to the normalized item
// and encodes again to the same bytes.
func TestItemProperty(t *testing.T) {
	text := rapid.OneOf(rapid.String(), rapid.StringMatching(`[ \t\na-zé😀]{0,30}`))
	rapid.Check(t, func(t *rapid.T) {
		it := mentorship.Item{
			Type:    mentorship.ItemType(rapid.IntRange(0, 5).Draw(t, "type")),
			Title:   rapid.OneOf(rapid.Just(""), text).Draw(t, "title"),
			Status:  mentorship.GoalStatus(rapid.IntRange(0, 5).Draw(t, "status")),
			Minutes: rapid.IntRange(-1, 1500).Draw(t, "minutes"),
			Text:    rapid.OneOf(rapid.Just(""), text).Draw(t, "text"),
		}
		if rapid.Bool().Draw(t, "due") {
			it.Due = time.UnixMicro(rapid.Int64Range(-1e6, 3e17).Draw(t, "due_us"))
		}
		if rapid.Bool().Draw(t, "date") {
			it.Date = time.UnixMicro(rapid.Int64Range(-1e6, 3e17).Draw(t, "date_us"))
		}
		b, err := it.Encode()
		if err != nil {
			if !errors.Is(err, mentorship.ErrInvalid) {
				t.Fatalf("Encode(%+v) error = %v, want %v", it, err, mentorship.ErrInvalid)
			}
			return
		}
		got, err := mentorship.DecodeItem(b)
		if err != nil {
			t.Fatalf("DecodeItem(Encode(%+v)) error = %v", it, err)
		}
		if want := it.Normalize(); got != want {
			t.Fatalf("DecodeItem(Encode(it)) = %+v, want %+v", got, want)
		}
		if again, err := got.Encode(); err != nil || !bytes.Equal(again, b) {
			t.Fatalf("Encode(DecodeItem(b)) = %x, %v; want %x", again, err, b)
		}
	})
}

func TestParseGoalStatus(t *testing.T) {
	for in, want := range map[string]mentorship.GoalStatus{
		"open": mentorship.GoalOpen, "in-progress": mentorship.GoalInProgress, "in_progress": mentorship.GoalInProgress,
		"In Progress": mentorship.GoalInProgress, " DONE ": mentorship.GoalDone, "dropped": mentorship.GoalDropped,
	} {
		if got, err := mentorship.ParseGoalStatus(in); err != nil || got != want {
			t.Errorf("ParseGoalStatus(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "finished", "0", "open!"} {
		if got, err := mentorship.ParseGoalStatus(in); !errors.Is(err, mentorship.ErrInvalid) {
			t.Errorf("ParseGoalStatus(%q) = %v, %v; want %v", in, got, err, mentorship.ErrInvalid)
		}
	}
	for _, s := range mentorship.GoalStatuses {
		if got, err := mentorship.ParseGoalStatus(s.String()); err != nil || got != s {
			t.Errorf("ParseGoalStatus(%v.String()) = %v, %v", s, got, err)
		}
	}
}

func TestPrivateRecordKey(t *testing.T) {
	id, err := mentorship.NewItemID(nil)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := mentorship.NewItemID(nil)
	if id == other {
		t.Errorf("NewItemID returned %s twice", id)
	}
	key, err := mentorship.PrivateRecordKey(testPairing, id)
	if err != nil || key != testPairing+"/"+id {
		t.Fatalf("PrivateRecordKey = %q, %v", key, err)
	}
	p, i, err := mentorship.ParsePrivateRecordKey(key)
	if err != nil || p != testPairing || i != id {
		t.Errorf("ParsePrivateRecordKey(%q) = %q, %q, %v", key, p, i, err)
	}
	for _, bad := range []string{
		"", testPairing, testPairing + "/", "/" + testItem, testPairing + testItem,
		testPairing + "/" + testItem + "/", testPairing + "/" + testItem + "0",
		strings.ToUpper(testPairing) + "/" + testItem, testPairing + "/" + testItem[:31] + "g",
		testPairing + "|" + testItem, testPairing + "//" + testItem[1:],
	} {
		if _, _, err := mentorship.ParsePrivateRecordKey(bad); !errors.Is(err, mentorship.ErrInvalid) {
			t.Errorf("ParsePrivateRecordKey(%q) = %v, want %v", bad, err, mentorship.ErrInvalid)
		}
		if err := (mentorship.Kinds{}).ValidatePayload(mentorship.KindPrivate, bad, true, nil); !errors.Is(err, mentorship.ErrInvalid) {
			t.Errorf("ValidatePayload(private tombstone at %q) = %v, want %v", bad, err, mentorship.ErrInvalid)
		}
	}
}

// TestValidatePrivateRecord: what every node checks of a sealed payload it
// cannot open.
func TestValidatePrivateRecord(t *testing.T) {
	key := testPairing + "/" + testItem
	envelope := func(nonce, ct int, extra func(e *pbwire.Encoder)) []byte {
		var e pbwire.Encoder
		e.BytesField(1, bytes.Repeat([]byte{1}, nonce))
		e.BytesField(2, bytes.Repeat([]byte{2}, ct))
		if extra != nil {
			extra(&e)
		}
		return e.Bytes()
	}
	tests := []struct {
		name    string
		payload []byte
		ok      bool
	}{
		{"smallest", envelope(24, 256+16, nil), true},
		{"512", envelope(24, 512+16, nil), true},
		{"largest", envelope(24, 16384+16, nil), true},
		{"too large", envelope(24, 32768+16, nil), false},
		{"not a power of two", envelope(24, 300+16, nil), false},
		{"no tag room", envelope(24, 256, nil), false},
		{"128", envelope(24, 128+16, nil), false},
		{"nonce 12", envelope(12, 256+16, nil), false},
		{"nonce 25", envelope(25, 256+16, nil), false},
		{"no nonce", envelope(0, 256+16, nil), false},
		{"no ciphertext", envelope(24, 0, nil), false},
		{"empty", nil, false},
		{"unknown field", envelope(24, 256+16, func(e *pbwire.Encoder) { e.Uint(3, 1) }), false},
		{"nonce as varint", []byte{0x08, 0x01}, false},
		{"garbage", []byte("not a protobuf"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := (mentorship.Kinds{}).ValidatePayload(mentorship.KindPrivate, key, false, tt.payload)
			if tt.ok && err != nil || !tt.ok && !errors.Is(err, mentorship.ErrInvalid) {
				t.Errorf("ValidatePayload(%s) = %v, want ok=%v", tt.name, err, tt.ok)
			}
		})
	}
	if err := (mentorship.Kinds{}).ValidatePayload(mentorship.KindPrivate, key, true, nil); err != nil {
		t.Errorf("ValidatePayload(tombstone) = %v, want nil", err)
	}
}
