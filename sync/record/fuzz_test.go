package record

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// This file is in package record so the fuzz target can hold Decode to the
// encoder: whatever Decode accepts must be exactly what encodeBody and
// encodeEnvelope write for the decoded values.

func fuzzSeeds(f *testing.F) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*vector*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no test vectors in testdata (err %v)", err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		var v struct {
			RawHex string `json:"raw_hex"`
		}
		if err := json.Unmarshal(data, &v); err != nil {
			f.Fatalf("parsing %s: %v", file, err)
		}
		raw, err := hex.DecodeString(v.RawHex)
		if err != nil {
			f.Fatalf("%s: %v", file, err)
		}
		f.Add(raw)
	}

	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))
	var author Author
	copy(author[:], key.Public().(ed25519.PublicKey))
	ts := time.UnixMilli(1735689600000)
	for _, b := range []Body{
		{Community: "a", Author: author, Kind: "k", Version: 1, Timestamp: ts},
		{Community: "gophers", Author: author, Kind: "profile", Version: 9, Timestamp: ts, Expires: ts.Add(time.Hour), Payload: []byte{0x0a, 0x01, 'x'}},
		{Community: "x.y_z-0", Author: author, Kind: "goal", Key: "ключ", Version: MaxVersionAt(ts), Timestamp: ts, Deleted: true},
	} {
		r, err := Sign(key, b)
		if err != nil {
			f.Fatalf("Sign(%+v) error = %v", b, err)
		}
		f.Add(r.Raw)
		f.Add(r.BodyBytes)
		f.Add(r.Raw[:len(r.Raw)-1])
	}
	// A record signed by a linked device (body field 11, envelope field 3).
	devKey := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{10}, ed25519.SeedSize))
	var dev Author
	copy(dev[:], devKey.Public().(ed25519.PublicKey))
	cert, err := IssueCert(key, dev, ts)
	if err != nil {
		f.Fatal(err)
	}
	r, err := SignAsDevice(devKey, cert, Body{Community: "gophers", Author: author, Kind: "profile", Version: 2, Timestamp: ts, Payload: []byte{0x0a, 0x01, 'y'}})
	if err != nil {
		f.Fatalf("SignAsDevice error = %v", err)
	}
	f.Add(r.Raw)
	f.Add(r.Raw[:len(r.Raw)-CertSize-2]) // certificate cut off
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x00})
}

func FuzzDecode(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := Decode(in)
		if err != nil {
			if r != nil {
				t.Fatalf("Decode(%x) = %+v, %v; want nil record with the error", in, r, err)
			}
			if len(in) > MaxRecordSize && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Decode(%d bytes) error = %v, want %v", len(in), err, ErrTooLarge)
			}
			return
		}
		if len(in) > MaxRecordSize {
			t.Fatalf("Decode(%d bytes) succeeded, want %v", len(in), ErrTooLarge)
		}
		if !bytes.Equal(r.Raw, in) || len(r.Signature) != ed25519.SignatureSize {
			t.Fatalf("Decode(%x): Raw %x, signature %d bytes", in, r.Raw, len(r.Signature))
		}
		if r.ID != sha256.Sum256(in) {
			t.Fatalf("Decode(%x).ID = %s, want sha256 of the input", in, r.ID)
		}
		// Canonical: one encoding per value.
		if got := encodeBody(&r.Body); !bytes.Equal(got, r.BodyBytes) {
			t.Fatalf("encodeBody(Decode(%x).Body) = %x, want %x", in, got, r.BodyBytes)
		}
		var cert []byte
		if r.Cert != nil {
			cert = r.Cert.Bytes()
		}
		if got := encodeEnvelope(r.BodyBytes, r.Signature, cert); !bytes.Equal(got, in) {
			t.Fatalf("encodeEnvelope(Decode(%x)) = %x, want the input", in, got)
		}
		if err := r.validate(); err != nil {
			t.Fatalf("Decode(%x) returned a body that fails validate: %v", in, err)
		}
		again, err := Decode(r.Raw)
		if err != nil || again.ID != r.ID || again.Meta() != r.Meta() || again.Addr() != r.Addr() {
			t.Fatalf("Decode(Decode(%x).Raw) = %+v, %v; want the same record", in, again, err)
		}
		_ = r.Verify() // must not panic
		_ = r.CheckTime(time.UnixMilli(1735689600000))
	})
}
