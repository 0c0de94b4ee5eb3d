package mentorship

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// sealVector is a test vector in testdata/private/vector*.json, generated
// by testdata/private/vectors.py, an implementation that shares no code
// with this package. docs/PROTOCOL.md cites them for other clients.
type sealVector struct {
	Description       string `json:"description"`
	SeedAHex          string `json:"seed_a_hex"`
	SeedBHex          string `json:"seed_b_hex"`
	PublicAHex        string `json:"public_a_hex"`
	PublicBHex        string `json:"public_b_hex"`
	X25519PrivateAHex string `json:"x25519_private_a_hex"`
	X25519PrivateBHex string `json:"x25519_private_b_hex"`
	X25519PublicAHex  string `json:"x25519_public_a_hex"`
	X25519PublicBHex  string `json:"x25519_public_b_hex"`
	SharedSecretHex   string `json:"shared_secret_hex"`
	Community         string `json:"community"`
	PairingID         string `json:"pairing_id"`
	HKDFInfoHex       string `json:"hkdf_info_hex"`
	PairKeyHex        string `json:"pair_key_hex"`
	Writer            string `json:"writer"`
	ItemID            string `json:"item_id"`
	RecordKey         string `json:"record_key"`
	Item              struct {
		Type    uint64 `json:"type"`
		Title   string `json:"title"`
		Status  uint64 `json:"status"`
		DueMS   int64  `json:"due_ms"`
		DateMS  int64  `json:"date_ms"`
		Minutes int    `json:"minutes"`
		Text    string `json:"text"`
	} `json:"item"`
	PlaintextHex string `json:"plaintext_hex"`
	PaddedLen    int    `json:"padded_len"`
	AADHex       string `json:"aad_hex"`
	NonceHex     string `json:"nonce_hex"`
	PayloadHex   string `json:"payload_hex"`
}

func loadSealVectors(t *testing.T) map[string]sealVector {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "private", "vector*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test vectors in testdata/private (err %v)", err)
	}
	vs := make(map[string]sealVector)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v sealVector
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("parsing %s: %v", f, err)
		}
		vs[filepath.Base(f)] = v
	}
	return vs
}

func vhex(t *testing.T, what, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("%s: bad hex: %v", what, err)
	}
	return b
}

func (v sealVector) item() Item {
	it := Item{Type: ItemType(v.Item.Type), Title: v.Item.Title, Status: GoalStatus(v.Item.Status), Minutes: v.Item.Minutes, Text: v.Item.Text}
	if v.Item.DueMS != 0 {
		it.Due = time.UnixMilli(v.Item.DueMS).UTC()
	}
	if v.Item.DateMS != 0 {
		it.Date = time.UnixMilli(v.Item.DateMS).UTC()
	}
	return it
}

