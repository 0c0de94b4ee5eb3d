package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/record"
)

// blocked reports whether author is blocked on this node, by its user or a
// steward it follows. Every view that shows other people's records must
// skip a blocked author's: profiles, pairings (loadPairings), and each
// view added later (mentor search, resources, statistics...).
func (l *Local) blocked(author record.Author) bool {
	return author != l.author && l.mod.blocked(author)
}

// parsePeer parses a peer ID given by the user.
func parsePeer(peerID string) (record.Author, error) {
	a, err := record.ParseAuthor(strings.TrimSpace(peerID))
	if err != nil {
		return a, api.BadRequest(fmt.Sprintf("%q is not a peer ID (12D3KooW...; 'mentormesh peers' and profiles show them)", peerID))
	}
	return a, nil
}

// Block implements api.Backend.
func (l *Local) Block(ctx context.Context, in api.BlockInput) (api.BlockedPeer, error) {
	a, err := parsePeer(in.PeerID)
	if err != nil {
		return api.BlockedPeer{}, err
	}
	if a == l.author {
		return api.BlockedPeer{}, api.BadRequest("that is your own peer ID: you cannot block yourself")
	}
	reason := strings.TrimSpace(in.Reason)
	if err := mentorship.CheckModerationReason(reason); err != nil {
		return api.BlockedPeer{}, api.BadRequest(err.Error())
	}
	community := ""
	if in.Publish {
		if community, err = l.pairingCommunity(in.Community); err != nil {
			return api.BlockedPeer{}, err
		}
		// Check the list can take the peer before blocking anything.
		if err := l.editOwnList(ctx, community, a, reason, true, true); err != nil {
			return api.BlockedPeer{}, err
		}
	} else if in.Community != "" {
		return api.BlockedPeer{}, api.BadRequest("a community is used only with publish (--publish): a block applies in every community")
	}
	if err := l.mod.block(ctx, a, reason, time.Now()); err != nil {
		return api.BlockedPeer{}, err
	}
	if in.Publish {
		if err := l.editOwnList(ctx, community, a, reason, true, false); err != nil {
			return api.BlockedPeer{}, err
		}
	}
	return l.blockedPeer(ctx, a)
}

// Unblock implements api.Backend.
func (l *Local) Unblock(ctx context.Context, peerID string) error {
	a, err := parsePeer(peerID)
	if err != nil {
		return err
	}
	published, err := l.publishedIn(ctx, a)
	if err != nil {
		return err
	}
	for _, c := range published {
		if err := l.editOwnList(ctx, c, a, "", false, false); err != nil {
			return err
		}
	}
	removed, err := l.mod.unblock(ctx, a)
	if err != nil {
		return err
	}
	if removed || len(published) > 0 {
		return nil
	}
	for _, s := range l.mod.sources(a) {
		if s.steward != nil {
			return api.Conflict(fmt.Sprintf("%s is blocked by the moderation list of steward %s in %q, not by you; "+
				"stop following it with 'mentormesh steward unfollow %s', or ask the steward to remove the peer", a, s.steward, s.community, s.steward))
		}
	}
	return api.NotFound(fmt.Sprintf("%s is not blocked ('mentormesh blocks' lists blocked peers)", a))
}

// Blocks implements api.Backend.
func (l *Local) Blocks(ctx context.Context) ([]api.BlockedPeer, error) {
	_, eff := l.mod.snapshot()
	peers := map[record.Author]bool{}
	for a := range eff {
		peers[a] = true
	}
	for _, c := range l.joined() {
		list, _, err := l.ownList(ctx, c)
		if err != nil {
			return nil, err
		}
		for _, e := range list.Blocked {
			peers[record.Author(e.Peer)] = true
		}
	}
	out := []api.BlockedPeer{}
	for a := range peers {
		bp, err := l.blockedPeer(ctx, a)
		if err != nil {
			return nil, err
		}
		out = append(out, bp)
	}
	slices.SortFunc(out, func(x, y api.BlockedPeer) int { return strings.Compare(x.PeerID, y.PeerID) })
	return out, nil
}

// blockedPeer is the API view of a's blocks.
func (l *Local) blockedPeer(ctx context.Context, a record.Author) (api.BlockedPeer, error) {
	bp := api.BlockedPeer{PeerID: a.String(), Sources: []api.BlockSource{}}
	for _, s := range l.mod.sources(a) {
		src := api.BlockSource{Source: api.BlockSourceLocal, Reason: s.reason}
		if s.steward != nil {
			src.Source, src.Steward, src.Community = api.BlockSourceSteward, s.steward.String(), s.community
		}
		if !s.since.IsZero() {
			t := s.since
			src.Since = &t
		}
		bp.Sources = append(bp.Sources, src)
	}
	slices.SortFunc(bp.Sources, func(x, y api.BlockSource) int {
		return cmp.Or(strings.Compare(x.Source, y.Source), strings.Compare(x.Community, y.Community), strings.Compare(x.Steward, y.Steward))
	})
	var err error
	bp.PublishedIn, err = l.publishedIn(ctx, a)
	return bp, err
}

