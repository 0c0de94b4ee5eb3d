package record_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/internal/pbwire"
	"github.com/mentormesh/mentormesh/sync/record"
)

func deviceBody(author record.Author) record.Body {
	return record.Body{Community: "gophers", Author: author, Kind: "profile", Version: 3, Timestamp: t0, Payload: []byte("p")}
}

func TestDeviceSignedRecordVerifies(t *testing.T) {
	root, dev := testKey(1), testKey(2)
	author, devA := authorOf(testKey(1)), authorOf(testKey(2))
	cert, err := record.IssueCert(root, devA, t0)
	if err != nil {
		t.Fatal(err)
	}
	r, err := record.SignAsDevice(dev, cert, deviceBody(author))
	if err != nil {
		t.Fatalf("SignAsDevice error = %v", err)
	}
	got, err := record.Decode(r.Raw)
	if err != nil {
		t.Fatalf("Decode(device record) error = %v", err)
	}
	if err := got.Verify(); err != nil {
		t.Fatalf("Verify(device record) = %v, want nil", err)
	}
	if got.Signer != devA || got.Author != author || !got.SignedByDevice() {
		t.Fatalf("decoded signer %s author %s, want %s %s", got.Signer, got.Author, devA, author)
	}
	if got.Cert == nil || !got.Cert.Issued.Equal(t0) {
		t.Fatalf("decoded cert = %+v, want issued %v", got.Cert, t0)
	}
}

func TestAuthorSignedRecordHasNoSigner(t *testing.T) {
	r, err := record.Sign(testKey(1), deviceBody(authorOf(testKey(1))))
	if err != nil {
		t.Fatal(err)
	}
	if r.SignedByDevice() || r.Cert != nil || bytes.Contains(r.BodyBytes, []byte{0x5a, 0x20}) {
		t.Fatalf("author-signed record carries a signer or certificate: %+v", r)
	}
}

