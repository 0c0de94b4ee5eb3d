package record

import (
	"crypto/ed25519"
	"fmt"
	"time"

	"github.com/mentormesh/mentormesh/internal/pbwire"
)

// Field numbers of the envelope (Signed) and of Body. docs/PROTOCOL.md
// gives the schema.
const (
	fSignedBody      = 1
	fSignedSignature = 2
	fSignedCert      = 3

	fFormat    = 1
	fCommunity = 2
	fAuthor    = 3
	fKind      = 4
	fKey       = 5
	fVersion   = 6
	fTimestamp = 7
	fDeleted   = 8
	fExpires   = 9
	fPayload   = 10
	fSigner    = 11
)

func encodeEnvelope(body, sig, cert []byte) []byte {
	var e pbwire.Encoder
	e.BytesField(fSignedBody, body)
	e.BytesField(fSignedSignature, sig)
	e.BytesField(fSignedCert, cert)
	return e.Bytes()
}

func decodeEnvelope(raw []byte) (body, sig, cert []byte, err error) {
	d := pbwire.NewDecoder(raw)
	for d.Next() {
		switch d.Field().Num {
		case fSignedBody:
			body = d.BytesValue()
		case fSignedSignature:
			sig = d.BytesValue()
		case fSignedCert:
			cert = d.BytesValue()
		default:
			d.Unknown()
		}
	}
	if err := d.Err(); err != nil {
		return nil, nil, nil, fmt.Errorf("%w: envelope: %w", ErrMalformed, err)
	}
	if body == nil {
		return nil, nil, nil, fmt.Errorf("%w: envelope has no body", ErrMalformed)
	}
	if len(sig) != ed25519.SignatureSize {
		return nil, nil, nil, fmt.Errorf("%w: signature is %d bytes, want %d", ErrMalformed, len(sig), ed25519.SignatureSize)
	}
	if cert != nil && len(cert) != CertSize {
		return nil, nil, nil, fmt.Errorf("%w: device certificate is %d bytes, want %d", ErrMalformed, len(cert), CertSize)
	}
	return body, sig, cert, nil
}

func encodeBody(b *Body) []byte {
	var e pbwire.Encoder
	e.Uint(fFormat, Format)
	e.String(fCommunity, b.Community)
	e.BytesField(fAuthor, b.Author[:])
	e.String(fKind, b.Kind)
	e.String(fKey, b.Key)
	e.Uint(fVersion, b.Version)
	e.Uint(fTimestamp, unixMilli(b.Timestamp))
	e.Bool(fDeleted, b.Deleted)
	e.Uint(fExpires, unixMilli(b.Expires))
	e.BytesField(fPayload, b.Payload)
	if b.Signer != (Author{}) {
		e.BytesField(fSigner, b.Signer[:])
	}
	return e.Bytes()
}

func decodeBody(raw []byte, b *Body) error {
	var format uint64
	var author, signer []byte
	d := pbwire.NewDecoder(raw)
	for d.Next() {
		switch d.Field().Num {
		case fFormat:
			format = d.Varint()
		case fCommunity:
			b.Community = d.StringValue()
		case fAuthor:
			author = d.BytesValue()
		case fKind:
			b.Kind = d.StringValue()
		case fKey:
			b.Key = d.StringValue()
		case fVersion:
			b.Version = d.Varint()
		case fTimestamp:
			b.Timestamp = fromUnixMilli(d.Varint())
		case fDeleted:
			b.Deleted = d.Bool()
		case fExpires:
			b.Expires = fromUnixMilli(d.Varint())
		case fPayload:
			b.Payload = d.BytesValue()
		case fSigner:
			signer = d.BytesValue()
		default:
			d.Unknown()
		}
	}
	if err := d.Err(); err != nil {
		return fmt.Errorf("%w: body: %w", ErrMalformed, err)
	}
	if format != Format {
		return fmt.Errorf("%w: format %d, this node understands format %d (upgrade mentormesh if the format is newer)", ErrMalformed, format, Format)
	}
	if len(author) != len(b.Author) {
		return fmt.Errorf("%w: author key is %d bytes, want %d", ErrMalformed, len(author), len(b.Author))
	}
	copy(b.Author[:], author)
	if signer != nil {
		if len(signer) != len(b.Signer) {
			return fmt.Errorf("%w: signer key is %d bytes, want %d", ErrMalformed, len(signer), len(b.Signer))
		}
		copy(b.Signer[:], signer)
		if b.Signer == (Author{}) {
			// The zero key is how Body says "no signer": accepting it
			// would give an author-signed record a second encoding.
			return fmt.Errorf("%w: signer key is all zeros (an author-signed record omits the signer field)", ErrMalformed)
		}
		if b.Signer == b.Author {
			// One record, one encoding: the author's own signature omits
			// the field.
			return fmt.Errorf("%w: signer equals the author (omit the signer field)", ErrMalformed)
		}
	}
	return nil
}

// maxMilli keeps millisecond timestamps inside time.Time's comfortable range
// (year 9999) so decoding never overflows.
const maxMilli = 253402300799999

func unixMilli(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	ms := t.UnixMilli()
	if ms <= 0 {
		return 0
	}
	return uint64(ms)
}

func fromUnixMilli(ms uint64) time.Time {
	if ms > maxMilli {
		ms = maxMilli + 1 // validate refuses it
	}
	return time.UnixMilli(int64(ms))
}
