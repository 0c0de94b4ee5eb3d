package reconcile

import "time"

// The schedule of catch-up sessions every node follows (docs/PROTOCOL.md,
// section 8). The node and the simulation both take it from here.
const (
	// SettleDelay is when the second whole-community session with a peer
	// that just joined runs: after a few GossipSub heartbeats (1 s each),
	// once the mesh has formed, so that records that arrived before the
	// mesh existed are not left unforwarded.
	SettleDelay = 5 * time.Second
	// DefaultInterval is how often a node reconciles each community with
	// one random peer, on top of the sessions it runs when a peer joins.
	DefaultInterval = time.Minute
)
