package node

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
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

// netView is what Local needs from the running node's network side; nil
// when the store is opened without a node (offline CLI commands).
type netView interface {
	addrs() []string
	peers() []api.Peer
	communities() []string
	ingestStats() api.IngestStats
	startedAt() time.Time
	catchUpSessions() []api.CatchUp
	natStatus() *api.NAT
	// published is told about every local write so it can go out now.
	published(rec *record.Record)
}

// Local implements api.Backend over the store, for a running node or for
// CLI commands run while no node is running (offline first: what they write
// waits in the outbox until a node publishes it).
type Local struct {
	paths       Paths
	key         ed25519.PrivateKey
	author      record.Author
	store       store.Store
	communities *membership
	net         netView
	pairing     pairingHooks // lock, clock and capacity hook of pairings (local_pairing.go)
	mod         *moderation  // blocks and followed stewards (moderation.go)
	// events is nil when no node runs.
	events *hub
	// dirs are the profile directories for matching and statistics.
	dirs profileDirs
	// resources caches the resource sets that list and search read.
	resources resourceCache
	// dev is the multi-device state (device.go); nil only in tests that
	// build a Local by hand.
	dev *devices
}

var _ api.Backend = (*Local)(nil)

// ID implements api.Backend.
func (l *Local) ID(ctx context.Context) (api.Identity, error) {
	id := api.Identity{PeerID: l.author.String(), Addrs: []string{}}
	if l.isDevice() {
		id.DeviceID = l.dev.linked.device.String()
	}
	if l.net != nil {
		id.Addrs = l.net.addrs()
	}
	return id, nil
}

// Peers implements api.Backend.
func (l *Local) Peers(ctx context.Context) ([]api.Peer, error) {
	if l.net == nil {
		return []api.Peer{}, nil
	}
	return l.net.peers(), nil
}

// Status implements api.Backend.
func (l *Local) Status(ctx context.Context) (api.Status, error) {
	st := api.Status{
		PeerID:      l.author.String(),
		DataDir:     l.paths.Dir,
		Communities: l.joined(),
		Records:     []api.KindCount{},
	}
	counts, err := l.store.Counts(ctx)
	if err != nil {
		return st, fmt.Errorf("counting records: %w", err)
	}
	for _, c := range counts {
		st.Records = append(st.Records, api.KindCount{Community: c.Community, Kind: c.Kind, Records: c.Live, Tombstones: c.Tombstones})
	}
	err = l.store.Outbox(ctx, func(*record.Record) error { st.Outbox++; return nil })
	if err != nil {
		return st, fmt.Errorf("reading outbox: %w", err)
	}
	if st.Digests, err = l.digests(ctx, st.Communities); err != nil {
		return st, err
	}
	st.CatchUp = []api.CatchUp{}
	if l.net != nil {
		st.Running = true
		t := l.net.startedAt()
		st.StartedAt = &t
		st.Peers = len(l.net.peers())
		st.Ingest = l.net.ingestStats()
		st.CatchUp = l.net.catchUpSessions()
		st.NAT = l.net.natStatus()
		slices.SortFunc(st.CatchUp, func(a, b api.CatchUp) int {
			return cmp.Or(strings.Compare(a.PeerID, b.PeerID), strings.Compare(a.Community, b.Community))
		})
	}
	return st, nil
}

// digests fingerprints each community's current records, in the order the
// catch-up protocol uses, so two nodes can tell they hold the same records.
func (l *Local) digests(ctx context.Context, communities []string) (map[string]string, error) {
	snap, err := l.store.SyncSnapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading records: %w", err)
	}
	defer snap.Close()
	out := make(map[string]string, len(communities))
	for _, c := range communities {
		h := sha256.New()
		var buf [8]byte
		err := snap.Items(store.SyncScope{Community: c}, store.SyncItem{}, func(it store.SyncItem) bool {
			binary.BigEndian.PutUint64(buf[:], it.Timestamp)
			h.Write(buf[:])
			h.Write(it.ID[:])
			return true
		})
		if err != nil {
			return nil, fmt.Errorf("reading records: %w", err)
		}
		out[c] = hex.EncodeToString(h.Sum(nil)[:16])
	}
	return out, nil
}

