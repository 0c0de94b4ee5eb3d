package api

import (
	"context"
	"time"
)

// EventsBackend streams what happens on the node, for the page to update
// live.
type EventsBackend interface {
	// Subscribe returns events from now on. The channel is closed when ctx
	// ends, when the node stops, or when the subscriber falls too far
	// behind (it should then reload what it shows and subscribe again).
	Subscribe(ctx context.Context) (<-chan Event, error)
}

// Event types.
const (
	EventRecord = "record" // a record was stored (written here or received)
	EventPeer   = "peer"   // a peer connected or disconnected
	EventSync   = "sync"   // a catch-up session progressed (in_progress) or ended
)

// Event is one item of GET /api/v1/events (server-sent events: each event's
// `event:` line is its Type and its `data:` line this JSON).
type Event struct {
	Type   string       `json:"type"`
	At     time.Time    `json:"at"`
	Record *RecordEvent `json:"record,omitempty"`
	Peer   *PeerEvent   `json:"peer,omitempty"`
	Sync   *CatchUp     `json:"sync,omitempty"`
}

// RecordEvent names a record that became current on this node.
type RecordEvent struct {
	Community string `json:"community"`
	Kind      string `json:"kind"`
	Author    string `json:"author"`
	Key       string `json:"key"`
	Version   uint64 `json:"version"`
	Deleted   bool   `json:"deleted"`
	// Local is true for a write made on this node.
	Local bool `json:"local"`
}

// PeerEvent reports a peer connecting or disconnecting.
type PeerEvent struct {
	PeerID    string `json:"peer_id"`
	Connected bool   `json:"connected"`
}
