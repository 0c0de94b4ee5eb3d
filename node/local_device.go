package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/record"
)

// errPrivateOnDevice refuses private items on a linked device: they are
// sealed with keys derived from the practitioner's root key, which never
// leaves the primary device.
var errPrivateOnDevice = &api.Error{Status: http.StatusConflict, Code: api.CodeConflict,
	Message: "private pairing items (goals, sessions, notes, contact details) open only on the primary device for now: " +
		"they are sealed with keys derived from the practitioner's root key, which a linked device does not hold"}

// Devices implements api.Backend.
func (l *Local) Devices(ctx context.Context, peerID string) ([]api.Device, error) {
	author := l.author
	if peerID != "" && peerID != "self" {
		a, err := record.ParseAuthor(peerID)
		if err != nil {
			return nil, api.BadRequest(err.Error())
		}
		author = a
	}
	devs, err := l.deviceViews(ctx, author)
	if err != nil {
		return nil, err
	}
	// The primary is the author key itself: it has no device record.
	primary := api.Device{DeviceID: author.String(), Name: "primary", State: api.DevicePrimary, Communities: []string{}, ThisDevice: author == l.author && !l.isDevice()}
	if author == l.author {
		primary.Communities = l.joined()
	}
	return append([]api.Device{primary}, devs...), nil
}