// joined lists the joined communities in the order they were joined: the
// first is where commands act when given no --community.
func (l *Local) joined() []string { return l.communities.list() }

// SetProfile implements api.Backend: it writes a new version of the caller's
// profile in each target community.
func (l *Local) SetProfile(ctx context.Context, in api.ProfileInput) (api.Profile, error) {
	targets := l.joined()
	if in.Community != "" {
		if err := l.checkJoined(in.Community); err != nil {
			return api.Profile{}, err
		}
		targets = []string{in.Community}
	}
	var first api.Profile
	for i, c := range targets {
		p, err := l.setProfileIn(ctx, c, in)
		if err != nil {
			return api.Profile{}, err
		}
		if i == 0 {
			first = p
		}
	}
	return first, nil
}

func (l *Local) setProfileIn(ctx context.Context, community string, in api.ProfileInput) (api.Profile, error) {
	addr := record.Addr{Community: community, Author: l.author, Kind: mentorship.KindProfile}
	var prof mentorship.Profile
	var version uint64
	cur, err := l.store.Current(ctx, addr)
	switch {
	case err == nil:
		version = cur.Version
		if !cur.Deleted {
			if prof, err = mentorship.DecodeProfile(cur.Payload); err != nil {
				return api.Profile{}, fmt.Errorf("reading current profile: %w", err)
			}
		}
	case !errors.Is(err, store.ErrNotFound):
		return api.Profile{}, fmt.Errorf("reading current profile: %w", err)
	}
	if err := applyProfileInput(&prof, in); err != nil {
		return api.Profile{}, api.BadRequest(err.Error())
	}
	if err := checkZoneKnown(in.TimeZone); err != nil {
		return api.Profile{}, err
	}
	payload, err := prof.Encode()
	if err != nil {
		return api.Profile{}, api.BadRequest(err.Error())
	}
	rec, err := l.write(ctx, addr, version, false, payload)
	if err != nil {
		return api.Profile{}, err
	}
	outcomes, err := l.outcomes(ctx, community)
	if err != nil {
		// The profile is saved: report that, without the mentorships,
		// rather than an error that suggests it was not.
		outcomes = nil
	}
	return profileView(rec, outcomes[l.author])
}

// DeleteProfile implements api.Backend.
func (l *Local) DeleteProfile(ctx context.Context, community string) error {
	targets := l.joined()
	if community != "" {
		if err := l.checkJoined(community); err != nil {
			return err
		}
		targets = []string{community}
	}
	deleted := 0
	for _, c := range targets {
		addr := record.Addr{Community: c, Author: l.author, Kind: mentorship.KindProfile}
		cur, err := l.store.Current(ctx, addr)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("reading current profile: %w", err)
		}
		if cur.Deleted {
			continue
		}
		if _, err := l.write(ctx, addr, cur.Version, true, nil); err != nil {
			return err
		}
		deleted++
	}
	if deleted == 0 {
		return api.NotFound("you have no profile to delete")
	}
	return nil
}

// write signs and stores a new version of a record of the caller's. The
// store flushes it to disk before write returns. The version is one above
// both prevVersion and whatever the store holds at addr (a record another
// device of the practitioner wrote, even one hidden from views), so a write
// never loses to a version already stored.
func (l *Local) write(ctx context.Context, addr record.Addr, prevVersion uint64, deleted bool, payload []byte) (*record.Record, error) {
	return l.writeBody(ctx, record.Body{
		Community: addr.Community,
		Author:    l.author,
		Kind:      addr.Kind,
		Key:       addr.Key,
		Version:   prevVersion,
		Timestamp: record.Now(),
		Deleted:   deleted,
		Payload:   payload,
	})
}

