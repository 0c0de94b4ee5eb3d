package node

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/record"
)

// Link codes and the primary's side of the device-link protocol.

const (
	// linkCodeTTL is how long a link code stays valid.
	linkCodeTTL = 10 * time.Minute
	// maxPendingLinks caps the codes waiting to be used; making one more
	// drops the oldest.
	maxPendingLinks = 8
	// linkTimeout bounds one link session, both sides.
	linkTimeout = 2 * time.Minute
	// defaultDeviceName names a device linked without --name.
	defaultDeviceName = "linked device"
)

// linkCodes are the codes a primary handed out and not yet used.
type linkCodes struct {
	mu      sync.Mutex
	pending []pendingLink
}

type pendingLink struct {
	secret  [linkSecretSize]byte
	name    string
	expires time.Time
}

func (c *linkCodes) add(p pendingLink, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pending = slices.DeleteFunc(c.pending, func(q pendingLink) bool { return !now.Before(q.expires) })
	if len(c.pending) >= maxPendingLinks {
		c.pending = c.pending[1:]
	}
	c.pending = append(c.pending, p)
}

// take finds and removes the code the proof was made with: each code is
// used once, whatever happens next.
func (c *linkCodes) take(proof []byte, device record.Author, now time.Time) (pendingLink, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, p := range c.pending {
		if hmac.Equal(linkProof(p.secret, device), proof) {
			c.pending = slices.Delete(c.pending, i, i+1)
			return p, now.Before(p.expires)
		}
	}
	return pendingLink{}, false
}

// LinkDevice implements api.Backend.
func (l *Local) LinkDevice(ctx context.Context, in api.DeviceLinkInput) (api.DeviceLinkCode, error) {
	if l.isDevice() {
		return api.DeviceLinkCode{}, api.BadRequest(fmt.Sprintf("this is a linked device of %s: run 'mentormesh device link' on the primary device (the first one, which holds the practitioner's key)", l.author))
	}
	if l.net == nil {
		return api.DeviceLinkCode{}, &api.Error{Status: http.StatusServiceUnavailable, Code: api.CodeUnavailable,
			Message: "linking a device needs the running node (the new device connects to it): start it with 'mentormesh run' and try again"}
	}
	name := in.Name
	if name == "" {
		name = defaultDeviceName
	}
	if err := (mentorship.Device{Name: name, State: mentorship.DeviceLinked, LinkedAt: 1}).Validate(); err != nil {
		return api.DeviceLinkCode{}, api.BadRequest(err.Error())
	}
	var info peer.AddrInfo
	for _, s := range l.net.addrs() {
		m, err := ma.NewMultiaddr(s)
		if err != nil {
			continue
		}
		ai, err := peer.AddrInfoFromP2pAddr(m)
		if err != nil || len(info.Addrs) >= maxLinkAddrs {
			continue
		}
		info.ID = ai.ID
		info.Addrs = append(info.Addrs, ai.Addrs...)
	}
	if len(info.Addrs) == 0 {
		return api.DeviceLinkCode{}, &api.Error{Status: http.StatusServiceUnavailable, Code: api.CodeUnavailable,
			Message: "the node has no listening address yet; try again in a moment"}
	}
	info.Addrs = info.Addrs[:min(len(info.Addrs), maxLinkAddrs)]
	code := linkCode{peer: info}
	if _, err := rand.Read(code.secret[:]); err != nil {
		return api.DeviceLinkCode{}, fmt.Errorf("making a link code: %w", err)
	}
	now := time.Now()
	expires := now.Add(linkCodeTTL)
	l.dev.codes.add(pendingLink{secret: code.secret, name: name, expires: expires}, now)
	return api.DeviceLinkCode{Code: code.String(), Name: name, ExpiresAt: expires.UTC(), Practitioner: l.author.String()}, nil
}

// serveDeviceLink answers a new device on DeviceLinkProtocol.
func (l *Local) serveDeviceLink(s network.Stream) {
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), linkTimeout)
	defer cancel()
	_ = s.SetDeadline(time.Now().Add(linkTimeout))
	log := slog.Default().With("subsystem", "device-link", "peer", s.Conn().RemotePeer())
	device, err := l.grantDevice(ctx, s)
	if errors.Is(err, errLinkRefused) {
		// Let the refusal reach the device before the stream closes: a
		// reset could discard it.
		log.Warn("device link refused", "err", err)
		_ = s.CloseWrite()
		_, _ = io.Copy(io.Discard, io.LimitReader(s, 1))
		return
	}
	if err != nil {
		log.Warn("device link failed", "err", err)
		_ = s.Reset()
		return
	}
	log.Info("device linked", "device", device)
}

