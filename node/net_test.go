package node

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/node/api"
)

func strp(s string) *string { return &s }

// TestRememberedPeersReconnectAfterRestart: a node that met a peer through
// --bootstrap finds it again after a restart without being told.
func TestRememberedPeersReconnectAfterRestart(t *testing.T) {
	ctx := context.Background()
	a := startTestNode(t)
	dirB := t.TempDir()
	b, err := Start(Options{DataDir: dirB, Listen: []string{"/ip4/127.0.0.1/tcp/0"}, NoMDNS: true,
		APIAddr: "127.0.0.1:0", Bootstrap: a.Addrs()})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "b to remember a", func() bool {
		peers, err := b.store.Peers(ctx)
		return err == nil && len(peers) == 1 && peers[0].ID == a.PeerID()
	})
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	b2, err := Start(Options{DataDir: dirB, Listen: []string{"/ip4/127.0.0.1/tcp/0"}, NoMDNS: true, APIAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b2.Close() })
	waitFor(t, 15*time.Second, "restarted b to rejoin a's topic", func() bool {
		return slices.Contains(peerIDs(t, b2), a.PeerID())
	})
	// And records flow again.
	if _, err := a.Local().SetProfile(ctx, api.ProfileInput{Name: strp("Ada")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "a's profile to reach restarted b", func() bool {
		p, err := b2.Local().Profile(ctx, a.PeerID(), "")
		return err == nil && p.Name == "Ada"
	})
}

func peerIDs(t *testing.T, n *Node) []string {
	t.Helper()
	ps, err := n.Local().Peers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range ps {
		if slices.Contains(p.Communities, DefaultCommunity) {
			out = append(out, p.PeerID)
		}
	}
	return out
}

// TestUpdatesAndDeletesReplicate: a newer version replaces the older one on
// the peer, and a deletion (a signed tombstone) removes it there too.
func TestUpdatesAndDeletesReplicate(t *testing.T) {
	ctx := context.Background()
	a := startTestNode(t)
	b := startTestNode(t, a.Addrs()...)
	waitFor(t, 10*time.Second, "a and b to share the topic", func() bool {
		return slices.Contains(peerIDs(t, a), b.PeerID()) && slices.Contains(peerIDs(t, b), a.PeerID())
	})
	for i, bio := range []string{"first", "second", "third"} {
		p, err := a.Local().SetProfile(ctx, api.ProfileInput{Name: strp("Ada"), Bio: strp(bio)})
		if err != nil {
			t.Fatal(err)
		}
		if p.Version != uint64(i+1) {
			t.Fatalf("SetProfile version = %d, want %d", p.Version, i+1)
		}
		waitFor(t, 10*time.Second, "version "+bio+" on b", func() bool {
			p, err := b.Local().Profile(ctx, a.PeerID(), "")
			return err == nil && p.Bio == bio && p.Version == uint64(i+1)
		})
	}
	if err := a.Local().DeleteProfile(ctx, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "deletion to reach b", func() bool {
		_, err := b.Local().Profile(ctx, a.PeerID(), "")
		return api.IsNotFound(err)
	})
	st, err := b.Local().Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Records) != 1 || st.Records[0].Tombstones != 1 || st.Records[0].Records != 0 {
		t.Errorf("b's records = %+v, want exactly one profile tombstone", st.Records)
	}
}

// TestLocalWriteWithoutPeersIsPublishedWhenOneJoins: the outbox holds a
// write made while alone and publishes it as soon as a peer subscribes.
func TestLocalWriteWithoutPeersIsPublishedWhenOneJoins(t *testing.T) {
	ctx := context.Background()
	a := startTestNode(t)
	if _, err := a.Local().SetProfile(ctx, api.ProfileInput{Name: strp("Alone Ada")}); err != nil {
		t.Fatal(err)
	}
	st, err := a.Local().Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Outbox != 1 {
		t.Fatalf("outbox = %d, want 1 while no peer is connected", st.Outbox)
	}
	b := startTestNode(t, a.Addrs()...)
	waitFor(t, 10*time.Second, "a's profile to reach b", func() bool {
		p, err := b.Local().Profile(ctx, a.PeerID(), "")
		return err == nil && p.Name == "Alone Ada"
	})
	waitFor(t, 10*time.Second, "a's outbox to empty", func() bool {
		st, err := a.Local().Status(ctx)
		return err == nil && st.Outbox == 0
	})
}

// TestMDNSDiscovery: two nodes with LAN discovery on and no bootstrap
// addresses find each other and exchange records.
func TestMDNSDiscovery(t *testing.T) {
	ctx := context.Background()
	start := func() *Node {
		n, err := Start(Options{DataDir: t.TempDir(), Listen: []string{"/ip4/0.0.0.0/tcp/0"}, APIAddr: "127.0.0.1:0"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		return n
	}
	a, b := start(), start()
	// zeroconf queries at 0 s, 4 s, 10-14 s and 25-49 s: when the first
	// queries go unanswered (the other node's responder not up yet, or a
	// datagram lost on a loaded machine) discovery legitimately takes until
	// the fourth, so the deadline covers it.
	waitFor(t, 60*time.Second, "a and b to find each other by mDNS", func() bool {
		return slices.Contains(peerIDs(t, a), b.PeerID()) && slices.Contains(peerIDs(t, b), a.PeerID())
	})
	if _, err := b.Local().SetProfile(ctx, api.ProfileInput{Name: strp("Found by mDNS")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "b's profile to reach a", func() bool {
		p, err := a.Local().Profile(ctx, b.PeerID(), "")
		return err == nil && p.Name == "Found by mDNS"
	})
}