// writeBody is write for a whole body; b.Version is the version it follows.
func (l *Local) writeBody(ctx context.Context, b record.Body) (*record.Record, error) {
	addr := b.Addr()
	if meta, ok, err := l.store.CurrentMeta(ctx, addr); err != nil {
		return nil, fmt.Errorf("reading current version: %w", err)
	} else if ok && meta.Version > b.Version {
		b.Version = meta.Version
	}
	b.Version++
	rec, err := l.sign(b)
	if err != nil {
		return nil, api.BadRequest(err.Error())
	}
	res, err := l.store.Apply(ctx, rec, store.ApplyOptions{Local: true})
	if err != nil {
		return nil, fmt.Errorf("storing record: %w", err)
	}
	if !res.Applied {
		// Only this node writes this author's records, and it read the
		// current version above; losing means another process raced us.
		return nil, fmt.Errorf("a newer version of %s was stored concurrently; try again", addr.Kind)
	}
	if l.net != nil {
		l.net.published(rec)
	}
	l.events.records([]*record.Record{rec}, true)
	return rec, nil
}

// Profile implements api.Backend.
func (l *Local) Profile(ctx context.Context, peerID, community string) (api.Profile, error) {
	author := l.author
	// "self" names the caller as in the HTTP API (GET /api/v1/profiles/self),
	// so `profile show self` answers the same with or without a node.
	if peerID != "" && peerID != "self" {
		a, err := record.ParseAuthor(peerID)
		if err != nil {
			return api.Profile{}, api.BadRequest(err.Error())
		}
		author = a
	}
	if l.blocked(author) {
		return api.Profile{}, api.NotFound(fmt.Sprintf("%s is blocked on this node ('mentormesh blocks' shows why; 'mentormesh unblock %s' shows their records again)", author, author))
	}
	targets := l.joined()
	if community != "" {
		// As every command given --community: a community not joined is
		// refused with how to join it, not answered with "no profile".
		if err := l.checkJoined(community); err != nil {
			return api.Profile{}, err
		}
		targets = []string{community}
	}
	for _, c := range targets {
		rec, err := l.store.Current(ctx, record.Addr{Community: c, Author: author, Kind: mentorship.KindProfile})
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return api.Profile{}, fmt.Errorf("reading profile: %w", err)
		}
		if rec.Deleted || rec.Expired(time.Now()) {
			continue
		}
		return l.profileView(ctx, rec)
	}
	where := ""
	if community != "" {
		where = fmt.Sprintf(" in community %q", community)
	}
	if author == l.author {
		return api.Profile{}, api.NotFound(fmt.Sprintf("you have no profile%s yet; create one with 'mentormesh profile set --name NAME'", where))
	}
	return api.Profile{}, api.NotFound(fmt.Sprintf("no profile of %s%s on this node (it may not have reached this node yet)", author, where))
}

// checkJoined refuses a community the node has not joined (400), saying
// which are joined and how to join that one.
func (l *Local) checkJoined(community string) error {
	if l.communities.has(community) {
		return nil
	}
	if err := record.CheckCommunity(community); err != nil {
		return api.BadRequest(err.Error())
	}
	return api.BadRequest(fmt.Sprintf("this node is not in community %q (joined: %s); join it with 'mentormesh community join %s'",
		community, strings.Join(l.joined(), ", "), community))
}

// profileView returns rec's profile with its author's mentorships.
func (l *Local) profileView(ctx context.Context, rec *record.Record) (api.Profile, error) {
	outcomes, err := l.outcomes(ctx, rec.Community)
	if err != nil {
		return api.Profile{}, fmt.Errorf("reading pairing outcomes: %w", err)
	}
	return profileView(rec, outcomes[rec.Author])
}

// Subscribe implements api.EventsBackend.
func (l *Local) Subscribe(ctx context.Context) (<-chan api.Event, error) {
	if l.events == nil {
		return nil, &api.Error{Status: 503, Code: api.CodeUnavailable, Message: "no node is running: events come from a running node ('mentormesh run')"}
	}
	return l.events.subscribe(ctx), nil
}
