package api

import (
	"context"
	"time"
)

// DeviceBackend links, lists and revokes a practitioner's devices
// (docs/PROTOCOL.md, "Devices"). Joining a primary as a new device is not
// here: it changes the identity a data directory writes as, so it runs
// with no node running ('mentormesh device join', node.JoinDevice).
type DeviceBackend interface {
	// LinkDevice makes a one-time code a new device joins with. Only the
	// primary device of a running node can.
	LinkDevice(ctx context.Context, in DeviceLinkInput) (DeviceLinkCode, error)
	// Devices lists a practitioner's devices from its device records;
	// peerID "" means this node's practitioner.
	Devices(ctx context.Context, peerID string) ([]Device, error)
	// RevokeDevice revokes one of the caller's devices, named by its device
	// ID or its name. Only the primary device can.
	RevokeDevice(ctx context.Context, device string) (DeviceRevocation, error)
}

// DeviceLinkInput is the body of POST /api/v1/devices/link.
type DeviceLinkInput struct {
	// Name is what the new device will be called ("laptop").
	Name string `json:"name"`
}

// DeviceLinkCode answers POST /api/v1/devices/link.
type DeviceLinkCode struct {
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	ExpiresAt time.Time `json:"expires_at"`
	// Practitioner is the peer ID the new device will write as.
	Practitioner string `json:"practitioner"`
}

// Device states in Device.State.
const (
	DevicePrimary = "primary"
	DeviceLinked  = "linked"
	DeviceRevoked = "revoked"
)

// Device is one device of a practitioner.
type Device struct {
	// DeviceID is the device's own peer ID (for the primary, the
	// practitioner's).
	DeviceID  string     `json:"device_id"`
	Name      string     `json:"name"`
	State     string     `json:"state"`
	LinkedAt  *time.Time `json:"linked_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	// Communities are those where the device record was seen.
	Communities []string `json:"communities"`
	// ThisDevice marks the device answering the request.
	ThisDevice bool `json:"this_device"`
}

// DeviceRevocation answers POST /api/v1/devices/revoke.
type DeviceRevocation struct {
	Device Device `json:"device"`
	// Resigned counts the records the device had signed that the primary
	// signed again under the practitioner's key, so they keep counting.
	Resigned int `json:"resigned"`
}

// DeviceRevokeInput is the body of POST /api/v1/devices/revoke.
type DeviceRevokeInput struct {
	Device string `json:"device"`
}
