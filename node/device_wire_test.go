package node

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/mentormesh/mentormesh/sync/record"
)

func testLinkCode(t testing.TB) linkCode {
	t.Helper()
	pk, err := crypto.UnmarshalEd25519PublicKey(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPublicKey(pk)
	if err != nil {
		t.Fatal(err)
	}
	c := linkCode{peer: peer.AddrInfo{ID: id, Addrs: []ma.Multiaddr{
		ma.StringCast("/ip4/127.0.0.1/tcp/4747"), ma.StringCast("/ip6/::1/udp/4747/quic-v1"),
	}}}
	copy(c.secret[:], "0123456789abcdef")
	return c
}

func TestLinkCodeRoundTrip(t *testing.T) {
	c := testLinkCode(t)
	s := c.String()
	if !strings.HasPrefix(s, linkCodePrefix) {
		t.Fatalf("code %q lacks the prefix %q", s, linkCodePrefix)
	}
	got, err := parseLinkCode("  " + s + "\n")
	if err != nil {
		t.Fatalf("parseLinkCode(%q) error = %v", s, err)
	}
	if got.secret != c.secret || got.peer.ID != c.peer.ID || len(got.peer.Addrs) != 2 || !got.peer.Addrs[1].Equal(c.peer.Addrs[1]) {
		t.Fatalf("parseLinkCode(String()) = %+v, want %+v", got, c)
	}
	bad := []string{"", "mmlink1-", "mmlink2-" + s[len(linkCodePrefix):], s + "=", s[:len(s)-3], strings.Repeat("a", maxLinkCodeLen+1)}
	for _, b := range bad {
		if _, err := parseLinkCode(b); err == nil {
			t.Errorf("parseLinkCode(%.40q) succeeded, want an error", b)
		}
	}
}

func TestLinkCodesSingleUseAndExpiry(t *testing.T) {
	now := time.Now()
	dev := record.Author{9}
	var codes linkCodes
	c1, c2 := testLinkCode(t), testLinkCode(t)
	c2.secret[0] ^= 1
	codes.add(pendingLink{secret: c1.secret, name: "one", expires: now.Add(time.Minute)}, now)
	codes.add(pendingLink{secret: c2.secret, name: "two", expires: now.Add(time.Minute)}, now)
	if _, ok := codes.take(linkProof(c1.secret, record.Author{8}), dev, now); ok {
		t.Fatal("a proof made for another device was accepted")
	}
	if p, ok := codes.take(linkProof(c1.secret, dev), dev, now); !ok || p.name != "one" {
		t.Fatalf("take(code one) = %+v, %v; want code one", p, ok)
	}
	if _, ok := codes.take(linkProof(c1.secret, dev), dev, now); ok {
		t.Fatal("a code was accepted twice")
	}
	if _, ok := codes.take(linkProof(c2.secret, dev), dev, now.Add(2*time.Minute)); ok {
		t.Fatal("an expired code was accepted")
	}
	for i := range maxPendingLinks + 1 {
		c := testLinkCode(t)
		c.secret[1] = byte(i)
		codes.add(pendingLink{secret: c.secret, expires: now.Add(time.Minute)}, now)
	}
	if len(codes.pending) != maxPendingLinks {
		t.Fatalf("%d pending codes, want at most %d", len(codes.pending), maxPendingLinks)
	}
}

func TestLinkGrantRoundTrip(t *testing.T) {
	root := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	var author, dev record.Author
	copy(author[:], root.Public().(ed25519.PublicKey))
	copy(dev[:], ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, 32)).Public().(ed25519.PublicKey))
	cert, err := record.IssueCert(root, dev, time.UnixMilli(1735689600000))
	if err != nil {
		t.Fatal(err)
	}
	g := linkGrant{author: author, cert: cert, name: "laptop", communities: []string{"a", "b"}}
	got, err := decodeLinkGrant(encodeLinkGrant(g))
	if err != nil || got.author != author || got.cert != cert || got.name != "laptop" || len(got.communities) != 2 {
		t.Fatalf("decodeLinkGrant(encode(%+v)) = %+v, %v", g, got, err)
	}
	if err := got.cert.Verify(author, dev); err != nil {
		t.Fatalf("decoded certificate: %v", err)
	}
	refusal, err := decodeLinkGrant(encodeLinkGrant(linkGrant{err: "no"}))
	if err != nil || refusal.err != "no" {
		t.Fatalf("decodeLinkGrant(refusal) = %+v, %v", refusal, err)
	}
	for _, in := range [][]byte{nil, {0x0a, 0x00}, encodeLinkGrant(linkGrant{author: author, cert: cert})} {
		if _, err := decodeLinkGrant(in); err == nil {
			t.Errorf("decodeLinkGrant(%x) succeeded, want an error", in)
		}
	}
}

func TestReadFrameLimit(t *testing.T) {
	var buf bytes.Buffer
	if err := writeFrame(&buf, bytes.Repeat([]byte{1}, 300)); err != nil {
		t.Fatal(err)
	}
	if _, err := readFrame(bufio.NewReader(bytes.NewReader(buf.Bytes())), 299); err == nil {
		t.Fatal("readFrame read a frame over its limit")
	}
	got, err := readFrame(bufio.NewReader(bytes.NewReader(buf.Bytes())), 300)
	if err != nil || len(got) != 300 {
		t.Fatalf("readFrame = %d bytes, %v; want 300", len(got), err)
	}
	if _, err := readFrame(bufio.NewReader(bytes.NewReader(buf.Bytes()[:100])), 300); err == nil {
		t.Fatal("readFrame of a truncated frame succeeded")
	}
}
