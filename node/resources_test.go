package node

import (
	"fmt"
	"testing"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/mentormesh/mentormesh/sync/reconcile"
)

func TestResourceLimits(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opts      Options
		connHigh  int
		wantConns int64
		wantMem   int64
		wantFDs   int64
	}{
		{"laptop", Options{}, connHigh, 192, 256 << 20, 512},
		{"community node", Options{CommunityNode: true}, communityConnHigh, 800, 1 << 30, 2048},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := resourceLimits(resourceBudgetFor(tc.opts)).ToPartialLimitConfig()
			checks := []struct {
				name      string
				got, want int64
			}{
				{"system conns", int64(l.System.Conns), tc.wantConns},
				{"system memory", int64(l.System.Memory), tc.wantMem},
				{"system FDs", int64(l.System.FD), tc.wantFDs},
				{"conns per peer", int64(l.PeerDefault.Conns), rcPeerConns},
				{"memory per peer", int64(l.PeerDefault.Memory), rcPeerMemory},
				{"catch-up inbound streams", int64(l.Protocol[reconcile.Protocol].StreamsInbound), 16},
				{"catch-up streams per peer", int64(l.ProtocolPeer[reconcile.Protocol].Streams), 4},
				{"gossipsub streams per peer", int64(l.ProtocolPeer[gossipProtocols[0]].Streams), 4},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
				}
			}
			// Coherence with the connection manager: the hard ceiling
			// leaves the connection manager room to trim (twice its high
			// mark), members dialling in alone can reach the high mark,
			// every connection has a socket and five streams.
			high := int64(tc.connHigh)
			coherent := []struct {
				what string
				ok   bool
			}{
				{"conns >= 2 x connmgr high", int64(l.System.Conns) >= 2*high},
				{"inbound conns > connmgr high", int64(l.System.ConnsInbound) > high},
				{"FDs >= conns + 128", int64(l.System.FD) >= int64(l.System.Conns)+128},
				{"streams >= 5 per conn", int64(l.System.Streams) >= 5*int64(l.System.Conns)},
				{"inbound streams >= 5 per inbound conn", int64(l.System.StreamsInbound) >= 5*int64(l.System.ConnsInbound)},
				{"memory >= 1 MiB per conn", int64(l.System.Memory) >= int64(l.System.Conns)<<20},
			}
			for _, c := range coherent {
				if !c.ok {
					t.Errorf("%s: not so (system %+v)", c.what, l.System)
				}
			}
		})
	}
}

// TestCommunityNodeHoldsConnections opens inbound connections from
// distinct addresses and peers until the resource manager refuses one: a
// laptop stops at its 128 inbound connections, a community node at 768,
// well above its connection manager's high mark (400).
func TestCommunityNodeHoldsConnections(t *testing.T) {
	for _, tc := range []struct {
		name     string
		b        resourceBudget
		min, max int
	}{
		{"laptop", laptopResources, 128, 128},
		{"community node", communityResources, 768, 768},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rm, err := newResourceManager(tc.b)
			if err != nil {
				t.Fatal(err)
			}
			defer rm.Close()
			var scopes []network.ConnManagementScope
			defer func() {
				for _, s := range scopes {
					s.Done()
				}
			}()
			for i := range 1000 {
				addr := ma.StringCast(fmt.Sprintf("/ip4/10.%d.%d.1/tcp/4747", i/250, i%250))
				s, err := rm.OpenConnection(network.DirInbound, true, addr)
				if err != nil {
					break
				}
				scopes = append(scopes, s)
				// Tied to a peer, as after the handshake: it leaves the
				// transient scope.
				if err := s.SetPeer(peer.ID(fmt.Sprintf("peer-%d", i))); err != nil {
					t.Fatalf("connection %d: SetPeer: %v", i, err)
				}
			}
			if n := len(scopes); n < tc.min || n > tc.max {
				t.Errorf("inbound connections held = %d, want %d to %d", n, tc.min, tc.max)
			}
		})
	}
}

// TestConnectionsPerAddress checks the per-address limit: eight
// connections at a time from one address, except from 127.0.0.1.
func TestConnectionsPerAddress(t *testing.T) {
	rm, err := newResourceManager(laptopResources)
	if err != nil {
		t.Fatal(err)
	}
	defer rm.Close()
	open := func(addr string, n int) (opened int, scopes []network.ConnManagementScope) {
		for range n {
			s, err := rm.OpenConnection(network.DirInbound, true, ma.StringCast(addr))
			if err != nil {
				break
			}
			opened++
			scopes = append(scopes, s)
		}
		return opened, scopes
	}
	if n, scopes := open("/ip4/127.0.0.2/tcp/4747", 9); n != 8 {
		t.Errorf("connections from 127.0.0.2: %d opened, want 8", n)
	} else {
		for _, s := range scopes {
			s.Done()
		}
	}
	// 30: below the transient scope's 32 inbound connections (a new
	// connection counts there until it is tied to a peer).
	if n, scopes := open("/ip4/127.0.0.1/tcp/4747", 30); n != 30 {
		t.Errorf("connections from 127.0.0.1: %d opened, want all 30", n)
	} else {
		for _, s := range scopes {
			s.Done()
		}
	}
}
