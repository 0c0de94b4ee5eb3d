package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// resourcePath is the path of a resource reference; a "<peer>/<ID>"
// reference keeps its slash escaped so it stays one path segment.
func resourcePath(ref string, rest string) string {
	if ref == "" {
		// An empty segment would name another endpoint; a blank one
		// reaches the backend, which answers as it does in process.
		ref = " "
	}
	return "/api/v1/resources/" + url.PathEscape(ref) + rest
}

func withResourceCommunity(p, community string) string {
	if community != "" {
		p += "?community=" + url.QueryEscape(community)
	}
	return p
}

// AddResource implements Backend.
func (c *Client) AddResource(ctx context.Context, in ResourceInput) (Resource, error) {
	var v Resource
	return v, c.do(ctx, http.MethodPost, "/api/v1/resources", in, &v)
}

// EditResource implements Backend.
func (c *Client) EditResource(ctx context.Context, ref string, in ResourceInput) (Resource, error) {
	var v Resource
	return v, c.do(ctx, http.MethodPut, resourcePath(ref, ""), in, &v)
}

// DeleteResource implements Backend.
func (c *Client) DeleteResource(ctx context.Context, ref, community string) error {
	return c.do(ctx, http.MethodDelete, withResourceCommunity(resourcePath(ref, ""), community), nil, nil)
}

// Resources implements Backend.
func (c *Client) Resources(ctx context.Context, q ResourceQuery) (ResourceList, error) {
	p := url.Values{}
	for k, v := range map[string]string{
		"community": q.Community, "q": q.Text, "tag": q.Tag, "type": q.Type, "lang": q.Language, "author": q.Author,
	} {
		if v != "" {
			p.Set(k, v)
		}
	}
	if q.Limit != 0 {
		p.Set("limit", strconv.Itoa(q.Limit))
	}
	path := "/api/v1/resources"
	if len(p) > 0 {
		path += "?" + p.Encode()
	}
	var v ResourceList
	return v, c.do(ctx, http.MethodGet, path, nil, &v)
}

// Resource implements Backend.
func (c *Client) Resource(ctx context.Context, ref, community string) (ResourceDetail, error) {
	var v ResourceDetail
	return v, c.do(ctx, http.MethodGet, withResourceCommunity(resourcePath(ref, ""), community), nil, &v)
}

// EndorseResource implements Backend.
func (c *Client) EndorseResource(ctx context.Context, ref string, in EndorseInput) (ResourceDetail, error) {
	var v ResourceDetail
	return v, c.do(ctx, http.MethodPost, resourcePath(ref, "/endorsement"), in, &v)
}

// UnendorseResource implements Backend.
func (c *Client) UnendorseResource(ctx context.Context, ref, community string) error {
	return c.do(ctx, http.MethodDelete, withResourceCommunity(resourcePath(ref, "/endorsement"), community), nil, nil)
}
