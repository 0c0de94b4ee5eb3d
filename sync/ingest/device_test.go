package ingest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/sync/ingest"
	"github.com/mentormesh/mentormesh/sync/record"
)

func TestDeviceSignedRecords(t *testing.T) {
	root, dev := testKey(1), testKey(2)
	author, device := authorOf(root), authorOf(dev)
	cert, err := record.IssueCert(root, device, now.Add(-2*60e9))
	if err != nil {
		t.Fatal(err)
	}
	byDevice := func(b record.Body) *record.Record {
		t.Helper()
		r, err := record.SignAsDevice(dev, cert, b)
		if err != nil {
			t.Fatalf("SignAsDevice: %v", err)
		}
		return r
	}
	profile := byDevice(profileBody(t, root, 1))
	devPayload, err := mentorship.Device{Name: "laptop", State: mentorship.DeviceLinked, LinkedAt: 1}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	devRec := profileBody(t, root, 1)
	devRec.Kind, devRec.Key, devRec.Payload = mentorship.KindDevice, mentorship.DeviceKey(device), devPayload
	deviceRecord := byDevice(devRec)
	rootDeviceRecord := sign(t, root, devRec)

	revoked := func(a, d record.Author) bool { return a == author && d == device }
	tests := []struct {
		name    string
		raw     []byte
		revoked func(record.Author, record.Author) bool
		want    ingest.Verdict
		wantErr error
	}{
		{"device record counts as its author's", profile.Raw, nil, ingest.Accept, nil},
		{"revoked device", profile.Raw, revoked, ingest.Ignore, ingest.ErrRevoked},
		{"device signs a device record", deviceRecord.Raw, nil, ingest.Reject, ingest.ErrRootOnly},
		{"root signs a device record", rootDeviceRecord.Raw, revoked, ingest.Accept, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFakeStore()
			p := newPipeline(s, func(o *ingest.Options) {
				o.RootOnly = func(kind string) bool { return kind == mentorship.KindDevice }
				o.DeviceRevoked = tt.revoked
			})
			out := p.Ingest(context.Background(), tt.raw, ingest.Source{Community: "gophers", Live: true})
			if out.Verdict != tt.want || !errors.Is(out.Err, tt.wantErr) {
				t.Fatalf("Ingest(%s) = %v (%v), want %v (%v)", tt.name, out.Verdict, out.Err, tt.want, tt.wantErr)
			}
			_, _, applied := s.counts()
			if (applied == 1) != (tt.want == ingest.Accept) {
				t.Fatalf("Ingest(%s) stored %d records, verdict %v", tt.name, applied, out.Verdict)
			}
			if tt.want == ingest.Accept && s.current(out.Record.Addr()).Author != author {
				t.Fatalf("stored record's author is not %s", author)
			}
		})
	}

	// Blocking the practitioner blocks its devices: their records carry
	// its author key.
	blocked := newPipeline(newFakeStore(), func(o *ingest.Options) { o.Blocked = func(a record.Author) bool { return a == author } })
	if out := blocked.Ingest(context.Background(), profile.Raw, ingest.Source{}); out.Verdict != ingest.Ignore || !errors.Is(out.Err, ingest.ErrBlocked) {
		t.Fatalf("Ingest(device record of a blocked author) = %v (%v), want ignore (%v)", out.Verdict, out.Err, ingest.ErrBlocked)
	}

	// A device record with a certificate by another key fails the
	// signature step: rejected and not stored.
	other := testKey(3)
	forged, err := record.IssueCert(other, device, now)
	if err != nil {
		t.Fatal(err)
	}
	raw := append([]byte(nil), profile.Raw...)
	copy(raw[len(raw)-record.CertSize:], forged.Bytes())
	s := newFakeStore()
	out := newPipeline(s, nil).Ingest(context.Background(), raw, ingest.Source{})
	if out.Verdict != ingest.Reject || !errors.Is(out.Err, record.ErrBadCert) {
		t.Fatalf("Ingest(forged certificate) = %v (%v), want reject (%v)", out.Verdict, out.Err, record.ErrBadCert)
	}
}
