package main_test

// End-to-end tests: they build the mentormesh binary once (TestMain), run
// real nodes on loopback with their own data directories, and drive them
// with CLI commands, as a user would.

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/internal/harness"
)

// bin is the mentormesh binary built by TestMain.
var bin string

func TestMain(m *testing.M) { harness.Main(m, &bin) }

// JSON output of the commands under test, by their stable field names.
type (
	profileJSON struct {
		PeerID    string   `json:"peer_id"`
		Community string   `json:"community"`
		Name      string   `json:"name"`
		Bio       string   `json:"bio"`
		Skills    []string `json:"skills"`
		Version   uint64   `json:"version"`
	}
	peerJSON struct {
		PeerID      string   `json:"peer_id"`
		Communities []string `json:"communities"`
	}
	statusJSON struct {
		PeerID  string `json:"peer_id"`
		DataDir string `json:"data_dir"`
		Running bool   `json:"running"`
		Records []struct {
			Community string `json:"community"`
			Kind      string `json:"kind"`
			Records   int    `json:"records"`
		} `json:"records"`
		Outbox int `json:"outbox"`
	}
	initJSON struct {
		PeerID  string `json:"peer_id"`
		DataDir string `json:"data_dir"`
		Created bool   `json:"created"`
	}
)

const community = "sociocracy"

// Deadlines of the end-to-end tests.
const (
	connectTimeout   = 20 * time.Second
	propagateTimeout = 10 * time.Second
)

// profiles counts live profile records in a status.
func (s statusJSON) profiles() int {
	n := 0
	for _, r := range s.Records {
		if r.Kind == "profile" {
			n += r.Records
		}
	}
	return n
}

// tcpAddr returns a node's TCP multiaddr (ending in /p2p/ID).
func tcpAddr(t *testing.T, n *harness.Node) string {
	t.Helper()
	for _, a := range n.Addrs {
		if strings.Contains(a, "/tcp/") && strings.HasSuffix(a, "/p2p/"+n.PeerID) {
			return a
		}
	}
	t.Fatalf("node %s has no TCP address ending in /p2p/%s: %v", n.Dir, n.PeerID, n.Addrs)
	return ""
}

// waitPeers waits until n's `peers --json` lists every peer in want as a
// member of the community's topic.
func waitPeers(t *testing.T, n *harness.Node, want ...*harness.Node) {
	t.Helper()
	harness.WaitFor(t, connectTimeout, "peers of "+n.Name, func() error {
		var peers []peerJSON
		r := n.CLI("peers", "--json")
		if r.Code != 0 {
			return fmt.Errorf("%v", r)
		}
		if err := r.DecodeJSON(&peers); err != nil {
			return err
		}
		for _, w := range want {
			i := slices.IndexFunc(peers, func(p peerJSON) bool { return p.PeerID == w.PeerID })
			if i < 0 {
				return fmt.Errorf("%s (%s) not connected: %+v", w.Name, w.PeerID, peers)
			}
			if !slices.Contains(peers[i].Communities, community) {
				return fmt.Errorf("%s not in the %s topic yet: %+v", w.Name, community, peers[i])
			}
		}
		return nil
	})
}

// showProfile checks that `profile show PEER --json` on n shows want.
func showProfile(n *harness.Node, want profileJSON) error {
	r := n.CLI("profile", "show", want.PeerID, "--json")
	if r.Code != 0 {
		return fmt.Errorf("%v", r)
	}
	var got profileJSON
	if err := r.DecodeJSON(&got); err != nil {
		return err
	}
	if !equalProfiles(got, want) {
		return fmt.Errorf("profile show on %s = %+v, want %+v", n.Name, got, want)
	}
	return nil
}

// waitProfile waits until every reader shows want, propagateTimeout at
// most, and logs how long after since each one did.
func waitProfile(t *testing.T, want profileJSON, since time.Time, readers ...*harness.Node) {
	t.Helper()
	pending := slices.Clone(readers)
	harness.WaitFor(t, propagateTimeout, "profile of "+want.PeerID, func() error {
		var errs []error
		for _, n := range slices.Clone(pending) {
			if err := showProfile(n, want); err != nil {
				errs = append(errs, err)
				continue
			}
			t.Logf("profile of %s shown by %s after %v", want.Name, n.Name, time.Since(since).Round(time.Millisecond))
			pending = slices.DeleteFunc(pending, func(p *harness.Node) bool { return p == n })
		}
		return errors.Join(errs...)
	})
}

