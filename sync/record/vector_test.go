package record_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/sync/record"
)

// vector is a test vector in testdata/vector*.json, the form
// docs/PROTOCOL.md cites for other implementations. The vectors were
// cross-checked against an independent encoder and Ed25519 implementation.
type vector struct {
	Description        string `json:"description"`
	SeedHex            string `json:"seed_hex"`
	PublicKeyHex       string `json:"public_key_hex"`
	PeerID             string `json:"peer_id"`
	SignaturePrefixHex string `json:"signature_prefix_hex"`
	Body               struct {
		Format      uint64 `json:"format"`
		Community   string `json:"community"`
		Kind        string `json:"kind"`
		Key         string `json:"key"`
		Version     uint64 `json:"version"`
		TimestampMS int64  `json:"timestamp_ms"`
		Deleted     bool   `json:"deleted"`
		ExpiresMS   int64  `json:"expires_ms"`
		PayloadHex  string `json:"payload_hex"`
	} `json:"body"`
	BodyHex      string `json:"body_hex"`
	SignatureHex string `json:"signature_hex"`
	RawHex       string `json:"raw_hex"`
	IDHex        string `json:"id_hex"`
}

func loadVectors(t testing.TB) map[string]vector {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "vector*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test vectors in testdata (err %v)", err)
	}
	vs := make(map[string]vector)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("reading %s: %v", f, err)
		}
		var v vector
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("parsing %s: %v", f, err)
		}
		vs[filepath.Base(f)] = v
	}
	return vs
}

func unhex(t testing.TB, what, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("%s: bad hex: %v", what, err)
	}
	return b
}

func TestVectors(t *testing.T) {
	for name, v := range loadVectors(t) {
		t.Run(name, func(t *testing.T) {
			seed := unhex(t, "seed_hex", v.SeedHex)
			if len(seed) != ed25519.SeedSize {
				t.Fatalf("seed is %d bytes, want %d", len(seed), ed25519.SeedSize)
			}
			key := ed25519.NewKeyFromSeed(seed)
			author := authorOf(key)
			if got := hex.EncodeToString(author[:]); got != v.PublicKeyHex {
				t.Fatalf("public key of seed = %s, want %s", got, v.PublicKeyHex)
			}
			if got := author.String(); got != v.PeerID {
				t.Errorf("Author.String() = %s, want %s", got, v.PeerID)
			}
			if got := hex.EncodeToString([]byte(record.SignaturePrefix)); got != v.SignaturePrefixHex {
				t.Errorf("SignaturePrefix = %s, want %s", got, v.SignaturePrefixHex)
			}
			if v.Body.Format != record.Format {
				t.Fatalf("vector format %d, this package writes %d", v.Body.Format, record.Format)
			}
			body := record.Body{
				Community: v.Body.Community,
				Author:    author,
				Kind:      v.Body.Kind,
				Key:       v.Body.Key,
				Version:   v.Body.Version,
				Timestamp: time.UnixMilli(v.Body.TimestampMS),
				Deleted:   v.Body.Deleted,
				Payload:   unhex(t, "payload_hex", v.Body.PayloadHex),
			}
			if v.Body.ExpiresMS != 0 {
				body.Expires = time.UnixMilli(v.Body.ExpiresMS)
			}
			if len(body.Payload) == 0 {
				body.Payload = nil
			}

			r := mustSign(t, key, body)
			for _, c := range []struct{ what, got, want string }{
				{"BodyBytes", hex.EncodeToString(r.BodyBytes), v.BodyHex},
				{"Signature", hex.EncodeToString(r.Signature), v.SignatureHex},
				{"Raw", hex.EncodeToString(r.Raw), v.RawHex},
				{"ID", r.ID.String(), v.IDHex},
			} {
				if c.got != c.want {
					t.Errorf("Sign(vector).%s = %s, want %s", c.what, c.got, c.want)
				}
			}

			// The other direction: the expected bytes decode to the fields
			// and verify.
			raw := unhex(t, "raw_hex", v.RawHex)
			got, err := record.Decode(raw)
			if err != nil {
				t.Fatalf("Decode(raw_hex) error = %v", err)
			}
			if !bodyEqual(got.Body, body) {
				t.Errorf("Decode(raw_hex).Body = %+v, want %+v", got.Body, body)
			}
			if got.ID.String() != v.IDHex {
				t.Errorf("Decode(raw_hex).ID = %s, want %s", got.ID, v.IDHex)
			}
			if err := got.Verify(); err != nil {
				t.Errorf("Decode(raw_hex).Verify() = %v, want nil", err)
			}
			msg := append(unhex(t, "signature_prefix_hex", v.SignaturePrefixHex), unhex(t, "body_hex", v.BodyHex)...)
			if !ed25519.Verify(author[:], msg, unhex(t, "signature_hex", v.SignatureHex)) {
				t.Errorf("ed25519.Verify(public_key, prefix+body, signature) = false, want true")
			}
		})
	}
}
