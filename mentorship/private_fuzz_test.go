package mentorship_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/mentormesh/mentormesh/internal/pbwire"
	"github.com/mentormesh/mentormesh/mentorship"
)

// Seeds of the pair in testdata/private/vector*.json.
var (
	fuzzKeyA = ed25519.NewKeyFromSeed(mustHex("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"))
	fuzzKeyB = ed25519.NewKeyFromSeed(mustHex("2122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f40"))
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func pub(k ed25519.PrivateKey) (p [32]byte) {
	copy(p[:], k[32:])
	return p
}

// FuzzValidatePrivateRecord: every node runs this on every private record
// from any peer. It must never panic, and must fail only with ErrInvalid.
func FuzzValidatePrivateRecord(f *testing.F) {
	k, err := mentorship.NewPairKey(fuzzKeyA, pub(fuzzKeyB), "sociocracy", testPairing)
	if err != nil {
		f.Fatal(err)
	}
	key, payload, err := k.Seal(nil, testItem, testGoal())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(key, payload)
	f.Add(key, payload[:len(payload)-1])
	f.Add(key, append(bytes.Clone(payload), 0x18, 0x01))
	f.Add(testPairing+"/"+testItem, []byte{})
	f.Add("", []byte{0x0a, 0x00})
	f.Fuzz(func(t *testing.T, key string, payload []byte) {
		err := (mentorship.Kinds{}).ValidatePayload(mentorship.KindPrivate, key, false, payload)
		if err != nil && !errors.Is(err, mentorship.ErrInvalid) {
			t.Fatalf("ValidatePayload(%q, %x) = %v, want nil or %v", key, payload, err, mentorship.ErrInvalid)
		}
		if err == nil {
			if _, _, kerr := mentorship.ParsePrivateRecordKey(key); kerr != nil {
				t.Fatalf("ValidatePayload accepted key %q that ParsePrivateRecordKey refuses: %v", key, kerr)
			}
		}
		// Opening garbage fails cleanly; what opens also validates.
		if _, _, oerr := k.Open(pub(fuzzKeyA), key, payload); oerr == nil && err != nil {
			t.Fatalf("Open(%q, %x) succeeded on a payload ValidatePayload refuses (%v)", key, payload, err)
		}
	})
}

// FuzzDecodeItem: the plaintext decoder (what a partner's sealed item
// holds). Errors wrap ErrInvalid; accepted items are valid and re-encode
// canonically.
func FuzzDecodeItem(f *testing.F) {
	for _, it := range []mentorship.Item{testGoal(), session(day, 60, "notes\n\tmore"), note("n"), contact("c")} {
		b, err := it.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(append(bytes.Clone(b), 0x98, 0x06, 0x01)) // unknown field 99
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		it, err := mentorship.DecodeItem(in)
		if err != nil {
			if !errors.Is(err, mentorship.ErrInvalid) {
				t.Fatalf("DecodeItem(%x) error = %v, want one wrapping %v", in, err, mentorship.ErrInvalid)
			}
			return
		}
		if err := it.Validate(); err != nil {
			t.Fatalf("DecodeItem(%x) = %+v, which fails Validate: %v", in, it, err)
		}
		enc, err := it.Encode()
		if err != nil {
			return // text that normalizes to nothing
		}
		back, err := mentorship.DecodeItem(enc)
		if err != nil || back != it.Normalize() {
			t.Fatalf("DecodeItem(Encode(%+v)) = %+v, %v", it, back, err)
		}
		if it == it.Normalize() && onlyItemFields(in) && !bytes.Equal(enc, in) {
			t.Fatalf("Encode(DecodeItem(%x)) = %x, want the input", in, enc)
		}
	})
}

func onlyItemFields(b []byte) bool {
	d := pbwire.NewDecoder(b)
	for d.Next() {
		if d.Field().Num > 7 {
			return false
		}
	}
	return d.Err() == nil
}

// FuzzOpenItem: the partner opening a payload mutated from a real one. A
// payload opens only if it is the one sealed, to the item sealed. (The
// item ID differs from the vectors', so their payloads, sealed for another
// address, must not open either.)
func FuzzOpenItem(f *testing.F) {
	ka, err := mentorship.NewPairKey(fuzzKeyA, pub(fuzzKeyB), "sociocracy", testPairing)
	if err != nil {
		f.Fatal(err)
	}
	kb, err := mentorship.NewPairKey(fuzzKeyB, pub(fuzzKeyA), "sociocracy", testPairing)
	if err != nil {
		f.Fatal(err)
	}
	const itemID = "ffffffffffffffffffffffffffffffff"
	key, sealed, err := ka.Seal(bytes.NewReader(bytes.Repeat([]byte{7}, 24)), itemID, testGoal())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sealed)
	f.Add(sealed[:100])
	f.Fuzz(func(t *testing.T, payload []byte) {
		id, it, err := kb.Open(pub(fuzzKeyA), key, payload)
		if err != nil {
			if !errors.Is(err, mentorship.ErrCannotOpen) && !errors.Is(err, mentorship.ErrInvalid) {
				t.Fatalf("Open(%x) error = %v", payload, err)
			}
			return
		}
		if !bytes.Equal(payload, sealed) || id != itemID || it != testGoal().Normalize() {
			t.Fatalf("Open(%x) = %s, %+v: a payload other than the sealed one opened", payload, id, it)
		}
	})
}
