package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// SetProfile implements Backend.
func (c *Client) SetProfile(ctx context.Context, in ProfileInput) (Profile, error) {
	var v Profile
	return v, c.do(ctx, http.MethodPut, "/api/v1/profile", in, &v)
}

// DeleteProfile implements Backend.
func (c *Client) DeleteProfile(ctx context.Context, community string) error {
	p := "/api/v1/profile"
	if community != "" {
		p += "?community=" + url.QueryEscape(community)
	}
	return c.do(ctx, http.MethodDelete, p, nil, nil)
}

// Profile implements Backend.
func (c *Client) Profile(ctx context.Context, peerID, community string) (Profile, error) {
	if peerID == "" {
		peerID = "self"
	}
	p := "/api/v1/profiles/" + url.PathEscape(peerID)
	if community != "" {
		p += "?community=" + url.QueryEscape(community)
	}
	var v Profile
	return v, c.do(ctx, http.MethodGet, p, nil, &v)
}

// ListProfiles implements Backend.
func (c *Client) ListProfiles(ctx context.Context, community string) ([]Profile, error) {
	p := "/api/v1/profiles"
	if community != "" {
		p += "?community=" + url.QueryEscape(community)
	}
	var v []Profile
	return v, c.do(ctx, http.MethodGet, p, nil, &v)
}

// FindMentors implements Backend.
func (c *Client) FindMentors(ctx context.Context, q MentorQuery) (MentorResults, error) {
	v := url.Values{}
	if q.Community != "" {
		v.Set("community", q.Community)
	}
	v["skill"] = q.Skills
	v["lang"] = q.Languages
	if q.TimeZone != "" {
		v.Set("tz", q.TimeZone)
	}
	if q.Experience != "" {
		v.Set("experience", q.Experience)
	}
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var res MentorResults
	return res, c.do(ctx, http.MethodGet, "/api/v1/mentors?"+v.Encode(), nil, &res)
}

// Stats implements Backend.
func (c *Client) Stats(ctx context.Context, community string) (Stats, error) {
	p := "/api/v1/stats"
	if community != "" {
		p += "?community=" + url.QueryEscape(community)
	}
	var v Stats
	return v, c.do(ctx, http.MethodGet, p, nil, &v)
}
