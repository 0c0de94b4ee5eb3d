package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/record"
)

// BlocksFile holds the peers this node's user blocked and the stewards it
// follows (JSON, mode 0600: whom you block is nobody else's business).
func (p Paths) BlocksFile() string { return filepath.Join(p.Dir, "blocks.json") }

// moderation is the node's blocks: peers its user blocked, and peers listed
// by the stewards it follows. A blocked peer's records are hidden from every
// view (Local.blocked), ignored when they arrive (ingest), not sent in
// catch-up, and its connections are refused (gater). Blocks are kept in
// the data directory and take effect at once.
//
// The effective set is computed when blocks or followed stewards change and
// when a followed steward's list arrives, so blocked is a map lookup (it is
// on the ingest path of every record).
type moderation struct {
	path  string
	store store.Store
	self  record.Author
	log   *slog.Logger

	// edit serialises changes (read, change, save, recompute), so two
	// concurrent blocks cannot lose one another.
	edit sync.Mutex
	// publish serialises edits of this node's own signed list.
	publish sync.Mutex

	mu        sync.RWMutex
	state     moderationState
	effective map[record.Author][]blockSource
	// gen counts recomputations of effective, so views that cache what
	// depends on blocks (pairing outcomes) know when to read again.
	gen atomic.Uint64
	// onBlock, if set, is called (outside locks) with each peer that
	// becomes blocked: the network closes its connections.
	onBlock func(peer.ID)
}

// moderationState is what BlocksFile holds.
type moderationState struct {
	Blocks   []savedBlock   `json:"blocks"`
	Stewards []savedSteward `json:"stewards"`
}

type savedBlock struct {
	PeerID string    `json:"peer_id"`
	Reason string    `json:"reason,omitempty"`
	Since  time.Time `json:"since"`
}

type savedSteward struct {
	PeerID    string    `json:"peer_id"`
	Community string    `json:"community"`
	Since     time.Time `json:"since"`
}

// blockSource is one reason a peer is blocked: the user's own block
// (steward nil) or an entry of a followed steward's list.
type blockSource struct {
	steward   *record.Author
	community string
	reason    string
	since     time.Time
}

