package node

import (
	"math/rand/v2"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/sync/reconcile"
)

// relayedCatchUp keeps records flowing with peers this node reaches only
// through a circuit relay. GossipSub never uses such (limited)
// connections, so these peers never join a topic from this node's point
// of view, and the catch-up that topic joins start never runs. Instead:
//
//   - when a relayed connection opens, both sessions a topic join would
//     start run at once (own records, then the whole community) for every
//     community the peer is known to be in (found there on the DHT, or it
//     opened a session for it);
//   - every catch-up interval, each such community is reconciled with
//     each relay-only peer (by the lower peer ID of the pair);
//   - after a local write, the node's own records are reconciled with its
//     relay-only peers in that community (what gossip would have done).
//
// Catch-up streams may use limited connections (catchUp.session), within
// the relay's limits (see relay.go).
type relayedCatchUp struct {
	n    *netNode
	push chan struct{}

	mu    sync.Mutex
	dirty map[string]bool // communities with local writes to push
}

func newRelayedCatchUp(n *netNode) *relayedCatchUp {
	r := &relayedCatchUp{n: n, push: make(chan struct{}, 1), dirty: map[string]bool{}}
	n.h.Network().Notify(&network.NotifyBundle{
		ConnectedF: func(_ network.Network, c network.Conn) {
			if c.Stat().Limited {
				p := c.RemotePeer()
				n.spawn(func() { r.connected(p) })
			}
		},
		// A relay resets relayed connections at its limits (15 min on a
		// community node): look the community up again soon, which
		// reconnects through the relay.
		DisconnectedF: func(nw network.Network, c network.Conn) {
			if c.Stat().Limited && nw.Connectedness(c.RemotePeer()) != network.Connected &&
				len(n.disc.communitiesOf(c.RemotePeer())) > 0 {
				n.disc.poke()
			}
		},
	})
	return r
}

// connected starts catch-up with a peer that just connected through a
// relay, unless a direct connection exists (then GossipSub's topic join
// does it).
func (r *relayedCatchUp) connected(p peer.ID) {
	if !r.n.relayOnly(p) {
		return
	}
	self := r.n.catchUp.self
	for _, c := range r.n.disc.communitiesOf(p) {
		r.runOnward(p, reconcile.Scope{Community: c, Author: &self})
		r.runOnward(p, reconcile.Scope{Community: c})
	}
}

// maxOnward bounds how many sessions in a row runOnward runs.
const maxOnward = 256

// runOnward runs a session, and runs it again as long as the last one
// stored records and was then cut: a relay resets a relayed stream (or
// connection) at its limits, and the rest of the difference should not
// wait for the next periodic session.
func (r *relayedCatchUp) runOnward(p peer.ID, scope reconcile.Scope) {
	for range maxOnward {
		r.n.catchUp.run(p, scope)
		cu, ok := r.n.catchUp.lastSession(p, scope)
		if !ok || cu.Error == "" || cu.Pulled == 0 || !r.n.relayOnly(p) || r.n.ctx.Err() != nil {
			return
		}
	}
}

// lastSession returns the outcome of the last session with p over scope.
func (c *catchUp) lastSession(p peer.ID, scope reconcile.Scope) (api.CatchUp, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cu, ok := c.last[keyOf(p, scope)]
	return cu, ok
}

// localWrite asks for this node's records in community to be pushed to
// its relay-only peers.
func (r *relayedCatchUp) localWrite(community string) {
	r.mu.Lock()
	r.dirty[community] = true
	r.mu.Unlock()
	select {
	case r.push <- struct{}{}:
	default:
	}
}

// loop pushes local writes and reconciles every interval.
func (r *relayedCatchUp) loop() {
	defer r.n.wg.Done()
	interval := r.n.catchUp.interval
	for {
		t := time.NewTimer(interval - interval/5 + rand.N(2*interval/5+1))
		select {
		case <-r.n.ctx.Done():
			t.Stop()
			return
		case <-r.push:
			t.Stop()
			r.pushOwn()
		case <-t.C:
			r.reconcileAll()
		}
	}
}

// relayPeers returns the relay-only peers known to be in community.
func (r *relayedCatchUp) relayPeers(community string) []peer.ID {
	var out []peer.ID
	for _, p := range r.n.h.Network().Peers() {
		if !r.n.relayOnly(p) {
			continue
		}
		for _, c := range r.n.disc.communitiesOf(p) {
			if c == community {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

func (r *relayedCatchUp) pushOwn() {
	r.mu.Lock()
	dirty := r.dirty
	r.dirty = map[string]bool{}
	r.mu.Unlock()
	self := r.n.catchUp.self
	for c := range dirty {
		for _, p := range r.relayPeers(c) {
			r.n.catchUp.runAgain(p, reconcile.Scope{Community: c, Author: &self})
		}
	}
}

// reconcileAll runs the periodic community sessions. As for topic peers,
// the lower peer ID of a pair runs them (both know the other's
// communities once a session ran between them).
func (r *relayedCatchUp) reconcileAll() {
	for _, c := range r.n.cfg.members.list() {
		for _, p := range r.relayPeers(c) {
			if r.n.h.ID() < p {
				r.runOnward(p, reconcile.Scope{Community: c})
			}
		}
	}
}

// runAgain is run, except that if the same session is already running it
// runs once more when that one ends: a record written meanwhile may have
// missed the running session's snapshot.
func (c *catchUp) runAgain(p peer.ID, scope reconcile.Scope) {
	k := keyOf(p, scope)
	c.mu.Lock()
	if _, busy := c.running[k]; busy {
		c.again[k] = true
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	c.run(p, scope)
}
