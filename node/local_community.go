package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/sync/record"
)

// communityNet is what joining and leaving need from a running node's
// network side (netNode provides it; nil offline).
type communityNet interface {
	joinCommunity(community string) error
	leaveCommunity(community string) error
	communityPeers(community string) []string
}

var _ communityNet = (*netNode)(nil)

// Communities implements api.Backend.
func (l *Local) Communities(ctx context.Context) (api.CommunityList, error) {
	joined := l.joined()
	cn, running := l.net.(communityNet)
	counts, err := l.store.Counts(ctx)
	if err != nil {
		return api.CommunityList{}, fmt.Errorf("counting records: %w", err)
	}
	type tally struct{ live, tombstones int }
	per := map[string]tally{}
	var left []string
	for _, c := range counts {
		t := per[c.Community]
		t.live += c.Live
		t.tombstones += c.Tombstones
		per[c.Community] = t
		if !slices.Contains(joined, c.Community) && !slices.Contains(left, c.Community) {
			left = append(left, c.Community)
		}
	}
	slices.Sort(left)
	digests, err := l.digests(ctx, slices.Concat(joined, left))
	if err != nil {
		return api.CommunityList{}, err
	}
	view := func(name string, isJoined bool) api.Community {
		c := api.Community{Name: name, Joined: isJoined, Records: per[name].live, Tombstones: per[name].tombstones,
			Peers: []string{}, Digest: digests[name]}
		if running && isJoined {
			c.Peers = cn.communityPeers(name)
		}
		return c
	}
	out := api.CommunityList{Running: running, Communities: []api.Community{}, Left: []api.Community{}}
	for i, name := range joined {
		c := view(name, true)
		c.Default = i == 0
		out.Communities = append(out.Communities, c)
	}
	for _, name := range left {
		out.Left = append(out.Left, view(name, false))
	}
	return out, nil
}

// JoinCommunity implements api.Backend.
func (l *Local) JoinCommunity(ctx context.Context, name string) (api.CommunityChange, error) {
	if err := checkCommunityName(name); err != nil {
		return api.CommunityChange{}, err
	}
	cn, running := l.net.(communityNet)
	changed, err := l.communities.join(name, func() error {
		if running {
			return cn.joinCommunity(name)
		}
		return nil
	})
	if err != nil {
		return api.CommunityChange{}, fmt.Errorf("joining community %q: %w", name, err)
	}
	if changed {
		if err := l.copyDeviceRecords(ctx, name); err != nil {
			return api.CommunityChange{}, fmt.Errorf("joined community %q, but writing the device records there: %w", name, err)
		}
	}
	return api.CommunityChange{Community: name, Changed: changed, Running: running, Communities: l.joined()}, nil
}

// LeaveCommunity implements api.Backend.
func (l *Local) LeaveCommunity(ctx context.Context, name string) (api.CommunityChange, error) {
	if err := checkCommunityName(name); err != nil {
		return api.CommunityChange{}, err
	}
	cn, running := l.net.(communityNet)
	err := l.communities.leave(name, func() error {
		if running {
			return cn.leaveCommunity(name)
		}
		return nil
	})
	switch {
	case errors.Is(err, errNotMember):
		return api.CommunityChange{}, api.NotFound(fmt.Sprintf("this node is not in community %q (joined: %s)",
			name, strings.Join(l.joined(), ", ")))
	case errors.Is(err, errLastCommunity):
		return api.CommunityChange{}, api.Conflict(fmt.Sprintf(
			"cannot leave %q: it is the only community this node is in; join another first with 'mentormesh community join NAME'", name))
	case err != nil && l.communities.has(name):
		return api.CommunityChange{}, fmt.Errorf("leaving community %q: %w", name, err)
	case err != nil:
		return api.CommunityChange{}, fmt.Errorf("left community %q, but unsubscribing from its topic failed (restart the node to be sure): %w", name, err)
	}
	return api.CommunityChange{Community: name, Changed: true, Running: running, Communities: l.joined()}, nil
}

// checkCommunityName validates a name given to join or leave, suggesting
// the lowercase form people often mean.
func checkCommunityName(name string) error {
	if name == "" {
		return api.NoCommunityName()
	}
	if err := record.CheckCommunity(name); err != nil {
		msg := err.Error()
		if low := strings.ToLower(strings.TrimSpace(name)); low != name && record.CheckCommunity(low) == nil {
			msg += fmt.Sprintf(" (did you mean %q?)", low)
		}
		return api.BadRequest(msg)
	}
	return nil
}
