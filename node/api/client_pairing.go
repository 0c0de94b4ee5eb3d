package api

import (
	"context"
	"net/http"
	"net/url"
)

// ProposePairing implements Backend.
func (c *Client) ProposePairing(ctx context.Context, in PairingProposal) (Pairing, error) {
	var v Pairing
	return v, c.do(ctx, http.MethodPost, "/api/v1/pairings", in, &v)
}

// AcceptPairing implements Backend.
func (c *Client) AcceptPairing(ctx context.Context, id string, in PairingUpdate) (Pairing, error) {
	return c.pairingAction(ctx, id, "accept", in)
}

// DeclinePairing implements Backend.
func (c *Client) DeclinePairing(ctx context.Context, id string, in PairingUpdate) (Pairing, error) {
	return c.pairingAction(ctx, id, "decline", in)
}

// CancelPairing implements Backend.
func (c *Client) CancelPairing(ctx context.Context, id string, in PairingUpdate) (Pairing, error) {
	return c.pairingAction(ctx, id, "cancel", in)
}

// CompletePairing implements Backend.
func (c *Client) CompletePairing(ctx context.Context, id string, in PairingUpdate) (Pairing, error) {
	return c.pairingAction(ctx, id, "complete", in)
}

func (c *Client) pairingAction(ctx context.Context, id, action string, in PairingUpdate) (Pairing, error) {
	var v Pairing
	return v, c.do(ctx, http.MethodPost, "/api/v1/pairings/"+url.PathEscape(id)+"/"+action, in, &v)
}

// Pairings implements Backend.
func (c *Client) Pairings(ctx context.Context, q PairingQuery) ([]Pairing, error) {
	v := url.Values{}
	if q.Community != "" {
		v.Set("community", q.Community)
	}
	if q.State != "" {
		v.Set("state", q.State)
	}
	p := "/api/v1/pairings"
	if len(v) > 0 {
		p += "?" + v.Encode()
	}
	var out []Pairing
	return out, c.do(ctx, http.MethodGet, p, nil, &out)
}

// Pairing implements Backend.
func (c *Client) Pairing(ctx context.Context, id, community string) (Pairing, error) {
	p := "/api/v1/pairings/" + url.PathEscape(id)
	if community != "" {
		p += "?community=" + url.QueryEscape(community)
	}
	var v Pairing
	return v, c.do(ctx, http.MethodGet, p, nil, &v)
}
