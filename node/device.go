package node

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/record"
)

// Multi-device identity (docs/PROTOCOL.md, "Devices").
//
// A practitioner's identity is the root key of its first data directory,
// the primary device. A linked device keeps its own key (its libp2p
// identity, used for networking and for signing) and holds a certificate
// by the root key for it, kept in DeviceFile. Its node then writes records
// whose author is the root key, signed by the device key with the
// certificate (record.SignAsDevice), and every node counts them as the
// practitioner's.
//
// Device records (mentorship.KindDevice, root-signed only) say which
// devices are linked and which are revoked. A revocation is global: while
// a node's current device record for (author, device) in any community
// says revoked, it refuses that device's records in every community
// (ingest) and hides those it already holds (deviceStore). The
// primary re-signs under the root key its current records that the revoked
// device had signed, so their content survives the revocation; never a
// private item, which a device cannot legitimately write (mentorship.RootOnly).

// DeviceFile holds a linked device's certificate (JSON, mode 0600). A data
// directory without it is a primary: its key is the practitioner's root.
func (p Paths) DeviceFile() string { return filepath.Join(p.Dir, "device.json") }

// linkedDevice is what DeviceFile holds, decoded and verified.
type linkedDevice struct {
	author   record.Author // the practitioner (root key)
	device   record.Author // this device's key
	cert     record.Cert
	name     string
	linkedAt time.Time
}

type deviceFile struct {
	Practitioner string    `json:"practitioner"`
	Device       string    `json:"device"`
	Certificate  string    `json:"certificate"`
	Name         string    `json:"name"`
	LinkedAt     time.Time `json:"linked_at"`
}

// readLinkedDevice reads DeviceFile; fs.ErrNotExist means a primary.
func readLinkedDevice(p Paths, self record.Author) (*linkedDevice, error) {
	if _, err := os.Stat(p.DeviceFile()); err != nil {
		return nil, err
	}
	data, err := readSecret(p.DeviceFile())
	if err != nil {
		return nil, err
	}
	var f deviceFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s is corrupt: %w", p.DeviceFile(), err)
	}
	author, err := record.ParseAuthor(f.Practitioner)
	if err != nil {
		return nil, fmt.Errorf("%s: practitioner: %w", p.DeviceFile(), err)
	}
	raw, err := hex.DecodeString(f.Certificate)
	if err != nil {
		return nil, fmt.Errorf("%s: certificate is not hex", p.DeviceFile())
	}
	cert, err := record.ParseCert(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.DeviceFile(), err)
	}
	if err := cert.Verify(author, self); err != nil {
		return nil, fmt.Errorf("%s does not certify this data directory's key: %w", p.DeviceFile(), err)
	}
	return &linkedDevice{author: author, device: self, cert: cert, name: f.Name, linkedAt: f.LinkedAt}, nil
}

func writeLinkedDevice(p Paths, d *linkedDevice) error {
	data, err := json.MarshalIndent(deviceFile{
		Practitioner: d.author.String(), Device: d.device.String(),
		Certificate: hex.EncodeToString(d.cert.Bytes()), Name: d.name, LinkedAt: d.linkedAt.UTC(),
	}, "", "  ")
	if err != nil {
		return err
	}
	return writeSecret(p.DeviceFile(), append(data, '\n'))
}

// loadIdentity returns the signing key, the author this data directory
// writes as, and, on a linked device, its certificate.
func loadIdentity(p Paths, key crypto.PrivKey) (ed25519.PrivateKey, record.Author, *linkedDevice, error) {
	edKey, self, err := edKeys(key)
	if err != nil {
		return nil, record.Author{}, nil, err
	}
	ld, err := readLinkedDevice(p, self)
	if errors.Is(err, fs.ErrNotExist) {
		return edKey, self, nil, nil
	}
	if err != nil {
		return nil, record.Author{}, nil, err
	}
	return edKey, ld.author, ld, nil
}

// devices is a node's device state: its own certificate if it is a linked
// device, the revoked devices it knows of, and (on a primary) the pending
// link codes.
type devices struct {
	linked *linkedDevice // nil on a primary
	codes  linkCodes

	mu sync.RWMutex
	// revoked holds, for each revoked device, the communities whose
	// current device record revokes it.
	revoked map[devicePair]map[string]struct{}
	// onRevoke is called (outside the lock) when a device becomes revoked,
	// or is no longer revoked: the records it signed leave or rejoin every
	// view.
	onRevoke func()
}

type devicePair struct{ author, device record.Author }

func newDevices(linked *linkedDevice) *devices {
	return &devices{linked: linked, revoked: make(map[devicePair]map[string]struct{})}
}