func TestDeviceRecordRefused(t *testing.T) {
	root, dev, other := testKey(1), testKey(2), testKey(3)
	author, devA, otherA := authorOf(testKey(1)), authorOf(testKey(2)), authorOf(testKey(3))
	good, err := record.IssueCert(root, devA, t0)
	if err != nil {
		t.Fatal(err)
	}
	// A certificate by someone else's key for the device.
	foreign, err := record.IssueCert(other, devA, t0)
	if err != nil {
		t.Fatal(err)
	}
	// A certificate for another device.
	forOther, err := record.IssueCert(root, otherA, t0)
	if err != nil {
		t.Fatal(err)
	}
	tampered := good
	tampered.Issued = t0.Add(time.Millisecond)

	sign := func(cert record.Cert) []byte {
		// Sign with a valid cert, then swap the envelope's cert bytes.
		r, err := record.SignAsDevice(dev, good, deviceBody(author))
		if err != nil {
			t.Fatal(err)
		}
		out := bytes.Clone(r.Raw)
		copy(out[len(out)-record.CertSize:], cert.Bytes())
		return out
	}
	tests := []struct {
		name string
		raw  []byte
		want error
	}{
		{"foreign certificate", sign(foreign), record.ErrBadCert},
		{"certificate for another device", sign(forOther), record.ErrBadCert},
		{"tampered issue time", sign(tampered), record.ErrBadCert},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := record.Decode(tt.raw)
			if err != nil {
				t.Fatalf("Decode error = %v", err)
			}
			if err := r.Verify(); !errors.Is(err, tt.want) {
				t.Fatalf("Verify() = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := record.SignAsDevice(dev, foreign, deviceBody(author)); !errors.Is(err, record.ErrBadCert) {
		t.Fatalf("SignAsDevice(foreign cert) error = %v, want %v", err, record.ErrBadCert)
	}
	if _, err := record.IssueCert(root, author, t0); err == nil {
		t.Fatal("IssueCert(root for its own key) succeeded, want an error")
	}
	b := deviceBody(author)
	b.Signer = devA
	if _, err := record.Sign(root, b); err == nil {
		t.Fatal("Sign(body with a signer) succeeded, want an error")
	}
}

func TestDeviceDecodeStrict(t *testing.T) {
	root, dev := testKey(1), testKey(2)
	author, devA := authorOf(testKey(1)), authorOf(testKey(2))
	cert, err := record.IssueCert(root, devA, t0)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := record.SignAsDevice(dev, cert, deviceBody(author))
	if err != nil {
		t.Fatal(err)
	}
	envelope := func(body, sig, certBytes []byte) []byte {
		var e pbwire.Encoder
		e.BytesField(wSignedBody, body)
		e.BytesField(wSignedSignature, sig)
		e.BytesField(3, certBytes)
		return e.Bytes()
	}
	withSigner := func(signer []byte) []byte {
		var e pbwire.Encoder
		e.Uint(wFormat, 1)
		e.String(wCommunity, "gophers")
		e.BytesField(wAuthor, author[:])
		e.String(wKind, "profile")
		e.Uint(wVersion, 3)
		e.Uint(wTimestamp, uint64(t0.UnixMilli()))
		e.BytesField(wPayload, []byte("p"))
		e.BytesField(11, signer)
		return e.Bytes()
	}
	if !bytes.Equal(withSigner(devA[:]), rec.BodyBytes) {
		t.Fatalf("device body = %x, want %x (field 11 after field 10)", rec.BodyBytes, withSigner(devA[:]))
	}
	tests := []struct {
		name string
		raw  []byte
	}{
		{"signer equals author", envelope(withSigner(author[:]), rec.Signature, cert.Bytes())},
		{"signer too short", envelope(withSigner(devA[:31]), rec.Signature, cert.Bytes())},
		// 32 zero bytes are Body's "no signer": accepted, this would be a
		// second encoding of an author-signed record, verifying under the
		// author's own signature (also in testdata/fuzz/FuzzDecode).
		{"signer all zeros, signed by the author", signRaw(root, withSigner(make([]byte, 32)))},
		{"signer all zeros, with certificate", envelope(withSigner(make([]byte, 32)), rec.Signature, cert.Bytes())},
		{"no certificate", envelope(rec.BodyBytes, rec.Signature, nil)},
		{"certificate without signer", envelope(rec.BodyBytes[:len(rec.BodyBytes)-34], rec.Signature, cert.Bytes())},
		{"certificate too short", envelope(rec.BodyBytes, rec.Signature, cert.Bytes()[:record.CertSize-1])},
		{"certificate too long", envelope(rec.BodyBytes, rec.Signature, append(cert.Bytes(), 0))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := record.Decode(tt.raw); !errors.Is(err, record.ErrMalformed) {
				t.Fatalf("Decode() error = %v, want %v", err, record.ErrMalformed)
			}
		})
	}
	// A weak (small-order) device key never verifies.
	var weak record.Author // the identity point encodes as 01 00..00
	weak[0] = 1
	if err := cert.Verify(author, weak); err == nil {
		t.Fatal("Cert.Verify(weak device) = nil, want an error")
	}
	if _, err := record.IssueCert(root, weak, t0); !errors.Is(err, record.ErrWeakKey) {
		t.Fatalf("IssueCert(weak device) error = %v, want %v", err, record.ErrWeakKey)
	}
}

// BenchmarkVerify compares verifying a record signed by its author with one
// signed by a linked device (the certificate is checked once, then cached).
func BenchmarkVerify(b *testing.B) {
	root, dev := testKey(1), testKey(2)
	author, device := authorOf(root), authorOf(dev)
	cert, err := record.IssueCert(root, device, t0)
	if err != nil {
		b.Fatal(err)
	}
	byAuthor, err := record.Sign(root, deviceBody(author))
	if err != nil {
		b.Fatal(err)
	}
	byDevice, err := record.SignAsDevice(dev, cert, deviceBody(author))
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		rec  *record.Record
	}{{"author", byAuthor}, {"device", byDevice}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if err := bc.rec.Verify(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
