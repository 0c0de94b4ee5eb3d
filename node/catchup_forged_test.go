package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"

	"github.com/mentormesh/mentormesh/internal/syncstore"
	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/ingest"
	"github.com/mentormesh/mentormesh/sync/reconcile"
	"github.com/mentormesh/mentormesh/sync/record"
)

// TestForgedCatchUpRecordBansPeer: a peer whose catch-up session carries a
// record that fails signature verification is disconnected and refused for
// a while, as gossip treats one sending forgeries, and nothing it sent with
// the forgery is stored.
func TestForgedCatchUpRecordBansPeer(t *testing.T) {
	recs := newSynthetic(3).profiles(t, 0, 3, 1, "held by a forger")
	raw := bytes.Clone(recs[0].Raw)
	raw[bytes.Index(raw, recs[0].Signature)] ^= 1
	forged, err := record.Decode(raw)
	if err != nil {
		t.Fatalf("decoding the forged record: %v", err)
	}
	if forged.Verify() == nil {
		t.Fatal("the forged record verifies")
	}
	forger := servingHost(t, forged)

	b := startCatchUpNode(t, t.TempDir())
	connectNodesRaw(t, b.Node, forger.ID(), forger.Addrs())
	b.net.catchUp.run(forger.ID(), community)
	s := lastSession(t, b.Node, forger.ID())
	if s.Error == "" {
		t.Fatal("the session with a forged record ended without an error")
	}
	if !b.net.cfg.bans.banned(forger.ID()) {
		t.Errorf("the forger is not banned after its session failed with %q", s.Error)
	}
	waitFor(t, 10*time.Second, "the forger disconnected", func() bool {
		return b.net.h.Network().Connectedness(forger.ID()) != network.Connected
	})
	if n := countRecords(t, b.Node); n != 0 {
		t.Errorf("b holds %d records after the forger's session, want 0", n)
	}

	// A peer whose record is signed but refused for its content (an honest
	// node of another version may hold such) is not banned, and the
	// session skips that record and brings the others.
	k := newSynthetic(1)[0]
	var author record.Author
	copy(author[:], k.Public().(ed25519.PublicKey))
	bad, err := record.Sign(k, record.Body{Community: DefaultCommunity, Author: author,
		Kind: mentorship.KindProfile, Version: 1, Timestamp: record.Now(), Payload: []byte{0xff, 0xff}})
	if err != nil {
		t.Fatal(err)
	}
	good := newSynthetic(2).profiles(t, 0, 2, 1, "held by a peer of another version")
	skewed := servingHost(t, append(good, bad)...)
	connectNodesRaw(t, b.Node, skewed.ID(), skewed.Addrs())
	b.net.catchUp.run(skewed.ID(), community)
	if s := lastSession(t, b.Node, skewed.ID()); s.Error != "" || s.Pulled != len(good) {
		t.Errorf("session with a record of an invalid payload among %d valid ones: error %q, pulled %d; want no error and the valid ones",
			len(good), s.Error, s.Pulled)
	}
	if n := countRecords(t, b.Node); n != len(good) {
		t.Errorf("b holds %d records, want the %d valid ones", n, len(good))
	}
	if b.net.cfg.bans.banned(skewed.ID()) {
		t.Error("a peer was banned for a signed record with a payload this node refuses")
	}
}

// servingHost is a bare host serving catch-up from an in-memory store
// holding recs, stored without any check.
func servingHost(t *testing.T, recs ...*record.Record) host.Host {
	t.Helper()
	mem := store.NewMemory()
	if _, err := mem.ApplyBatch(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	syncer := reconcile.New(syncstore.New(mem), ingest.New(storeAdapter{s: mem}, mentorship.Kinds{}, ingest.Options{}), reconcile.Options{})
	h.SetStreamHandler(reconcile.Protocol, func(str network.Stream) {
		_, _ = syncer.Respond(context.Background(), str, nil)
		_ = str.Close()
	})
	return h
}
