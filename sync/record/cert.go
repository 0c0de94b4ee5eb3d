package record

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"
)

// CertPrefix separates device certificates from everything else an author's
// key signs (records use SignaturePrefix).
const CertPrefix = "mentormesh/device/v1\x00"

// CertSize is the encoded size of a Cert in a record's envelope: 8 bytes of
// issue time (Unix milliseconds, big endian) and a 64-byte signature.
const CertSize = 8 + ed25519.SignatureSize

// ErrBadCert is returned for a device certificate that does not verify
// under the author's key.
var ErrBadCert = errors.New("device certificate does not verify against the author's key")

// Cert is an author's statement that a device key may sign records for it:
// the author's Ed25519 signature over CertMessage(author, device, issued).
// It does not expire; revocation is a `device` record (see mentorship).
type Cert struct {
	Issued    time.Time
	Signature [ed25519.SignatureSize]byte
}

// CertMessage is the exact message a device certificate signs:
// CertPrefix || author (32) || device (32) || issued (8, Unix ms, big endian).
func CertMessage(author, device Author, issued time.Time) []byte {
	msg := make([]byte, 0, len(CertPrefix)+32+32+8)
	msg = append(msg, CertPrefix...)
	msg = append(msg, author[:]...)
	msg = append(msg, device[:]...)
	return binary.BigEndian.AppendUint64(msg, unixMilli(issued))
}

// IssueCert signs a certificate for device with the author's key.
func IssueCert(authorKey ed25519.PrivateKey, device Author, issued time.Time) (Cert, error) {
	if len(authorKey) != ed25519.PrivateKeySize {
		return Cert{}, fmt.Errorf("author key is %d bytes, want %d", len(authorKey), ed25519.PrivateKeySize)
	}
	var author Author
	copy(author[:], authorKey.Public().(ed25519.PublicKey))
	if author == device {
		return Cert{}, fmt.Errorf("a device key must differ from the author's key")
	}
	if err := checkAuthorKey(device); err != nil {
		return Cert{}, fmt.Errorf("device key: %w", err)
	}
	issued = issued.Truncate(time.Millisecond)
	if unixMilli(issued) == 0 || unixMilli(issued) > maxMilli {
		return Cert{}, fmt.Errorf("issue time out of range")
	}
	c := Cert{Issued: issued}
	copy(c.Signature[:], ed25519.Sign(authorKey, CertMessage(author, device, issued)))
	return c, nil
}

// goodCerts caches certificates that verified: every record a device signs
// carries the same one, and checking it again would double the cost of
// verifying a device's records.
var goodCerts = struct {
	sync.Mutex
	m map[certKey]struct{}
}{m: make(map[certKey]struct{})}

type certKey struct {
	author, device Author
	cert           [CertSize]byte
}

const goodCertsMax = 4096

// Verify checks the certificate for device under author's key.
func (c Cert) Verify(author, device Author) error {
	k := certKey{author: author, device: device, cert: c.encode()}
	goodCerts.Lock()
	_, ok := goodCerts.m[k]
	goodCerts.Unlock()
	if ok {
		return nil
	}
	if err := c.verify(author, device); err != nil {
		return err
	}
	goodCerts.Lock()
	if len(goodCerts.m) >= goodCertsMax {
		clear(goodCerts.m)
	}
	goodCerts.m[k] = struct{}{}
	goodCerts.Unlock()
	return nil
}

func (c Cert) verify(author, device Author) error {
	if author == device {
		return fmt.Errorf("%w: device key equals the author's key", ErrBadCert)
	}
	if err := checkAuthorKey(author); err != nil {
		return err
	}
	if unixMilli(c.Issued) == 0 || unixMilli(c.Issued) > maxMilli {
		return fmt.Errorf("%w: issue time out of range", ErrBadCert)
	}
	if !ed25519.Verify(author[:], CertMessage(author, device, c.Issued), c.Signature[:]) {
		return ErrBadCert
	}
	return nil
}

func (c Cert) encode() [CertSize]byte {
	var b [CertSize]byte
	binary.BigEndian.PutUint64(b[:8], unixMilli(c.Issued))
	copy(b[8:], c.Signature[:])
	return b
}

// Bytes returns the certificate's 72-byte encoding (envelope field 3).
func (c Cert) Bytes() []byte { b := c.encode(); return b[:] }

// ParseCert decodes a certificate's 72-byte encoding.
func ParseCert(b []byte) (Cert, error) {
	if len(b) != CertSize {
		return Cert{}, fmt.Errorf("%w: certificate is %d bytes, want %d", ErrMalformed, len(b), CertSize)
	}
	if ms := binary.BigEndian.Uint64(b[:8]); ms == 0 || ms > maxMilli {
		return Cert{}, fmt.Errorf("%w: certificate issue time out of range", ErrMalformed)
	}
	return decodeCert(b), nil
}

// decodeCert decodes CertSize bytes whose issue time is in range.
func decodeCert(b []byte) Cert {
	ms := binary.BigEndian.Uint64(b[:8])
	var c Cert
	c.Issued = time.UnixMilli(int64(ms))
	copy(c.Signature[:], b[8:])
	return c
}
