package node

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/mentormesh/mentormesh/internal/bounded"
	"github.com/mentormesh/mentormesh/internal/syncstore"
	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/sync/reconcile"
	"github.com/mentormesh/mentormesh/sync/record"
)

// DefaultCatchUpInterval is how often a node reconciles each community with
// one random peer, on top of the sessions it runs when a peer joins.
const DefaultCatchUpInterval = reconcile.DefaultInterval

// catchUp schedules reconciliation sessions and remembers how they went.
type catchUp struct {
	n        *netNode
	svc      *reconcile.Service
	self     record.Author
	interval time.Duration
	// sessionFn runs one session: session, unless a test replaces it.
	sessionFn func(ctx context.Context, p peer.ID, scope reconcile.Scope)

	mu sync.Mutex
	// running holds the context of each session in progress; again marks
	// those to run once more when they end (see run).
	running map[syncKey]context.Context
	again   map[syncKey]bool
	last    map[syncKey]api.CatchUp
	logged  map[peer.ID]time.Time
	// joined holds, per joined community, the context of the sessions
	// this node runs for it, cancelled when the node leaves it.
	joined map[string]communityCtx
}

type communityCtx struct {
	ctx    context.Context
	cancel context.CancelFunc
}

type syncKey struct {
	peer      peer.ID
	community string
	// author is the scope's author (zero for the whole community): the
	// own-records sessions in the two directions are different scopes.
	author record.Author
}

func keyOf(p peer.ID, scope reconcile.Scope) syncKey {
	k := syncKey{peer: p, community: scope.Community}
	if scope.Author != nil {
		k.author = *scope.Author
	}
	return k
}

func newCatchUp(n *netNode, self record.Author, interval time.Duration) *catchUp {
	if interval <= 0 {
		interval = DefaultCatchUpInterval
	}
	c := &catchUp{n: n, self: self, interval: interval,
		running: map[syncKey]context.Context{}, again: map[syncKey]bool{}, last: map[syncKey]api.CatchUp{}, logged: map[peer.ID]time.Time{},
		joined: map[string]communityCtx{}}
	syncer := reconcile.New(moderatedSyncStore{syncstore.New(n.cfg.store), n.cfg.mod}, n.cfg.pipe, reconcile.Options{
		Logger: n.log.With("subsystem", "catchup"),
		Joined: n.cfg.members.has,
	})
	c.sessionFn = c.session
	c.svc = reconcile.NewService(n.h, syncer, reconcile.ServiceOptions{
		Logger:   n.log.With("subsystem", "catchup"),
		Progress: c.progress,
		Done:     c.done,
	})
	return c
}

// peerJoined starts catch-up with a peer that joined a community topic:
// this node's own records first (so a node restored from a backup of its
// key gets its own history before anything else), then the whole
// community. Both sides run the small own-records session; only the side
// with the lower peer ID runs the community session, so the two do not
// reconcile the same set twice.
//
// The community session runs a second time a few seconds later: until the
// GossipSub mesh with the new peer forms (at a heartbeat), records that
// reach either side are not forwarded to the other, and the first session
// may have run before they arrived. Confirming equal sets costs one round
// trip and a few dozen bytes.
func (c *catchUp) peerJoined(community string, p peer.ID) {
	c.n.spawn(func() {
		self := c.self
		c.run(p, reconcile.Scope{Community: community, Author: &self})
		if c.n.h.ID() >= p {
			return
		}
		c.run(p, reconcile.Scope{Community: community})
		select {
		case <-c.n.ctx.Done():
			return
		case <-time.After(reconcile.SettleDelay):
		}
		c.run(p, reconcile.Scope{Community: community})
	})
}

// run does one session unless one with the same peer and scope is already
// running. If that one belongs to a community the node has left since (and
// joined again: it is being cancelled), the session runs again as soon as
// it ends, so a rejoin always reconciles.
func (c *catchUp) run(p peer.ID, scope reconcile.Scope) {
	k := keyOf(p, scope)
	c.mu.Lock()
	defer c.mu.Unlock()
	if rctx, busy := c.running[k]; busy {
		if rctx.Err() != nil && c.n.ctx.Err() == nil {
			c.again[k] = true
		}
		return
	}
	for {
		ctx, ok := c.communityCtx(scope.Community)
		if !ok {
			return
		}
		c.running[k] = ctx
		c.mu.Unlock()
		c.sessionFn(ctx, p, scope)
		c.mu.Lock()
		delete(c.running, k)
		if !c.again[k] {
			return
		}
		delete(c.again, k)
	}
}

// session runs one session. A peer that is busy (it serves one session per
// peer at a time, and may not have released the previous one yet) is
// retried a few times.
func (c *catchUp) session(ctx context.Context, p peer.ID, scope reconcile.Scope) {
	// A peer reachable only through a relay is caught up with over the
	// relayed (limited) connection, within the relay's limits.
	ctx = network.WithAllowLimitedConn(ctx, "mentormesh catch-up")
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		_, err := c.svc.Sync(ctx, p, scope) // done() records the outcome
		var abort *reconcile.AbortError
		if !errors.As(err, &abort) || !abort.Busy() || attempt == 5 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff + rand.N(backoff)):
		}
		backoff *= 2
	}
}

// communityCtx returns the context for sessions of a community, or false
// if the node is not in it. Called with c.mu held: left takes c.mu after
// the membership changed, so a session either sees the community left or
// gets a context that left cancels.
func (c *catchUp) communityCtx(community string) (context.Context, bool) {
	if !c.n.cfg.members.has(community) {
		return nil, false
	}
	cc, ok := c.joined[community]
	if !ok {
		ctx, cancel := context.WithCancel(c.n.ctx)
		cc = communityCtx{ctx, cancel}
		c.joined[community] = cc
	}
	return cc.ctx, true
}

