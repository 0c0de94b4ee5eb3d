package node

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/mentormesh/mentormesh/internal/pbwire"
	"github.com/mentormesh/mentormesh/sync/record"
)

// The device-link protocol and code, byte for byte in docs/PROTOCOL.md
// ("Linking a device").

// DeviceLinkProtocol is the libp2p stream protocol a new device uses to
// fetch its certificate and the practitioner's records from the primary.
const DeviceLinkProtocol = "/mentormesh/device-link/1.0.0"

// Link code format.
const (
	linkCodePrefix  = "mmlink1-"
	linkSecretSize  = 16
	maxLinkCodeLen  = 4096
	maxLinkAddrs    = 16
	linkProofPrefix = "mentormesh/device-link/v1\x00"
)

// Frame limits of the link stream.
const (
	maxLinkRequest = 256
	maxLinkGrant   = 8 << 10
	// maxLinkRecords caps the records one link transfers.
	maxLinkRecords = 200_000
)

// Field numbers (docs/PROTOCOL.md).
const (
	fCodeSecret = 1
	fCodePeer   = 2
	fCodeAddrs  = 3

	fReqProof = 1

	fGrantError       = 1
	fGrantAuthor      = 2
	fGrantCert        = 3
	fGrantName        = 4
	fGrantCommunities = 5
)

var errLinkCode = errors.New("not a device link code (it looks like mmlink1-... and comes from 'mentormesh device link' on the primary device)")

// linkCode is a decoded link code: the primary's address and the secret.
type linkCode struct {
	secret [linkSecretSize]byte
	peer   peer.AddrInfo
}

func (c linkCode) String() string {
	var e pbwire.Encoder
	e.BytesField(fCodeSecret, c.secret[:])
	e.BytesField(fCodePeer, []byte(c.peer.ID))
	for _, a := range c.peer.Addrs {
		e.BytesField(fCodeAddrs, a.Bytes())
	}
	return linkCodePrefix + base64.RawURLEncoding.EncodeToString(e.Bytes())
}

// parseLinkCode decodes a code strictly.
func parseLinkCode(s string) (linkCode, error) {
	s = strings.TrimSpace(s)
	if len(s) > maxLinkCodeLen || !strings.HasPrefix(s, linkCodePrefix) {
		return linkCode{}, errLinkCode
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(s[len(linkCodePrefix):])
	if err != nil {
		return linkCode{}, fmt.Errorf("%w: %v", errLinkCode, err)
	}
	var c linkCode
	var secret, id []byte
	d := pbwire.NewDecoder(raw, fCodeAddrs)
	for d.Next() {
		switch d.Field().Num {
		case fCodeSecret:
			secret = d.BytesValue()
		case fCodePeer:
			id = d.BytesValue()
		case fCodeAddrs:
			if len(c.peer.Addrs) >= maxLinkAddrs {
				d.Fail(fmt.Errorf("more than %d addresses", maxLinkAddrs))
				break
			}
			a, err := ma.NewMultiaddrBytes(d.BytesValue())
			if err != nil {
				d.Fail(fmt.Errorf("address: %w", err))
				break
			}
			c.peer.Addrs = append(c.peer.Addrs, a)
		default:
			d.Unknown()
		}
	}
	if err := d.Err(); err != nil {
		return linkCode{}, fmt.Errorf("%w: %w", errLinkCode, err)
	}
	if len(secret) != linkSecretSize {
		return linkCode{}, fmt.Errorf("%w: secret is %d bytes, want %d", errLinkCode, len(secret), linkSecretSize)
	}
	copy(c.secret[:], secret)
	pid, err := peer.IDFromBytes(id)
	if err != nil {
		return linkCode{}, fmt.Errorf("%w: peer ID: %v", errLinkCode, err)
	}
	if _, err := record.AuthorFromPeerID(pid); err != nil {
		return linkCode{}, fmt.Errorf("%w: %v", errLinkCode, err)
	}
	c.peer.ID = pid
	if len(c.peer.Addrs) == 0 {
		return linkCode{}, fmt.Errorf("%w: no address of the primary device", errLinkCode)
	}
	return c, nil
}

// linkProof is what a device sends to show it holds the code: an HMAC of
// its own key under the code's secret, so the secret itself never travels
// and a proof is bound to the device that made it.
func linkProof(secret [linkSecretSize]byte, device record.Author) []byte {
	m := hmac.New(sha256.New, secret[:])
	m.Write([]byte(linkProofPrefix))
	m.Write(device[:])
	return m.Sum(nil)
}

func encodeLinkRequest(proof []byte) []byte {
	var e pbwire.Encoder
	e.BytesField(fReqProof, proof)
	return e.Bytes()
}

func decodeLinkRequest(b []byte) ([]byte, error) {
	var proof []byte
	d := pbwire.NewDecoder(b)
	for d.Next() {
		switch d.Field().Num {
		case fReqProof:
			proof = d.BytesValue()
		default:
			d.Unknown()
		}
	}
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("link request: %w", err)
	}
	if len(proof) != sha256.Size {
		return nil, fmt.Errorf("link request: proof is %d bytes, want %d", len(proof), sha256.Size)
	}
	return proof, nil
}

