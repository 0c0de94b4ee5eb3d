package node

import (
	"testing"

	"github.com/libp2p/go-libp2p/core/network"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/mentormesh/mentormesh/sync/reconcile"
)

func TestResourceLimits(t *testing.T) {
	l := resourceLimits().ToPartialLimitConfig()
	checks := []struct {
		name      string
		got, want int64
	}{
		{"system conns", int64(l.System.Conns), rcConns},
		{"system inbound conns", int64(l.System.ConnsInbound), rcConnsInbound},
		{"system memory", int64(l.System.Memory), rcMemory},
		{"system FDs", int64(l.System.FD), rcFDs},
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
}

// TestConnectionsPerAddress checks the per-address limit: eight
// connections at a time from one address, except from 127.0.0.1.
func TestConnectionsPerAddress(t *testing.T) {
	rm, err := newResourceManager()
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