// errLinkRefused is returned after the refusal was sent to the device.
var errLinkRefused = errors.New("link refused")

func (l *Local) grantDevice(ctx context.Context, s network.Stream) (record.Author, error) {
	r := bufio.NewReader(s)
	req, err := readFrame(r, maxLinkRequest)
	if err != nil {
		return record.Author{}, fmt.Errorf("reading link request: %w", err)
	}
	proof, err := decodeLinkRequest(req)
	if err != nil {
		return record.Author{}, err
	}
	device, err := record.AuthorFromPeerID(s.Conn().RemotePeer())
	if err != nil {
		return record.Author{}, err
	}
	refuse := func(msg string) (record.Author, error) {
		if err := writeFrame(s, encodeLinkGrant(linkGrant{err: msg})); err != nil {
			return device, err
		}
		return device, fmt.Errorf("%w: %s", errLinkRefused, msg)
	}
	p, ok := l.dev.codes.take(proof, device, time.Now())
	switch {
	case !ok:
		return refuse("the link code is unknown, used or expired: run 'mentormesh device link' on the primary device again")
	case l.isDevice():
		return refuse("this node is a linked device, not the primary")
	case device == l.author:
		return refuse("a device cannot link to itself")
	case l.dev.isRevoked(l.author, device):
		return refuse("this device was revoked; link it from a new data directory (a new device key)")
	}
	now := record.Now()
	cert, err := record.IssueCert(l.key, device, now)
	if err != nil {
		return refuse(err.Error())
	}
	communities := l.joined()
	for _, c := range communities {
		if err := l.putDeviceRecord(ctx, c, device, mentorship.Device{Name: p.name, State: mentorship.DeviceLinked, LinkedAt: uint64(now.UnixMilli())}); err != nil {
			return refuse("the primary could not record the device: " + err.Error())
		}
	}
	if err := writeFrame(s, encodeLinkGrant(linkGrant{author: l.author, cert: cert, name: p.name, communities: communities})); err != nil {
		return device, err
	}
	// The practitioner's own records, so the device writes nothing that
	// loses to a version it has not seen.
	n := 0
	for _, c := range communities {
		raws, err := l.ownRecords(ctx, c)
		if err != nil {
			return device, err
		}
		for _, raw := range raws {
			if n++; n > maxLinkRecords {
				return device, fmt.Errorf("more than %d records to transfer", maxLinkRecords)
			}
			if err := writeFrame(s, raw); err != nil {
				return device, err
			}
		}
	}
	if err := writeFrame(s, nil); err != nil {
		return device, err
	}
	if err := s.CloseWrite(); err != nil {
		return device, err
	}
	// The device closes its side once it has stored everything.
	if _, err := io.Copy(io.Discard, io.LimitReader(r, 1)); err != nil {
		return device, fmt.Errorf("waiting for the device: %w", err)
	}
	return device, nil
}

// ownRecords returns the raw bytes of the caller's current records in a
// community (tombstones included), collected before any is sent so no
// store transaction stays open during network writes.
func (l *Local) ownRecords(ctx context.Context, community string) ([][]byte, error) {
	var out [][]byte
	err := eachOwnRecord(ctx, l.store, l.author, func(c string) bool { return c == community }, func(rec *record.Record) {
		out = append(out, rec.Raw)
	})
	if err != nil {
		return nil, fmt.Errorf("reading records: %w", err)
	}
	return out, nil
}

// eachOwnRecord calls fn for every current record of author in the
// communities keep accepts, kind by kind.
func eachOwnRecord(ctx context.Context, s store.Store, author record.Author, keep func(community string) bool, fn func(*record.Record)) error {
	counts, err := s.Counts(ctx)
	if err != nil {
		return fmt.Errorf("counting records: %w", err)
	}
	for _, kc := range counts {
		if !keep(kc.Community) {
			continue
		}
		err := s.List(ctx, store.Query{Community: kc.Community, Kind: kc.Kind, Author: &author}, func(rec *record.Record) error {
			fn(rec)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// putDeviceRecord writes the state of one device in one community.
func (l *Local) putDeviceRecord(ctx context.Context, community string, device record.Author, d mentorship.Device) error {
	payload, err := d.Encode()
	if err != nil {
		return api.BadRequest(err.Error())
	}
	addr := record.Addr{Community: community, Author: l.author, Kind: mentorship.KindDevice, Key: mentorship.DeviceKey(device)}
	_, err = l.write(ctx, addr, 0, false, payload)
	return err
}
