// Package record defines mentormesh's unit of replication: a signed,
// versioned value owned by one author at (community, author, kind, key).
//
// A record travels as the exact bytes its author signed. Nodes decode those
// bytes strictly, verify the signature over them, store them unchanged and
// forward them unchanged; nothing is ever re-encoded before verification.
// The wire format is specified byte for byte in docs/PROTOCOL.md.
package record

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Format is the envelope format this package writes and accepts.
const Format = 1

// SignaturePrefix is prepended to the encoded body before signing, so a
// signature over a record can never be replayed as a signature over anything
// else the same key signs (libp2p handshakes, pubsub envelopes, other formats).
const SignaturePrefix = "mentormesh/record/v1\x00"

// Limits. They are part of the protocol: every node refuses records beyond
// them, so a writer that exceeds them reaches nobody.
const (
	// MaxRecordSize caps the whole signed envelope; it is checked before any
	// decoding.
	MaxRecordSize = 32 << 10
	// MaxCommunityLen, MaxKindLen and MaxKeyLen cap the address parts.
	MaxCommunityLen = 64
	MaxKindLen      = 32
	MaxKeyLen       = 256
	// MaxFutureSkew is how far ahead of the receiver's clock a record's
	// timestamp may be.
	MaxFutureSkew = 10 * time.Minute
)

// ID identifies one exact record: the SHA-256 of its signed bytes.
type ID [32]byte

// String returns the ID in lowercase hex.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// Compare orders IDs bytewise.
func (id ID) Compare(o ID) int { return bytes.Compare(id[:], o[:]) }

// Author is an author's raw Ed25519 public key.
type Author [ed25519.PublicKeySize]byte

// PeerID returns the libp2p peer ID of the author's key, which is how
// people and the CLI name authors.
func (a Author) PeerID() peer.ID {
	pk, err := crypto.UnmarshalEd25519PublicKey(a[:])
	if err != nil {
		// Every 32-byte string is accepted by UnmarshalEd25519PublicKey.
		panic(fmt.Sprintf("record: ed25519 key: %v", err))
	}
	id, err := peer.IDFromPublicKey(pk)
	if err != nil {
		panic(fmt.Sprintf("record: peer ID: %v", err))
	}
	return id
}

// String returns the author's peer ID.
func (a Author) String() string { return a.PeerID().String() }

// AuthorFromPeerID extracts the Ed25519 key embedded in an Ed25519 peer ID.
func AuthorFromPeerID(id peer.ID) (Author, error) {
	pk, err := id.ExtractPublicKey()
	if err != nil {
		return Author{}, fmt.Errorf("peer ID %s carries no public key: %w", id, err)
	}
	return AuthorFromPubKey(pk)
}

// AuthorFromPubKey returns the raw key of an Ed25519 libp2p public key.
func AuthorFromPubKey(pk crypto.PubKey) (Author, error) {
	if pk.Type() != crypto.Ed25519 {
		return Author{}, fmt.Errorf("key type %v is not Ed25519", pk.Type())
	}
	raw, err := pk.Raw()
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return Author{}, fmt.Errorf("malformed Ed25519 key")
	}
	var a Author
	copy(a[:], raw)
	return a, nil
}

// ParseAuthor parses a peer ID string into an Author.
func ParseAuthor(s string) (Author, error) {
	id, err := peer.Decode(s)
	if err != nil {
		return Author{}, fmt.Errorf("%q is not a peer ID (peer IDs look like 12D3KooW... and come from 'mentormesh id')", s)
	}
	return AuthorFromPeerID(id)
}

// Body is the signed content of a record.
type Body struct {
	Community string
	Author    Author
	Kind      string
	Key       string
	// Version is the per-key counter: the writer sets the highest version it
	// has seen for this key plus one. The highest version wins.
	Version uint64
	// Timestamp is the writer's wall clock. It is informational: it never
	// decides a conflict, but it bounds Version (see CheckVersion) and
	// records too far in the future are refused.
	Timestamp time.Time
	// Deleted marks a tombstone; its Payload is empty.
	Deleted bool
	// Expires, if not zero, is when the record stops counting.
	Expires time.Time
	// Payload is the kind-specific content, validated by the domain.
	Payload []byte
	// Signer, if not zero, is the key of the author's linked device that
	// signed the record (body field 11); the envelope then carries the
	// author's device certificate for it (see Cert). Zero means the author
	// signed with its own key, as every format-1 record did before devices.
	Signer Author
}

