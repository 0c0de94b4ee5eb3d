package main_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mentormesh/mentormesh/internal/harness"
)

type (
	communityJSON struct {
		Name    string   `json:"name"`
		Joined  bool     `json:"joined"`
		Default bool     `json:"default"`
		Records int      `json:"records"`
		Peers   []string `json:"peers"`
		Digest  string   `json:"digest"`
	}
	communityListJSON struct {
		Running     bool            `json:"running"`
		Communities []communityJSON `json:"communities"`
		Left        []communityJSON `json:"left"`
	}
	communityChangeJSON struct {
		Community   string   `json:"community"`
		Changed     bool     `json:"changed"`
		Running     bool     `json:"running"`
		Communities []string `json:"communities"`
	}
)

func (l communityListJSON) names() []string {
	var out []string
	for _, c := range l.Communities {
		out = append(out, c.Name)
	}
	return out
}

// TestCommunityJoinListLeave drives `community join|list|leave` against two
// running nodes and offline: a community joined at runtime carries records
// between them, list shows peers and records, leaving refuses further
// writes there and refuses the last community, and what was joined offline
// or with `run --community` is there after a restart.
func TestCommunityJoinListLeave(t *testing.T) {
	t.Parallel()
	h := harness.New(t, bin)
	const circle = "circle-b"
	a := h.StartNode(t.TempDir())
	dirB := t.TempDir()
	b := h.StartNode(dirB, "--bootstrap", tcpAddr(t, a))
	a.Name, b.Name = "A", "B"
	waitPeers(t, b, a)

	var l communityListJSON
	b.MustCLIJSON(&l, "community", "list", "--json")
	if !l.Running || !slices.Equal(l.names(), []string{community}) || !l.Communities[0].Default || !slices.Contains(l.Communities[0].Peers, a.PeerID) {
		t.Fatalf("community list on B = %+v, want %s only, default, with A as a peer", l, community)
	}

	for _, n := range []*harness.Node{a, b} {
		var ch communityChangeJSON
		n.MustCLIJSON(&ch, "community", "join", circle, "--json")
		if !ch.Changed || !ch.Running || !slices.Equal(ch.Communities, []string{community, circle}) {
			t.Fatalf("community join on %s = %+v", n.Name, ch)
		}
	}
	if out := b.MustCLI("community", "join", circle); !strings.Contains(out, "Already in community") {
		t.Errorf("joining again printed %q, want it to say already in", out)
	}
	a.MustCLI("--community", circle, "profile", "set", "--name", "Ada in B")
	harness.WaitFor(t, connectTimeout, "A's profile in "+circle+" on B, and A in B's topic", func() error {
		if err := showProfile(b, profileJSON{PeerID: a.PeerID, Community: circle, Name: "Ada in B", Skills: []string{}, Version: 1}); err != nil {
			return err
		}
		b.MustCLIJSON(&l, "community", "list", "--json")
		if i := slices.IndexFunc(l.Communities, func(c communityJSON) bool { return c.Name == circle }); i < 0 ||
			l.Communities[i].Records != 1 || !slices.Contains(l.Communities[i].Peers, a.PeerID) {
			return fmt.Errorf("community list on B = %+v, want %s with one record and A as a peer", l, circle)
		}
		return nil
	})

	// Mistakes: exit 2 for usage, 1 with a clear message otherwise.
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"community", "join"}, 2, "takes one NAME"},
		{[]string{"community", "join", "Bad Name"}, 1, "only lowercase"},
		{[]string{"community", "leave", "elsewhere"}, 1, "not in community"},
	} {
		r := b.CLI(tt.args...)
		if r.Code != tt.code || !strings.Contains(r.Stderr, tt.want) || r.Stdout != "" {
			t.Errorf("%v\nwant exit %d, %q on stderr and nothing on stdout", r, tt.code, tt.want)
		}
	}

	var ch communityChangeJSON
	b.MustCLIJSON(&ch, "community", "leave", community, "--json")
	if !ch.Changed || !ch.Running || !slices.Equal(ch.Communities, []string{circle}) {
		t.Errorf("community leave %s = %+v, want %s left", community, ch, circle)
	}
	if r := b.CLI("community", "leave", circle); r.Code != 1 || !strings.Contains(r.Stderr, "only community") {
		t.Errorf("leaving the last community: %v\nwant exit 1 and a refusal", r)
	}
	if r := b.CLI("--community", community, "profile", "set", "--name", "Bea"); r.Code == 0 || !strings.Contains(r.Stderr, "community join "+community) {
		t.Errorf("writing in a left community: %v\nwant a refusal that says how to join", r)
	}

	// Offline, then a restart with --community: all remembered.
	b.MustCLI("shutdown")
	b.MustCLIJSON(&ch, "community", "join", "offline-c", "--json")
	if !ch.Changed || ch.Running {
		t.Errorf("offline join = %+v, want changed, not running", ch)
	}
	b.MustCLIJSON(&l, "community", "list", "--json")
	if l.Running || !slices.Equal(l.names(), []string{circle, "offline-c"}) {
		t.Errorf("offline list = %+v, want %s and offline-c, not running", l, circle)
	}
	b = h.StartNode(dirB, "--bootstrap", tcpAddr(t, a), "--community", "from-flag")
	b.MustCLIJSON(&l, "community", "list", "--json")
	if want := []string{circle, "offline-c", "from-flag"}; !slices.Equal(l.names(), want) {
		t.Errorf("after restart: communities %v, want %v", l.names(), want)
	}
	harness.WaitFor(t, connectTimeout, "run to print its communities", func() error {
		if !strings.Contains(b.Stdout(), "communities: "+circle+", offline-c, from-flag") {
			return fmt.Errorf("run printed %q, want the joined communities", b.Stdout())
		}
		return nil
	})
}

