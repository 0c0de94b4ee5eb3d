package api

import "context"

// CommunityBackend lists, joins and leaves communities. A node belongs to
// one or more communities; each is a gossip topic and a separate set of
// records.
type CommunityBackend interface {
	// Communities lists the joined communities, in the order they were
	// joined (the first is the default for commands given no community),
	// and the communities whose records the node keeps after leaving them.
	Communities(ctx context.Context) (CommunityList, error)
	// JoinCommunity joins a community: at once on a running node (its topic,
	// then catch-up with the peers in it), else when the node next starts.
	// Joining a joined community changes nothing (Changed is false).
	JoinCommunity(ctx context.Context, name string) (CommunityChange, error)
	// LeaveCommunity leaves a joined community (404 if not joined, 409 if
	// it is the only one). Its records stay in the store but are no longer
	// replicated; records of it arriving from peers are refused.
	LeaveCommunity(ctx context.Context, name string) (CommunityChange, error)
}

// CommunityList answers GET /api/v1/communities.
type CommunityList struct {
	// Running is true when a node answered (peer lists are then live).
	Running     bool        `json:"running"`
	Communities []Community `json:"communities"`
	// Left are communities not joined of which the store still holds
	// records (from before leaving them), sorted by name.
	Left []Community `json:"left"`
}

// Community is one community as this node sees it.
type Community struct {
	Name string `json:"name"`
	// Joined is false for the entries of CommunityList.Left.
	Joined bool `json:"joined"`
	// Default marks the first joined community, where commands act when
	// given no --community.
	Default bool `json:"default"`
	// Records and Tombstones count the current records held, all kinds.
	Records    int `json:"records"`
	Tombstones int `json:"tombstones"`
	// Peers are the peer IDs subscribed to the community's topic, sorted;
	// empty when no node is running.
	Peers []string `json:"peers"`
	// Digest fingerprints the community's current records, as in Status:
	// equal digests on two nodes mean the same records.
	Digest string `json:"digest"`
}

// CommunityInput is the body of POST /api/v1/communities.
type CommunityInput struct {
	Name string `json:"name"`
}

// CommunityChange answers POST /api/v1/communities and
// DELETE /api/v1/communities/{name}.
type CommunityChange struct {
	Community string `json:"community"`
	// Changed is false when the node was already in that community.
	Changed bool `json:"changed"`
	// Running is true when a running node applied the change at once;
	// false when it takes effect at the next `mentormesh run`.
	Running bool `json:"running"`
	// Communities are the joined communities after the change, in join
	// order.
	Communities []string `json:"communities"`
}

// NoCommunityName is the error for a join or leave without a name.
func NoCommunityName() *Error { return BadRequest("no community name given") }