// publishedIn lists the joined communities whose list, signed by this node,
// names a.
func (l *Local) publishedIn(ctx context.Context, a record.Author) ([]string, error) {
	out := []string{}
	for _, c := range l.joined() {
		list, _, err := l.ownList(ctx, c)
		if err != nil {
			return nil, err
		}
		if _, ok := list.Listed(a); ok {
			out = append(out, c)
		}
	}
	return out, nil
}

// ownList returns this node's own moderation list in community and the
// version it is at (0 if it has none).
func (l *Local) ownList(ctx context.Context, community string) (mentorship.ModerationList, uint64, error) {
	rec, err := l.store.Current(ctx, record.Addr{Community: community, Author: l.author, Kind: mentorship.KindModeration})
	if errors.Is(err, store.ErrNotFound) {
		return mentorship.ModerationList{}, 0, nil
	}
	if err != nil {
		return mentorship.ModerationList{}, 0, fmt.Errorf("reading your moderation list: %w", err)
	}
	if rec.Deleted {
		return mentorship.ModerationList{}, rec.Version, nil
	}
	list, err := mentorship.DecodeModeration(rec.Payload)
	if err != nil {
		return mentorship.ModerationList{}, 0, fmt.Errorf("reading your moderation list: %w", err)
	}
	return list, rec.Version, nil
}

// editOwnList adds a to (add) or removes it from this node's signed
// moderation list in community and writes the new version; dryRun only
// checks that the new list is valid.
func (l *Local) editOwnList(ctx context.Context, community string, a record.Author, reason string, add, dryRun bool) error {
	l.mod.publish.Lock()
	defer l.mod.publish.Unlock()
	list, version, err := l.ownList(ctx, community)
	if err != nil {
		return err
	}
	list.Blocked = slices.DeleteFunc(list.Blocked, func(e mentorship.ModerationEntry) bool { return e.Peer == a })
	if add {
		list.Blocked = append(list.Blocked, mentorship.ModerationEntry{Peer: a, Reason: reason, Since: uint64(time.Now().UnixMilli())})
	}
	payload, err := list.Encode()
	if err != nil {
		return api.BadRequest(fmt.Sprintf("your moderation list in %q cannot take this change: %v", community, err))
	}
	if dryRun {
		return nil
	}
	_, err = l.write(ctx, record.Addr{Community: community, Author: l.author, Kind: mentorship.KindModeration}, version, false, payload)
	return err
}

// FollowSteward implements api.Backend.
func (l *Local) FollowSteward(ctx context.Context, in api.StewardInput) (api.Steward, error) {
	a, err := parsePeer(in.PeerID)
	if err != nil {
		return api.Steward{}, err
	}
	if a == l.author {
		return api.Steward{}, api.BadRequest("that is your own peer ID: your own blocks apply already ('mentormesh block')")
	}
	community, err := l.pairingCommunity(in.Community)
	if err != nil {
		return api.Steward{}, err
	}
	if err := l.mod.follow(ctx, a, community, time.Now()); err != nil {
		return api.Steward{}, err
	}
	ss, err := l.Stewards(ctx)
	if err != nil {
		return api.Steward{}, err
	}
	for _, s := range ss {
		if s.PeerID == a.String() && s.Community == community {
			return s, nil
		}
	}
	return api.Steward{}, fmt.Errorf("steward %s not found after following it", a)
}

// UnfollowSteward implements api.Backend.
func (l *Local) UnfollowSteward(ctx context.Context, peerID, community string) error {
	a, err := parsePeer(peerID)
	if err != nil {
		return err
	}
	n, err := l.mod.unfollow(ctx, a, community)
	if err != nil {
		return err
	}
	if n == 0 {
		where := ""
		if community != "" {
			where = fmt.Sprintf(" in %q", community)
		}
		return api.NotFound(fmt.Sprintf("you do not follow %s as a steward%s ('mentormesh steward list' shows whom you follow)", a, where))
	}
	return nil
}

// Stewards implements api.Backend.
func (l *Local) Stewards(ctx context.Context) ([]api.Steward, error) {
	st, _ := l.mod.snapshot()
	out := []api.Steward{}
	for _, f := range st.Stewards {
		a, err := record.ParseAuthor(f.PeerID)
		if err != nil {
			continue
		}
		s := api.Steward{PeerID: f.PeerID, Community: f.Community, Since: f.Since}
		list, rec, err := l.mod.stewardList(ctx, f.Community, a)
		if err != nil {
			return nil, err
		}
		if rec != nil {
			t := rec.Timestamp.UTC()
			s.Listed, s.ListVersion, s.ListUpdatedAt = len(list.Blocked), rec.Version, &t
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(x, y api.Steward) int {
		return cmp.Or(strings.Compare(x.Community, y.Community), strings.Compare(x.PeerID, y.PeerID))
	})
	return out, nil
}
