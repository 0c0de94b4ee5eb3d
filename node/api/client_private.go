package api

import (
	"context"
	"net/http"
	"net/url"
)

// privateItemsPath is the path of a pairing's private endpoints.
func privateItemsPath(id string, rest ...string) string {
	p := "/api/v1/pairings/" + url.PathEscape(id)
	for _, r := range rest {
		p += "/" + url.PathEscape(r)
	}
	return p
}

// PairItems implements Backend.
func (c *Client) PairItems(ctx context.Context, community, pairingID string) (PairItems, error) {
	p := privateItemsPath(pairingID, "items")
	if community != "" {
		p += "?community=" + url.QueryEscape(community)
	}
	var v PairItems
	return v, c.do(ctx, http.MethodGet, p, nil, &v)
}

// AddGoal implements Backend.
func (c *Client) AddGoal(ctx context.Context, pairingID string, in GoalInput) (PairItem, error) {
	var v PairItem
	return v, c.do(ctx, http.MethodPost, privateItemsPath(pairingID, "goals"), in, &v)
}

// UpdateGoal implements Backend.
func (c *Client) UpdateGoal(ctx context.Context, pairingID, goalID string, in GoalUpdate) (PairItem, error) {
	var v PairItem
	return v, c.do(ctx, http.MethodPut, privateItemsPath(pairingID, "goals", goalID), in, &v)
}

// LogSession implements Backend.
func (c *Client) LogSession(ctx context.Context, pairingID string, in SessionInput) (PairItem, error) {
	var v PairItem
	return v, c.do(ctx, http.MethodPost, privateItemsPath(pairingID, "sessions"), in, &v)
}

// AddNote implements Backend.
func (c *Client) AddNote(ctx context.Context, pairingID string, in NoteInput) (PairItem, error) {
	var v PairItem
	return v, c.do(ctx, http.MethodPost, privateItemsPath(pairingID, "notes"), in, &v)
}

// SetContact implements Backend.
func (c *Client) SetContact(ctx context.Context, pairingID string, in ContactInput) (PairItem, error) {
	var v PairItem
	return v, c.do(ctx, http.MethodPut, privateItemsPath(pairingID, "contact"), in, &v)
}
