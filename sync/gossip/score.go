package gossip

import (
	"maps"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
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
		g.log.Warn("peer graylisted: it sent records that fail verification", "peer", p, "score", s)
		if g.opts.OnGraylisted != nil {
			g.opts.OnGraylisted(p, s)
		}
	}
}

// Score returns a peer's GossipSub score as last inspected (at most half a
// second old), and whether the peer was scored.
func (g *Gossip) Score(p peer.ID) (float64, bool) {
	g.scoreMu.Lock()
	defer g.scoreMu.Unlock()
	s, ok := g.scores[p]
	return s, ok
}