// left ends the sessions this node runs for a community it has just left
// (sessions peers run with it are refused from now on, and what they were
// sending is refused by the ingest pipeline) and forgets their results.
func (c *catchUp) left(community string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cc, ok := c.joined[community]; ok {
		cc.cancel()
		delete(c.joined, community)
	}
	for k := range c.last {
		if k.community == community {
			delete(c.last, k)
		}
	}
}

// loop reconciles each community with one random peer every interval
// (with jitter, so nodes started together do not stay in step).
func (c *catchUp) loop() {
	defer c.n.wg.Done()
	for {
		d := c.interval - c.interval/5 + rand.N(2*c.interval/5+1)
		t := time.NewTimer(d)
		select {
		case <-c.n.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		for _, community := range c.n.g.Communities() {
			peers := c.n.g.TopicPeers(community)
			if len(peers) == 0 {
				continue
			}
			c.run(peers[rand.N(len(peers))], reconcile.Scope{Community: community})
		}
	}
}

func (c *catchUp) progress(p peer.ID, scope reconcile.Scope, received int) {
	c.mu.Lock()
	due := time.Since(c.logged[p]) >= 2*time.Second
	if due {
		c.logged[p] = time.Now()
	}
	c.mu.Unlock()
	if due && received > 0 {
		c.n.log.Info("catching up", "peer", p, "community", scope.Community, "records_received", received)
		c.n.cfg.events.publish(api.Event{Type: api.EventSync, Sync: &api.CatchUp{
			PeerID: p.String(), Community: scope.Community, OwnRecordsOnly: scope.Author != nil,
			At: time.Now().UTC(), Received: received, InProgress: true,
		}})
	}
}

func (c *catchUp) done(p peer.ID, initiated bool, st reconcile.Stats, err error) {
	cu := api.CatchUp{
		PeerID: p.String(), Community: st.Scope.Community, OwnRecordsOnly: st.Scope.Author != nil,
		Initiated: initiated, At: time.Now().UTC(), DurationMS: st.Duration.Milliseconds(),
		Pulled: st.Accepted, Received: st.RecordsReceived, Sent: st.RecordsSent,
		RoundTrips: st.RoundTrips(), BytesSent: st.BytesSent, BytesReceived: st.BytesReceived,
	}
	log := c.n.log.Debug
	if errors.Is(err, record.ErrBadSignature) {
		// No honest node sends a record it has not verified: treat the
		// peer as gossip treats one sending forgeries.
		c.n.onMisbehaving(p, whyForged)
	}
	if err != nil {
		cu.Error = err.Error()
		// Not worth a warning when the node is stopping or has left.
		if c.n.ctx.Err() == nil && (cu.Community == "" || c.n.cfg.members.has(cu.Community)) {
			log = c.n.log.Warn
		}
	} else if st.Accepted > 0 {
		log = c.n.log.Info
	}
	log("catch-up session ended", "peer", p, "community", cu.Community, "own_records_only", cu.OwnRecordsOnly,
		"initiated", initiated, "pulled", st.Accepted, "refused", st.Refused, "sent", st.RecordsSent, "round_trips", cu.RoundTrips,
		"bytes_in", st.BytesReceived, "bytes_out", st.BytesSent, "duration", st.Duration.Round(time.Millisecond), "err", err)
	if cu.Community == "" {
		return // refused before the scope was known
	}
	if err == nil && c.n.disc != nil {
		c.n.disc.markMember(p, cu.Community) // for catch-up over a relay
	}
	c.mu.Lock()
	if !c.n.cfg.members.has(cu.Community) {
		c.mu.Unlock()
		return // left meanwhile
	}
	k := keyOf(p, st.Scope)
	prev, known := c.last[k]
	if !known && len(c.last) >= maxSessionsKept {
		bounded.DropEarliest(c.last, func(cu api.CatchUp) time.Time { return cu.At })
	}
	cu.PulledTotal = prev.PulledTotal + cu.Pulled
	c.last[k] = cu
	delete(c.logged, p)
	c.mu.Unlock()
	c.n.cfg.events.publish(api.Event{Type: api.EventSync, Sync: &cu})
	if st.Accepted > 0 && st.Scope.Author == nil {
		c.spread(p, st.Scope.Community)
	}
}

// maxSessionsKept bounds the sessions kept for status: peer IDs cost an
// attacker nothing, and the scope of an inbound session is the peer's to
// choose.
const maxSessionsKept = 1024

// whyForged is the reason logged for a peer whose catch-up records fail
// signature verification.
const whyForged = "sent records that fail verification in catch-up"

// spread passes records a community session brought (from a peer that had
// them while others may not) on to this node's other peers in the
// community at once, by reconciling with each. Without it, a node with no
// link across a healed partition waits for its next periodic session (up
// to 72 s); with it, the 500-node simulation converged within a second of
// the heal (docs/PERFORMANCE.md). It ends by itself: a session that pulls
// nothing spreads nothing, and one already running with a peer is not
// started again.
func (c *catchUp) spread(from peer.ID, community string) {
	for _, q := range c.n.g.TopicPeers(community) {
		if q != from {
			c.n.spawn(func() { c.run(q, reconcile.Scope{Community: community}) })
		}
	}
}

// sessions returns the last session with each peer and community.
func (c *catchUp) sessions() []api.CatchUp {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]api.CatchUp, 0, len(c.last))
	for _, cu := range c.last {
		out = append(out, cu)
	}
	return out
}
