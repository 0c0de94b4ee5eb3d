package api

import (
	"context"
	"net/http"
	"net/url"
)

// Block implements Backend.
func (c *Client) Block(ctx context.Context, in BlockInput) (BlockedPeer, error) {
	var v BlockedPeer
	return v, c.do(ctx, http.MethodPost, "/api/v1/blocks", in, &v)
}

// Unblock implements Backend.
func (c *Client) Unblock(ctx context.Context, peerID string) error {
	return c.do(ctx, http.MethodDelete, "/api/v1/blocks/"+url.PathEscape(peerID), nil, nil)
}

// Blocks implements Backend.
func (c *Client) Blocks(ctx context.Context) ([]BlockedPeer, error) {
	var v []BlockedPeer
	return v, c.do(ctx, http.MethodGet, "/api/v1/blocks", nil, &v)
}

// FollowSteward implements Backend.
func (c *Client) FollowSteward(ctx context.Context, in StewardInput) (Steward, error) {
	var v Steward
	return v, c.do(ctx, http.MethodPost, "/api/v1/stewards", in, &v)
}

// UnfollowSteward implements Backend.
func (c *Client) UnfollowSteward(ctx context.Context, peerID, community string) error {
	p := "/api/v1/stewards/" + url.PathEscape(peerID)
	if community != "" {
		p += "?community=" + url.QueryEscape(community)
	}
	return c.do(ctx, http.MethodDelete, p, nil, nil)
}

// Stewards implements Backend.
func (c *Client) Stewards(ctx context.Context) ([]Steward, error) {
	var v []Steward
	return v, c.do(ctx, http.MethodGet, "/api/v1/stewards", nil, &v)
}