// TestInitCommunities checks that init --community sets a new data
// directory's communities (as run --community does) and adds to an
// existing one's; that a plain init writes no list (so a later run
// --community starts in those only); that a bad name creates nothing; and
// that while a node runs, init may name communities already joined but
// is refused others (the node owns the list).
func TestInitCommunities(t *testing.T) {
	t.Parallel()
	h := harness.New(t, bin)
	type initJSON struct {
		Created     bool     `json:"created"`
		Communities []string `json:"communities"`
	}

	plain := t.TempDir()
	var res initJSON
	h.MustRunJSON(&res, nil, "--data-dir", plain, "init", "--json")
	if !res.Created || !slices.Equal(res.Communities, []string{community}) {
		t.Errorf("plain init = %+v, want created, in %s", res, community)
	}
	if _, err := os.Stat(filepath.Join(plain, "communities.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("plain init wrote communities.json (%v): a later run --community would also join %s", err, community)
	}

	bad := t.TempDir()
	r := h.RunTimeout(failFast, nil, "--data-dir", bad, "init", "--community", "Bad Name")
	if r.Code == 0 || !strings.Contains(r.Stderr, "--community") {
		t.Errorf("init --community 'Bad Name': %v, want a refusal naming --community", r)
	}
	if entries, _ := os.ReadDir(bad); len(entries) != 0 {
		t.Errorf("the refused init left %d file(s) in the data directory, want none", len(entries))
	}

	dir := t.TempDir()
	h.MustRunJSON(&res, nil, "--data-dir", dir, "init", "--community", "circle-a", "--community", "circle-b", "--json")
	if !res.Created || !slices.Equal(res.Communities, []string{"circle-a", "circle-b"}) {
		t.Fatalf("init --community circle-a --community circle-b = %+v, want created, in circle-a and circle-b only", res)
	}
	h.MustRunJSON(&res, nil, "--data-dir", dir, "init", "--community", "circle-c", "--json")
	if res.Created || !slices.Equal(res.Communities, []string{"circle-a", "circle-b", "circle-c"}) {
		t.Fatalf("init --community circle-c again = %+v, want not created, circle-c added", res)
	}
	var l communityListJSON
	h.MustRunJSON(&l, nil, "--data-dir", dir, "community", "list", "--json")
	if !slices.Equal(l.names(), []string{"circle-a", "circle-b", "circle-c"}) || !l.Communities[0].Default {
		t.Fatalf("community list after init = %+v, want circle-a (default), circle-b, circle-c", l)
	}

	n := h.StartNode(dir)
	r = h.RunTimeout(failFast, nil, "--data-dir", dir, "init", "--community", "circle-d")
	if r.Code != 1 || !strings.Contains(r.Stderr, "community join") {
		t.Errorf("init --community circle-d while a node runs: %v, want exit 1 pointing to 'community join'", r)
	}
	n.MustCLIJSON(&l, "community", "list", "--json")
	if slices.Contains(l.names(), "circle-d") {
		t.Errorf("the refused init joined circle-d: %v", l.names())
	}
	// Communities already joined, or none: init only reports.
	for _, args := range [][]string{{"init", "--json"}, {"init", "--community", "circle-b", "--json"}} {
		h.MustRunJSON(&res, nil, append([]string{"--data-dir", dir}, args...)...)
		if !slices.Equal(res.Communities, []string{"circle-a", "circle-b", "circle-c"}) {
			t.Errorf("%v with a node running = %+v, want the three communities", args, res)
		}
	}
}