// Addr is where a record lives. Only Author may write there.
type Addr struct {
	Community string
	Author    Author
	Kind      string
	Key       string
}

// Addr returns the body's address.
func (b *Body) Addr() Addr {
	return Addr{Community: b.Community, Author: b.Author, Kind: b.Kind, Key: b.Key}
}

// Record is a decoded signed record. Raw holds the exact bytes that travel
// and are stored; the other fields are views of them.
type Record struct {
	Body
	Raw       []byte
	BodyBytes []byte
	Signature []byte
	// Cert is the device certificate (envelope field 3), present exactly
	// when Body.Signer is set.
	Cert *Cert
	ID   ID
}

// Meta is what decides between two versions of the same address.
type Meta struct {
	Version uint64
	ID      ID
}

// Meta returns the record's conflict metadata.
func (r *Record) Meta() Meta { return Meta{Version: r.Version, ID: r.ID} }

// Compare orders two versions of one address: the higher version wins; on
// equal versions the bytewise larger ID wins. The result is -1, 0 or +1 as
// m is older than, the same as, or newer than o. Timestamps play no part, so
// a wrong clock cannot win a conflict.
func (m Meta) Compare(o Meta) int {
	switch {
	case m.Version < o.Version:
		return -1
	case m.Version > o.Version:
		return 1
	}
	return m.ID.Compare(o.ID)
}

// Errors for conditions callers distinguish. Decode and the checks wrap them
// with detail.
var (
	ErrTooLarge     = errors.New("record too large")
	ErrMalformed    = errors.New("malformed record")
	ErrBadSignature = errors.New("signature does not verify against the author's key")
	ErrFuture       = errors.New("timestamp too far in the future")
	ErrExpired      = errors.New("record has expired")
	ErrVersion      = errors.New("version out of range")
)

// CheckTime refuses a record whose timestamp is more than MaxFutureSkew
// after now, or which has expired at now.
func (b *Body) CheckTime(now time.Time) error {
	if b.Timestamp.After(now.Add(MaxFutureSkew)) {
		return fmt.Errorf("%w: %s is %s ahead of this node's clock (limit %s)", ErrFuture,
			b.Timestamp.UTC().Format(time.RFC3339), b.Timestamp.Sub(now).Round(time.Second), MaxFutureSkew)
	}
	if b.Expired(now) {
		return fmt.Errorf("%w at %s", ErrExpired, b.Expires.UTC().Format(time.RFC3339))
	}
	return nil
}

// Expired reports whether the record has an expiry at or before now.
func (b *Body) Expired(now time.Time) bool {
	return !b.Expires.IsZero() && !b.Expires.After(now)
}

// MaxVersionAt is the highest version a record stamped at ts may carry: its
// timestamp in Unix milliseconds. Together with the future-skew limit this
// means nobody can squat on the top of the counter: at real time T the
// highest version anyone can write is about T+10min in milliseconds, so an
// honest writer can always go one higher a moment later. The bound depends
// only on the record itself, never on what a node has stored, so every node
// makes the same decision and replicas cannot diverge over it.
func MaxVersionAt(ts time.Time) uint64 {
	ms := ts.UnixMilli()
	if ms < 0 {
		return 0
	}
	return uint64(ms)
}

// CheckVersion enforces 1 <= Version <= MaxVersionAt(Timestamp).
func (b *Body) CheckVersion() error {
	if b.Version == 0 {
		return fmt.Errorf("%w: version must be at least 1", ErrVersion)
	}
	if max := MaxVersionAt(b.Timestamp); b.Version > max {
		return fmt.Errorf("%w: version %d exceeds %d, the cap for its timestamp", ErrVersion, b.Version, max)
	}
	return nil
}

// Verify checks the signature over the exact body bytes against the author's
// key, and that the key is a proper Ed25519 key (not of small order). For a
// record signed by a linked device (Signer set) it checks instead that the
// author's certificate for the device verifies under the author's key and
// that the signature verifies under the device's key.
func (r *Record) Verify() error {
	if err := checkAuthorKey(r.Author); err != nil {
		return err
	}
	signer := r.Author
	if r.Signer != (Author{}) {
		if err := checkAuthorKey(r.Signer); err != nil {
			return fmt.Errorf("device key: %w", err)
		}
		if r.Cert == nil {
			return fmt.Errorf("%w: no device certificate", ErrBadCert)
		}
		if err := r.Cert.Verify(r.Author, r.Signer); err != nil {
			return err
		}
		signer = r.Signer
	}
	if !ed25519.Verify(signer[:], signedMessage(r.BodyBytes), r.Signature) {
		return ErrBadSignature
	}
	return nil
}

