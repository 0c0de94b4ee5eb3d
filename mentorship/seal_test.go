package mentorship_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/mentorship"
)

const (
	testPairing = "00112233445566778899aabbccddeeff"
	testItem    = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
)

type party struct {
	priv ed25519.PrivateKey
	pub  [32]byte
}

func newParty(t testing.TB) party {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var p party
	p.priv = priv
	copy(p.pub[:], priv[32:])
	return p
}

func pairKey(t testing.TB, self party, partner [32]byte, community, pairing string) *mentorship.PairKey {
	t.Helper()
	k, err := mentorship.NewPairKey(self.priv, partner, community, pairing)
	if err != nil {
		t.Fatalf("NewPairKey error = %v", err)
	}
	return k
}

func testGoal() mentorship.Item {
	return mentorship.Item{Type: mentorship.ItemGoal, Title: "Facilitate a consent round", Status: mentorship.GoalOpen,
		Due: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)}
}

func seal(t testing.TB, k *mentorship.PairKey, itemID string, it mentorship.Item) (string, []byte) {
	t.Helper()
	key, payload, err := k.Seal(nil, itemID, it)
	if err != nil {
		t.Fatalf("Seal(%+v) error = %v", it, err)
	}
	return key, payload
}

func TestSealPartnerOpens(t *testing.T) {
	a, b := newParty(t), newParty(t)
	ka := pairKey(t, a, b.pub, "sociocracy", testPairing)
	kb := pairKey(t, b, a.pub, "sociocracy", testPairing)
	for _, it := range []mentorship.Item{
		testGoal(),
		{Type: mentorship.ItemSession, Date: time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC), Minutes: 60, Text: "Role selection.\nNext: proposals."},
		{Type: mentorship.ItemNote, Text: strings.Repeat("😀", mentorship.MaxNoteLen)},
		{Type: mentorship.ItemContact, Text: "ada@example.org\nSignal +44 20 7946 0000"},
	} {
		t.Run(it.Type.String(), func(t *testing.T) {
			// Either partner writes; both read.
			for _, w := range []struct {
				name           string
				writer, reader *mentorship.PairKey
				author         [32]byte
			}{{"A writes", ka, kb, a.pub}, {"B writes", kb, ka, b.pub}} {
				key, payload := seal(t, w.writer, testItem, it)
				if err := (mentorship.Kinds{}).ValidatePayload(mentorship.KindPrivate, key, false, payload); err != nil {
					t.Errorf("%s: ValidatePayload = %v, want nil", w.name, err)
				}
				for who, k := range map[string]*mentorship.PairKey{"partner": w.reader, "writer": w.writer} {
					id, got, err := k.Open(w.author, key, payload)
					if err != nil {
						t.Fatalf("%s: Open by the %s error = %v", w.name, who, err)
					}
					if id != testItem || got != it.Normalize() {
						t.Errorf("%s: Open by the %s = %s, %+v; want %s, %+v", w.name, who, id, got, testItem, it.Normalize())
					}
				}
			}
		})
	}
}

// TestSealOthersCannotOpen: a third practitioner, whichever partner it
// pairs its key with, cannot open the pair's items.
func TestSealOthersCannotOpen(t *testing.T) {
	a, b, c := newParty(t), newParty(t), newParty(t)
	key, payload := seal(t, pairKey(t, a, b.pub, "sociocracy", testPairing), testItem, testGoal())
	for name, k := range map[string]*mentorship.PairKey{
		"C with A": pairKey(t, c, a.pub, "sociocracy", testPairing),
		"C with B": pairKey(t, c, b.pub, "sociocracy", testPairing),
	} {
		if _, it, err := k.Open(a.pub, key, payload); !errors.Is(err, mentorship.ErrCannotOpen) {
			t.Errorf("%s: Open = %+v, %v; want %v", name, it, err, mentorship.ErrCannotOpen)
		}
	}
	// Nor does a key of the same pair in another pairing or community.
	for name, k := range map[string]*mentorship.PairKey{
		"other pairing":   pairKey(t, b, a.pub, "sociocracy", "ffeeddccbbaa99887766554433221100"),
		"other community": pairKey(t, b, a.pub, "gophers", testPairing),
	} {
		if _, _, err := k.Open(a.pub, key, payload); !errors.Is(err, mentorship.ErrCannotOpen) {
			t.Errorf("%s: Open = %v, want %v", name, err, mentorship.ErrCannotOpen)
		}
	}
}

