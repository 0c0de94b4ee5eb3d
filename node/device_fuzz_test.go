package node

import (
	"bytes"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/sync/record"
)

// The device-link decoders read bytes from a code pasted by a person and
// from a peer's stream: they must refuse anything malformed, never panic,
// and accept only what the encoders write.

func FuzzLinkCode(f *testing.F) {
	f.Add(testLinkCode(f).String())
	f.Add("mmlink1-")
	f.Add("mmlink1-CgEx")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseLinkCode(s)
		if err != nil {
			return
		}
		again, err := parseLinkCode(c.String())
		if err != nil || again.secret != c.secret || again.peer.ID != c.peer.ID || len(again.peer.Addrs) != len(c.peer.Addrs) {
			t.Fatalf("parseLinkCode(%q) = %+v, and its String does not parse back (%v)", s, c, err)
		}
	})
}

func FuzzLinkGrant(f *testing.F) {
	root := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	var author, dev record.Author
	copy(author[:], root.Public().(ed25519.PublicKey))
	copy(dev[:], ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, 32)).Public().(ed25519.PublicKey))
	cert, err := record.IssueCert(root, dev, time.UnixMilli(1735689600000))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(encodeLinkGrant(linkGrant{author: author, cert: cert, name: "laptop", communities: []string{"sociocracy", "gophers"}}))
	f.Add(encodeLinkGrant(linkGrant{err: "the link code is unknown"}))
	f.Add([]byte{0x0a, 0x00})
	f.Fuzz(func(t *testing.T, in []byte) {
		g, err := decodeLinkGrant(in)
		if err != nil {
			return
		}
		if out := encodeLinkGrant(g); !bytes.Equal(out, in) {
			t.Fatalf("decodeLinkGrant(%x) = %+v, which encodes as %x", in, g, out)
		}
	})
}

func FuzzLinkRequest(f *testing.F) {
	f.Add(encodeLinkRequest(bytes.Repeat([]byte{3}, 32)))
	f.Add([]byte{0x0a, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, in []byte) {
		proof, err := decodeLinkRequest(in)
		if err != nil {
			return
		}
		if out := encodeLinkRequest(proof); !bytes.Equal(out, in) {
			t.Fatalf("decodeLinkRequest(%x) = %x, which encodes as %x", in, proof, out)
		}
	})
}