// deviceViews merges an author's device records over the joined
// communities: a device revoked in any of them is revoked.
func (l *Local) deviceViews(ctx context.Context, author record.Author) ([]api.Device, error) {
	byKey := map[string]*api.Device{}
	var self string
	if l.isDevice() {
		self = mentorship.DeviceKey(l.dev.linked.device)
	}
	for _, c := range l.joined() {
		err := l.store.List(ctx, store.Query{Community: c, Kind: mentorship.KindDevice, Author: &author}, func(rec *record.Record) error {
			d, err := mentorship.DecodeDevice(rec.Payload)
			if err != nil || rec.SignedByDevice() {
				return nil // ingest refuses both; nothing to show
			}
			key, err := mentorship.ParseDeviceKey(rec.Key)
			if err != nil {
				return nil
			}
			v := byKey[rec.Key]
			if v == nil {
				v = &api.Device{DeviceID: record.Author(key).String(), Name: d.Name, State: api.DeviceLinked, Communities: []string{}, ThisDevice: rec.Key == self}
				byKey[rec.Key] = v
			}
			v.Communities = append(v.Communities, c)
			linked := time.UnixMilli(int64(d.LinkedAt)).UTC()
			if v.LinkedAt == nil || linked.Before(*v.LinkedAt) {
				v.LinkedAt = &linked
			}
			if d.State == mentorship.DeviceRevoked {
				revoked := time.UnixMilli(int64(d.RevokedAt)).UTC()
				v.State = api.DeviceRevoked
				if v.RevokedAt == nil || revoked.Before(*v.RevokedAt) {
					v.RevokedAt = &revoked
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("reading device records: %w", err)
		}
	}
	out := make([]api.Device, 0, len(byKey))
	for _, v := range byKey {
		if l.dev.isRevoked(author, mustAuthor(v.DeviceID)) {
			v.State = api.DeviceRevoked
		}
		out = append(out, *v)
	}
	slices.SortFunc(out, func(a, b api.Device) int {
		return cmp.Or(a.LinkedAt.Compare(*b.LinkedAt), strings.Compare(a.DeviceID, b.DeviceID))
	})
	return out, nil
}

func mustAuthor(peerID string) record.Author {
	a, _ := record.ParseAuthor(peerID)
	return a
}

// RevokeDevice implements api.Backend: it writes a revoked device record in
// every joined community, then signs again under the root key each current
// record of the caller's that the device had signed (see resign).
func (l *Local) RevokeDevice(ctx context.Context, name string) (api.DeviceRevocation, error) {
	if l.isDevice() {
		return api.DeviceRevocation{}, api.BadRequest(fmt.Sprintf("this is a linked device of %s: revoke devices on the primary device", l.author))
	}
	devs, err := l.deviceViews(ctx, l.author)
	if err != nil {
		return api.DeviceRevocation{}, err
	}
	var match []api.Device
	for _, d := range devs {
		if d.DeviceID == name || d.Name == name {
			match = append(match, d)
		}
	}
	switch {
	case name == l.author.String():
		return api.DeviceRevocation{}, api.BadRequest("that is the primary device (the practitioner's own key); it cannot be revoked")
	case len(match) == 0:
		return api.DeviceRevocation{}, api.NotFound(fmt.Sprintf("no linked device %q ('mentormesh device list' shows them)", name))
	case len(match) > 1:
		return api.DeviceRevocation{}, api.BadRequest(fmt.Sprintf("%d devices are called %q: name one by its device ID ('mentormesh device list')", len(match), name))
	}
	dv := match[0]
	device := mustAuthor(dv.DeviceID)
	now := record.Now()
	d := mentorship.Device{Name: dv.Name, State: mentorship.DeviceRevoked, LinkedAt: uint64(dv.LinkedAt.UnixMilli()), RevokedAt: uint64(now.UnixMilli())}
	if dv.RevokedAt != nil {
		d.RevokedAt = uint64(dv.RevokedAt.UnixMilli())
	}
	for _, c := range l.joined() {
		if err := l.putDeviceRecord(ctx, c, device, d); err != nil {
			return api.DeviceRevocation{}, fmt.Errorf("writing the revocation in %s: %w", c, err)
		}
	}
	resigned, err := l.resign(ctx, device)
	if err != nil {
		return api.DeviceRevocation{}, fmt.Errorf("signing the device's records again: %w", err)
	}
	if dv.RevokedAt == nil { // else an earlier revocation stands
		revoked := now.UTC()
		dv.RevokedAt = &revoked
	}
	dv.State = api.DeviceRevoked
	return api.DeviceRevocation{Device: dv, Resigned: resigned}, nil
}

// resign writes, under the root key, a new version of each current record
// of the caller's that device signed, with the same content. Records of
// root-only kinds are skipped: a device never legitimately signs one (a
// private item it signed can only replay an older sealed version), and
// signing it again would make that content the practitioner's for good.
func (l *Local) resign(ctx context.Context, device record.Author) (int, error) {
	// The device's records are hidden from l.store now: read beneath it.
	var todo []*record.Record
	err := eachOwnRecord(ctx, unwrapStore(l.store), l.author, l.communities.has, func(rec *record.Record) {
		if rec.Signer == device && !mentorship.RootOnly(rec.Kind) {
			todo = append(todo, rec)
		}
	})
	if err != nil {
		return 0, err
	}
	now := time.Now()
	n := 0
	for _, rec := range todo {
		if rec.Expired(now) {
			continue
		}
		b := rec.Body
		b.Signer, b.Timestamp = record.Author{}, record.Now()
		if _, err := l.writeBody(ctx, b); err != nil {
			return n, fmt.Errorf("%s %q in %s: %w", rec.Kind, rec.Key, rec.Community, err)
		}
		n++
	}
	return n, nil
}

// copyDeviceRecords writes, in a community just joined, the latest state of
// each of the caller's devices, so the community's nodes know them (and
// their revocations) too. Only the primary can.
func (l *Local) copyDeviceRecords(ctx context.Context, community string) error {
	if l.isDevice() || l.dev == nil {
		return nil
	}
	devs, err := l.deviceViews(ctx, l.author)
	if err != nil {
		return err
	}
	for _, dv := range devs {
		if slices.Contains(dv.Communities, community) {
			continue
		}
		d := mentorship.Device{Name: dv.Name, State: mentorship.DeviceLinked, LinkedAt: uint64(dv.LinkedAt.UnixMilli())}
		if dv.State == api.DeviceRevoked {
			d.State = mentorship.DeviceRevoked
			d.RevokedAt = uint64(time.Now().UnixMilli())
			if dv.RevokedAt != nil {
				d.RevokedAt = uint64(dv.RevokedAt.UnixMilli())
			}
		}
		if err := l.putDeviceRecord(ctx, community, mustAuthor(dv.DeviceID), d); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}
