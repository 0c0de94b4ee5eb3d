package sim

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/mentormesh/mentormesh/sync/reconcile"
	"github.com/mentormesh/mentormesh/sync/record"
)

// The catch-up schedule is the node's: both take it from sync/reconcile.
const (
	// SettleDelay is when the second community session with a peer that
	// joined runs.
	SettleDelay = reconcile.SettleDelay
	// DefaultCatchUpInterval is how often a node reconciles with one random
	// peer.
	DefaultCatchUpInterval = reconcile.DefaultInterval
)

// catchUp schedules a node's catch-up sessions as node/catchup.go does:
// when a peer joins the community's topic, a session over this node's own
// records (both sides) and, by the side with the lower peer ID, a session
// over the whole community, run again SettleDelay later; and every
// interval, one session with a random topic peer. At most one session runs
// per peer and scope; a busy peer is retried with backoff.
//
// As in the node (unless Config.NoSpreadPulled), a session that brought new
// records of the community is followed by a community session with every
// other topic peer, so that what one node pulls reaches its neighbours in
// seconds instead of at their next periodic session.
type catchUp struct {
	n         *simNode
	community string
	spread    bool

	mu      sync.Mutex
	running map[syncKey]bool
	again   map[syncKey]bool
}

type syncKey struct {
	peer   peer.ID
	author record.Author // zero for the whole community
}

func newCatchUp(n *simNode, cfg *Config) *catchUp {
	return &catchUp{n: n, community: cfg.Community, spread: !cfg.NoSpreadPulled,
		running: map[syncKey]bool{}, again: map[syncKey]bool{}}
}

// peerJoined is gossip's OnPeerJoin (node's catchUp.peerJoined).
func (c *catchUp) peerJoined(community string, p peer.ID) {
	c.n.spawn(func() {
		self := c.n.author
		c.run(p, reconcile.Scope{Community: community, Author: &self})
		if c.n.h.ID() >= p {
			return
		}
		c.run(p, reconcile.Scope{Community: community})
		t := time.NewTimer(SettleDelay)
		defer t.Stop()
		select {
		case <-c.n.ctx.Done():
			return
		case <-t.C:
		}
		c.run(p, reconcile.Scope{Community: community})
	})
}

// run does one session unless one with the same peer and scope runs.
func (c *catchUp) run(p peer.ID, scope reconcile.Scope) { c.runOnce(p, scope, false) }

// runOnce does one session. If one with the same peer and scope runs, it
// returns, or with again, has that one run once more when it ends (it may
// have started before what this session is for).
func (c *catchUp) runOnce(p peer.ID, scope reconcile.Scope, again bool) {
	k := syncKey{peer: p}
	if scope.Author != nil {
		k.author = *scope.Author
	}
	c.mu.Lock()
	if c.running[k] {
		c.again[k] = c.again[k] || again
		c.mu.Unlock()
		return
	}
	c.running[k] = true
	for {
		c.mu.Unlock()
		c.session(c.n.ctx, p, scope)
		c.mu.Lock()
		if !c.again[k] || c.n.ctx.Err() != nil {
			break
		}
		delete(c.again, k)
	}
	delete(c.running, k)
	delete(c.again, k)
	c.mu.Unlock()
}

// done is called after every session, either side. With spread, new
// records of the community are passed on to the other topic peers.
func (c *catchUp) done(p peer.ID, st reconcile.Stats) {
	if !c.spread || st.Accepted == 0 || st.Scope.Author != nil || st.Scope.Community != c.community {
		return
	}
	for _, q := range c.n.g.TopicPeers(c.community) {
		if q != p {
			c.n.spawn(func() { c.runOnce(q, reconcile.Scope{Community: c.community}, true) })
		}
	}
}

// session runs one session, retrying a busy peer (node's catchUp.session).
func (c *catchUp) session(ctx context.Context, p peer.ID, scope reconcile.Scope) {
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		_, err := c.n.svc.Sync(ctx, p, scope)
		var abort *reconcile.AbortError
		if !errors.As(err, &abort) || !abort.Busy() || attempt == 5 {
			return
		}
		t := time.NewTimer(backoff + rand.N(backoff))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff *= 2
	}
}

// loop reconciles with one random topic peer every interval, with jitter
// (node's catchUp.loop).
func (c *catchUp) loop(interval time.Duration) {
	for {
		t := time.NewTimer(interval - interval/5 + rand.N(2*interval/5+1))
		select {
		case <-c.n.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		peers := c.n.g.TopicPeers(c.community)
		if len(peers) == 0 {
			continue
		}
		c.run(peers[rand.N(len(peers))], reconcile.Scope{Community: c.community})
	}
}
