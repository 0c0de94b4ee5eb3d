package record

import (
	"crypto/ed25519"
	"errors"
	"testing"
)

// TestVerifyRejectsSmallOrderAuthor: for the identity point (encoded as 1
// followed by zeros, order 1) the signature R = identity, s = 0 satisfies
// Ed25519's verification equation for every message. Without the key check,
// anyone could write records "by" that author.
func TestVerifyRejectsSmallOrderAuthor(t *testing.T) {
	var author Author
	author[0] = 1
	body := Body{Community: "sociocracy", Author: author, Kind: "profile", Version: 1, Timestamp: Now(), Payload: []byte{0x0a, 0x01, 'x'}}
	bodyBytes := encodeBody(&body)
	sig := make([]byte, ed25519.SignatureSize)
	sig[0] = 1 // R = identity, s = 0
	if !ed25519.Verify(author[:], signedMessage(bodyBytes), sig) {
		t.Fatal("crypto/ed25519 refused the small-order forgery; this test no longer demonstrates the attack")
	}
	rec, err := Decode(encodeEnvelope(bodyBytes, sig, nil))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if err := rec.Verify(); !errors.Is(err, ErrWeakKey) {
		t.Errorf("Verify() = %v, want ErrWeakKey", err)
	}
}

func TestVerifyAcceptsRealKeyTwice(t *testing.T) {
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	var a Author
	copy(a[:], key.Public().(ed25519.PublicKey))
	rec, err := Sign(key, Body{Community: "c", Author: a, Kind: "profile", Version: 1, Timestamp: Now()})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // the second time from the cache
		if err := rec.Verify(); err != nil {
			t.Fatalf("Verify() #%d = %v, want nil", i+1, err)
		}
	}
}
