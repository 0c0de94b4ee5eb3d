package main_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/internal/harness"
)

// netns is a network namespace made for one test.
type netns struct {
	name string
	addr string // its IPv4 address on the link to R (none for R)
}

// wrap returns the command prefix that runs a command in the namespace.
func (ns netns) wrap() []string { return []string{"ip", "netns", "exec", ns.name} }

// ip runs an ip(8) command and fails the test if it fails.
func ip(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// needNetns skips the test unless it runs as root with ip(8) and the
// other commands named; CI runs as root and installs them (.ci/run), so
// there (CI set) a missing one fails the test instead of skipping it.
func needNetns(t *testing.T, commands ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces (ip netns); CI runs as root")
	}
	missing := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatalf(format+"; CI must provide it (.ci/run installs it)", args...)
		}
		t.Skipf(format, args...)
	}
	if err := exec.Command("ip", "netns", "list").Run(); err != nil {
		missing("ip netns is unavailable (%v): install iproute2", err)
	}
	for _, c := range commands {
		if _, err := exec.LookPath(c); err != nil {
			missing("%s is not installed", c)
		}
	}
}

// netnsID returns a random suffix for the names of a test's namespaces
// and interfaces: tests may run in parallel.
func netnsID(t *testing.T) string {
	var sfx [3]byte
	if _, err := rand.Read(sfx[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(sfx[:])
}

// addNetns creates a network namespace with its loopback up, deleted
// when the test ends, passed or failed.
func addNetns(t *testing.T, ns netns) {
	t.Helper()
	ip(t, "netns", "add", ns.name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns.name).CombinedOutput(); err != nil {
			t.Errorf("removing network namespace %s: %v\n%s", ns.name, err, out)
		}
	})
	ip(t, "-n", ns.name, "link", "set", "lo", "up")
}

// relayTopology builds three network namespaces: R, linked to A by one
// veth pair (10.47.1.0/24) and to B by another (10.47.2.0/24). A and B have
// no route to each other and R does not forward, so A and B can each
// reach R but never each other. The namespaces (and with them the veth
// pairs) are deleted when the test ends, passed or failed.
func relayTopology(t *testing.T) (a, b, r netns, rAddrA, rAddrB string) {
	t.Helper()
	needNetns(t)
	id := netnsID(t)
	a = netns{name: "mmA" + id, addr: "10.47.1.2"}
	b = netns{name: "mmB" + id, addr: "10.47.2.2"}
	r = netns{name: "mmR" + id}
	for _, ns := range []netns{a, b, r} {
		addNetns(t, ns)
	}
	link := func(ns netns, side, rAddr string) {
		here, there := side+id, "r"+side+id // at most 15 characters
		ip(t, "link", "add", here, "netns", ns.name, "type", "veth", "peer", "name", there, "netns", r.name)
		ip(t, "-n", ns.name, "addr", "add", ns.addr+"/24", "dev", here)
		ip(t, "-n", r.name, "addr", "add", rAddr+"/24", "dev", there)
		ip(t, "-n", ns.name, "link", "set", here, "up")
		ip(t, "-n", r.name, "link", "set", there, "up")
	}
	link(a, "a", "10.47.1.1")
	link(b, "b", "10.47.2.1")
	// R must not route between its links (a new namespace starts with
	// forwarding off; make sure), and A must have no route to B.
	if err := exec.Command("ip", "netns", "exec", r.name, "sh", "-c", "echo 0 > /proc/sys/net/ipv4/ip_forward").Run(); err != nil {
		t.Fatalf("turning forwarding off in %s: %v", r.name, err)
	}
	if out, err := exec.Command("ip", "-n", a.name, "route", "get", b.addr).CombinedOutput(); err == nil {
		t.Fatalf("namespace A has a route to B: %s", out)
	}
	return a, b, r, "10.47.1.1", "10.47.2.1"
}

// relayedPeerJSON is an entry of `peers --json`.
type relayedPeerJSON struct {
	PeerID  string   `json:"peer_id"`
	Addrs   []string `json:"addrs"`
	Relayed bool     `json:"relayed"`
}

// nsHarness returns a harness whose nodes and commands run in ns,
// listening on every interface of the namespace on the default port.
func nsHarness(t *testing.T, ns netns) *harness.Harness {
	h := harness.New(t, bin)
	h.Wrap = ns.wrap()
	h.RunArgs = []string{"--no-mdns", "--api-addr", "127.0.0.1:0",
		"--listen", "/ip4/0.0.0.0/tcp/4747", "--listen", "/ip4/0.0.0.0/udp/4747/quic-v1"}
	return h
}

