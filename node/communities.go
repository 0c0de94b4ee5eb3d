package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/mentormesh/mentormesh/sync/record"
)

// CommunitiesFile lists the communities the node has joined (JSON, written
// atomically). It is kept apart from the store so it can be read, and
// repaired by hand, without opening Badger.
func (p Paths) CommunitiesFile() string { return filepath.Join(p.Dir, "communities.json") }

// communitiesFileVersion is the format of communities.json.
const communitiesFileVersion = 1

// communitiesFile is the content of communities.json.
type communitiesFile struct {
	Version     int      `json:"version"`
	Communities []string `json:"communities"`
}

// Errors of joining and leaving.
var (
	errNotMember       = errors.New("not a member of that community")
	errLastCommunity   = errors.New("cannot leave the only community")
	errNoCommunityList = errors.New("no community list")
)

// membership is the node's list of joined communities, in the order they
// were joined (the first is where commands act by default). Everything that
// asks "is this community joined?" asks it: the ingest pipeline, catch-up,
// the publisher and Local. Reads are lock-free snapshots; joins and leaves
// are serialised and written to communities.json before anyone sees them.
//
// Only the process holding the data directory lock opens a membership, so
// the file has one writer.
type membership struct {
	file string

	// opMu serialises join and leave, including their effect on the
	// running node (topic subscription), so the list and the topics never
	// disagree for longer than one operation.
	opMu  sync.Mutex
	state atomic.Pointer[memberState]
}

// memberState is one immutable version of the list.
type memberState struct {
	list []string
	set  map[string]struct{}
}

func newMemberState(list []string) *memberState {
	s := &memberState{list: list, set: make(map[string]struct{}, len(list))}
	for _, c := range list {
		s.set[c] = struct{}{}
	}
	return s
}

// loadMembership reads the data directory's community list. A data
// directory without one (new, or from before communities could be joined)
// starts with initial, or DefaultCommunity if initial is empty, and the
// list is written. With add set (a node starting with --community), the
// communities of initial that are not in the list yet are joined and
// persisted too.
func loadMembership(p Paths, initial []string, add bool) (*membership, error) {
	for _, c := range initial {
		if err := record.CheckCommunity(c); err != nil {
			return nil, fmt.Errorf("--community: %w", err)
		}
	}
	m := &membership{file: p.CommunitiesFile()}
	stored, err := readCommunities(m.file)
	list := stored
	switch {
	case errors.Is(err, errNoCommunityList):
		list = dedupe(initial)
		if len(list) == 0 {
			list = []string{DefaultCommunity}
		}
	case err != nil:
		return nil, err
	case add:
		list = dedupe(append(slices.Clone(stored), initial...))
	}
	if !slices.Equal(stored, list) {
		if err := writeCommunities(m.file, list); err != nil {
			return nil, err
		}
	}
	m.state.Store(newMemberState(list))
	return m, nil
}

// InitCommunities returns the communities of a data directory for
// mentormesh init, after joining join: a new data directory starts in
// join, an existing one adds those it lacks, as a node started with
// --community does. With nothing to add it writes nothing (a directory
// without a list reports the one a node would start with). Adding takes
// the data directory's lock, since the process holding it (a running
// node) owns the list: while another holds it, the error is a
// *LockedError.
func InitCommunities(p Paths, join []string) ([]string, error) {
	// Names are checked by loadMembership; any already in stored are valid.
	stored, err := readCommunities(p.CommunitiesFile())
	switch {
	case errors.Is(err, errNoCommunityList):
		if len(join) == 0 {
			return []string{DefaultCommunity}, nil
		}
	case err != nil:
		return nil, err
	case !slices.ContainsFunc(join, func(c string) bool { return !slices.Contains(stored, c) }):
		return stored, nil
	}
	lock, err := lockDir(p, "mentormesh init")
	if err != nil {
		return nil, err
	}
	defer func() { _ = lock.unlock() }()
	m, err := loadMembership(p, join, true)
	if err != nil {
		return nil, err
	}
	return m.list(), nil
}

func readCommunities(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNoCommunityList
	}
	if err != nil {
		return nil, fmt.Errorf("reading the community list: %w", err)
	}
	corrupt := func(why error) error {
		return fmt.Errorf("%s is corrupt (%w); fix it, or delete it to start again in the communities given by --community (default %s)",
			path, why, DefaultCommunity)
	}
	var f communitiesFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, corrupt(err)
	}
	if f.Version != communitiesFileVersion {
		return nil, corrupt(fmt.Errorf("version %d, this mentormesh reads version %d", f.Version, communitiesFileVersion))
	}
	if len(f.Communities) == 0 {
		return nil, corrupt(errors.New("it lists no community"))
	}
	for _, c := range f.Communities {
		if err := record.CheckCommunity(c); err != nil {
			return nil, corrupt(err)
		}
	}
	return dedupe(f.Communities), nil
}

// writeCommunities replaces the file atomically and durably: a crash leaves
// the old list or the new one.
func writeCommunities(path string, list []string) error {
	data, err := json.MarshalIndent(communitiesFile{Version: communitiesFileVersion, Communities: list}, "", "  ")
	if err != nil {
		return err
	}
	// Not a secret, but writeSecret is the atomic writer (0600 matches the
	// rest of the data directory).
	if err := writeSecret(path, append(data, '\n')); err != nil {
		return fmt.Errorf("saving the community list: %w", err)
	}
	// The rename is durable only once the directory is synced.
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

func dedupe(list []string) []string {
	out := make([]string, 0, len(list))
	for _, c := range list {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// has reports whether community is joined. It is safe to call from any
// goroutine and takes no lock.
func (m *membership) has(community string) bool {
	_, ok := m.state.Load().set[community]
	return ok
}

// list returns the joined communities in join order.
func (m *membership) list() []string {
	return slices.Clone(m.state.Load().list)
}

// join adds community to the list and saves it, then runs apply (which
// subscribes a running node to the topic). The community counts as joined
// before apply runs, so the first records that arrive on the new topic are
// accepted. If apply fails, the join is undone. joined is false if the
// community was already joined (apply is not run).
func (m *membership) join(community string, apply func() error) (joined bool, err error) {
	m.opMu.Lock()
	defer m.opMu.Unlock()
	cur := m.state.Load()
	if _, ok := cur.set[community]; ok {
		return false, nil
	}
	next := append(slices.Clone(cur.list), community)
	if err := writeCommunities(m.file, next); err != nil {
		return false, err
	}
	m.state.Store(newMemberState(next))
	if err := apply(); err != nil {
		m.state.Store(cur)
		if werr := writeCommunities(m.file, cur.list); werr != nil {
			err = errors.Join(err, werr)
		}
		return false, err
	}
	return true, nil
}

// leave removes community from the list and saves it, then runs apply
// (which unsubscribes a running node and stops catch-up). From the moment
// the list changes, records of the community are refused. An error from
// apply is returned, but the community stays left.
func (m *membership) leave(community string, apply func() error) error {
	m.opMu.Lock()
	defer m.opMu.Unlock()
	cur := m.state.Load()
	if _, ok := cur.set[community]; !ok {
		return errNotMember
	}
	if len(cur.list) == 1 {
		return errLastCommunity
	}
	next := slices.DeleteFunc(slices.Clone(cur.list), func(c string) bool { return c == community })
	if err := writeCommunities(m.file, next); err != nil {
		return err
	}
	m.state.Store(newMemberState(next))
	return apply()
}

// Communities returns the communities the node has joined, in join order.
func (n *Node) Communities() []string { return n.local.joined() }