// SignedByDevice reports whether a linked device, not the author's own key,
// signed the record.
func (r *Record) SignedByDevice() bool { return r.Signer != (Author{}) }

func signedMessage(body []byte) []byte {
	msg := make([]byte, 0, len(SignaturePrefix)+len(body))
	msg = append(msg, SignaturePrefix...)
	return append(msg, body...)
}

// Sign encodes b, signs it with key and returns the record. The key must be
// the author's. Sign applies the same checks as Decode, so a record it
// returns is one every node accepts (time permitting).
func Sign(key ed25519.PrivateKey, b Body) (*Record, error) {
	if b.Signer != (Author{}) {
		return nil, fmt.Errorf("a record with a signer is signed with SignAsDevice")
	}
	return sign(key, b.Author, nil, b)
}

// SignAsDevice signs b with a linked device's key: b.Signer is set to the
// device's key and cert, the author's certificate for that device, travels
// in the envelope. It applies the same checks as Decode and Verify.
func SignAsDevice(key ed25519.PrivateKey, cert Cert, b Body) (*Record, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("signing key is %d bytes, want an Ed25519 private key of %d", len(key), ed25519.PrivateKeySize)
	}
	copy(b.Signer[:], key.Public().(ed25519.PublicKey))
	if b.Signer == b.Author {
		return nil, fmt.Errorf("the device key is the author's own key: sign with Sign")
	}
	if err := cert.Verify(b.Author, b.Signer); err != nil {
		return nil, err
	}
	enc := cert.encode()
	return sign(key, b.Signer, enc[:], b)
}

func sign(key ed25519.PrivateKey, signer Author, cert []byte, b Body) (*Record, error) {
	if len(key) != ed25519.PrivateKeySize {
		// key.Public and ed25519.Sign would panic.
		return nil, fmt.Errorf("signing key is %d bytes, want an Ed25519 private key of %d", len(key), ed25519.PrivateKeySize)
	}
	pub, ok := key.Public().(ed25519.PublicKey)
	if !ok || !bytes.Equal(pub, signer[:]) {
		return nil, fmt.Errorf("signing key is not the author's")
	}
	if err := b.validate(); err != nil {
		return nil, err
	}
	body := encodeBody(&b)
	sig := ed25519.Sign(key, signedMessage(body))
	raw := encodeEnvelope(body, sig, cert)
	if len(raw) > MaxRecordSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(raw), MaxRecordSize)
	}
	// Decode the bytes we made, so Raw/BodyBytes/Signature alias Raw exactly
	// as they do for received records.
	return Decode(raw)
}

// Decode parses signed bytes strictly: size cap first, canonical encoding,
// known fields only, and the address grammar and version bound. It does not
// verify the signature (call Verify) nor look at the clock (CheckTime):
// callers order the checks cheapest first. The returned record aliases raw;
// raw must not be modified afterwards.
func Decode(raw []byte) (*Record, error) {
	if len(raw) > MaxRecordSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(raw), MaxRecordSize)
	}
	body, sig, cert, err := decodeEnvelope(raw)
	if err != nil {
		return nil, err
	}
	r := &Record{Raw: raw, BodyBytes: body, Signature: sig, ID: sha256.Sum256(raw)}
	if err := decodeBody(body, &r.Body); err != nil {
		return nil, err
	}
	switch {
	case r.Signer != (Author{}) && cert == nil:
		return nil, fmt.Errorf("%w: a device-signed record carries no device certificate", ErrMalformed)
	case r.Signer == (Author{}) && cert != nil:
		return nil, fmt.Errorf("%w: a device certificate without a signer", ErrMalformed)
	case cert != nil:
		c, err := ParseCert(cert)
		if err != nil {
			return nil, err
		}
		r.Cert = &c
	}
	if err := r.Body.validate(); err != nil {
		return nil, err
	}
	return r, nil
}
