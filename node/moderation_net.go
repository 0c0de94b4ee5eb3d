package node

import (
	"context"

	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/sync/ingest"
	"github.com/mentormesh/mentormesh/sync/reconcile"
	"github.com/mentormesh/mentormesh/sync/record"
)

// peerGater refuses connections to and from blocked peers and peers banned for
// flooding, then asks next (tests partition networks with it), if set.
type peerGater struct {
	mod  *moderation
	bans *bans
	next connmgr.ConnectionGater
}

var _ connmgr.ConnectionGater = peerGater{}

func (g peerGater) refused(p peer.ID) bool {
	if g.bans.banned(p) {
		return true
	}
	a, err := record.AuthorFromPeerID(p)
	return err == nil && g.mod.blocked(a)
}

func (g peerGater) InterceptPeerDial(p peer.ID) bool {
	return !g.refused(p) && (g.next == nil || g.next.InterceptPeerDial(p))
}

func (g peerGater) InterceptAddrDial(p peer.ID, a ma.Multiaddr) bool {
	return !g.refused(p) && (g.next == nil || g.next.InterceptAddrDial(p, a))
}

func (g peerGater) InterceptAccept(c network.ConnMultiaddrs) bool {
	return g.next == nil || g.next.InterceptAccept(c)
}

func (g peerGater) InterceptSecured(d network.Direction, p peer.ID, c network.ConnMultiaddrs) bool {
	return !g.refused(p) && (g.next == nil || g.next.InterceptSecured(d, p, c))
}

func (g peerGater) InterceptUpgraded(c network.Conn) (bool, control.DisconnectReason) {
	if g.next == nil {
		return true, 0
	}
	return g.next.InterceptUpgraded(c)
}

// moderatedStore tells moderation about records stored from peers, so a
// followed steward's new list applies as soon as it arrives.
type moderatedStore struct {
	ingest.BatchStore
	mod *moderation
}

func (s moderatedStore) ApplyRemote(ctx context.Context, rec *record.Record) (bool, error) {
	ok, err := s.BatchStore.ApplyRemote(ctx, rec)
	if ok {
		s.mod.stored(ctx, []*record.Record{rec})
	}
	return ok, err
}

func (s moderatedStore) ApplyRemoteBatch(ctx context.Context, recs []*record.Record) ([]bool, error) {
	applied, err := s.BatchStore.ApplyRemoteBatch(ctx, recs)
	var stored []*record.Record
	for i, ok := range applied {
		if ok {
			stored = append(stored, recs[i])
		}
	}
	s.mod.stored(ctx, stored)
	return applied, err
}

// moderatedSyncStore keeps blocked authors' records out of what catch-up
// sends (what it receives from them, ingest ignores), and device-signed
// records of root-only kinds stored before their kind became root-only:
// peers reject those, which would end every session with them.
type moderatedSyncStore struct {
	reconcile.Store
	mod *moderation
}

func (s moderatedSyncStore) Records(ctx context.Context, ids []record.ID) ([]*record.Record, error) {
	recs, err := s.Store.Records(ctx, ids)
	if err != nil {
		return nil, err
	}
	kept := recs[:0]
	for _, r := range recs {
		if !s.mod.blocked(r.Author) && !(r.SignedByDevice() && mentorship.RootOnly(r.Kind)) {
			kept = append(kept, r)
		}
	}
	return kept, nil
}
