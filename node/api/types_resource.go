package api

import (
	"context"
	"time"
)

// ResourceBackend manages shared resources and endorsements.
//
// A resource is named by a reference: its ID (32 hex characters), which
// is random and so unique in practice, or "<author peer ID>/<ID>", which is
// always unique. A bare ID that two authors used is refused as ambiguous,
// with the full references to choose from. Community "" means the first
// joined community.
type ResourceBackend interface {
	// AddResource writes a new resource of the caller's with a fresh ID.
	AddResource(ctx context.Context, in ResourceInput) (Resource, error)
	// EditResource writes a new version of one of the caller's resources;
	// nil fields of in keep their value.
	EditResource(ctx context.Context, ref string, in ResourceInput) (Resource, error)
	// DeleteResource replaces one of the caller's resources with a signed
	// tombstone.
	DeleteResource(ctx context.Context, ref, community string) error
	// Resources lists the current resources matching q, best first.
	Resources(ctx context.Context, q ResourceQuery) (ResourceList, error)
	// Resource returns one resource with its endorsers.
	Resource(ctx context.Context, ref, community string) (ResourceDetail, error)
	// EndorseResource records the caller's endorsement of someone else's
	// resource (again: replaces the comment).
	EndorseResource(ctx context.Context, ref string, in EndorseInput) (ResourceDetail, error)
	// UnendorseResource withdraws the caller's endorsement.
	UnendorseResource(ctx context.Context, ref, community string) error
}

// ResourceInput is the content of a resource. For AddResource nil means
// empty; for EditResource nil keeps the current value, and an empty value
// (or a zero time) clears it.
type ResourceInput struct {
	Community   string     `json:"community,omitempty"`
	Type        *string    `json:"type,omitempty"`
	Title       *string    `json:"title,omitempty"`
	URL         *string    `json:"url,omitempty"`
	Text        *string    `json:"text,omitempty"`
	Description *string    `json:"description,omitempty"`
	Tags        *[]string  `json:"tags,omitempty"`
	Language    *string    `json:"language,omitempty"`
	StartsAt    *time.Time `json:"starts_at,omitempty"`
	EndsAt      *time.Time `json:"ends_at,omitempty"`
	Place       *string    `json:"place,omitempty"`
	Link        *string    `json:"link,omitempty"`
}

// ResourceQuery filters and ranks resources (GET /api/v1/resources with
// the query parameters q, tag, type, lang, author, limit and community).
type ResourceQuery struct {
	Community string
	// Text is matched case-insensitively against title, tags, description
	// and text; every word must occur.
	Text     string
	Tag      string
	Type     string
	Language string
	// Author is a peer ID, or "self".
	Author string
	// Limit caps the number of resources returned; 0 returns all.
	Limit int
}

// ResourceList answers a query: how many resources match and the best
// Limit of them.
type ResourceList struct {
	Community string     `json:"community"`
	Total     int        `json:"total"`
	Resources []Resource `json:"resources"`
}

// Resource is a resource as seen by this node.
type Resource struct {
	// Ref is "<author peer ID>/<ID>", unique even if two authors used the
	// same ID.
	Ref    string `json:"ref"`
	ID     string `json:"id"`
	Author string `json:"author"`
	// AuthorName is the author's display name if this node has their
	// profile in the community, else "".
	AuthorName  string     `json:"author_name"`
	Community   string     `json:"community"`
	Type        string     `json:"type"`
	Title       string     `json:"title"`
	URL         string     `json:"url"`
	Text        string     `json:"text"`
	Description string     `json:"description"`
	Tags        []string   `json:"tags"`
	Language    string     `json:"language"`
	StartsAt    *time.Time `json:"starts_at,omitempty"`
	EndsAt      *time.Time `json:"ends_at,omitempty"`
	Place       string     `json:"place"`
	Link        string     `json:"link"`
	// Endorsements counts the people endorsing it (never its author).
	Endorsements int  `json:"endorsements"`
	EndorsedByMe bool `json:"endorsed_by_me"`
	// Relevance is the text match score of a search (0 without text).
	Relevance int       `json:"relevance"`
	Version   uint64    `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ResourceDetail is a resource with everyone who endorses it, oldest
// endorsement first.
type ResourceDetail struct {
	Resource
	Endorsers []Endorser `json:"endorsers"`
}

// Endorser is one endorsement of a resource.
type Endorser struct {
	PeerID  string    `json:"peer_id"`
	Name    string    `json:"name"`
	Comment string    `json:"comment"`
	At      time.Time `json:"at"`
}

// EndorseInput is an endorsement's optional comment.
type EndorseInput struct {
	Community string `json:"community,omitempty"`
	Comment   string `json:"comment,omitempty"`
}
