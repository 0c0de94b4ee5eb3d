package api

import (
	"context"
	"net/http"
	"net/url"
)

// Communities implements Backend.
func (c *Client) Communities(ctx context.Context) (CommunityList, error) {
	var v CommunityList
	return v, c.do(ctx, http.MethodGet, "/api/v1/communities", nil, &v)
}

// JoinCommunity implements Backend.
func (c *Client) JoinCommunity(ctx context.Context, name string) (CommunityChange, error) {
	var v CommunityChange
	return v, c.do(ctx, http.MethodPost, "/api/v1/communities", CommunityInput{Name: name}, &v)
}

// LeaveCommunity implements Backend.
func (c *Client) LeaveCommunity(ctx context.Context, name string) (CommunityChange, error) {
	var v CommunityChange
	if name == "" {
		return v, NoCommunityName() // no route would match an empty name
	}
	return v, c.do(ctx, http.MethodDelete, "/api/v1/communities/"+url.PathEscape(name), nil, &v)
}
