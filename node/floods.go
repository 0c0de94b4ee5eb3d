package node

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/mentormesh/mentormesh/sync/ingest"
	"github.com/mentormesh/mentormesh/sync/record"
)

// Flood defences of the running node (docs/SECURITY.md):
//
//   - a peer that sends records failing verification is graylisted by
//     GossipSub's peer score after four of them (sync/gossip); a peer may
//     hand at most 512 messages at once (16 when it has just connected),
//     then 128 a second, to validation, the peers of one address 1024 and
//     256 together, and a peer sending 128 beyond its own budget is
//     reported as flooding;
//     either way the node closes its connections and refuses it for
//     misbehaviourBan;
//   - every author's records arriving by gossip are rate-limited
//     (ingest.AuthorLimiter); the node paces the publication of its own
//     records to the same limit, so its peers do not drop them;
//   - libp2p's resource manager caps connections, streams and memory
//     (resources.go).

// misbehaviourBan is how long a graylisted or flooding peer is
// disconnected and refused.
const misbehaviourBan = 10 * time.Minute

// maxBans bounds the ban list; the oldest bans go first when it is full.
const maxBans = 4096

// bans is a list of peers refused until a time. Safe for concurrent use
// and on a nil receiver (no bans).
type bans struct {
	mu    sync.Mutex
	until map[peer.ID]time.Time
	now   func() time.Time
}

func newBans() *bans { return &bans{until: map[peer.ID]time.Time{}, now: time.Now} }

// ban refuses p for d.
func (b *bans) ban(p peer.ID, d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if len(b.until) >= maxBans {
		var oldest peer.ID
		var oldestT time.Time
		for q, t := range b.until {
			if !t.After(now) {
				delete(b.until, q)
				continue
			}
			if oldest == "" || t.Before(oldestT) {
				oldest, oldestT = q, t
			}
		}
		if len(b.until) >= maxBans {
			delete(b.until, oldest)
		}
	}
	b.until[p] = now.Add(d)
}

// banned reports whether p is refused now.
func (b *bans) banned(p peer.ID) bool {
	if b == nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.until[p]
	if !ok {
		return false
	}
	if !t.After(b.now()) {
		delete(b.until, p)
		return false
	}
	return true
}

// onMisbehaving disconnects a peer that GossipSub graylisted or that
// floods, and refuses it for a while: GossipSub already ignores what it
// sends, but reading and decoding its messages still costs CPU.
func (n *netNode) onMisbehaving(p peer.ID, why string) {
	n.cfg.bans.ban(p, misbehaviourBan)
	n.log.Warn("disconnecting a misbehaving peer", "peer", p, "why", why, "refused_for", misbehaviourBan)
	n.spawn(func() { _ = n.h.Network().ClosePeer(p) })
}

// onBlocked disconnects a peer the user (or a followed steward) blocked.
func (n *netNode) onBlocked(p peer.ID) {
	n.spawn(func() { _ = n.h.Network().ClosePeer(p) })
}

// pacer spaces the publication of the node's own records to the per-author
// rate limit its peers apply, so a burst of local writes is published over
// time instead of being dropped by them. Records wait in the outbox (and
// reach peers by catch-up meanwhile).
type pacer struct {
	lim     *ingest.AuthorLimiter
	pending atomic.Bool
}

// ready reports whether a record by author may be published now; if not,
// it arranges for wake to be called when it may.
func (pc *pacer) ready(author record.Author, wake func()) bool {
	if pc == nil || pc.lim == nil {
		return true
	}
	d := pc.lim.Wait(author)
	if d == 0 {
		return true
	}
	if pc.pending.CompareAndSwap(false, true) {
		time.AfterFunc(d, func() {
			pc.pending.Store(false)
			wake()
		})
	}
	return false
}

// sent takes the token of a published record.
func (pc *pacer) sent(author record.Author) {
	if pc != nil && pc.lim != nil {
		pc.lim.Allow(author)
	}
}

// rememberAfter is how long a peer that connected to this node must stay
// connected, without being banned, before the node remembers it: a flooder
// coming back under new peer IDs neither fills the list of remembered
// peers nor costs a store write per ID. Peers this node dialled itself
// (bootstrap, LAN, remembered) are remembered at once.
const rememberAfter = 30 * time.Second

// rememberLater hands p to the remember loop: at once if this node dialled
// it, else once it has stayed connected and unbanned for rememberAfter.
func (n *netNode) rememberLater(p peer.ID) {
	for _, c := range n.h.Network().ConnsToPeer(p) {
		if c.Stat().Direction == network.DirOutbound {
			select {
			case n.remember <- p:
			default: // it will be remembered next time it joins
			}
			return
		}
	}
	n.spawn(func() {
		t := time.NewTimer(rememberAfter)
		defer t.Stop()
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
		if n.cfg.bans.banned(p) || n.h.Network().Connectedness(p) != network.Connected {
			return
		}
		select {
		case n.remember <- p:
		default: // it will be remembered next time it joins
		}
	})
}
