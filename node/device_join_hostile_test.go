package node

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/record"
)

// TestJoinDeviceRefusesStrangersRecords: a primary that grants a valid
// certificate and then sends a record by someone else fails the link, and
// the new device's store holds nothing afterwards: the author is checked
// before a record is stored.
func TestJoinDeviceRefusesStrangersRecords(t *testing.T) {
	ctx := context.Background()
	_, primaryKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	libKey, err := crypto.UnmarshalEd25519PrivateKey(primaryKey)
	if err != nil {
		t.Fatal(err)
	}
	h, err := libp2p.New(libp2p.Identity(libKey), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	var primary record.Author
	copy(primary[:], primaryKey.Public().(ed25519.PublicKey))

	// A valid record, by a stranger, in the granted community.
	stranger := newSynthetic(1).profiles(t, 0, 1, 1, "a stranger")[0]

	h.SetStreamHandler(DeviceLinkProtocol, func(s network.Stream) {
		defer s.Close()
		r := bufio.NewReader(s)
		if _, err := readFrame(r, maxLinkRequest); err != nil {
			return
		}
		device, err := record.AuthorFromPeerID(s.Conn().RemotePeer())
		if err != nil {
			return
		}
		cert, err := record.IssueCert(primaryKey, device, record.Now())
		if err != nil {
			return
		}
		_ = writeFrame(s, encodeLinkGrant(linkGrant{author: primary, cert: cert, name: "laptop", communities: []string{DefaultCommunity}}))
		_ = writeFrame(s, stranger.Raw)
		_ = writeFrame(s, nil)
		_ = s.CloseWrite()
		_, _ = r.ReadByte() // until the device closes
	})

	code := linkCode{peer: peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()}}
	dir := t.TempDir()
	_, err = JoinDevice(ctx, dir, code.String(), nil)
	if err == nil || !strings.Contains(err.Error(), "not by the practitioner") {
		t.Fatalf("JoinDevice with a stranger's record: err = %v, want a refusal naming it", err)
	}

	paths, err := NewPaths(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenBadger(paths.StoreDir(), store.BadgerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	counts, err := st.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range counts {
		if c.Live+c.Tombstones > 0 {
			t.Errorf("the failed link left %d %s records in %s", c.Live+c.Tombstones, c.Kind, c.Community)
		}
	}
}
