package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Client talks to a node's API. It implements Backend.
type Client struct {
	base  string
	token string
	hc    *http.Client
}

var _ Backend = (*Client)(nil)

// NewClient returns a client for the API at addr (host:port) using token.
func NewClient(addr, token string) *Client {
	return &Client{
		base:  "http://" + addr,
		token: token,
		hc:    &http.Client{Timeout: 30 * time.Second},
	}
}

// ID implements Backend.
func (c *Client) ID(ctx context.Context) (Identity, error) {
	var v Identity
	return v, c.do(ctx, http.MethodGet, "/api/v1/id", nil, &v)
}

// Peers implements Backend.
func (c *Client) Peers(ctx context.Context) ([]Peer, error) {
	var v []Peer
	return v, c.do(ctx, http.MethodGet, "/api/v1/peers", nil, &v)
}

// Status implements Backend.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var v Status
	return v, c.do(ctx, http.MethodGet, "/api/v1/status", nil, &v)
}

// Shutdown asks the node to stop.
func (c *Client) Shutdown(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/api/v1/shutdown", nil, nil)
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encoding request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("calling the node's API at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return readError(resp)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("reading API response: %w", err)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decoding API response: %w", err)
	}
	return nil
}

// LoginLink asks the node for a one-time link that opens the page in a
// browser (what `mentormesh open` prints).
func (c *Client) LoginLink(ctx context.Context) (LoginLink, error) {
	var v LoginLink
	return v, c.do(ctx, http.MethodPost, "/api/v1/login-links", nil, &v)
}

// readError turns an error response into *Error.
func readError(resp *http.Response) error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &Error{Status: resp.StatusCode}
	if json.Unmarshal(data, e) != nil || e.Message == "" {
		e.Code, e.Message = CodeInternal, fmt.Sprintf("API answered %s", resp.Status)
	}
	return e
}