// TestSealVectors reproduces every intermediate value and the payload of
// each vector, in both directions, from both partners' side.
func TestSealVectors(t *testing.T) {
	for name, v := range loadSealVectors(t) {
		t.Run(name, func(t *testing.T) {
			check := func(what string, got []byte, wantHex string) {
				t.Helper()
				if g := hex.EncodeToString(got); g != wantHex {
					t.Errorf("%s = %s, want %s", what, g, wantHex)
				}
			}
			keyA := ed25519.NewKeyFromSeed(vhex(t, "seed_a", v.SeedAHex))
			keyB := ed25519.NewKeyFromSeed(vhex(t, "seed_b", v.SeedBHex))
			var pubA, pubB [32]byte
			copy(pubA[:], keyA[32:])
			copy(pubB[:], keyB[32:])
			check("public key A", pubA[:], v.PublicAHex)
			check("public key B", pubB[:], v.PublicBHex)

			for _, side := range []struct {
				name              string
				priv              ed25519.PrivateKey
				pub               [32]byte
				wantPriv, wantPub string
			}{
				{"A", keyA, pubA, v.X25519PrivateAHex, v.X25519PublicAHex},
				{"B", keyB, pubB, v.X25519PrivateBHex, v.X25519PublicBHex},
			} {
				xp, err := x25519Private(side.priv)
				if err != nil {
					t.Fatalf("x25519Private(%s) error = %v", side.name, err)
				}
				// crypto/ecdh clamps on use but keeps the given bytes.
				check("X25519 private "+side.name, xp.Bytes(), side.wantPriv)
				check("X25519 public of the private key "+side.name, xp.PublicKey().Bytes(), side.wantPub)
				xpub, err := x25519Public(side.pub)
				if err != nil {
					t.Fatalf("x25519Public(%s) error = %v", side.name, err)
				}
				check("X25519 public of the Ed25519 key "+side.name, xpub.Bytes(), side.wantPub)
			}
			xa, _ := x25519Private(keyA)
			xb, _ := x25519Public(pubB)
			shared, err := xa.ECDH(xb)
			if err != nil {
				t.Fatal(err)
			}
			check("shared secret", shared, v.SharedSecretHex)
			check("HKDF info", pairKeyInfo(v.Community, v.PairingID, pubA, pubB), v.HKDFInfoHex)
			check("HKDF info (keys given the other way)", pairKeyInfo(v.Community, v.PairingID, pubB, pubA), v.HKDFInfoHex)
			for _, d := range []struct {
				name    string
				self    ed25519.PrivateKey
				partner [32]byte
			}{{"A", keyA, pubB}, {"B", keyB, pubA}} {
				k, err := derivePairKey(d.self, d.partner, v.Community, v.PairingID)
				if err != nil {
					t.Fatalf("derivePairKey(%s) error = %v", d.name, err)
				}
				check("pair key derived by "+d.name, k, v.PairKeyHex)
			}

			writer, reader, writerPub := keyA, keyB, pubA
			readerPartner := pubA
			writerPartner := pubB
			if v.Writer == "b" {
				writer, reader, writerPub = keyB, keyA, pubB
				readerPartner, writerPartner = pubB, pubA
			}
			check("AAD", sealAAD(SealLabel, v.Community, writerPub, v.RecordKey), v.AADHex)
			plain, err := v.item().Encode()
			if err != nil {
				t.Fatalf("Encode(item) error = %v", err)
			}
			check("item plaintext", plain, v.PlaintextHex)
			if padded, _ := sealPad(plain, "item"); len(padded) != v.PaddedLen {
				t.Errorf("padded length = %d, want %d", len(padded), v.PaddedLen)
			}

			wk, err := NewPairKey(writer, writerPartner, v.Community, v.PairingID)
			if err != nil {
				t.Fatal(err)
			}
			key, payload, err := wk.Seal(bytes.NewReader(vhex(t, "nonce", v.NonceHex)), v.ItemID, v.item())
			if err != nil {
				t.Fatalf("Seal error = %v", err)
			}
			if key != v.RecordKey {
				t.Errorf("Seal record key = %q, want %q", key, v.RecordKey)
			}
			check("payload", payload, v.PayloadHex)

			// The other direction: the partner (and the writer) open the
			// expected payload.
			rk, err := NewPairKey(reader, readerPartner, v.Community, v.PairingID)
			if err != nil {
				t.Fatal(err)
			}
			for who, k := range map[string]*PairKey{"partner": rk, "writer": wk} {
				id, it, err := k.Open(writerPub, v.RecordKey, vhex(t, "payload", v.PayloadHex))
				if err != nil {
					t.Fatalf("Open by the %s error = %v", who, err)
				}
				if id != v.ItemID || it != v.item().Normalize() {
					t.Errorf("Open by the %s = %s, %+v; want %s, %+v", who, id, it, v.ItemID, v.item())
				}
			}
			if err := (Kinds{}).ValidatePayload(KindPrivate, v.RecordKey, false, vhex(t, "payload", v.PayloadHex)); err != nil {
				t.Errorf("ValidatePayload(vector payload) = %v, want nil", err)
			}
		})
	}
}
