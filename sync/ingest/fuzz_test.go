package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/mentormesh/mentormesh/sync/ingest"
	"github.com/mentormesh/mentormesh/sync/record"
)

func FuzzPipeline(f *testing.F) {
	alice, bob := testKey(1), testKey(2)
	v1 := sign(f, alice, profileBody(f, alice, 1))
	unknown := profileBody(f, bob, 5)
	unknown.Kind, unknown.Key, unknown.Payload = "goal", "g", []byte("x")
	tomb := profileBody(f, bob, 2)
	tomb.Deleted, tomb.Payload = true, nil
	for _, r := range []*record.Record{v1, sign(f, bob, unknown), sign(f, bob, tomb)} {
		f.Add(r.Raw)
		f.Add(brokenSignature(r))
	}
	f.Add(signedBy(bob, v1))
	f.Add([]byte{})
	f.Add([]byte("junk"))

	f.Fuzz(func(t *testing.T, raw []byte) {
		s := newFakeStore()
		// A small seen cache: the default allocates a large map per input.
		p := newPipeline(s, func(o *ingest.Options) { o.SeenSize = 8 })
		in := bytes.Clone(raw)
		out := p.Ingest(context.Background(), in, ingest.Source{Community: "gophers"})
		if !bytes.Equal(in, raw) {
			t.Fatalf("Ingest modified its input")
		}
		if out.Verdict != ingest.Accept && out.Err == nil {
			t.Fatalf("Ingest(%x) = %v with no error, want an explanation", raw, out.Verdict)
		}
		if len(raw) > record.MaxRecordSize && (out.Verdict != ingest.Reject || !errors.Is(out.Err, record.ErrTooLarge)) {
			t.Fatalf("Ingest(%d bytes) = %v %v, want reject %v", len(raw), out.Verdict, out.Err, record.ErrTooLarge)
		}
		_, applies, applied := s.counts()
		if out.Verdict != ingest.Accept {
			if applied != 0 {
				t.Fatalf("Ingest(%x) = %v %v but the store changed", raw, out.Verdict, out.Err)
			}
			return
		}
		// Accept only for a record that decodes, verifies and was stored.
		if out.Err != nil || out.Record == nil {
			t.Fatalf("Ingest(%x) = accept with error %v, record %v", raw, out.Err, out.Record)
		}
		r, err := record.Decode(raw)
		if err != nil {
			t.Fatalf("Ingest(%x) accepted bytes that do not decode: %v", raw, err)
		}
		if err := r.Verify(); err != nil {
			t.Fatalf("Ingest(%x) accepted a record that does not verify: %v", raw, err)
		}
		if err := r.CheckTime(now); err != nil || r.Community != "gophers" {
			t.Fatalf("Ingest(%x) accepted a record of %q at %v: %v", raw, r.Community, r.Timestamp, err)
		}
		if got := s.current(r.Addr()); applies != 1 || applied != 1 || got == nil || got.ID != r.ID {
			t.Fatalf("Ingest(%x) accepted but the store holds %v after %d applies", raw, got, applies)
		}
		// The same bytes again are a duplicate.
		if again := p.Ingest(context.Background(), raw, ingest.Source{}); again.Verdict != ingest.Ignore || !errors.Is(again.Err, ingest.ErrDuplicate) {
			t.Fatalf("Ingest(%x) again = %v %v, want ignore %v", raw, again.Verdict, again.Err, ingest.ErrDuplicate)
		}
	})
}
