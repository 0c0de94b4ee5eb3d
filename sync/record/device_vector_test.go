package record_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/sync/record"
)

// TestDeviceVector reproduces testdata/device-vector1.json (computed by an
// independent encoder and Ed25519 implementation, docs/PROTOCOL.md section
// 11): certificate, body, signature, envelope and ID of a device-signed
// record, from the seeds and fields.
func TestDeviceVector(t *testing.T) {
	data, err := os.ReadFile("testdata/device-vector1.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Description          string `json:"description"`
		RootSeedHex          string `json:"root_seed_hex"`
		RootPublicKeyHex     string `json:"root_public_key_hex"`
		DeviceSeedHex        string `json:"device_seed_hex"`
		DevicePublicKeyHex   string `json:"device_public_key_hex"`
		CertificatePrefixHex string `json:"certificate_prefix_hex"`
		IssuedMS             int64  `json:"issued_ms"`
		CertificateHex       string `json:"certificate_hex"`
		Body                 struct {
			Community   string `json:"community"`
			Kind        string `json:"kind"`
			Version     uint64 `json:"version"`
			TimestampMS int64  `json:"timestamp_ms"`
			PayloadHex  string `json:"payload_hex"`
		} `json:"body"`
		BodyHex      string `json:"body_hex"`
		SignatureHex string `json:"signature_hex"`
		RawHex       string `json:"raw_hex"`
		IDHex        string `json:"id_hex"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	root := ed25519.NewKeyFromSeed(unhex(t, "root seed", v.RootSeedHex))
	dev := ed25519.NewKeyFromSeed(unhex(t, "device seed", v.DeviceSeedHex))
	var author, device record.Author
	copy(author[:], root.Public().(ed25519.PublicKey))
	copy(device[:], dev.Public().(ed25519.PublicKey))
	if hex.EncodeToString(author[:]) != v.RootPublicKeyHex || hex.EncodeToString(device[:]) != v.DevicePublicKeyHex {
		t.Fatal("public keys differ from the vector's")
	}
	if hex.EncodeToString([]byte(record.CertPrefix)) != v.CertificatePrefixHex {
		t.Fatalf("CertPrefix = %x, want %s", record.CertPrefix, v.CertificatePrefixHex)
	}
	cert, err := record.IssueCert(root, device, time.UnixMilli(v.IssuedMS))
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(cert.Bytes()); got != v.CertificateHex {
		t.Fatalf("certificate = %s, want %s", got, v.CertificateHex)
	}
	rec, err := record.SignAsDevice(dev, cert, record.Body{
		Community: v.Body.Community, Author: author, Kind: v.Body.Kind, Version: v.Body.Version,
		Timestamp: time.UnixMilli(v.Body.TimestampMS), Payload: unhex(t, "payload", v.Body.PayloadHex),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ what, got, want string }{
		{"body", hex.EncodeToString(rec.BodyBytes), v.BodyHex},
		{"signature", hex.EncodeToString(rec.Signature), v.SignatureHex},
		{"envelope", hex.EncodeToString(rec.Raw), v.RawHex},
		{"ID", rec.ID.String(), v.IDHex},
	} {
		if c.got != c.want {
			t.Errorf("%s = %s, want %s", c.what, c.got, c.want)
		}
	}
	got, err := record.Decode(unhex(t, "raw", v.RawHex))
	if err != nil {
		t.Fatal(err)
	}
	if err := got.Verify(); err != nil || got.Signer != device {
		t.Fatalf("Verify(vector) = %v, signer %s; want nil, %s", err, got.Signer, device)
	}
}
