package mentorship_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mentormesh/mentormesh/mentorship"
)

// textPair is a pairing between two real key pairs (mentee proposes), with
// each party's key for it.
type textPair struct {
	mentor, mentee party
	prop           mentorship.Pairing
	kMentor, kMen  *mentorship.PairKey
}

func newTextPair(t *testing.T) textPair {
	t.Helper()
	tp := textPair{mentor: newParty(t), mentee: newParty(t)}
	p, err := mentorship.NewProposal(tp.mentor.pub, tp.mentee.pub, tp.mentee.pub, nonce, t0, 0)
	if err != nil {
		t.Fatal(err)
	}
	tp.prop = p
	tp.kMentor = pairKey(t, tp.mentor, tp.mentee.pub, "sociocracy", p.ID())
	tp.kMen = pairKey(t, tp.mentee, tp.mentor.pub, "sociocracy", p.ID())
	return tp
}

func sealText(t *testing.T, k *mentorship.PairKey, p mentorship.Pairing, text mentorship.PairText) mentorship.Pairing {
	t.Helper()
	sealed, err := k.SealText(nil, p, text)
	if err != nil {
		t.Fatalf("SealText(%+v) error = %v", text, err)
	}
	p.SealedText = sealed
	if _, err := p.Encode(); err != nil {
		t.Fatalf("Encode(record with sealed text) error = %v", err)
	}
	return p
}

func TestPairTextPartiesOpen(t *testing.T) {
	tp := newTextPair(t)
	msg := mentorship.PairText{Message: "  Help me facilitate my first circle.\nThanks.  "}
	p := sealText(t, tp.kMen, tp.prop, msg)
	if err := (mentorship.Kinds{}).ValidatePayload(mentorship.KindPairing, p.ID(), false, mustEncodePairing(t, p)); err != nil {
		t.Errorf("ValidatePayload(proposal with sealed text) = %v", err)
	}
	for name, k := range map[string]*mentorship.PairKey{"writer": tp.kMen, "partner": tp.kMentor} {
		got, err := k.OpenText(tp.mentee.pub, p)
		if err != nil || got != msg.Normalize() {
			t.Errorf("%s: OpenText = %+v, %v; want %+v", name, got, err, msg.Normalize())
		}
	}
	if strings.Contains(string(mustEncodePairing(t, p)), "circle") {
		t.Error("the payload holds the message in plaintext")
	}
	// A record without text opens to the empty text.
	if got, err := tp.kMentor.OpenText(tp.mentee.pub, tp.prop); err != nil || !got.IsZero() {
		t.Errorf("OpenText(no text) = %+v, %v; want empty", got, err)
	}
	// The proposer's completion keeps the message and adds a comment.
	done := tp.prop
	done.Status, done.Accepted, done.Rating, done.SealedText = mentorship.StatusCompleted, false, 5, p.SealedText
	done, err := tp.kMen.SealNext(nil, done, mentorship.ActionInput{Rating: 5, Comment: " Thank you. "})
	if err != nil {
		t.Fatalf("SealNext error = %v", err)
	}
	want := mentorship.PairText{Message: msg.Normalize().Message, Comment: "Thank you."}
	if got, err := tp.kMentor.OpenText(tp.mentee.pub, done); err != nil || got != want {
		t.Errorf("OpenText(completion) = %+v, %v; want %+v", got, err, want)
	}
}

func TestPairTextOthersCannotOpen(t *testing.T) {
	tp := newTextPair(t)
	p := sealText(t, tp.kMen, tp.prop, mentorship.PairText{Message: "secret goal"})
	carol := newParty(t)
	for name, k := range map[string]*mentorship.PairKey{
		"third party with the mentor": pairKey(t, carol, tp.mentor.pub, "sociocracy", p.ID()),
		"third party with the mentee": pairKey(t, carol, tp.mentee.pub, "sociocracy", p.ID()),
		"other community":             pairKey(t, tp.mentor, tp.mentee.pub, "other", p.ID()),
	} {
		if got, err := k.OpenText(tp.mentee.pub, p); !errors.Is(err, mentorship.ErrCannotOpen) {
			t.Errorf("%s: OpenText = %+v, %v; want %v", name, got, err, mentorship.ErrCannotOpen)
		}
	}
}

