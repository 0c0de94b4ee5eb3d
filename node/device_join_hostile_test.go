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

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/record"
)

// TestJoinDeviceRefusesStrangersRecords: a primary that grants a valid
// certificate and then sends a record by someone else fails the link, and
// the new device's store holds nothing afterwards: the author is checked
// before a record is stored.
func TestJoinDeviceRefusesStrangersRecords(t *testing.T) {
	ctx := context.Background()
	// A valid record, by a stranger, in the granted community.
	stranger := newSynthetic(1).profiles(t, 0, 1, 1, "a stranger")[0]
	code, _ := fakePrimary(t, func(record.Author, ed25519.PrivateKey) [][]byte { return [][]byte{stranger.Raw} })
	dir := t.TempDir()
	_, err := JoinDevice(ctx, dir, code, nil)
	if err == nil || !strings.Contains(err.Error(), "not by the practitioner") {
		t.Fatalf("JoinDevice with a stranger's record: err = %v, want a refusal naming it", err)
	}
	if n := deviceStoreRecords(t, dir); n > 0 {
		t.Errorf("the failed link left %d records", n)
	}
}

// TestJoinDeviceSkipsRecordsOfOtherRules: a record of the practitioner's
// that this version's rules refuse (its payload), as a primary of another
// version may hold, is skipped; the link succeeds with the others.
func TestJoinDeviceSkipsRecordsOfOtherRules(t *testing.T) {
	ctx := context.Background()
	code, _ := fakePrimary(t, func(author record.Author, key ed25519.PrivateKey) [][]byte {
		bad, err := record.Sign(key, record.Body{Community: DefaultCommunity, Author: author,
			Kind: mentorship.KindProfile, Version: 1, Timestamp: record.Now(), Payload: []byte{0xff, 0xff}})
		if err != nil {
			t.Error(err)
			return nil
		}
		payload, err := mentorship.Profile{Name: "Ada"}.Encode()
		if err != nil {
			t.Error(err)
			return nil
		}
		good, err := record.Sign(key, record.Body{Community: DefaultCommunity, Author: author, Kind: mentorship.KindProfile,
			Version: 2, Timestamp: record.Now(), Payload: payload})
		if err != nil {
			t.Error(err)
			return nil
		}
		return [][]byte{bad.Raw, good.Raw}
	})
	dir := t.TempDir()
	res, err := JoinDevice(ctx, dir, code, nil)
	if err != nil {
		t.Fatalf("JoinDevice with one record this version refuses: %v", err)
	}
	if res.Records != 2 || res.Stored != 1 {
		t.Errorf("JoinDevice: %d records received, %d stored; want 2 and 1", res.Records, res.Stored)
	}
	if n := deviceStoreRecords(t, dir); n != 1 {
		t.Errorf("the device holds %d records, want 1", n)
	}
}

// fakePrimary serves the device-link protocol as a primary that grants a
// valid certificate and then sends the records recs returns (given its
// author and key). It returns a link code for it.
func fakePrimary(t *testing.T, recs func(record.Author, ed25519.PrivateKey) [][]byte) (string, record.Author) {
	t.Helper()
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
		for _, raw := range recs(primary, primaryKey) {
			_ = writeFrame(s, raw)
		}
		_ = writeFrame(s, nil)
		_ = s.CloseWrite()
		_, _ = r.ReadByte() // until the device closes
	})
	return linkCode{peer: peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()}}.String(), primary
}

// deviceStoreRecords counts the records in a (closed) device's store.
func deviceStoreRecords(t *testing.T, dir string) int {
	t.Helper()
	paths, err := NewPaths(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenBadger(paths.StoreDir(), store.BadgerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	counts, err := st.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range counts {
		n += c.Live + c.Tombstones
	}
	return n
}