func equalProfiles(a, b profileJSON) bool {
	return a.PeerID == b.PeerID && a.Community == b.Community && a.Name == b.Name &&
		a.Bio == b.Bio && slices.Equal(a.Skills, b.Skills) && a.Version == b.Version
}

func TestThreeNodesProfilePropagates(t *testing.T) {
	t.Parallel()
	h := harness.New(t, bin)
	a := h.StartNode(t.TempDir())
	boot := tcpAddr(t, a)
	b := h.StartNode(t.TempDir(), "--bootstrap", boot)
	c := h.StartNode(t.TempDir(), "--bootstrap", boot)
	a.Name, b.Name, c.Name = "A", "B", "C"
	start := time.Now()
	waitPeers(t, a, b, c)
	waitPeers(t, b, a)
	waitPeers(t, c, a)
	t.Logf("connected and joined %s in %v", community, time.Since(start).Round(time.Millisecond))

	nodes := []*harness.Node{a, b, c}
	for i, writer := range nodes {
		want := profileJSON{
			PeerID:    writer.PeerID,
			Community: community,
			Name:      "Practitioner " + writer.Name,
			Bio:       fmt.Sprintf("Facilitates circles, node %d.", i),
			Skills:    []string{"facilitation", fmt.Sprintf("skill-%d", i)},
			Version:   1,
		}
		var set profileJSON
		writer.MustCLIJSON(&set, "profile", "set", "--name", want.Name, "--bio", want.Bio,
			"--skill", want.Skills[0], "--skill", want.Skills[1], "--json")
		if !equalProfiles(set, want) {
			t.Fatalf("profile set on %s = %+v, want %+v", writer.Name, set, want)
		}
		acked := time.Now()
		others := slices.DeleteFunc(slices.Clone(nodes), func(n *harness.Node) bool { return n == writer })
		waitProfile(t, want, acked, others...)
	}
}

func TestRestartKeepsEverything(t *testing.T) {
	t.Parallel()
	h := harness.New(t, bin)
	dir := t.TempDir()
	n := h.StartNode(dir)
	want := profileJSON{PeerID: n.PeerID, Community: community, Name: "Robin", Bio: "Stays.", Skills: []string{"listening"}, Version: 1}
	n.MustCLI("profile", "set", "--name", want.Name, "--bio", want.Bio, "--skill", want.Skills[0])

	if out := n.MustCLI("shutdown"); !strings.Contains(out, "Node stopped") {
		t.Errorf("shutdown printed %q, want it to say the node stopped", out)
	}
	// Once shutdown has returned, the data directory is free: a command
	// opens the store itself.
	var st statusJSON
	n.MustCLIJSON(&st, "status", "--json")
	if st.Running || st.profiles() != 1 {
		t.Errorf("status right after shutdown = %+v, want not running, 1 profile", st)
	}
	if code := n.WaitExit(harness.StopTimeout); code != 0 {
		t.Fatalf("node exited with %d after shutdown, want 0\nstderr:\n%s", code, n.Stderr())
	}

	again := h.StartNode(dir)
	if again.PeerID != n.PeerID {
		t.Errorf("peer ID after restart = %s, want %s", again.PeerID, n.PeerID)
	}
	var got profileJSON
	again.MustCLIJSON(&got, "profile", "show", "--json")
	if !equalProfiles(got, want) {
		t.Errorf("profile after restart = %+v, want %+v", got, want)
	}
	again.MustCLIJSON(&st, "status", "--json")
	if !st.Running || st.profiles() != 1 || st.PeerID != n.PeerID {
		t.Errorf("status after restart = %+v, want running, 1 profile, peer %s", st, n.PeerID)
	}
}