// TestSealTamper flips the low and the high bit of each byte of the payload:
// nothing opens, and the error is ErrCannotOpen or ErrInvalid (envelope
// structure), never a panic or a wrong item.
func TestSealTamper(t *testing.T) {
	a, b := newParty(t), newParty(t)
	ka := pairKey(t, a, b.pub, "sociocracy", testPairing)
	kb := pairKey(t, b, a.pub, "sociocracy", testPairing)
	key, payload := seal(t, ka, testItem, testGoal())
	for i := range payload {
		for _, bit := range []byte{0x01, 0x80} {
			bad := bytes.Clone(payload)
			bad[i] ^= bit
			_, it, err := kb.Open(a.pub, key, bad)
			if !errors.Is(err, mentorship.ErrCannotOpen) && !errors.Is(err, mentorship.ErrInvalid) {
				t.Fatalf("Open(payload with byte %d ^ %#x) = %+v, %v; want an error", i, bit, it, err)
			}
		}
	}
	for _, n := range []int{0, 1, len(payload) - 1} {
		if _, _, err := kb.Open(a.pub, key, payload[:n]); err == nil {
			t.Errorf("Open(payload truncated to %d bytes) = nil error", n)
		}
	}
	if _, _, err := kb.Open(a.pub, key, append(bytes.Clone(payload), 0x18, 0x01)); err == nil {
		t.Errorf("Open(payload with an extra field) = nil error")
	}
}

