package mentorship

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/mentormesh/mentormesh/internal/pbwire"
)

// KindDevice is a practitioner's statement about one of its linked devices
// (key: the device's Ed25519 public key in lowercase hex). Only the
// practitioner's root key may sign it: the replication layer rejects a
// device record signed by a device.
const KindDevice = "device"

// Device states.
const (
	DeviceLinked  DeviceState = 1
	DeviceRevoked DeviceState = 2
)

// DeviceState is whether a device may sign for its practitioner.
type DeviceState uint64

func (s DeviceState) String() string {
	switch s {
	case DeviceLinked:
		return "linked"
	case DeviceRevoked:
		return "revoked"
	}
	return fmt.Sprintf("state %d", uint64(s))
}

// MaxDeviceName caps a device's name.
const MaxDeviceName = 64

const maxDeviceSz = 1 << 10

// Device is the payload of a device record.
type Device struct {
	// Name is what the practitioner calls the device ("laptop").
	Name  string
	State DeviceState
	// LinkedAt and RevokedAt are Unix milliseconds, at most the end of the
	// year 9999; RevokedAt is set exactly when State is DeviceRevoked.
	LinkedAt  uint64
	RevokedAt uint64
}

// Field numbers of the device payload (docs/PROTOCOL.md).
const (
	fDevName      = 1
	fDevState     = 2
	fDevLinkedAt  = 3
	fDevRevokedAt = 4
)

// Validate checks the device against the domain's rules.
func (d Device) Validate() error {
	if err := checkTextOf("device", "name", d.Name, MaxDeviceName, false); err != nil {
		return err
	}
	if d.Name != strings.TrimSpace(d.Name) {
		return fmt.Errorf("%w device: name has surrounding spaces", ErrInvalid)
	}
	if d.LinkedAt == 0 {
		return fmt.Errorf("%w device: no link time", ErrInvalid)
	}
	if d.LinkedAt > maxUnixMilli || d.RevokedAt > maxUnixMilli {
		// The bound of every record time.
		return fmt.Errorf("%w device: time after the year 9999", ErrInvalid)
	}
	switch d.State {
	case DeviceLinked:
		if d.RevokedAt != 0 {
			return fmt.Errorf("%w device: a linked device has no revocation time", ErrInvalid)
		}
	case DeviceRevoked:
		if d.RevokedAt == 0 {
			return fmt.Errorf("%w device: a revoked device needs its revocation time", ErrInvalid)
		}
	default:
		return fmt.Errorf("%w device: unknown state %d", ErrInvalid, uint64(d.State))
	}
	return nil
}

// Encode validates and encodes the device.
func (d Device) Encode() ([]byte, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	var e pbwire.Encoder
	e.String(fDevName, d.Name)
	e.Uint(fDevState, uint64(d.State))
	e.Uint(fDevLinkedAt, d.LinkedAt)
	e.Uint(fDevRevokedAt, d.RevokedAt)
	return e.Bytes(), nil
}

// DecodeDevice decodes and validates a device payload strictly.
func DecodeDevice(b []byte) (Device, error) {
	if len(b) > maxDeviceSz {
		return Device{}, fmt.Errorf("%w device: %d bytes, limit %d", ErrInvalid, len(b), maxDeviceSz)
	}
	var d Device
	dec := pbwire.NewDecoder(b)
	for dec.Next() {
		switch dec.Field().Num {
		case fDevName:
			d.Name = dec.StringValue()
		case fDevState:
			d.State = DeviceState(dec.Varint())
		case fDevLinkedAt:
			d.LinkedAt = dec.Varint()
		case fDevRevokedAt:
			d.RevokedAt = dec.Varint()
		default:
			dec.Unknown()
		}
	}
	if err := dec.Err(); err != nil {
		return Device{}, fmt.Errorf("%w device: %w", ErrInvalid, err)
	}
	return d, d.Validate()
}

// DeviceKey is the record key of a device: its public key in lowercase hex.
func DeviceKey(device [32]byte) string { return hex.EncodeToString(device[:]) }

// ParseDeviceKey parses a device record key.
func ParseDeviceKey(key string) ([32]byte, error) {
	var out [32]byte
	b, err := hex.DecodeString(key)
	if err != nil || len(b) != 32 || key != strings.ToLower(key) {
		return out, fmt.Errorf("%w device: key must be 64 lowercase hex characters (the device's public key)", ErrInvalid)
	}
	copy(out[:], b)
	return out, nil
}

func validateDeviceRecord(key string, deleted bool, payload []byte) error {
	if _, err := ParseDeviceKey(key); err != nil {
		return err
	}
	if deleted {
		return fmt.Errorf("%w device: a device record is never deleted (revoke it)", ErrInvalid)
	}
	_, err := DecodeDevice(payload)
	return err
}