// TestKill9LosesNoAcknowledgedWrite kills a node with SIGKILL after writes
// it acknowledged (the CLI exited 0), and checks that the store, opened
// without a node, has the last one.
func TestKill9LosesNoAcknowledgedWrite(t *testing.T) {
	t.Parallel()
	const writes = 20
	h := harness.New(t, bin)
	dir := t.TempDir()
	version := 0 // version of the last acknowledged write

	check := func(round string) {
		t.Helper()
		var got profileJSON
		h.MustRunJSON(&got, nil, "--data-dir", dir, "profile", "show", "--json")
		if want := fmt.Sprintf("v%d", version); got.Bio != want || got.Version != uint64(version) {
			t.Fatalf("%s: after kill -9, profile = bio %q version %d, want bio %q version %d",
				round, got.Bio, got.Version, want, version)
		}
	}
	var lastWrite time.Duration // how long the last write took
	write := func(n *harness.Node) {
		t.Helper()
		args := []string{"profile", "set", "--bio", fmt.Sprintf("v%d", version+1)}
		if version == 0 {
			args = append(args, "--name", "Kim")
		}
		start := time.Now()
		n.MustCLI(args...)
		lastWrite = time.Since(start)
		version++
	}

	n := h.StartNode(dir)
	for range writes {
		write(n)
	}
	n.Kill()
	check("after 20 writes")

	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	for round := range 3 {
		n := h.StartNode(dir)
		for range 1 + rng.IntN(6) {
			write(n)
		}
		n.Kill()
		check(fmt.Sprintf("round %d", round))
	}

	// Kill while a write is in flight: whatever the CLI answered, an
	// acknowledged write must be there, and an unacknowledged one may be.
	for round := range 3 {
		n := h.StartNode(dir)
		write(n)
		delay := time.Duration(rng.Int64N(int64(lastWrite)))
		killed := make(chan struct{})
		go func() {
			defer close(killed)
			time.Sleep(delay) // a random point during the write, not synchronisation
			n.Kill()
		}()
		r := n.CLI("profile", "set", "--bio", fmt.Sprintf("v%d", version+1))
		<-killed
		var got profileJSON
		h.MustRunJSON(&got, nil, "--data-dir", dir, "profile", "show", "--json")
		switch {
		case r.Code == 0 && got.Version != uint64(version+1):
			t.Fatalf("in-flight round %d: write acknowledged, then kill -9 after %v; version %d, want %d", round, delay, got.Version, version+1)
		case got.Version != uint64(version) && got.Version != uint64(version+1):
			t.Fatalf("in-flight round %d: version %d, want %d or %d", round, got.Version, version, version+1)
		case got.Bio != fmt.Sprintf("v%d", got.Version):
			t.Fatalf("in-flight round %d: version %d has bio %q", round, got.Version, got.Bio)
		}
		t.Logf("in-flight round %d: kill %v into a write (last took %v): CLI exit %d, stored version %d",
			round, delay.Round(time.Microsecond), lastWrite.Round(time.Microsecond), r.Code, got.Version)
		version = int(got.Version)
	}
}

func TestOfflineFirst(t *testing.T) {
	t.Parallel()
	h := harness.New(t, bin)
	other := h.StartNode(t.TempDir())
	other.Name = "the other node"
	dir := t.TempDir()

	// The note goes to stderr with and without --json.
	// The first command in the empty directory says it created the
	// identity (a mistyped --data-dir would do the same); the next does not.
	for i, args := range [][]string{{"--name", "Offline"}, {"--bio", "Written on a train.", "--json"}} {
		r := h.Run(nil, append([]string{"--data-dir", dir, "profile", "set"}, args...)...)
		if r.Code != 0 {
			t.Fatalf("%v", r)
		}
		if created := strings.Contains(r.Stderr, "created a new one"); created != (i == 0) {
			t.Errorf("offline profile set %s: stderr = %q; want the note on a new identity only the first time",
				strings.Join(args, " "), r.Stderr)
		}
		if !strings.Contains(r.Stderr, "published") || !strings.Contains(r.Stderr, "mentormesh run") {
			t.Errorf("offline profile set %s: stderr = %q, want it to say the profile is published by 'mentormesh run'",
				strings.Join(args, " "), r.Stderr)
		}
	}
	var st statusJSON
	h.MustRunJSON(&st, nil, "--data-dir", dir, "status", "--json")
	if st.Running || st.Outbox != 1 || st.profiles() != 1 {
		t.Fatalf("offline status = %+v, want not running, outbox 1, 1 profile", st)
	}

	started := time.Now()
	n := h.StartNode(dir, "--bootstrap", tcpAddr(t, other))
	waitProfile(t, profileJSON{PeerID: n.PeerID, Community: community, Name: "Offline", Bio: "Written on a train.", Skills: []string{}, Version: 2},
		started, other)
	harness.WaitFor(t, propagateTimeout, "outbox drained", func() error {
		var st statusJSON
		n.MustCLIJSON(&st, "status", "--json")
		if st.Outbox != 0 || !st.Running {
			return fmt.Errorf("status = %+v, want running, outbox 0", st)
		}
		return nil
	})
}

