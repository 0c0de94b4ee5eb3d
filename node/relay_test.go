package node

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/sync/record"
)

// noDirect is a connection gater that allows connections to and from
// other only through a circuit relay: a NAT that no hole punch gets
// through, on loopback.
type noDirect struct{ other peer.ID }

func isCircuit(a ma.Multiaddr) bool { return strings.Contains(a.String(), "/p2p-circuit") }

func (g noDirect) InterceptPeerDial(peer.ID) bool { return true }
func (g noDirect) InterceptAddrDial(p peer.ID, a ma.Multiaddr) bool {
	return p != g.other || isCircuit(a)
}
func (g noDirect) InterceptAccept(network.ConnMultiaddrs) bool { return true }
func (g noDirect) InterceptSecured(_ network.Direction, p peer.ID, cm network.ConnMultiaddrs) bool {
	return p != g.other || isCircuit(cm.RemoteMultiaddr())
}
func (g noDirect) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) { return true, 0 }

// peerIDOf initialises a data directory and returns its peer ID.
func peerIDOf(t *testing.T, dir string) peer.ID {
	t.Helper()
	paths, err := NewPaths(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Init(paths); err != nil {
		t.Fatal(err)
	}
	key, err := LoadKey(paths)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func startNode(t *testing.T, opts Options) *Node {
	t.Helper()
	opts.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	opts.NoMDNS, opts.APIAddr = true, "127.0.0.1:0"
	n, err := Start(opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return n
}

// TestRelayOnlyPeersSync: A and B may only talk through the community
// node R's relay. They find each other on R's DHT, connect through R,
// and records flow both ways by catch-up over the relayed connection,
// at once after a local write. R is not in their community.
func TestRelayOnlyPeersSync(t *testing.T) {
	ctx := context.Background()
	r := startNode(t, Options{DataDir: t.TempDir(), CommunityNode: true, Communities: []string{"relay-hub"}})
	relay := r.Addrs()[0]
	dirA, dirB := t.TempDir(), t.TempDir()
	idA, idB := peerIDOf(t, dirA), peerIDOf(t, dirB)
	// Relays also come from config.json.
	if err := os.WriteFile(filepath.Join(dirB, ConfigFileName), []byte(`{"relays": ["`+relay+`"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startNode(t, Options{DataDir: dirA, Relays: []string{relay}, Reachability: ReachabilityPrivate, ConnectionGater: noDirect{idB}})
	b := startNode(t, Options{DataDir: dirB, Reachability: ReachabilityPrivate, ConnectionGater: noDirect{idA}})

	relayedTo := func(n *Node, other peer.ID) bool {
		ps, err := n.Local().Peers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if p.PeerID == other.String() {
				return p.Relayed
			}
		}
		return false
	}
	waitFor(t, 30*time.Second, "A and B connected through R", func() bool {
		return relayedTo(a, idB) && relayedTo(b, idA)
	})
	if !b.net.relayOnly(idA) {
		t.Fatal("B has a direct connection to A")
	}
	// The relayed connection carries the community node's limits.
	for _, c := range append(a.net.h.Network().ConnsToPeer(idB), b.net.h.Network().ConnsToPeer(idA)...) {
		st := c.Stat()
		if d, n := st.Extra[client.StatLimitDuration], st.Extra[client.StatLimitData]; d != CommunityRelayDuration || n != uint64(CommunityRelayData) {
			t.Errorf("relayed connection limits = %v, %v bytes; want %v, %d bytes", d, n, CommunityRelayDuration, CommunityRelayData)
		}
	}

	// Each catches up with the other on connecting, which also tells each
	// that the other is in the community.
	waitFor(t, 30*time.Second, "A and B to know each other's community", func() bool {
		return len(a.net.disc.communitiesOf(idB)) == 1 && len(b.net.disc.communitiesOf(idA)) == 1
	})
	for _, w := range []struct {
		from, to *Node
		name     string
	}{{a, b, "Ada"}, {b, a, "Bea"}} {
		start := time.Now()
		if _, err := w.from.Local().SetProfile(ctx, api.ProfileInput{Name: strp(w.name)}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, w.name+"'s profile to cross the relay", func() bool {
			p, err := w.to.Local().Profile(ctx, w.from.PeerID(), "")
			return err == nil && p.Name == w.name
		})
		t.Logf("%s's profile crossed the relay in %v", w.name, time.Since(start).Round(time.Millisecond))
	}
	if st, _ := r.Local().Status(ctx); len(st.Records) != 0 {
		t.Errorf("R stored records of a community it is not in: %+v", st.Records)
	}
}

func TestLoadFileConfig(t *testing.T) {
	for _, tc := range []struct {
		name, content string
		want          FileConfig
		wantErr       string
	}{
		{"missing", "", FileConfig{}, ""},
		{"lists", `{"bootstrap": ["/ip4/192.0.2.1/tcp/4747/p2p/12D3KooWA"], "relays": ["/ip4/192.0.2.2/tcp/4747/p2p/12D3KooWB"]}`,
			FileConfig{Bootstrap: []string{"/ip4/192.0.2.1/tcp/4747/p2p/12D3KooWA"}, Relays: []string{"/ip4/192.0.2.2/tcp/4747/p2p/12D3KooWB"}}, ""},
		{"unknown field", `{"bootstrapp": []}`, FileConfig{}, "unknown field"},
		{"two values", `{} {}`, FileConfig{}, "more than one JSON value"},
		{"not json", `bootstrap = x`, FileConfig{}, "invalid character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Paths{Dir: t.TempDir()}
			if tc.content != "" {
				if err := os.WriteFile(p.ConfigFile(), []byte(tc.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := LoadFileConfig(p)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), p.ConfigFile()) {
					t.Fatalf("LoadFileConfig = %v, want an error naming the file and containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got.Bootstrap, ",") != strings.Join(tc.want.Bootstrap, ",") || strings.Join(got.Relays, ",") != strings.Join(tc.want.Relays, ",") {
				t.Errorf("LoadFileConfig = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestNATOptionsReachability(t *testing.T) {
	for _, r := range []string{"", ReachabilityAuto, ReachabilityPrivate, ReachabilityPublic} {
		if _, err := natOptions(Options{Reachability: r}, newRelaySource(nil), nil); err != nil {
			t.Errorf("natOptions(%q) = %v, want nil", r, err)
		}
	}
	if _, err := natOptions(Options{Reachability: "nat"}, newRelaySource(nil), nil); err == nil || !strings.Contains(err.Error(), "--reachability") {
		t.Errorf(`natOptions("nat") = %v, want an error naming --reachability`, err)
	}
}

func TestParseAddrInfosMergesPeers(t *testing.T) {
	const id = "12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf"
	got, err := parseAddrInfos("--relay", []string{"/ip4/192.0.2.1/tcp/4747/p2p/" + id, "/ip4/192.0.2.1/udp/4747/quic-v1/p2p/" + id})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[0].Addrs) != 2 {
		t.Errorf("parseAddrInfos = %v, want one peer with two addresses", got)
	}
	if _, err := parseAddrInfos("--relay", []string{"/ip4/192.0.2.1/tcp/4747"}); err == nil || !strings.Contains(err.Error(), "--relay") {
		t.Errorf("parseAddrInfos without /p2p = %v, want an error naming --relay", err)
	}
}

// TestRelayCatchUpVolume measures a full catch-up through a community
// node's relay: A holds n profiles of 1 KiB, B has none and reaches A only
// through R. Run with MENTORMESH_RELAY_VOLUME=1 (it takes a while and
// measures rather than checks); figures in docs/PROTOCOL.md 9.2.
func TestRelayCatchUpVolume(t *testing.T) {
	if os.Getenv("MENTORMESH_RELAY_VOLUME") != "1" {
		t.Skip("a measurement: set MENTORMESH_RELAY_VOLUME=1 to run it")
	}
	ctx := context.Background()
	r := startNode(t, Options{DataDir: t.TempDir(), CommunityNode: true, Communities: []string{"relay-hub"}})
	relay := r.Addrs()[0]
	dirA, dirB := t.TempDir(), t.TempDir()
	idA, idB := peerIDOf(t, dirA), peerIDOf(t, dirB)
	a := startNode(t, Options{DataDir: dirA, Relays: []string{relay}, Reachability: ReachabilityPrivate, ConnectionGater: noDirect{idB}})
	n := 5000
	if v := os.Getenv("MENTORMESH_RELAY_VOLUME_N"); v != "" {
		if _, err := fmt.Sscan(v, &n); err != nil {
			t.Fatal(err)
		}
	}
	var recs []*record.Record
	for i := range n {
		key := newKey(t)
		var author record.Author
		copy(author[:], key.Public().(ed25519.PublicKey))
		payload, err := mentorship.Profile{Name: fmt.Sprintf("Member %d", i), Bio: strings.Repeat("x", 1000)}.Encode()
		if err != nil {
			t.Fatal(err)
		}
		rec, err := record.Sign(key, record.Body{Community: DefaultCommunity, Author: author, Kind: mentorship.KindProfile,
			Version: 1, Timestamp: record.Now(), Payload: payload})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	if _, err := a.store.ApplyBatch(ctx, recs); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	b := startNode(t, Options{DataDir: dirB, Relays: []string{relay}, Reachability: ReachabilityPrivate, ConnectionGater: noDirect{idA}})
	waitFor(t, 5*time.Minute, "B to catch up through the relay", func() bool {
		st, err := b.Local().Status(ctx)
		if err != nil {
			return false
		}
		for _, k := range st.Records {
			if k.Kind == mentorship.KindProfile && k.Records == n {
				return true
			}
		}
		return false
	})
	if !b.net.relayOnly(idA) {
		t.Fatal("B has a direct connection to A")
	}
	var in int64
	for _, s := range b.net.catchUpSessions() {
		if s.PeerID == idA.String() {
			in += s.BytesReceived
		}
	}
	t.Logf("%d records of %d bytes crossed the relay in %v (B started and caught up; last sessions received %d bytes)",
		n, len(recs[0].Raw), time.Since(start).Round(time.Millisecond), in)
}

// TestOwnDHT: the DHT speaks mentormesh's protocol only, never the IPFS
// DHT's, and only community nodes serve it from the start.
func TestOwnDHT(t *testing.T) {
	r := startNode(t, Options{DataDir: t.TempDir(), CommunityNode: true})
	laptop := startNode(t, Options{DataDir: t.TempDir(), Bootstrap: r.Addrs()})
	const ours, ipfs = protocol.ID("/mentormesh/kad/1.0.0"), protocol.ID("/ipfs/kad/1.0.0")
	has := func(n *Node, p protocol.ID) bool {
		for _, q := range n.net.h.Mux().Protocols() {
			if q == p {
				return true
			}
		}
		return false
	}
	if !has(r, ours) || has(r, ipfs) {
		t.Errorf("community node protocols = %v, want %s and not %s", r.net.h.Mux().Protocols(), ours, ipfs)
	}
	if has(laptop, ours) || has(laptop, ipfs) {
		t.Errorf("laptop (reachability unknown) serves the DHT: %v", laptop.net.h.Mux().Protocols())
	}
	waitFor(t, 10*time.Second, "the laptop's routing table to hold the community node", func() bool {
		return laptop.net.disc.dht.RoutingTable().Find(r.net.h.ID()) != ""
	})
}