// linkGrant is the primary's answer: an error, or the certificate.
type linkGrant struct {
	err         string
	author      record.Author
	cert        record.Cert
	name        string
	communities []string
}

func encodeLinkGrant(g linkGrant) []byte {
	var e pbwire.Encoder
	e.String(fGrantError, g.err)
	if g.err == "" {
		e.BytesField(fGrantAuthor, g.author[:])
		e.BytesField(fGrantCert, g.cert.Bytes())
		e.String(fGrantName, g.name)
		e.Strings(fGrantCommunities, g.communities)
	}
	return e.Bytes()
}

func decodeLinkGrant(b []byte) (linkGrant, error) {
	var g linkGrant
	var author, cert []byte
	d := pbwire.NewDecoder(b, fGrantCommunities)
	for d.Next() {
		switch d.Field().Num {
		case fGrantError:
			g.err = d.StringValue()
		case fGrantAuthor:
			author = d.BytesValue()
		case fGrantCert:
			cert = d.BytesValue()
		case fGrantName:
			g.name = d.StringValue()
		case fGrantCommunities:
			c := d.StringValue()
			if err := record.CheckCommunity(c); err != nil {
				d.Fail(err)
				break
			}
			g.communities = append(g.communities, c)
		default:
			d.Unknown()
		}
	}
	if err := d.Err(); err != nil {
		return linkGrant{}, fmt.Errorf("link grant: %w", err)
	}
	if g.err != "" {
		if author != nil || cert != nil || g.name != "" || g.communities != nil {
			return linkGrant{}, fmt.Errorf("link grant: an error with a certificate")
		}
		return g, nil
	}
	if len(author) != len(g.author) {
		return linkGrant{}, fmt.Errorf("link grant: author key is %d bytes, want %d", len(author), len(g.author))
	}
	copy(g.author[:], author)
	c, err := record.ParseCert(cert)
	if err != nil {
		return linkGrant{}, fmt.Errorf("link grant: %w", err)
	}
	g.cert = c
	if len(g.communities) == 0 {
		return linkGrant{}, fmt.Errorf("link grant: no community")
	}
	return g, nil
}

// writeFrame writes one frame: an unsigned varint length, then the bytes.
func writeFrame(w io.Writer, b []byte) error {
	buf := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64+len(b)), uint64(len(b)))
	_, err := w.Write(append(buf, b...))
	return err
}

// readFrame reads one frame of at most max bytes; a zero-length frame
// returns an empty, non-nil slice.
func readFrame(r *bufio.Reader, max int) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if n > uint64(max) {
		return nil, fmt.Errorf("frame of %d bytes, limit %d", n, max)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}