func TestSecondProcessGetsClearLockError(t *testing.T) {
	t.Parallel()
	h := harness.New(t, bin)
	dir := t.TempDir()
	first := h.StartNode(dir)

	second := h.SpawnNode(dir)
	if code := second.WaitExit(harness.StartTimeout); code == 0 {
		t.Fatalf("second run on %s exited 0, want an error\nstderr:\n%s", dir, second.Stderr())
	}
	stderr := second.Stderr()
	for _, want := range []string{fmt.Sprint(first.PID()), "mentormesh shutdown", "--data-dir"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("second run stderr = %q, want it to mention %q", stderr, want)
		}
	}
	for _, badger := range []string{"Cannot acquire directory lock", "Badger"} {
		if strings.Contains(stderr, badger) {
			t.Errorf("second run stderr = %q, want mentormesh's lock message, not Badger's", stderr)
		}
	}
	// The first node is unharmed.
	var id harness.Identity
	first.MustCLIJSON(&id, "id", "--json")
	if id.PeerID != first.PeerID {
		t.Errorf("first node's id = %s, want %s", id.PeerID, first.PeerID)
	}
}

func TestGlobalFlagsAfterSubcommandAndEnv(t *testing.T) {
	t.Parallel()
	h := harness.New(t, bin)
	dir := filepath.Join(t.TempDir(), "x")
	other := filepath.Join(t.TempDir(), "y")

	tests := []struct {
		name string
		env  []string
		args []string
	}{
		{"flag before subcommand", nil, []string{"--data-dir", dir, "init", "--json"}},
		{"flag after subcommand", nil, []string{"init", "--data-dir", dir, "--json"}},
		{"flag with =", nil, []string{"init", "--json", "--data-dir=" + dir}},
		{"environment", []string{"MENTORMESH_DATA_DIR=" + dir}, []string{"init", "--json"}},
		{"flag beats environment", []string{"MENTORMESH_DATA_DIR=" + other}, []string{"init", "--data-dir", dir, "--json"}},
	}
	var peerID string
	for i, tt := range tests {
		var got initJSON
		h.MustRunJSON(&got, tt.env, tt.args...)
		if got.DataDir != dir {
			t.Errorf("%s: mentormesh %s: data_dir = %q, want %q", tt.name, strings.Join(tt.args, " "), got.DataDir, dir)
		}
		if got.Created != (i == 0) {
			t.Errorf("%s: created = %v, want %v", tt.name, got.Created, i == 0)
		}
		if i == 0 {
			peerID = got.PeerID
		} else if got.PeerID != peerID {
			t.Errorf("%s: peer_id = %s, want %s", tt.name, got.PeerID, peerID)
		}
	}

	h.MustRun(nil, "profile", "set", "--name", "Flag Order", "--data-dir", dir)
	var p profileJSON
	h.MustRunJSON(&p, nil, "profile", "show", peerID, "--json", "--data-dir", dir)
	if p.PeerID != peerID || p.Name != "Flag Order" {
		t.Errorf("profile show %s --json --data-dir X = %+v, want name %q", peerID, p, "Flag Order")
	}
	// A global flag after the positional argument is honoured too: this
	// community is not joined, and the refusal names it.
	r := h.Run(nil, "profile", "show", peerID, "--json", "--data-dir", dir, "--community", "other")
	if r.Code == 0 || !strings.Contains(r.Stderr, `not in community "other"`) {
		t.Errorf("profile show in another community: %v\nwant a refusal naming community \"other\"", r)
	}
}

func TestInitIdempotent(t *testing.T) {
	t.Parallel()
	h := harness.New(t, bin)
	dir := t.TempDir()
	var first, second initJSON
	h.MustRunJSON(&first, nil, "--data-dir", dir, "init", "--json")
	h.MustRunJSON(&second, nil, "--data-dir", dir, "init", "--json")
	if !first.Created || second.Created {
		t.Errorf("created = %v then %v, want true then false", first.Created, second.Created)
	}
	if first.PeerID == "" || second.PeerID != first.PeerID {
		t.Errorf("peer ID = %q then %q, want the same twice", first.PeerID, second.PeerID)
	}
	if out := h.MustRun(nil, "--data-dir", dir, "init"); !strings.Contains(out, "Already initialised") || !strings.Contains(out, first.PeerID) {
		t.Errorf("third init printed %q, want it to say already initialised and show %s", out, first.PeerID)
	}
}
