package node

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/ingest"
	"github.com/mentormesh/mentormesh/sync/record"
)

// JoinResult describes a data directory just linked as a device.
type JoinResult struct {
	// Practitioner is the peer ID the device now writes as; Device is its
	// own peer ID.
	Practitioner string   `json:"practitioner"`
	Device       string   `json:"device"`
	Name         string   `json:"name"`
	Communities  []string `json:"communities"`
	// Records counts the practitioner's records received and stored.
	Records int `json:"records"`
	// Stored counts those that were new to this data directory.
	Stored int `json:"stored"`
}

// JoinDevice links the data directory as a device of the practitioner whose
// primary device made code ('mentormesh device link'). It runs with no node
// running (it changes the identity the data directory writes as): it
// connects to the primary, proves it holds the code, receives the
// certificate and every record of the practitioner's in the communities the
// primary joined, stores them through the ingest pipeline, and only then
// writes DeviceFile. Until DeviceFile exists the node writes nothing as the
// practitioner, so it never writes a version that loses earlier ones.
func JoinDevice(ctx context.Context, dataDir, code string, log *slog.Logger) (JoinResult, error) {
	if log == nil {
		log = slog.Default()
	}
	lc, err := parseLinkCode(code)
	if err != nil {
		return JoinResult{}, err
	}
	p, err := NewPaths(dataDir)
	if err != nil {
		return JoinResult{}, err
	}
	if _, err := Init(p); err != nil {
		return JoinResult{}, err
	}
	lock, err := lockDir(p, "mentormesh device join")
	if err != nil {
		return JoinResult{}, err
	}
	defer lock.unlock()
	key, err := LoadKey(p)
	if err != nil {
		return JoinResult{}, err
	}
	_, self, err := edKeys(key)
	if err != nil {
		return JoinResult{}, err
	}
	if ld, err := readLinkedDevice(p, self); err == nil {
		return JoinResult{}, fmt.Errorf("this data directory is already a device of %s; use a new --data-dir to link another", ld.author)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return JoinResult{}, err
	}
	primary, err := record.AuthorFromPeerID(lc.peer.ID)
	if err != nil {
		return JoinResult{}, err
	}
	if primary == self {
		return JoinResult{}, fmt.Errorf("this data directory is the primary device that made the code; run 'mentormesh device join' on the new device")
	}

	ctx, cancel := context.WithTimeout(ctx, linkTimeout)
	defer cancel()
	h, err := libp2p.New(
		libp2p.Identity(key),
		libp2p.NoListenAddrs,
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Security(libp2ptls.ID, libp2ptls.New),
	)
	if err != nil {
		return JoinResult{}, fmt.Errorf("starting libp2p host: %w", err)
	}
	defer h.Close()
	if err := h.Connect(ctx, lc.peer); err != nil {
		return JoinResult{}, fmt.Errorf("connecting to the primary device %s (is its node running and reachable?): %w", lc.peer.ID, err)
	}
	s, err := h.NewStream(ctx, lc.peer.ID, DeviceLinkProtocol)
	if err != nil {
		return JoinResult{}, fmt.Errorf("opening the link stream to the primary: %w", err)
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(linkTimeout))
	if err := writeFrame(s, encodeLinkRequest(linkProof(lc.secret, self))); err != nil {
		return JoinResult{}, fmt.Errorf("sending the link request: %w", err)
	}
	r := bufio.NewReader(s)
	frame, err := readFrame(r, maxLinkGrant)
	if err != nil {
		return JoinResult{}, fmt.Errorf("reading the primary's answer: %w", err)
	}
	g, err := decodeLinkGrant(frame)
	if err != nil {
		return JoinResult{}, err
	}
	if g.err != "" {
		return JoinResult{}, fmt.Errorf("the primary device refused: %s", g.err)
	}
	if g.author != primary {
		return JoinResult{}, fmt.Errorf("the primary granted a certificate for %s, not for its own key %s", g.author, primary)
	}
	if err := g.cert.Verify(g.author, self); err != nil {
		return JoinResult{}, fmt.Errorf("the primary's certificate: %w", err)
	}

	st, err := store.OpenBadger(p.StoreDir(), store.BadgerOptions{Logger: log.With("subsystem", "badger")})
	if err != nil {
		return JoinResult{}, fmt.Errorf("opening store: %w", err)
	}
	closed := false
	defer func() {
		if !closed {
			st.Close()
		}
	}()
	if _, err := loadMembership(p, g.communities, true); err != nil {
		return JoinResult{}, err
	}
	granted := map[string]bool{}
	for _, c := range g.communities {
		granted[c] = true
	}
	devs := newDevices(nil)
	pipe := ingest.New(storeAdapter{s: deviceStore{Store: st, d: devs}}, mentorship.Kinds{}, ingest.Options{
		Joined:        func(c string) bool { return granted[c] },
		IsUnknownKind: mentorship.IsUnknownKind,
		RootOnly:      mentorship.RootOnly,
		DeviceRevoked: devs.isRevoked,
	})
	res := JoinResult{Practitioner: g.author.String(), Device: self.String(), Name: g.name, Communities: g.communities}
	for {
		raw, err := readFrame(r, record.MaxRecordSize)
		if err != nil {
			return res, fmt.Errorf("receiving the practitioner's records (after %d): %w", res.Records, err)
		}
		if len(raw) == 0 {
			break
		}
		if res.Records++; res.Records > maxLinkRecords {
			return res, fmt.Errorf("the primary sent more than %d records", maxLinkRecords)
		}
		// The author is checked before anything is stored: a link that
		// fails leaves no stranger's record behind.
		if rec, err := record.Decode(raw); err == nil && rec.Author != g.author {
			return res, fmt.Errorf("the primary sent a record by %s, not by the practitioner", rec.Author)
		}
		out := pipe.Ingest(ctx, raw, ingest.Source{})
		switch {
		case out.Verdict == ingest.Reject && (errors.Is(out.Err, ingest.ErrInvalidKind) || errors.Is(out.Err, ingest.ErrRootOnly)):
			// Valid under the rules of the version that wrote it, not
			// this one's (as catch-up does, skipped, not fatal).
			log.Warn("record from the primary refused by this version's rules, skipped", "err", out.Err)
		case out.Verdict == ingest.Reject:
			return res, fmt.Errorf("the primary sent an invalid record: %w", out.Err)
		case out.Verdict == ingest.Accept:
			res.Stored++
		default:
			log.Debug("record from the primary not stored", "err", out.Err)
		}
	}
	closed = true
	if err := st.Close(); err != nil {
		return res, fmt.Errorf("closing store: %w", err)
	}
	ld := &linkedDevice{author: g.author, device: self, cert: g.cert, name: g.name, linkedAt: g.cert.Issued}
	if err := writeLinkedDevice(p, ld); err != nil {
		return res, err
	}
	// Closing our side tells the primary everything was stored.
	_ = s.CloseWrite()
	return res, nil
}
