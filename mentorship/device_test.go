package mentorship_test

import (
	"encoding/hex"
	"errors"
	"testing"

	"github.com/mentormesh/mentormesh/internal/pbwire"
	"github.com/mentormesh/mentormesh/mentorship"
)

func TestDeviceRecord(t *testing.T) {
	key := mentorship.DeviceKey([32]byte{1, 2, 3})
	linked := mentorship.Device{Name: "laptop", State: mentorship.DeviceLinked, LinkedAt: 1000}
	revoked := mentorship.Device{Name: "laptop", State: mentorship.DeviceRevoked, LinkedAt: 1000, RevokedAt: 2000}
	enc := func(d mentorship.Device) []byte {
		b, err := d.Encode()
		if err != nil {
			t.Fatalf("Encode(%+v) error = %v", d, err)
		}
		return b
	}
	// raw encodes a device payload field by field, so tests can build
	// payloads Encode refuses.
	raw := func(state, linkedAt, revokedAt uint64) []byte {
		var e pbwire.Encoder
		e.String(1, "x")
		e.Uint(2, state)
		e.Uint(3, linkedAt)
		e.Uint(4, revokedAt)
		return e.Bytes()
	}
	const end9999 = 253402300799999 // the last millisecond of the year 9999
	tests := []struct {
		name    string
		key     string
		deleted bool
		payload []byte
		ok      bool
	}{
		{"linked", key, false, enc(linked), true},
		{"revoked", key, false, enc(revoked), true},
		{"key not hex", "laptop", false, enc(linked), false},
		{"key upper case", "0102030000000000000000000000000000000000000000000000000000000000"[:0] + "0A" + key[2:], false, enc(linked), false},
		{"key short", key[:62], false, enc(linked), false},
		{"tombstone", key, true, nil, false},
		{"unknown state", key, false, []byte{0x0a, 0x01, 'x', 0x10, 0x03, 0x18, 0x01}, false},
		{"revoked without time", key, false, []byte{0x0a, 0x01, 'x', 0x10, 0x02, 0x18, 0x01}, false},
		{"linked with revocation time", key, false, []byte{0x0a, 0x01, 'x', 0x10, 0x01, 0x18, 0x01, 0x20, 0x01}, false},
		{"unknown field", key, false, append(enc(linked), 0x28, 0x01), false},
		{"linked at the end of 9999", key, false, raw(1, end9999, 0), true},
		{"linked after 9999", key, false, raw(1, end9999+1, 0), false},
		{"linked at 2^64-1", key, false, raw(1, 1<<64-1, 0), false},
		{"revoked at the end of 9999", key, false, raw(2, 1000, end9999), true},
		{"revoked after 9999", key, false, raw(2, 1000, end9999+1), false},
		{"revoked at 2^64-1", key, false, raw(2, 1000, 1<<64-1), false},
		{"empty payload", key, false, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := mentorship.Kinds{}.ValidatePayload(mentorship.KindDevice, tt.key, tt.deleted, tt.payload)
			if (err == nil) != tt.ok {
				t.Fatalf("ValidatePayload(device, %q) = %v, want ok %v", tt.key, err, tt.ok)
			}
			if err != nil && !errors.Is(err, mentorship.ErrInvalid) {
				t.Fatalf("ValidatePayload error = %v, want %v", err, mentorship.ErrInvalid)
			}
		})
	}
	got, err := mentorship.DecodeDevice(enc(revoked))
	if err != nil || got != revoked {
		t.Fatalf("DecodeDevice(Encode(%+v)) = %+v, %v", revoked, got, err)
	}
}

// TestDeviceVector holds the encoder to the test vector of
// docs/PROTOCOL.md section 6.7.
func TestDeviceVector(t *testing.T) {
	d := mentorship.Device{Name: "laptop", State: mentorship.DeviceRevoked, LinkedAt: 1735689600000, RevokedAt: 1748779200000}
	got, err := d.Encode()
	if err != nil {
		t.Fatal(err)
	}
	const want = "0a066c6170746f70100218" + "80f8a5f9c132" + "20" + "80dcf3daf232"
	if hex.EncodeToString(got) != want {
		t.Fatalf("Encode(%+v) = %x, want %s", d, got, want)
	}
}