// TestPairTextTamperedOrMoved: a sealed text opens only in the record it
// was written for: not altered, not under the other party's name, not in
// another pairing, not as a private item, and no private item opens as a
// pairing text.
func TestPairTextTamperedOrMoved(t *testing.T) {
	tp := newTextPair(t)
	p := sealText(t, tp.kMentor, tp.prop, mentorship.PairText{})
	decl := tp.prop
	decl.Status, decl.ProposedAt, decl.ExpiresAt = mentorship.StatusDeclined, 0, 0
	decl = sealText(t, tp.kMentor, decl, mentorship.PairText{Reason: "Full this season."})
	if p.SealedText != nil {
		t.Errorf("SealText(empty) = %x, want nil", p.SealedText)
	}

	// A byte of the nonce, of the ciphertext, of the tag.
	for _, i := range []int{5, 30, len(decl.SealedText) - 1} {
		bad := decl
		bad.SealedText = append([]byte{}, decl.SealedText...)
		bad.SealedText[i] ^= 1
		if _, err := tp.kMen.OpenText(tp.mentor.pub, bad); !errors.Is(err, mentorship.ErrCannotOpen) {
			t.Errorf("tampered byte %d: OpenText error = %v, want %v", i, err, mentorship.ErrCannotOpen)
		}
	}
	// Read as written by the other party (the mentee copies it into its
	// own record).
	if _, err := tp.kMentor.OpenText(tp.mentee.pub, decl); !errors.Is(err, mentorship.ErrCannotOpen) {
		t.Errorf("moved to the other party: OpenText error = %v, want %v", err, mentorship.ErrCannotOpen)
	}
	// Moved to another pairing of the same two people.
	other := decl
	other.Nonce[0] ^= 1
	k2 := pairKey(t, tp.mentee, tp.mentor.pub, "sociocracy", other.ID())
	if _, err := k2.OpenText(tp.mentor.pub, other); !errors.Is(err, mentorship.ErrCannotOpen) {
		t.Errorf("moved to another pairing: OpenText error = %v, want %v", err, mentorship.ErrCannotOpen)
	}
	// A record of another pairing given to this pairing's key.
	if _, err := tp.kMen.OpenText(tp.mentor.pub, other); !errors.Is(err, mentorship.ErrCannotOpen) {
		t.Errorf("record of another pairing: OpenText error = %v, want %v", err, mentorship.ErrCannotOpen)
	}
	// As a private item of the pairing, and the other way round.
	itemKey, err := mentorship.PrivateRecordKey(decl.ID(), testItem)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := tp.kMen.Open(tp.mentor.pub, itemKey, decl.SealedText); !errors.Is(err, mentorship.ErrCannotOpen) {
		t.Errorf("pairing text opened as a private item: error = %v, want %v", err, mentorship.ErrCannotOpen)
	}
	_, item := seal(t, tp.kMentor, testItem, mentorship.Item{Type: mentorship.ItemNote, Text: "Full this season."})
	asText := decl
	asText.SealedText = item
	if _, err := tp.kMen.OpenText(tp.mentor.pub, asText); !errors.Is(err, mentorship.ErrCannotOpen) {
		t.Errorf("private item opened as a pairing text: error = %v, want %v", err, mentorship.ErrCannotOpen)
	}
	// The untouched record still opens.
	if got, err := tp.kMen.OpenText(tp.mentor.pub, decl); err != nil || got.Reason != "Full this season." {
		t.Errorf("OpenText(declined) = %+v, %v", got, err)
	}
}

// TestPairTextRules: which text goes in which record. Nodes cannot check
// this; the writer refuses and the reader rejects.
func TestPairTextRules(t *testing.T) {
	tp := newTextPair(t)
	accepted := tp.prop
	accepted.Status, accepted.Accepted, accepted.ProposedAt, accepted.ExpiresAt = mentorship.StatusAccepted, true, 0, 0
	cancelled := accepted
	cancelled.Status = mentorship.StatusCancelled
	completed := accepted
	completed.Status = mentorship.StatusCompleted
	tests := []struct {
		name string
		k    *mentorship.PairKey
		p    mentorship.Pairing
		text mentorship.PairText
		ok   bool
	}{
		{"proposer's message", tp.kMen, tp.prop, mentorship.PairText{Message: "Hi"}, true},
		{"message of 1000 characters", tp.kMen, tp.prop, mentorship.PairText{Message: strings.Repeat("😀", 1000)}, true},
		{"message of 1001 characters", tp.kMen, tp.prop, mentorship.PairText{Message: strings.Repeat("a", 1001)}, false},
		{"message with escape", tp.kMen, tp.prop, mentorship.PairText{Message: "\x1b[31mred"}, false},
		{"message with bidi override", tp.kMen, tp.prop, mentorship.PairText{Message: "a\u202eb"}, false},
		{"message not UTF-8", tp.kMen, tp.prop, mentorship.PairText{Message: "\xff"}, false},
		{"responder's message", tp.kMentor, cancelled, mentorship.PairText{Message: "Hi"}, false},
		{"reason with a proposal", tp.kMen, tp.prop, mentorship.PairText{Reason: "x"}, false},
		{"reason with cancel", tp.kMentor, cancelled, mentorship.PairText{Reason: strings.Repeat("r", 500)}, true},
		{"reason of 501 characters", tp.kMentor, cancelled, mentorship.PairText{Reason: strings.Repeat("r", 501)}, false},
		{"comment with cancel", tp.kMentor, cancelled, mentorship.PairText{Comment: "x"}, false},
		{"comment with complete", tp.kMentor, completed, mentorship.PairText{Comment: strings.Repeat("c", 2000)}, true},
		{"comment of 2001 characters", tp.kMentor, completed, mentorship.PairText{Comment: strings.Repeat("c", 2001)}, false},
		{"longest texts", tp.kMen, func() mentorship.Pairing {
			p := tp.prop
			p.Status, p.Accepted = mentorship.StatusCompleted, true
			return p
		}(),
			mentorship.PairText{Message: strings.Repeat("😀", 1000), Comment: strings.Repeat("😀", 2000)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sealed, err := tt.k.SealText(nil, tt.p, tt.text)
			if tt.ok != (err == nil) || (err != nil && !errors.Is(err, mentorship.ErrInvalid)) {
				t.Fatalf("SealText = %v, want ok = %v", err, tt.ok)
			}
			if tt.ok {
				p := tt.p
				p.SealedText = sealed
				if _, err := p.Encode(); err != nil {
					t.Errorf("Encode(with sealed text) = %v", err)
				}
			}
		})
	}
	// A reader refuses a valid text in the wrong record: the mentor's
	// cancellation reason read as if the status were accepted.
	p := sealText(t, tp.kMentor, cancelled, mentorship.PairText{Reason: "Moving abroad."})
	moved := accepted
	moved.SealedText = p.SealedText
	moved.Status = mentorship.StatusCompleted
	if _, err := tp.kMen.OpenText(tp.mentor.pub, moved); !errors.Is(err, mentorship.ErrInvalid) {
		t.Errorf("OpenText(reason in a completion) error = %v, want %v", err, mentorship.ErrInvalid)
	}
}
