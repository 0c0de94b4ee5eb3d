// Package api is the node's local HTTP API: the JSON types, the server that
// exposes a Backend on loopback, and the Go client the CLI uses. The same
// Backend interface is implemented in process by the node and over HTTP by
// Client, and one conformance test runs the same operations through both.
package api

import (
	"context"
	"time"
)

// Backend is every operation the CLI and the page perform on a node. It is
// assembled from one interface per area, each declared beside its types.
type Backend interface {
	NodeBackend
	ProfileBackend
	PairingBackend
	PrivateBackend
	ResourceBackend
	CommunityBackend
	EventsBackend
}

// NodeBackend reports on the node itself.
type NodeBackend interface {
	ID(ctx context.Context) (Identity, error)
	Peers(ctx context.Context) ([]Peer, error)
	Status(ctx context.Context) (Status, error)
}

// ProfileBackend manages profiles, mentor search and community statistics.
type ProfileBackend interface {
	SetProfile(ctx context.Context, in ProfileInput) (Profile, error)
	// DeleteProfile replaces the caller's profile with a signed tombstone in
	// community, or in every joined community if community is "".
	DeleteProfile(ctx context.Context, community string) error
	// Profile returns a practitioner's profile; peerID "" means this node's
	// own. Community "" means the first joined community that has one.
	Profile(ctx context.Context, peerID, community string) (Profile, error)
}

// Identity answers GET /api/v1/id.
type Identity struct {
	PeerID string `json:"peer_id"`
	// Addrs are full multiaddrs ending in /p2p/<peer_id>; empty when the node
	// is not running.
	Addrs []string `json:"addrs"`
}

// Peer is one connected peer.
type Peer struct {
	PeerID      string   `json:"peer_id"`
	Addrs       []string `json:"addrs"`
	Communities []string `json:"communities"`
	Direction   string   `json:"direction"`
	// Relayed is true when every connection to the peer goes through a
	// circuit relay (no gossip over it; records flow by catch-up).
	Relayed bool `json:"relayed"`
	// LatencyMS is the smoothed round-trip time, 0 if unknown.
	LatencyMS float64 `json:"latency_ms"`
}

// KindCount counts current records of one kind in one community.
type KindCount struct {
	Community  string `json:"community"`
	Kind       string `json:"kind"`
	Records    int    `json:"records"`
	Tombstones int    `json:"tombstones"`
}

// Status answers GET /api/v1/status.
type Status struct {
	PeerID      string      `json:"peer_id"`
	DataDir     string      `json:"data_dir"`
	Running     bool        `json:"running"`
	StartedAt   *time.Time  `json:"started_at,omitempty"`
	Communities []string    `json:"communities"`
	Peers       int         `json:"peers"`
	Records     []KindCount `json:"records"`
	// Outbox counts local writes not yet published to any peer.
	Outbox int `json:"outbox"`
	// Ingest counts records received since start, by verdict.
	Ingest IngestStats `json:"ingest"`
	// Digests fingerprints each community's current records (SHA-256 of
	// their (timestamp, ID) in order, hex): two nodes with the same digest
	// hold exactly the same records.
	Digests map[string]string `json:"digests"`
	// CatchUp is the last reconciliation session with each peer.
	CatchUp []CatchUp `json:"catch_up"`
}

// CatchUp describes one reconciliation session with a peer.
type CatchUp struct {
	PeerID    string `json:"peer_id"`
	Community string `json:"community"`
	// OwnRecordsOnly marks the short session over this node's own records
	// that runs first when a peer joins.
	OwnRecordsOnly bool      `json:"own_records_only"`
	Initiated      bool      `json:"initiated"`
	At             time.Time `json:"at"`
	DurationMS     int64     `json:"duration_ms"`
	// Pulled counts records received that were new here and stored.
	Pulled int `json:"pulled"`
	// PulledTotal adds up Pulled over every session with this peer and
	// scope since the node started.
	PulledTotal   int    `json:"pulled_total"`
	Received      int    `json:"received"`
	Sent          int    `json:"sent"`
	RoundTrips    int    `json:"round_trips"`
	BytesSent     int64  `json:"bytes_sent"`
	BytesReceived int64  `json:"bytes_received"`
	Error         string `json:"error,omitempty"`
}

// IngestStats counts ingest outcomes.
type IngestStats struct {
	Accepted uint64 `json:"accepted"`
	Ignored  uint64 `json:"ignored"`
	Rejected uint64 `json:"rejected"`
}

// ProfileInput sets the caller's own profile. Nil fields keep their current
// value, so `profile set --bio ...` changes only the bio.
type ProfileInput struct {
	// Community "" means every joined community.
	Community string    `json:"community,omitempty"`
	Name      *string   `json:"name,omitempty"`
	Bio       *string   `json:"bio,omitempty"`
	Skills    *[]string `json:"skills,omitempty"`
}

// Profile is a practitioner's profile as seen by this node.
type Profile struct {
	PeerID    string    `json:"peer_id"`
	Community string    `json:"community"`
	Name      string    `json:"name"`
	Bio       string    `json:"bio"`
	Skills    []string  `json:"skills"`
	Version   uint64    `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
}