// TestRelayOnlySync runs three real nodes in three network namespaces: a
// community node R, and A and B that can each reach R but not each other.
// A and B find each other on the DHT (R is its only server), connect
// through R's circuit relay, and a profile written on A reaches B by
// catch-up over the relayed connection. R is not in their community, so
// it cannot be the one passing the record on by gossip: the only path is
// the relay. (go-libp2p advertises relay addresses only for relays with
// public addresses, so here B reaches A by dialling through R, the
// fallback for that case: A holds a reservation on R.)
func TestRelayOnlySync(t *testing.T) {
	nsA, nsB, nsR, rAddrA, rAddrB := relayTopology(t)
	root := t.TempDir()

	r := nsHarness(t, nsR).StartNode(filepath.Join(root, "r"), "--community-node", "--community", "relay-hub")
	r.Name = "R"
	viaA := fmt.Sprintf("/ip4/%s/tcp/4747/p2p/%s", rAddrA, r.PeerID)
	viaB := fmt.Sprintf("/ip4/%s/tcp/4747/p2p/%s", rAddrB, r.PeerID)
	// A and B are behind a "NAT" that AutoNAT cannot detect: every address
	// here is private, and AutoNAT only tests public ones. So they say so.
	a := nsHarness(t, nsA).SpawnNode(filepath.Join(root, "a"), "--bootstrap", viaA, "--relay", viaA, "--reachability", "private")
	b := nsHarness(t, nsB).SpawnNode(filepath.Join(root, "b"), "--bootstrap", viaB, "--relay", viaB, "--reachability", "private")
	a.Name, b.Name = "A", "B"
	a.WaitReady()
	b.WaitReady()
	start := time.Now()

	// A and B connect, through R only.
	relayedPeer := func(n, other *harness.Node) error {
		var peers []relayedPeerJSON
		res := n.CLI("peers", "--json")
		if res.Code != 0 {
			return fmt.Errorf("%v", res)
		}
		if err := res.DecodeJSON(&peers); err != nil {
			return err
		}
		i := slices.IndexFunc(peers, func(p relayedPeerJSON) bool { return p.PeerID == other.PeerID })
		if i < 0 {
			return fmt.Errorf("%s not connected to %s", n.Name, other.Name)
		}
		p := peers[i]
		for _, addr := range p.Addrs {
			if !strings.Contains(addr, "/p2p/"+r.PeerID+"/p2p-circuit") {
				t.Fatalf("%s has a direct connection to %s (%s): the namespaces leak", n.Name, other.Name, addr)
			}
		}
		if !p.Relayed {
			return fmt.Errorf("%s: peer %s not marked relayed: %+v", n.Name, other.Name, p)
		}
		return nil
	}
	harness.WaitFor(t, 60*time.Second, "A and B connected through R", func() error {
		if err := relayedPeer(a, b); err != nil {
			return err
		}
		return relayedPeer(b, a)
	})
	t.Logf("A and B connected through the relay %v after start", time.Since(start).Round(time.Millisecond))

	// Both have caught up with each other once (each learns there that
	// the other is in the community).
	type session struct {
		PeerID         string `json:"peer_id"`
		Community      string `json:"community"`
		OwnRecordsOnly bool   `json:"own_records_only"`
		Initiated      bool   `json:"initiated"`
		PulledTotal    int    `json:"pulled_total"`
		Error          string `json:"error"`
	}
	sessions := func(n, with *harness.Node) []session {
		var st struct {
			CatchUp []session `json:"catch_up"`
		}
		n.MustCLIJSON(&st, "status", "--json")
		var out []session
		for _, s := range st.CatchUp {
			if s.PeerID == with.PeerID && s.Community == community {
				out = append(out, s)
			}
		}
		return out
	}
	for _, pair := range [][2]*harness.Node{{a, b}, {b, a}} {
		harness.WaitFor(t, 30*time.Second, pair[0].Name+" caught up with "+pair[1].Name, func() error {
			for _, s := range sessions(pair[0], pair[1]) {
				if s.Error == "" {
					return nil
				}
			}
			return fmt.Errorf("no successful session yet: %+v", sessions(pair[0], pair[1]))
		})
	}

	// A profile written on A reaches B.
	a.MustCLI("profile", "set", "--name", "Ada behind NAT", "--skill", "facilitation")
	written := time.Now()
	want := profileJSON{PeerID: a.PeerID, Community: community, Name: "Ada behind NAT", Skills: []string{"facilitation"}, Version: 1}
	harness.WaitFor(t, 30*time.Second, "A's profile on B", func() error { return showProfile(b, want) })
	t.Logf("A's profile reached B through the relay %v after it was written", time.Since(written).Round(time.Millisecond))

	// It came by catch-up over the relayed connection: B pulled it from A
	// in a session, and no direct connection exists.
	var pulled bool
	for _, s := range sessions(b, a) {
		if s.PulledTotal > 0 && s.Error == "" {
			pulled = true
		}
	}
	if !pulled {
		t.Errorf("B has A's profile but pulled nothing from A in catch-up: %+v", sessions(b, a))
	}
	if err := relayedPeer(b, a); err != nil {
		t.Errorf("after the sync: %v", err)
	}
	// R never took part in the community: it holds none of its records.
	var st statusJSON
	r.MustCLIJSON(&st, "status", "--json")
	for _, rc := range st.Records {
		if rc.Community == community {
			t.Errorf("R stored %s records: %+v", community, st.Records)
		}
	}
}
