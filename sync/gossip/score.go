package gossip

import (
	"maps"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/mentormesh/mentormesh/internal/bounded"
)

// Score thresholds (see peerScoreThresholds). Below GraylistThreshold,
// GossipSub drops everything a peer sends before reading its messages.
const (
	GossipThreshold   = -100
	PublishThreshold  = -500
	GraylistThreshold = -1000
)

// scoreInspectPeriod is how often peer scores are read out, to report
// graylisted peers and answer Score.
const scoreInspectPeriod = 500 * time.Millisecond

// inspect receives every connected peer's score from GossipSub.
func (g *Gossip) inspect(scores map[peer.ID]float64) {
	g.scoreMu.Lock()
	prev := g.scores
	g.scores = maps.Clone(scores)
	g.scoreMu.Unlock()
	for p, s := range scores {
		if s >= GraylistThreshold {
			continue
		}
		if old, ok := prev[p]; ok && old < GraylistThreshold {
			continue // already reported
		}
		g.report(p, WhyInvalid, "score", s)
	}
}

// invalidTolerance is how many records failing verification a peer may
// send (refilled one per invalidRefill) before it is reported: GossipSub
// graylists it at the fourth, but its score is read only every
// scoreInspectPeriod, and a flooder sends thousands in that time.
const (
	invalidTolerance = 3
	invalidRefill    = 20 * time.Minute
)

// rejected counts a record from p that failed verification.
func (g *Gossip) rejected(p peer.ID) {
	if !g.invalid.Allow(p) {
		g.report(p, WhyInvalid)
	}
}

// report marks p bad and tells OnBadPeer about it, at most once a minute.
func (g *Gossip) report(p peer.ID, why string, args ...any) {
	g.markBad(p)
	if !g.reported.Allow(p) {
		return
	}
	g.log.Warn("misbehaving peer", append([]any{"peer", p, "why", why}, args...)...)
	if g.opts.OnBadPeer != nil {
		g.opts.OnBadPeer(p, why)
	}
}

// Reasons given to Options.OnBadPeer.
const (
	WhyInvalid  = "sent records that fail verification (graylisted)"
	WhyFlooding = "sent far more messages than its budget"
)

// flooding is admission's report of a peer far over its message budget.
func (g *Gossip) flooding(p peer.ID) { g.report(p, WhyFlooding, "budget", g.opts.PeerMessageRate) }

// Score returns a peer's GossipSub score as last inspected (at most half a
// second old), and whether the peer was scored.
func (g *Gossip) Score(p peer.ID) (float64, bool) {
	g.scoreMu.Lock()
	defer g.scoreMu.Unlock()
	s, ok := g.scores[p]
	return s, ok
}

// badFor is how long the messages of a reported peer still queued for
// validation (or arriving before its connection closes) are dropped
// unvalidated.
const badFor = time.Minute

// markBad remembers p as bad for badFor.
func (g *Gossip) markBad(p peer.ID) {
	g.badMu.Lock()
	defer g.badMu.Unlock()
	now := time.Now()
	if len(g.bad) >= maxBudgetPeers {
		// Forget expired marks, then, if still full, the one expiring
		// first, not all of them, so that a burst of fresh identities
		// cannot wash the others' marks out.
		bounded.MakeRoom(g.bad, now, maxBudgetPeers, func(t time.Time) time.Time { return t })
	}
	g.bad[p] = now.Add(badFor)
}

// isBad reports whether p was reported in the last badFor.
func (g *Gossip) isBad(p peer.ID) bool {
	g.badMu.Lock()
	defer g.badMu.Unlock()
	t, ok := g.bad[p]
	return ok && time.Now().Before(t)
}
