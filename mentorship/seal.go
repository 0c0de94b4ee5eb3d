package mentorship

import (
	"bytes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"filippo.io/edwards25519"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/mentormesh/mentormesh/internal/pbwire"
)

// Sealing private items to a pair (docs/PROTOCOL.md, "private"):
//
//  1. Each partner's Ed25519 identity key is converted to X25519: the
//     private scalar is SHA-512(seed)[:32], clamped (RFC 8032 section
//     5.1.5, RFC 7748 section 5); the public key is the Montgomery
//     u-coordinate of the Edwards point (RFC 7748 section 4.1).
//  2. X25519(own private, partner public) gives the same shared secret to
//     both partners, with no message exchanged: a partner who is never
//     online with the writer can still read.
//  3. HKDF-SHA256 turns it into a pair key bound to the label, the
//     community, the pairing ID and both Ed25519 keys.
//  4. Items are padded, then sealed with XChaCha20-Poly1305 under a random
//     24-byte nonce, with associated data binding the record's community,
//     author and key, so a ciphertext opens only at the address it was
//     written for.

// SealLabel separates this construction's keys and associated data from
// any other use of the same identity keys.
const SealLabel = "mentormesh/private/v1"

// Sizes of the sealed envelope.
const (
	sealNonceSize = chacha20poly1305.NonceSizeX // 24
	sealTagSize   = chacha20poly1305.Overhead   // 16
	// Plaintexts are padded to a power of two from minPadded to maxPadded
	// bytes, so that short items of every type have the same size.
	minPadded = 256
	maxPadded = 16384
	// maxSealedSize is the largest valid envelope: the nonce field (tag,
	// length, 24 bytes) and the ciphertext field (tag, 3-byte length,
	// maxPadded + 16 bytes).
	maxSealedSize = 2 + sealNonceSize + 4 + maxPadded + sealTagSize
)

// Field numbers of the sealed envelope (the record payload).
const (
	fSealedNonce      = 1
	fSealedCiphertext = 2
)

// ErrCannotOpen is returned when a sealed item does not open: it was not
// sealed to this pair, or for another address, or it was altered.
var ErrCannotOpen = errors.New("cannot open private item: not sealed to this pair at this address, or altered")

// ErrBadKey is returned for an identity key that cannot take part in the
// key agreement: not a canonical Ed25519 point, or a point of small order.
var ErrBadKey = errors.New("key is not a usable Ed25519 public key")

// PairKey seals and opens the private items of one pairing. Both partners
// derive the same key, each from their own private key and the other's
// public key.
type PairKey struct {
	aead      cipher.AEAD
	community string
	pairingID string
	self      [32]byte
	partner   [32]byte
}

// NewPairKey derives the key that self (the caller's Ed25519 private key)
// shares with partner (the other party's Ed25519 public key) for the
// pairing pairingID in community.
func NewPairKey(self ed25519.PrivateKey, partner [32]byte, community, pairingID string) (*PairKey, error) {
	key, err := derivePairKey(self, partner, community, pairingID)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, err
	}
	k := &PairKey{aead: aead, community: community, pairingID: pairingID, partner: partner}
	copy(k.self[:], self[32:])
	return k, nil
}

// derivePairKey returns the 32-byte pair key (steps 1 to 3 above).
func derivePairKey(self ed25519.PrivateKey, partner [32]byte, community, pairingID string) ([]byte, error) {
	if len(self) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("private key is %d bytes, want %d", len(self), ed25519.PrivateKeySize)
	}
	var own [32]byte
	copy(own[:], self[32:])
	if own == partner {
		return nil, fmt.Errorf("%w: a pairing needs two different people", ErrInvalid)
	}
	if community == "" || len(community) > 255 {
		return nil, fmt.Errorf("%w: community %q", ErrInvalid, community)
	}
	if !IsHexID(pairingID) {
		return nil, fmt.Errorf("%w: pairing ID %q is not 32 lowercase hex characters", ErrInvalid, pairingID)
	}
	priv, err := x25519Private(self)
	if err != nil {
		return nil, err
	}
	pub, err := x25519Public(partner)
	if err != nil {
		return nil, fmt.Errorf("partner: %w", err)
	}
	shared, err := priv.ECDH(pub) // fails on an all-zero result
	if err != nil {
		return nil, fmt.Errorf("partner: %w: %w", ErrBadKey, err)
	}
	defer clear(shared)
	return hkdf.Key(sha256.New, shared, nil, string(pairKeyInfo(community, pairingID, own, partner)), chacha20poly1305.KeySize)
}