// isRevoked reports whether author revoked device. It is on the ingest
// path: one map lookup.
func (d *devices) isRevoked(author, device record.Author) bool {
	if d == nil {
		return false
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	_, ok := d.revoked[devicePair{author, device}]
	return ok
}

// note learns from a stored device record, which is now the current one at
// its address: a device is revoked while, in some community, its current
// device record says so. (The primary never writes "linked" after
// "revoked"; a root key that does un-revokes the device, its own choice.)
func (d *devices) note(rec *record.Record) {
	if rec.Kind != mentorship.KindDevice || rec.SignedByDevice() || rec.Deleted {
		return
	}
	dev, err := mentorship.DecodeDevice(rec.Payload)
	if err != nil {
		return
	}
	key, err := mentorship.ParseDeviceKey(rec.Key)
	if err != nil {
		return
	}
	p := devicePair{rec.Author, record.Author(key)}
	d.mu.Lock()
	_, was := d.revoked[p]
	in := d.revoked[p]
	if dev.State == mentorship.DeviceRevoked {
		if in == nil {
			in = map[string]struct{}{}
			d.revoked[p] = in
		}
		in[rec.Community] = struct{}{}
	} else if in != nil {
		delete(in, rec.Community)
		if len(in) == 0 {
			delete(d.revoked, p)
		}
	}
	_, is := d.revoked[p]
	onRevoke := d.onRevoke
	d.mu.Unlock()
	if was != is && onRevoke != nil {
		onRevoke()
	}
}

// hidden reports whether rec was signed by a device its author revoked,
// or is a device-signed record of a kind only the root key may sign
// (mentorship.RootOnly), which a node may hold from before that kind
// became root-only.
func (d *devices) hidden(rec *record.Record) bool {
	return rec.SignedByDevice() && (mentorship.RootOnly(rec.Kind) || d.isRevoked(rec.Author, rec.Signer))
}

// load reads every stored device record.
func (d *devices) load(ctx context.Context, s store.Store) error {
	counts, err := s.Counts(ctx)
	if err != nil {
		return fmt.Errorf("reading device records: %w", err)
	}
	for _, c := range counts {
		if c.Kind != mentorship.KindDevice {
			continue
		}
		err := s.List(ctx, store.Query{Community: c.Community, Kind: mentorship.KindDevice}, func(rec *record.Record) error {
			d.note(rec)
			return nil
		})
		if err != nil {
			return fmt.Errorf("reading device records: %w", err)
		}
	}
	return nil
}

// deviceStore is the store as Local and the ingest pipeline use it: it
// learns revocations from the device records it stores, and hides from
// Current and List the records of revoked devices and the device-signed
// records of root-only kinds (ingest refuses new ones; CurrentMeta still
// reports them, so no write loses to them).
type deviceStore struct {
	store.Store
	d *devices
}

// Unwrap returns the store it wraps.
func (s deviceStore) Unwrap() store.Store { return s.Store }

// Apply implements store.Store.
func (s deviceStore) Apply(ctx context.Context, rec *record.Record, opts store.ApplyOptions) (store.ApplyResult, error) {
	res, err := s.Store.Apply(ctx, rec, opts)
	if err == nil && res.Applied {
		s.d.note(rec)
	}
	return res, err
}

// ApplyBatch implements store.Store.
func (s deviceStore) ApplyBatch(ctx context.Context, recs []*record.Record) ([]bool, error) {
	applied, err := s.Store.ApplyBatch(ctx, recs)
	for i, ok := range applied {
		if ok {
			s.d.note(recs[i])
		}
	}
	return applied, err
}

// Current implements store.Store.
func (s deviceStore) Current(ctx context.Context, addr record.Addr) (*record.Record, error) {
	rec, err := s.Store.Current(ctx, addr)
	if err == nil && s.d.hidden(rec) {
		return nil, fmt.Errorf("%s of %s: signed by a revoked device: %w", addr.Kind, addr.Author, store.ErrNotFound)
	}
	return rec, err
}

// List implements store.Store.
func (s deviceStore) List(ctx context.Context, q store.Query, fn func(*record.Record) error) error {
	return s.Store.List(ctx, q, func(rec *record.Record) error {
		if s.d.hidden(rec) {
			return nil
		}
		return fn(rec)
	})
}

// watchDevices routes l's store through the device filter and loads the
// known revocations. Call it once, after observeStore and before the store
// is shared with the ingest pipeline.
func (l *Local) watchDevices(ctx context.Context, linked *linkedDevice) error {
	l.dev = newDevices(linked)
	l.dev.onRevoke = func() {
		l.dirs.reset()
		l.resources.reset()
	}
	if err := l.dev.load(ctx, l.store); err != nil {
		return err
	}
	l.store = deviceStore{Store: l.store, d: l.dev}
	return nil
}

// DeviceID returns, on a linked device, its own peer ID (PeerID is the
// practitioner's); "" on a primary.
func (n *Node) DeviceID() string {
	if !n.local.isDevice() {
		return ""
	}
	return n.local.dev.linked.device.String()
}

// isDevice reports whether this node is a linked device (not the primary).
func (l *Local) isDevice() bool { return l.dev != nil && l.dev.linked != nil }

// sign signs a body as this node writes: with the root key on a primary,
// with the device key and its certificate on a linked device.
func (l *Local) sign(b record.Body) (*record.Record, error) {
	if l.isDevice() {
		if l.dev.isRevoked(l.author, l.dev.linked.device) {
			return nil, fmt.Errorf("this device was revoked by the practitioner's primary device: nodes refuse what it writes for %s", l.author)
		}
		return record.SignAsDevice(l.key, l.dev.linked.cert, b)
	}
	return record.Sign(l.key, b)
}
