package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/sync/gossip"
	"github.com/mentormesh/mentormesh/sync/record"
)

// startTestNode starts a real node on loopback with its own data directory.
func startTestNode(t *testing.T, bootstrap ...string) *Node {
	t.Helper()
	n, err := Start(Options{
		DataDir:   t.TempDir(),
		Listen:    []string{"/ip4/127.0.0.1/tcp/0"},
		Bootstrap: bootstrap,
		NoMDNS:    true,
		APIAddr:   "127.0.0.1:0",
	})
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

// rawPeer is a bare libp2p host speaking GossipSub the way mentormesh does,
// with none of its checks: it can publish anything.
type rawPeer struct {
	h     host.Host
	topic *pubsub.Topic
	sub   *pubsub.Subscription
}

func newRawPeer(t *testing.T, community string) *rawPeer {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ps, err := pubsub.NewGossipSub(ctx, h,
		pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
		pubsub.WithMessageIdFn(func(m *pb.Message) string { return gossip.MessageID(m.Data) }),
		pubsub.WithFloodPublish(true),
	)
	if err != nil {
		t.Fatal(err)
	}
	topic, err := ps.Join(gossip.Topic(community))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := topic.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	return &rawPeer{h: h, topic: topic, sub: sub}
}

func (r *rawPeer) connect(t *testing.T, n *Node) {
	t.Helper()
	ai := peer.AddrInfo{ID: n.net.h.ID(), Addrs: n.net.h.Addrs()}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.h.Connect(ctx, ai); err != nil {
		t.Fatalf("connecting to node: %v", err)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func signProfile(t *testing.T, key ed25519.PrivateKey, name string) *record.Record {
	t.Helper()
	var author record.Author
	copy(author[:], key.Public().(ed25519.PublicKey))
	payload, err := mentorship.Profile{Name: name}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	rec, err := record.Sign(key, record.Body{
		Community: DefaultCommunity, Author: author, Kind: mentorship.KindProfile,
		Version: 1, Timestamp: record.Now(), Payload: payload,
	})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func newKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestForgedRecordsAreNotStoredNorForwarded has a raw libp2p peer publish a
// record with a tampered body and one signed by a key that is not its
// author's, then a valid one. The node must reject both forgeries (not
// store them, not forward them to the observer behind it) while storing and
// forwarding the valid record.
func TestForgedRecordsAreNotStoredNorForwarded(t *testing.T) {
	n := startTestNode(t)
	attacker := newRawPeer(t, DefaultCommunity)
	observer := newRawPeer(t, DefaultCommunity)
	attacker.connect(t, n)
	observer.connect(t, n)
	ctx := context.Background()
	waitFor(t, 10*time.Second, "node to see both peers in the topic", func() bool {
		ps := n.net.g.TopicPeers(DefaultCommunity)
		return slices.Contains(ps, attacker.h.ID()) && slices.Contains(ps, observer.h.ID())
	})
	waitFor(t, 10*time.Second, "attacker to see the node in the topic", func() bool {
		return slices.Contains(attacker.topic.ListPeers(), n.net.h.ID())
	})

	// Warm up until the node forwards the attacker's valid records to the
	// observer: GossipSub forwards only along its mesh, which forms on the
	// next heartbeat after a peer joins.
	warm := 0
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for delivered := false; !delivered; {
		warm++
		rec := signProfile(t, newKey(t), "Warm-up")
		if err := attacker.topic.Publish(ctx, rec.Raw); err != nil {
			t.Fatalf("publish: %v", err)
		}
		mctx, mcancel := context.WithTimeout(rctx, 300*time.Millisecond)
		m, err := observer.sub.Next(mctx)
		mcancel()
		if rctx.Err() != nil {
			t.Fatal("the node never forwarded a valid record to the observer")
		}
		delivered = err == nil && bytes.Equal(m.Data, rec.Raw)
	}

	// 1. Tampered body: a valid record with one payload byte changed after
	// signing (still decodes, signature no longer matches).
	victim := newKey(t)
	tampered := append([]byte(nil), signProfile(t, victim, "Alice").Raw...)
	tampered[bytes.Index(tampered, []byte("Alice"))] = 'M' // "Alice" -> "Mlice"
	if _, err := record.Decode(tampered); err != nil {
		t.Fatalf("tampered record should still decode: %v", err)
	}

	// 2. Wrong signer: the body claims the victim as author, the signature
	// is by the attacker's own key over exactly that body.
	attackerKey := newKey(t)
	genuine := signProfile(t, victim, "Alice")
	forgedBody := append([]byte(nil), genuine.BodyBytes...)
	sig := ed25519.Sign(attackerKey, append([]byte(record.SignaturePrefix), forgedBody...))
	wrongSigner := envelope(forgedBody, sig)
	if r, err := record.Decode(wrongSigner); err != nil || r.Author != genuine.Author {
		t.Fatalf("wrong-signer record should decode with the victim as author: %v", err)
	}

	// 3. A valid record, as a control that forwarding works at all.
	valid := signProfile(t, newKey(t), "Valid Vera")

	for _, raw := range [][]byte{tampered, wrongSigner, valid.Raw} {
		if err := attacker.topic.Publish(ctx, raw); err != nil {
			t.Fatalf("publish: %v", err)
		}
	}

	// The observer, connected only to the node, gets the valid record.
	got := map[string]bool{}
	for !got[gossip.MessageID(valid.Raw)] {
		m, err := observer.sub.Next(rctx)
		if err != nil {
			t.Fatalf("observer did not receive the valid record: %v", err)
		}
		if m.ReceivedFrom == n.net.h.ID() {
			got[gossip.MessageID(m.Data)] = true
		}
	}
	waitFor(t, 10*time.Second, "both forgeries to be rejected", func() bool {
		st, err := n.Local().Status(ctx)
		return err == nil && st.Ingest.Rejected >= 2
	})
	st, err := n.Local().Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Ingest.Rejected != 2 || st.Ingest.Accepted != uint64(warm+1) {
		t.Errorf("ingest stats = %+v, want 2 rejected and %d accepted", st.Ingest, warm+1)
	}
	// Forwarding happens only after Accept; the rejected ones never were.
	for name, raw := range map[string][]byte{"tampered": tampered, "wrong signer": wrongSigner} {
		if got[gossip.MessageID(raw)] {
			t.Errorf("%s record was forwarded to the observer", name)
		}
	}
	// Not stored: the victim has no profile on the node; the valid one is there.
	if _, err := n.Local().Profile(ctx, genuine.Author.String(), ""); !api.IsNotFound(err) {
		t.Errorf("victim's profile lookup = %v, want not found", err)
	}
	if p, err := n.Local().Profile(ctx, valid.Author.String(), ""); err != nil || p.Name != "Valid Vera" {
		t.Errorf("valid profile = %+v, %v; want Valid Vera", p, err)
	}
	if total := countRecords(t, n); total != warm+1 {
		t.Errorf("node stores %d records, want %d (valid ones only)", total, warm+1)
	}
}

func countRecords(t *testing.T, n *Node) int {
	t.Helper()
	st, err := n.Local().Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, k := range st.Records {
		total += k.Records + k.Tombstones
	}
	return total
}

// envelope builds signed-record bytes by hand (fields 1 and 2, both
// length-delimited), the way a hostile client could.
func envelope(body, sig []byte) []byte {
	out := []byte{0x0a}
	out = appendUvarint(out, uint64(len(body)))
	out = append(out, body...)
	out = append(out, 0x12)
	out = appendUvarint(out, uint64(len(sig)))
	return append(out, sig...)
}

func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}
