package main_test

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/internal/harness"
)

// nsRun runs a command in a namespace and fails the test if it fails.
func nsRun(t *testing.T, ns netns, args ...string) {
	t.Helper()
	full := append(ns.wrap(), args...)
	if out, err := exec.Command(full[0], full[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(full, " "), err, out)
	}
}

// natNet is the network natTopology builds.
type natNet struct {
	a, b       netns // the members, each behind its own NAT
	natA, natB netns // their home routers
	r          netns // the community node, and the internet's router
	rAddr      string
	// natAddrA and natAddrB are the routers' public addresses: the
	// addresses everyone else sees A and B at.
	natAddrA, natAddrB string
}

// natTopology builds five network namespaces: an internet of public
// addresses (44.47.0.0/16, which go-libp2p treats as public, unlike
// private, CGNAT or documentation ranges), routed by R, which also has
// the address 44.47.0.1 for the community node; and two homes, each a
// router doing source NAT (iptables MASQUERADE) for one machine on a
// private LAN behind it:
//
//	A 192.168.1.2 -- 192.168.1.1 natA 44.47.1.2 -- 44.47.1.1 R 44.47.2.1 -- 44.47.2.2 natB 192.168.2.1 -- 192.168.2.2 B
//
// The routers are stateful firewalls like a home router's: from the
// internet they pass only packets of connections opened from inside
// (conntrack ESTABLISHED or RELATED) and silently drop anything else, so
// A and B cannot be dialled unsolicited, even by R. Dropping in the
// filter table also keeps conntrack from confirming an entry for the
// unsolicited packet, which would otherwise make MASQUERADE pick another
// port for the next outgoing packet to the same peer. Everything is
// deleted when the test ends.
//
// With randomPorts the routers pick a random public port for every new
// connection (MASQUERADE --random-fully): the mapping then depends on the
// destination, as on a symmetric NAT, and the port R observed is not the
// one a peer must reach.
func natTopology(t *testing.T, randomPorts bool) natNet {
	t.Helper()
	needNetns(t, "iptables")
	id := netnsID(t)
	n := natNet{
		a: netns{name: "mmA" + id, addr: "192.168.1.2"}, natA: netns{name: "mmNA" + id, addr: "44.47.1.2"},
		b: netns{name: "mmB" + id, addr: "192.168.2.2"}, natB: netns{name: "mmNB" + id, addr: "44.47.2.2"},
		r: netns{name: "mmR" + id}, rAddr: "44.47.0.1", natAddrA: "44.47.1.2", natAddrB: "44.47.2.2",
	}
	for _, ns := range []netns{n.a, n.b, n.natA, n.natB, n.r} {
		addNetns(t, ns)
	}
	forward := func(ns netns) { nsRun(t, ns, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward") }
	// veth links a pair of namespaces, one address each (/24).
	veth := func(x netns, xIf, xAddr string, y netns, yIf, yAddr string) {
		ip(t, "link", "add", xIf, "netns", x.name, "type", "veth", "peer", "name", yIf, "netns", y.name)
		ip(t, "-n", x.name, "addr", "add", xAddr+"/24", "dev", xIf)
		ip(t, "-n", y.name, "addr", "add", yAddr+"/24", "dev", yIf)
		ip(t, "-n", x.name, "link", "set", xIf, "up")
		ip(t, "-n", y.name, "link", "set", yIf, "up")
	}
	// The internet: R routes between the two homes' public links.
	ip(t, "-n", n.r.name, "addr", "add", n.rAddr+"/32", "dev", "lo")
	forward(n.r)
	home := func(member, router netns, side, lan, rLink string) {
		wan, lanIf := "w"+side+id, "l"+side+id // at most 15 characters
		veth(router, wan, router.addr, n.r, "r"+side+id, rLink)
		veth(member, "m"+side+id, member.addr, router, lanIf, lan)
		ip(t, "-n", router.name, "route", "add", "default", "via", rLink)
		ip(t, "-n", member.name, "route", "add", "default", "via", lan)
		forward(router)
		masquerade := []string{"-t", "nat", "-A", "POSTROUTING", "-o", wan, "-j", "MASQUERADE"}
		if randomPorts {
			masquerade = append(masquerade, "--random-fully")
		}
		for _, rule := range [][]string{
			masquerade,
			{"-A", "INPUT", "-i", wan, "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"},
			{"-A", "INPUT", "-i", wan, "-j", "DROP"},
			{"-A", "FORWARD", "-i", wan, "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"},
			{"-A", "FORWARD", "-i", wan, "-j", "DROP"},
		} {
			nsRun(t, router, append([]string{"iptables"}, rule...)...)
		}
	}
	home(n.a, n.natA, "a", "192.168.1.1", "44.47.1.1")
	home(n.b, n.natB, "b", "192.168.2.1", "44.47.2.1")
	// The internet has no route to the homes' LANs.
	if out, err := exec.Command("ip", "-n", n.r.name, "route", "get", n.a.addr).CombinedOutput(); err == nil {
		t.Fatalf("R has a route to A's private address: %s", out)
	}
	return n
}

// natStatusJSON is the "nat" object of `status --json`.
type natStatusJSON struct {
	Reachability     string   `json:"reachability"`
	ReachableAddrs   []string `json:"reachable_addrs"`
	UnreachableAddrs []string `json:"unreachable_addrs"`
	HolePunches      struct {
		Attempts  int `json:"attempts"`
		Succeeded int `json:"succeeded"`
		Last      *struct {
			PeerID    string  `json:"peer_id"`
			Success   bool    `json:"success"`
			ElapsedMS float64 `json:"elapsed_ms"`
			Error     string  `json:"error"`
		} `json:"last"`
	} `json:"hole_punches"`
}

func natStatus(t *testing.T, n *harness.Node) natStatusJSON {
	t.Helper()
	var st struct {
		NAT *natStatusJSON `json:"nat"`
	}
	n.MustCLIJSON(&st, "status", "--json")
	if st.NAT == nil {
		t.Fatalf("%s: status --json has no nat object", n.Name)
	}
	return *st.NAT
}

// TestHolePunchThroughNAT runs a community node R on a public address and
// two members A and B, each behind its own NAT (natTopology), with
// nothing forced: AutoNAT (R's service) must find them private, AutoRelay
// reserve a slot on R, discovery on R's DHT make them meet through the
// relay, and DCUtR turn that into a direct connection through both NATs,
// over which a profile written on A reaches B. Members connect to R over
// TCP when given its TCP address (as DEPLOYMENT.md shows), and then punch
// with TCP simultaneous open; given its QUIC address, over QUIC. Behind
// routers that pick a random port per connection (like a symmetric NAT)
// every hole punch fails, and the profile crosses the relay instead.
func TestHolePunchThroughNAT(t *testing.T) {
	for _, tc := range []struct {
		name, transport string
		randomPorts     bool
	}{
		{"tcp", "tcp", false},
		{"quic", "quic", false},
		{"random-ports", "quic", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // most of a run is waiting for AutoNAT
			holePunchThroughNAT(t, tc.transport, tc.randomPorts)
		})
	}
}

func holePunchThroughNAT(t *testing.T, transport string, randomPorts bool) {
	nt := natTopology(t, randomPorts)
	root := t.TempDir()

	r := nsHarness(t, nt.r).StartNode(filepath.Join(root, "r"), "--community-node", "--community", "relay-hub")
	r.Name = "R"
	rAddr := map[string]string{
		"tcp":  fmt.Sprintf("/ip4/%s/tcp/4747/p2p/%s", nt.rAddr, r.PeerID),
		"quic": fmt.Sprintf("/ip4/%s/udp/4747/quic-v1/p2p/%s", nt.rAddr, r.PeerID),
	}[transport]
	// The members are configured as DEPLOYMENT.md says: the community
	// node's address as bootstrap peer and as relay.
	member := func(ns netns, name string) *harness.Node {
		n := nsHarness(t, ns).SpawnNode(filepath.Join(root, name), "--bootstrap", rAddr, "--relay", rAddr)
		n.Name = strings.ToUpper(name)
		return n
	}
	a, b := member(nt.a, "a"), member(nt.b, "b")
	a.WaitReady()
	b.WaitReady()
	start := time.Now()

	// AutoNAT: R tried to dial each back at the address it saw (the NAT's)
	// and could not.
	for _, n := range []*harness.Node{a, b} {
		harness.WaitFor(t, 40*time.Second, n.Name+" private by AutoNAT", func() error {
			if st := natStatus(t, n); st.Reachability != "private" {
				return fmt.Errorf("reachability %q", st.Reachability)
			}
			return nil
		})
	}
	st := natStatus(t, a)
	t.Logf("AutoNAT found A and B private %v after start (AutoNAT v2 on A: reachable %v, unreachable %v)",
		time.Since(start).Round(time.Millisecond), st.ReachableAddrs, st.UnreachableAddrs)

	if randomPorts {
		relayFallback(t, a, b)
		return
	}

	// A and B end up with a direct connection, from the other's NAT's
	// public address: the hole punched through both NATs.
	direct := func(n, other *harness.Node, otherNAT string) (string, error) {
		var peers []relayedPeerJSON
		res := n.CLI("peers", "--json")
		if res.Code != 0 {
			return "", fmt.Errorf("%v", res)
		}
		if err := res.DecodeJSON(&peers); err != nil {
			return "", err
		}
		i := slices.IndexFunc(peers, func(p relayedPeerJSON) bool { return p.PeerID == other.PeerID })
		if i < 0 {
			return "", fmt.Errorf("%s not connected to %s", n.Name, other.Name)
		}
		for _, addr := range peers[i].Addrs {
			if !strings.Contains(addr, "/p2p-circuit") {
				if !strings.HasPrefix(addr, "/ip4/"+otherNAT+"/") {
					t.Fatalf("%s reached %s at %s, not through its NAT (%s): the namespaces leak", n.Name, other.Name, addr, otherNAT)
				}
				if want := map[string]string{"tcp": "/tcp/4747", "quic": "/udp/4747/quic-v1"}[transport]; !strings.HasSuffix(addr, want) {
					t.Errorf("%s reached %s at %s: want the %s hole punched at the NAT's mapping of port 4747 (%s)", n.Name, other.Name, addr, transport, want)
				}
				if peers[i].Relayed {
					return "", fmt.Errorf("%s: %s connected directly (%s) but marked relayed", n.Name, other.Name, addr)
				}
				return addr, nil
			}
		}
		return "", fmt.Errorf("%s reaches %s only through the relay: %v", n.Name, other.Name, peers[i].Addrs)
	}
	var viaA, viaB string
	harness.WaitFor(t, 60*time.Second, "a direct connection between A and B", func() error {
		var err error
		if viaA, err = direct(a, b, nt.natAddrB); err != nil {
			return err
		}
		viaB, err = direct(b, a, nt.natAddrA)
		return err
	})
	t.Logf("A and B connected directly %v after start: A sees B at %s, B sees A at %s",
		time.Since(start).Round(time.Millisecond), viaA, viaB)
	stA, stB := natStatus(t, a), natStatus(t, b)
	if stA.HolePunches.Succeeded+stB.HolePunches.Succeeded == 0 {
		t.Errorf("direct connection without a successful hole punch: A %+v, B %+v", stA.HolePunches, stB.HolePunches)
	}
	for _, st := range []natStatusJSON{stA, stB} {
		if l := st.HolePunches.Last; l != nil {
			t.Logf("hole punches: %d of %d succeeded; last with %s: success %v in %.1f ms %s",
				st.HolePunches.Succeeded, st.HolePunches.Attempts, l.PeerID, l.Success, l.ElapsedMS, l.Error)
		}
	}

	// A profile written on A reaches B.
	a.MustCLI("profile", "set", "--name", "Ada behind NAT", "--skill", "facilitation")
	written := time.Now()
	want := profileJSON{PeerID: a.PeerID, Community: community, Name: "Ada behind NAT", Skills: []string{"facilitation"}, Version: 1}
	harness.WaitFor(t, 30*time.Second, "A's profile on B", func() error { return showProfile(b, want) })
	t.Logf("A's profile reached B %v after it was written", time.Since(written).Round(time.Millisecond))
}

// relayFallback checks what happens behind NATs that hole punching cannot
// cross: the punches fail (each three attempts), A and B stay connected
// through the relay only, and a profile written on A reaches B there, by
// catch-up.
func relayFallback(t *testing.T, a, b *harness.Node) {
	t.Helper()
	start := time.Now()
	harness.WaitFor(t, 60*time.Second, "hole punches between A and B to fail", func() error {
		stA, stB := natStatus(t, a), natStatus(t, b)
		if stA.HolePunches.Succeeded+stB.HolePunches.Succeeded > 0 {
			t.Fatalf("a hole punch succeeded through port-randomising NATs: A %+v, B %+v", stA.HolePunches, stB.HolePunches)
		}
		if max(stA.HolePunches.Attempts, stB.HolePunches.Attempts) < 3 {
			return fmt.Errorf("attempts so far: A %d, B %d", stA.HolePunches.Attempts, stB.HolePunches.Attempts)
		}
		return nil
	})
	t.Logf("hole punches failed (A %+v, B %+v), %v after AutoNAT's verdict",
		natStatus(t, a).HolePunches.Attempts, natStatus(t, b).HolePunches.Attempts, time.Since(start).Round(time.Millisecond))
	relayedOnly := func(n, other *harness.Node) error {
		var peers []relayedPeerJSON
		n.MustCLIJSON(&peers, "peers", "--json")
		i := slices.IndexFunc(peers, func(p relayedPeerJSON) bool { return p.PeerID == other.PeerID })
		if i < 0 {
			return fmt.Errorf("%s not connected to %s", n.Name, other.Name)
		}
		for _, addr := range peers[i].Addrs {
			if !strings.Contains(addr, "/p2p-circuit") {
				t.Fatalf("%s reached %s directly (%s) although no hole punch succeeded", n.Name, other.Name, addr)
			}
		}
		if !peers[i].Relayed {
			return fmt.Errorf("%s: %s not marked relayed: %+v", n.Name, other.Name, peers[i])
		}
		return nil
	}
	harness.WaitFor(t, 30*time.Second, "A and B connected through the relay", func() error {
		return errors.Join(relayedOnly(a, b), relayedOnly(b, a))
	})
	a.MustCLI("profile", "set", "--name", "Ada behind NAT", "--skill", "facilitation")
	written := time.Now()
	want := profileJSON{PeerID: a.PeerID, Community: community, Name: "Ada behind NAT", Skills: []string{"facilitation"}, Version: 1}
	harness.WaitFor(t, 30*time.Second, "A's profile on B", func() error { return showProfile(b, want) })
	t.Logf("A's profile reached B through the relay %v after it was written", time.Since(written).Round(time.Millisecond))
	if err := relayedOnly(b, a); err != nil {
		t.Errorf("after the sync: %v", err)
	}
}