// x25519Private converts an Ed25519 private key to the X25519 private key
// with the same scalar: SHA-512 of the seed, first half, clamped.
func x25519Private(k ed25519.PrivateKey) (*ecdh.PrivateKey, error) {
	h := sha512.Sum512(k.Seed())
	defer clear(h[:])
	s := h[:32]
	s[0] &= 248
	s[31] &= 127
	s[31] |= 64
	return ecdh.X25519().NewPrivateKey(s)
}

// x25519Public converts an Ed25519 public key to X25519: the Montgomery
// u-coordinate (1+y)/(1-y) of its point. It refuses non-canonical
// encodings (so each key has one X25519 form) and points of small order,
// the identity included (their shared secrets are predictable).
func x25519Public(pub [32]byte) (*ecdh.PublicKey, error) {
	p, err := new(edwards25519.Point).SetBytes(pub[:])
	if err != nil || !bytes.Equal(p.Bytes(), pub[:]) {
		return nil, ErrBadKey
	}
	if new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) == 1 {
		return nil, ErrBadKey
	}
	return ecdh.X25519().NewPublicKey(p.BytesMontgomery())
}

// pairKeyInfo is the HKDF info: the label, a zero byte, the community
// (length-prefixed), the 16 pairing ID bytes, and both Ed25519 keys, the
// bytewise smaller first (so both partners compute the same string).
func pairKeyInfo(community, pairingID string, a, b [32]byte) []byte {
	if bytes.Compare(a[:], b[:]) > 0 {
		a, b = b, a
	}
	id, _ := hex.DecodeString(pairingID) // checked by the caller
	info := make([]byte, 0, len(SealLabel)+2+len(community)+len(id)+64)
	info = append(info, SealLabel...)
	info = append(info, 0, byte(len(community)))
	info = append(info, community...)
	info = append(info, id...)
	info = append(info, a[:]...)
	return append(info, b[:]...)
}

// sealAAD is the associated data of an item at (community, author, key):
// the label, a zero byte, the community (length-prefixed), the author's
// 32-byte key and the record key (length-prefixed). label is SealLabel for
// private items and PairTextLabel for the text of pairing records, so a
// ciphertext made for one never opens as the other.
func sealAAD(label, community string, author [32]byte, recordKey string) []byte {
	aad := make([]byte, 0, len(label)+3+len(community)+32+len(recordKey))
	aad = append(aad, label...)
	aad = append(aad, 0, byte(len(community)))
	aad = append(aad, community...)
	aad = append(aad, author[:]...)
	aad = append(aad, byte(len(recordKey)))
	return append(aad, recordKey...)
}

// Seal encrypts it as a new version of the caller's item itemID in this
// pairing, and returns the record key and payload to write. rnd supplies
// the nonce (nil means crypto/rand).
func (k *PairKey) Seal(rnd io.Reader, itemID string, it Item) (recordKey string, payload []byte, err error) {
	recordKey, err = PrivateRecordKey(k.pairingID, itemID)
	if err != nil {
		return "", nil, err
	}
	plain, err := it.Encode()
	if err != nil {
		return "", nil, err
	}
	payload, err = k.sealBytes(rnd, sealAAD(SealLabel, k.community, k.self, recordKey), plain, "private item")
	return recordKey, payload, err
}

// Open decrypts the payload of the private record at recordKey written by
// author, who must be one of the partners. It returns the item ID and the
// item; an error wrapping ErrCannotOpen if the payload does not open, or
// ErrInvalid if what it holds is not a valid item.
func (k *PairKey) Open(author [32]byte, recordKey string, payload []byte) (itemID string, it Item, err error) {
	pairingID, itemID, err := ParsePrivateRecordKey(recordKey)
	if err != nil {
		return "", Item{}, err
	}
	if pairingID != k.pairingID {
		return "", Item{}, fmt.Errorf("%w: the record belongs to pairing %s, not %s", ErrCannotOpen, pairingID, k.pairingID)
	}
	if author != k.self && author != k.partner {
		return "", Item{}, fmt.Errorf("%w: the record was written by neither partner", ErrCannotOpen)
	}
	plain, err := k.openBytes(sealAAD(SealLabel, k.community, author, recordKey), payload, "private record")
	if err != nil {
		return "", Item{}, err
	}
	it, err = DecodeItem(plain)
	return itemID, it, err
}