// TestSealMoved: a ciphertext opens only at the address it was sealed
// for. The record signature stops anyone from writing at another's
// address, and the associated data stops the partners (who share the key)
// from reusing each other's ciphertexts.
func TestSealMoved(t *testing.T) {
	a, b := newParty(t), newParty(t)
	ka := pairKey(t, a, b.pub, "sociocracy", testPairing)
	kb := pairKey(t, b, a.pub, "sociocracy", testPairing)
	key, payload := seal(t, ka, testItem, testGoal())
	otherItem := strings.Repeat("ab", 16)
	tests := []struct {
		name   string
		k      *mentorship.PairKey
		author [32]byte
		key    string
		want   error
	}{
		{"as written", kb, a.pub, key, nil},
		{"under the partner as author", kb, b.pub, key, mentorship.ErrCannotOpen},
		{"under the partner as author, opened by the writer", ka, b.pub, key, mentorship.ErrCannotOpen},
		{"under another item ID", kb, a.pub, testPairing + "/" + otherItem, mentorship.ErrCannotOpen},
		{"under another pairing ID", kb, a.pub, "ffeeddccbbaa99887766554433221100/" + testItem, mentorship.ErrCannotOpen},
		{"in another community", pairKey(t, b, a.pub, "gophers", testPairing), a.pub, key, mentorship.ErrCannotOpen},
		{"under a third author", kb, newParty(t).pub, key, mentorship.ErrCannotOpen},
		{"under a malformed key", kb, a.pub, strings.ToUpper(key), mentorship.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := tt.k.Open(tt.author, tt.key, payload)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Open = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSealNoncesDiffer(t *testing.T) {
	a, b := newParty(t), newParty(t)
	ka := pairKey(t, a, b.pub, "sociocracy", testPairing)
	seen := map[string]bool{}
	nonces := map[string]bool{}
	for range 50 {
		_, payload := seal(t, ka, testItem, testGoal())
		// Envelope: 0x0a 0x18 then the 24-byte nonce.
		nonce := hex.EncodeToString(payload[2:26])
		if seen[string(payload)] || nonces[nonce] {
			t.Fatalf("Seal repeated a payload or nonce (nonce %s)", nonce)
		}
		seen[string(payload)], nonces[nonce] = true, true
	}
}

// TestSealSizesHideTheType: typical goals, sessions, notes and contact
// details all seal to the same size.
func TestSealSizesHideTheType(t *testing.T) {
	a, b := newParty(t), newParty(t)
	ka := pairKey(t, a, b.pub, "sociocracy", testPairing)
	sizes := map[int][]string{}
	for _, it := range []mentorship.Item{
		{Type: mentorship.ItemGoal, Title: "G", Status: mentorship.GoalOpen},
		testGoal(),
		{Type: mentorship.ItemSession, Date: time.Now(), Minutes: 45},
		{Type: mentorship.ItemSession, Date: time.Now(), Minutes: 90, Text: strings.Repeat("n", 200)},
		{Type: mentorship.ItemNote, Text: "x"},
		{Type: mentorship.ItemNote, Text: strings.Repeat("y", 240)},
		{Type: mentorship.ItemContact, Text: "ada@example.org"},
	} {
		_, payload := seal(t, ka, testItem, it)
		sizes[len(payload)] = append(sizes[len(payload)], it.Type.String())
	}
	if len(sizes) != 1 {
		t.Errorf("payload sizes by type = %v, want one size", sizes)
	}
	// The largest item still fits a record.
	_, payload := seal(t, ka, testItem, mentorship.Item{Type: mentorship.ItemSession, Date: time.Now(), Minutes: 1440, Text: strings.Repeat("😀", mentorship.MaxSessionNotesLen)})
	if len(payload) > 16500 {
		t.Errorf("largest payload is %d bytes", len(payload))
	}
}

func TestNewPairKeyRefusesBadKeys(t *testing.T) {
	a, b := newParty(t), newParty(t)
	hexKey := func(s string) (k [32]byte) {
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != 32 {
			t.Fatalf("bad test key %q", s)
		}
		copy(k[:], b)
		return k
	}
	// Canonical encodings of points of small order (RFC 8032 section 5.1.3
	// y coordinates: identity, order 2, 4 and 8) and non-canonical ones.
	tests := map[string][32]byte{
		"identity (0,1)": hexKey("0100000000000000000000000000000000000000000000000000000000000000"),
		"order 2 (0,-1)": hexKey("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
		"order 4":        hexKey("0000000000000000000000000000000000000000000000000000000000000000"),
		"order 4, neg":   hexKey("0000000000000000000000000000000000000000000000000000000000000080"),
		"order 8":        hexKey("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
		"order 8, neg":   hexKey("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"),
		"order 8 (2)":    hexKey("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
		"not on curve":   hexKey("0200000000000000000000000000000000000000000000000000000000000000"),
		"y not reduced":  hexKey("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
		"identity, -0":   hexKey("0100000000000000000000000000000000000000000000000000000000000080"),
		// y = p+3 and p+18 encode points of large order, non-canonically.
		"y = p+3":  hexKey("f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
		"all ones": hexKey("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
	}
	for name, k := range tests {
		if _, err := mentorship.NewPairKey(a.priv, k, "sociocracy", testPairing); !errors.Is(err, mentorship.ErrBadKey) {
			t.Errorf("NewPairKey(partner %s) = %v, want %v", name, err, mentorship.ErrBadKey)
		}
	}
	if _, err := mentorship.NewPairKey(a.priv, a.pub, "sociocracy", testPairing); !errors.Is(err, mentorship.ErrInvalid) {
		t.Errorf("NewPairKey(own key as partner) = %v, want %v", err, mentorship.ErrInvalid)
	}
	for _, id := range []string{"", "00112233445566778899AABBCCDDEEFF", "0011223344556677", testPairing + "00", "g0112233445566778899aabbccddeeff"} {
		if _, err := mentorship.NewPairKey(a.priv, b.pub, "sociocracy", id); !errors.Is(err, mentorship.ErrInvalid) {
			t.Errorf("NewPairKey(pairing %q) = %v, want %v", id, err, mentorship.ErrInvalid)
		}
	}
	if _, err := mentorship.NewPairKey(a.priv, b.pub, "", testPairing); !errors.Is(err, mentorship.ErrInvalid) {
		t.Errorf("NewPairKey(no community) = %v, want %v", err, mentorship.ErrInvalid)
	}
}

func TestSealRefusesInvalid(t *testing.T) {
	a, b := newParty(t), newParty(t)
	ka := pairKey(t, a, b.pub, "sociocracy", testPairing)
	for name, tc := range map[string]struct {
		id string
		it mentorship.Item
	}{
		"no title":      {testItem, mentorship.Item{Type: mentorship.ItemGoal, Status: mentorship.GoalOpen}},
		"bad item ID":   {"xyz", testGoal()},
		"upper item ID": {strings.ToUpper(testItem), testGoal()},
		"long note":     {testItem, mentorship.Item{Type: mentorship.ItemNote, Text: strings.Repeat("a", mentorship.MaxNoteLen+1)}},
	} {
		if key, p, err := ka.Seal(nil, tc.id, tc.it); !errors.Is(err, mentorship.ErrInvalid) {
			t.Errorf("Seal(%s) = %q, %d bytes, %v; want %v", name, key, len(p), err, mentorship.ErrInvalid)
		}
	}
}

func BenchmarkNewPairKey(b *testing.B) {
	x, y := newParty(b), newParty(b)
	for b.Loop() {
		if _, err := mentorship.NewPairKey(x.priv, y.pub, "sociocracy", testPairing); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	x, y := newParty(b), newParty(b)
	kx := pairKey(b, x, y.pub, "sociocracy", testPairing)
	ky := pairKey(b, y, x.pub, "sociocracy", testPairing)
	key, payload := seal(b, kx, testItem, testGoal())
	for b.Loop() {
		if _, _, err := ky.Open(x.pub, key, payload); err != nil {
			b.Fatal(err)
		}
	}
}
