package api

import (
	"context"
	"time"
)

// ModerationBackend manages blocks: peers this node's user blocked, and
// stewards whose signed moderation lists the node follows.
type ModerationBackend interface {
	// Block blocks a peer on this node (and, with Publish, lists it in the
	// caller's own moderation list in Community, for the nodes that follow
	// the caller as a steward).
	Block(ctx context.Context, in BlockInput) (BlockedPeer, error)
	// Unblock removes the caller's block of a peer, and the peer from the
	// caller's published moderation lists.
	Unblock(ctx context.Context, peerID string) error
	// Blocks lists every blocked peer with where each block comes from.
	Blocks(ctx context.Context) ([]BlockedPeer, error)
	// FollowSteward follows a steward's moderation list in a community.
	FollowSteward(ctx context.Context, in StewardInput) (Steward, error)
	// UnfollowSteward stops following a steward in a community ("" means
	// every community it is followed in).
	UnfollowSteward(ctx context.Context, peerID, community string) error
	// Stewards lists the stewards this node follows.
	Stewards(ctx context.Context) ([]Steward, error)
}

// BlockInput asks to block a peer.
type BlockInput struct {
	PeerID string `json:"peer_id"`
	// Reason is for the user's own memory (and the steward's followers,
	// with Publish): one line, at most 200 characters.
	Reason string `json:"reason,omitempty"`
	// Publish also lists the peer in the caller's signed moderation list
	// in Community ("" means the first joined community).
	Publish   bool   `json:"publish,omitempty"`
	Community string `json:"community,omitempty"`
}

// Block sources.
const (
	BlockSourceLocal   = "local"
	BlockSourceSteward = "steward"
)

// BlockedPeer is a peer whose records this node hides, does not relay, and
// whose connections it refuses.
type BlockedPeer struct {
	PeerID  string        `json:"peer_id"`
	Sources []BlockSource `json:"sources"`
	// PublishedIn lists the communities whose moderation list, signed by
	// this node, names the peer.
	PublishedIn []string `json:"published_in"`
}

// BlockSource is one reason a peer is blocked.
type BlockSource struct {
	// Source is "local" (this node's user) or "steward".
	Source string `json:"source"`
	// Steward and Community name the steward's list, for Source "steward".
	Steward   string     `json:"steward,omitempty"`
	Community string     `json:"community,omitempty"`
	Reason    string     `json:"reason"`
	Since     *time.Time `json:"since,omitempty"`
}

// StewardInput follows a steward.
type StewardInput struct {
	PeerID string `json:"peer_id"`
	// Community "" means the first joined community.
	Community string `json:"community,omitempty"`
}

// Steward is a followed steward and the list this node holds from it.
type Steward struct {
	PeerID    string    `json:"peer_id"`
	Community string    `json:"community"`
	Since     time.Time `json:"since"`
	// Listed is the number of peers in the steward's list as this node
	// holds it (0 before the list arrives).
	Listed int `json:"listed"`
	// ListVersion and ListUpdatedAt describe that list (absent before it
	// arrives).
	ListVersion   uint64     `json:"list_version,omitempty"`
	ListUpdatedAt *time.Time `json:"list_updated_at,omitempty"`
}