// sealBytes pads and seals plain with the associated data aad (sealAAD)
// and returns the encoded envelope; what names the plaintext in errors.
func (k *PairKey) sealBytes(rnd io.Reader, aad, plain []byte, what string) ([]byte, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	padded, err := sealPad(plain, what)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, sealNonceSize)
	if _, err := io.ReadFull(rnd, nonce); err != nil {
		return nil, fmt.Errorf("generating a nonce: %w", err)
	}
	ct := k.aead.Seal(nil, nonce, padded, aad)
	var e pbwire.Encoder
	e.BytesField(fSealedNonce, nonce)
	e.BytesField(fSealedCiphertext, ct)
	return e.Bytes(), nil
}

// openBytes decodes the envelope, opens it with the associated data aad
// and removes the padding; what names the envelope in errors.
func (k *PairKey) openBytes(aad, payload []byte, what string) ([]byte, error) {
	nonce, ct, err := decodeSealed(payload, what)
	if err != nil {
		return nil, err
	}
	padded, err := k.aead.Open(nil, nonce, ct, aad)
	if err != nil {
		return nil, ErrCannotOpen
	}
	return sealUnpad(padded, what)
}

// decodeSealed parses the envelope strictly: exactly a 24-byte nonce and a
// ciphertext of a valid padded length plus the tag, nothing else (a new
// construction gets a new record kind, not new fields). what names the
// envelope in errors: "private record" or "pairing text".
func decodeSealed(b []byte, what string) (nonce, ct []byte, err error) {
	if len(b) > maxSealedSize {
		return nil, nil, fmt.Errorf("%w %s: payload is %d bytes, at most %d", ErrInvalid, what, len(b), maxSealedSize)
	}
	d := pbwire.NewDecoder(b)
	for d.Next() {
		switch d.Field().Num {
		case fSealedNonce:
			nonce = d.BytesValue()
			if len(nonce) != sealNonceSize && d.Err() == nil {
				d.Fail(fmt.Errorf("nonce is %d bytes, want %d", len(nonce), sealNonceSize))
			}
		case fSealedCiphertext:
			ct = d.BytesValue()
			if n := len(ct) - sealTagSize; !validPaddedLen(n) && d.Err() == nil {
				d.Fail(fmt.Errorf("ciphertext is %d bytes, want 16 more than a power of two from %d to %d", len(ct), minPadded, maxPadded))
			}
		default:
			d.Unknown()
		}
	}
	if err := d.Err(); err != nil {
		return nil, nil, fmt.Errorf("%w %s: %w", ErrInvalid, what, err)
	}
	if nonce == nil || ct == nil {
		return nil, nil, fmt.Errorf("%w %s: the payload needs a nonce and a ciphertext", ErrInvalid, what)
	}
	return nonce, ct, nil
}

func validPaddedLen(n int) bool {
	return n >= minPadded && n <= maxPadded && n&(n-1) == 0
}

// sealPad appends the byte 0x80 and zeros up to the smallest valid padded
// length (ISO/IEC 7816-4 padding).
func sealPad(b []byte, what string) ([]byte, error) {
	n := minPadded
	for n < len(b)+1 {
		n *= 2
	}
	if n > maxPadded {
		return nil, fmt.Errorf("%w %s: %d bytes, at most %d", ErrInvalid, what, len(b), maxPadded-1)
	}
	out := make([]byte, n)
	copy(out, b)
	out[len(b)] = 0x80
	return out, nil
}

// sealUnpad removes the padding: trailing zeros and the 0x80 before them.
// Any valid padded length is accepted (a writer may pad more than needed).
func sealUnpad(p []byte, what string) ([]byte, error) {
	if !validPaddedLen(len(p)) {
		return nil, fmt.Errorf("%w %s: padded to %d bytes", ErrInvalid, what, len(p))
	}
	i := len(p) - 1
	for i >= 0 && p[i] == 0 {
		i--
	}
	if i < 0 || p[i] != 0x80 {
		return nil, fmt.Errorf("%w %s: bad padding", ErrInvalid, what)
	}
	return p[:i], nil
}