// loadModeration reads BlocksFile (none means no blocks) and computes the
// effective blocks from it and the stewards' lists in st.
func loadModeration(ctx context.Context, paths Paths, st store.Store, self record.Author, log *slog.Logger) (*moderation, error) {
	if log == nil {
		log = slog.Default()
	}
	m := &moderation{path: paths.BlocksFile(), store: st, self: self, log: log}
	data, err := os.ReadFile(m.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("reading blocks: %w", err)
	default:
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m.state); err != nil {
			return nil, fmt.Errorf("%s is not a valid blocks file (%w); fix it or move it away", m.path, err)
		}
		if err := m.state.check(); err != nil {
			return nil, fmt.Errorf("%s: %w; fix it or move it away", m.path, err)
		}
	}
	if err := m.recompute(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

func (s moderationState) check() error {
	for _, b := range s.Blocks {
		if _, err := record.ParseAuthor(b.PeerID); err != nil {
			return fmt.Errorf("blocked peer %q: %w", b.PeerID, err)
		}
	}
	for _, st := range s.Stewards {
		if _, err := record.ParseAuthor(st.PeerID); err != nil {
			return fmt.Errorf("steward %q: %w", st.PeerID, err)
		}
		if err := record.CheckCommunity(st.Community); err != nil {
			return fmt.Errorf("steward %s: %w", st.PeerID, err)
		}
	}
	return nil
}

// blocked reports whether a's records are hidden and refused. Safe on a
// nil receiver (no blocks).
func (m *moderation) blocked(a record.Author) bool {
	if m == nil {
		return false
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	_, ok := m.effective[a]
	return ok
}

// any reports whether any peer is blocked. Safe on a nil receiver.
func (m *moderation) any() bool {
	if m == nil {
		return false
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.effective) > 0
}

// generation changes whenever the effective blocks may have changed. Safe
// on a nil receiver.
func (m *moderation) generation() uint64 {
	if m == nil {
		return 0
	}
	return m.gen.Load()
}

// sources returns why a is blocked (nil if it is not).
func (m *moderation) sources(a record.Author) []blockSource {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(m.effective[a])
}

// snapshot returns the saved state and the effective blocks.
func (m *moderation) snapshot() (moderationState, map[record.Author][]blockSource) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	st := moderationState{Blocks: slices.Clone(m.state.Blocks), Stewards: slices.Clone(m.state.Stewards)}
	eff := make(map[record.Author][]blockSource, len(m.effective))
	for a, s := range m.effective {
		eff[a] = slices.Clone(s)
	}
	return st, eff
}

// setOnBlock installs the callback for newly blocked peers.
func (m *moderation) setOnBlock(f func(peer.ID)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.onBlock = f
}

// change applies f to a copy of the saved state; if f reports a change,
// the state is saved, made current and the effective blocks recomputed.
func (m *moderation) change(ctx context.Context, f func(st *moderationState) (bool, error)) error {
	m.edit.Lock()
	defer m.edit.Unlock()
	st, _ := m.snapshot()
	changed, err := f(&st)
	if err != nil || !changed {
		return err
	}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := writeSecret(m.path, append(data, '\n')); err != nil {
		return fmt.Errorf("saving blocks: %w", err)
	}
	m.mu.Lock()
	m.state = st
	m.mu.Unlock()
	return m.recomputeLocked(ctx)
}

// block adds (or updates the reason of) the user's block of a.
func (m *moderation) block(ctx context.Context, a record.Author, reason string, now time.Time) error {
	id := a.String()
	return m.change(ctx, func(st *moderationState) (bool, error) {
		for i, b := range st.Blocks {
			if b.PeerID == id {
				if b.Reason == reason {
					return false, nil
				}
				st.Blocks[i].Reason = reason
				return true, nil
			}
		}
		st.Blocks = append(st.Blocks, savedBlock{PeerID: id, Reason: reason, Since: now.UTC()})
		return true, nil
	})
}

// unblock removes the user's block of a and reports whether there was one.
func (m *moderation) unblock(ctx context.Context, a record.Author) (bool, error) {
	id := a.String()
	found := false
	err := m.change(ctx, func(st *moderationState) (bool, error) {
		n := len(st.Blocks)
		st.Blocks = slices.DeleteFunc(st.Blocks, func(b savedBlock) bool { return b.PeerID == id })
		found = len(st.Blocks) < n
		return found, nil
	})
	return found, err
}

// follow follows steward s's list in community.
func (m *moderation) follow(ctx context.Context, s record.Author, community string, now time.Time) error {
	id := s.String()
	return m.change(ctx, func(st *moderationState) (bool, error) {
		for _, f := range st.Stewards {
			if f.PeerID == id && f.Community == community {
				return false, nil
			}
		}
		st.Stewards = append(st.Stewards, savedSteward{PeerID: id, Community: community, Since: now.UTC()})
		return true, nil
	})
}

// unfollow stops following s in community ("" for every community) and
// reports how many follows it removed.
func (m *moderation) unfollow(ctx context.Context, s record.Author, community string) (int, error) {
	id := s.String()
	removed := 0
	err := m.change(ctx, func(st *moderationState) (bool, error) {
		n := len(st.Stewards)
		st.Stewards = slices.DeleteFunc(st.Stewards, func(f savedSteward) bool {
			return f.PeerID == id && (community == "" || f.Community == community)
		})
		removed = n - len(st.Stewards)
		return removed > 0, nil
	})
	return removed, err
}

// follows reports whether the node follows a as a steward in community.
func (m *moderation) follows(a record.Author, community string) bool {
	id := a.String()
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, f := range m.state.Stewards {
		if f.PeerID == id && f.Community == community {
			return true
		}
	}
	return false
}

// stored is told about records that became current from peers: a new list
// from a followed steward changes the effective blocks.
func (m *moderation) stored(ctx context.Context, recs []*record.Record) {
	if m == nil {
		return
	}
	for _, rec := range recs {
		if rec.Kind == mentorship.KindModeration && m.follows(rec.Author, rec.Community) {
			m.edit.Lock()
			err := m.recomputeLocked(ctx)
			m.edit.Unlock()
			if err != nil {
				m.log.Warn("applying a steward's moderation list", "steward", rec.Author, "community", rec.Community, "err", err)
			}
			return
		}
	}
}

func (m *moderation) recompute(ctx context.Context) error {
	m.edit.Lock()
	defer m.edit.Unlock()
	return m.recomputeLocked(ctx)
}

// recomputeLocked rebuilds the effective blocks: the user's own, then the
// entries of each followed steward's current list. A steward the user
// blocked has no say; a followed steward, and this node itself, are never
// blocked by a list. The caller holds m.edit.
func (m *moderation) recomputeLocked(ctx context.Context) error {
	st, old := m.snapshot()
	eff := map[record.Author][]blockSource{}
	for _, b := range st.Blocks {
		a, err := record.ParseAuthor(b.PeerID)
		if err != nil {
			continue // refused when loaded or saved
		}
		eff[a] = append(eff[a], blockSource{reason: b.Reason, since: b.Since})
	}
	followed := map[record.Author]bool{}
	for _, f := range st.Stewards {
		if a, err := record.ParseAuthor(f.PeerID); err == nil {
			followed[a] = true
		}
	}
	for _, f := range st.Stewards {
		steward, err := record.ParseAuthor(f.PeerID)
		if err != nil {
			continue
		}
		if _, blockedByUser := eff[steward]; blockedByUser {
			// Only the user's own blocks are in eff for a followed steward:
			// lists never block a followed steward (below).
			continue
		}
		list, _, err := m.stewardList(ctx, f.Community, steward)
		if err != nil {
			return err
		}
		for _, e := range list.Blocked {
			a := record.Author(e.Peer)
			if a == m.self || followed[a] {
				continue
			}
			src := blockSource{steward: &steward, community: f.Community, reason: e.Reason}
			if e.Since > 0 {
				src.since = time.UnixMilli(int64(e.Since)).UTC()
			}
			eff[a] = append(eff[a], src)
		}
	}
	m.mu.Lock()
	m.effective = eff
	m.gen.Add(1)
	onBlock := m.onBlock
	m.mu.Unlock()
	if onBlock != nil {
		for a := range eff {
			if _, was := old[a]; !was {
				onBlock(a.PeerID())
			}
		}
	}
	return nil
}

// stewardList returns a steward's current list in community as this node
// holds it; the record is nil if there is none (or a tombstone).
func (m *moderation) stewardList(ctx context.Context, community string, steward record.Author) (mentorship.ModerationList, *record.Record, error) {
	rec, err := m.store.Current(ctx, record.Addr{Community: community, Author: steward, Kind: mentorship.KindModeration})
	if errors.Is(err, store.ErrNotFound) {
		return mentorship.ModerationList{}, nil, nil
	}
	if err != nil {
		return mentorship.ModerationList{}, nil, fmt.Errorf("reading the moderation list of %s: %w", steward, err)
	}
	if rec.Deleted || rec.Expired(time.Now()) {
		return mentorship.ModerationList{}, rec, nil
	}
	list, err := mentorship.DecodeModeration(rec.Payload)
	if err != nil {
		// Validated when stored; one that no longer decodes lists nobody.
		m.log.Warn("stored moderation list does not decode", "steward", steward, "community", community, "err", err)
		return mentorship.ModerationList{}, rec, nil
	}
	return list, rec, nil
}
