package api

import (
	"context"
	"net/http"
	"net/url"
)

// LinkDevice implements Backend.
func (c *Client) LinkDevice(ctx context.Context, in DeviceLinkInput) (DeviceLinkCode, error) {
	var v DeviceLinkCode
	return v, c.do(ctx, http.MethodPost, "/api/v1/devices/link", in, &v)
}

// Devices implements Backend.
func (c *Client) Devices(ctx context.Context, peerID string) ([]Device, error) {
	var v []Device
	p := "/api/v1/devices"
	if peerID != "" {
		p += "?peer=" + url.QueryEscape(peerID)
	}
	return v, c.do(ctx, http.MethodGet, p, nil, &v)
}

// RevokeDevice implements Backend.
func (c *Client) RevokeDevice(ctx context.Context, device string) (DeviceRevocation, error) {
	var v DeviceRevocation
	return v, c.do(ctx, http.MethodPost, "/api/v1/devices/revoke", DeviceRevokeInput{Device: device}, &v)
}
