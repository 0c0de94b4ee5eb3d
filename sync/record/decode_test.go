package record_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/mentormesh/mentormesh/internal/pbwire"
	"github.com/mentormesh/mentormesh/sync/record"
)

func TestDecodeErrors(t *testing.T) {
	key := testKey(1)
	sig := bytes.Repeat([]byte{0x5a}, 64) // Decode does not verify
	good := goodWireBody(key)
	ts := good.timestamp
	with := func(edit func(w *wireBody)) []byte {
		w := good
		edit(&w)
		return envelope(w.encode(), sig)
	}
	var oversize []byte
	{
		// A record that is well formed in every way but its size: it must
		// be refused for size, before anything is decoded.
		w := good
		w.payload = make([]byte, record.MaxRecordSize)
		oversize = envelope(w.encode(), sig)
	}

	tests := []struct {
		name string
		raw  []byte
		want []error // all must match
	}{
		{"empty", nil, []error{record.ErrMalformed}},
		{"garbage", []byte("hello, world"), []error{record.ErrMalformed}},
		{"oversize garbage", bytes.Repeat([]byte{0xff}, record.MaxRecordSize+1), []error{record.ErrTooLarge}},
		{"oversize well-formed", oversize, []error{record.ErrTooLarge}},

		// Envelope.
		{"no body", envelope(nil, sig), []error{record.ErrMalformed}},
		{"no signature", envelope(good.encode(), nil), []error{record.ErrMalformed}},
		{"signature 63 bytes", envelope(good.encode(), sig[:63]), []error{record.ErrMalformed}},
		{"signature 65 bytes", envelope(good.encode(), append(bytes.Clone(sig), 0)), []error{record.ErrMalformed}},
		{"unknown envelope field", func() []byte {
			var e pbwire.Encoder
			e.BytesField(wSignedBody, good.encode())
			e.BytesField(wSignedSignature, sig)
			e.Uint(4, 1)
			return e.Bytes()
		}(), []error{record.ErrMalformed, pbwire.ErrUnknownField}},
		{"envelope fields swapped", func() []byte {
			var e pbwire.Encoder
			e.BytesField(wSignedSignature, sig)
			e.BytesField(wSignedBody, good.encode())
			return e.Bytes()
		}(), []error{record.ErrMalformed, pbwire.ErrOrder}},
		{"body as varint", func() []byte {
			var e pbwire.Encoder
			e.Uint(wSignedBody, 1)
			e.BytesField(wSignedSignature, sig)
			return e.Bytes()
		}(), []error{record.ErrMalformed, pbwire.ErrWireType}},
		{"envelope non-minimal length", append([]byte{0x0a, 0x81, 0x00, 0x08}, envelope(nil, sig)...), []error{record.ErrMalformed, pbwire.ErrNonCanonical}},

		// Body encoding.
		{"format 0 (absent)", with(func(w *wireBody) { w.format = 0 }), []error{record.ErrMalformed}},
		{"format 2", with(func(w *wireBody) { w.format = 2 }), []error{record.ErrMalformed}},
		{"unknown body field", with(func(w *wireBody) { w.extra = func(e *pbwire.Encoder) { e.String(12, "x") } }), []error{record.ErrMalformed, pbwire.ErrUnknownField}},
		{"body field out of order", with(func(w *wireBody) { w.extra = func(e *pbwire.Encoder) { e.Uint(wFormat, 1) } }), []error{record.ErrMalformed, pbwire.ErrOrder}},
		{"community as varint", func() []byte {
			var e pbwire.Encoder
			e.Uint(wFormat, 1)
			e.Uint(wCommunity, 7)
			e.BytesField(wAuthor, good.author)
			e.String(wKind, good.kind)
			e.Uint(wVersion, good.version)
			e.Uint(wTimestamp, good.timestamp)
			return envelope(e.Bytes(), sig)
		}(), []error{record.ErrMalformed, pbwire.ErrWireType}},
		{"deleted = 2", with(func(w *wireBody) { w.deleted, w.payload = 2, nil }), []error{record.ErrMalformed, pbwire.ErrNonCanonical}},
		{"community not UTF-8", with(func(w *wireBody) { w.community = "go\xff" }), []error{record.ErrMalformed, pbwire.ErrInvalidUTF8}},

		// Address grammar.
		{"no community", with(func(w *wireBody) { w.community = "" }), []error{record.ErrMalformed}},
		{"community uppercase", with(func(w *wireBody) { w.community = "Gophers" }), []error{record.ErrMalformed}},
		{"community too long", with(func(w *wireBody) { w.community = strings.Repeat("a", 65) }), []error{record.ErrMalformed}},
		{"community leading dash", with(func(w *wireBody) { w.community = "-go" }), []error{record.ErrMalformed}},
		{"no kind", with(func(w *wireBody) { w.kind = "" }), []error{record.ErrMalformed}},
		{"kind leading digit", with(func(w *wireBody) { w.kind = "1profile" }), []error{record.ErrMalformed}},
		{"kind too long", with(func(w *wireBody) { w.kind = strings.Repeat("k", 33) }), []error{record.ErrMalformed}},
		{"key too long", with(func(w *wireBody) { w.key = strings.Repeat("k", 257) }), []error{record.ErrMalformed}},
		{"key with control character", with(func(w *wireBody) { w.key = "a\tb" }), []error{record.ErrMalformed}},
		{"no author", with(func(w *wireBody) { w.author = nil }), []error{record.ErrMalformed}},
		{"author 31 bytes", with(func(w *wireBody) { w.author = w.author[:31] }), []error{record.ErrMalformed}},
		{"author 33 bytes", with(func(w *wireBody) { w.author = append(bytes.Clone(w.author), 1) }), []error{record.ErrMalformed}},
		{"author all zero", with(func(w *wireBody) { w.author = make([]byte, 32) }), []error{record.ErrMalformed}},

		// Version, time, shape.
		{"version 0", with(func(w *wireBody) { w.version = 0 }), []error{record.ErrVersion}},
		{"version above cap", with(func(w *wireBody) { w.version = ts + 1 }), []error{record.ErrVersion}},
		{"version max uint64", with(func(w *wireBody) { w.version = 1<<64 - 1 }), []error{record.ErrVersion}},
		{"no timestamp", with(func(w *wireBody) { w.timestamp = 0 }), []error{record.ErrMalformed}},
		{"timestamp after year 9999", with(func(w *wireBody) { w.timestamp = 253402300800000 }), []error{record.ErrMalformed}},
		{"timestamp max uint64", with(func(w *wireBody) { w.timestamp = 1<<64 - 1 }), []error{record.ErrMalformed}},
		{"tombstone with payload", with(func(w *wireBody) { w.deleted = 1 }), []error{record.ErrMalformed}},
		{"expiry equals timestamp", with(func(w *wireBody) { w.expires = ts }), []error{record.ErrMalformed}},
		{"expiry before timestamp", with(func(w *wireBody) { w.expires = ts - 1 }), []error{record.ErrMalformed}},
		{"expiry after year 9999", with(func(w *wireBody) { w.expires = 1<<64 - 1 }), []error{record.ErrMalformed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := record.Decode(tt.raw)
			if err == nil {
				t.Fatalf("Decode(%s) = %+v, nil; want error %v", tt.name, r.Body, tt.want)
			}
			if r != nil {
				t.Errorf("Decode(%s) record = %+v, want nil with an error", tt.name, r)
			}
			for _, want := range tt.want {
				if !errors.Is(err, want) {
					t.Errorf("Decode(%s) error = %v, want %v", tt.name, err, want)
				}
			}
		})
	}
}

func TestDecodeLimits(t *testing.T) {
	key := testKey(1)
	sig := bytes.Repeat([]byte{0x5a}, 64)
	good := goodWireBody(key)
	tests := []struct {
		name string
		edit func(w *wireBody)
	}{
		{"as is", func(*wireBody) {}},
		{"version at cap", func(w *wireBody) { w.version = w.timestamp }},
		{"community 64 characters", func(w *wireBody) { w.community = strings.Repeat("a", 64) }},
		{"kind 32 characters", func(w *wireBody) { w.kind = strings.Repeat("k", 32) }},
		{"key 256 bytes", func(w *wireBody) { w.key = strings.Repeat("k", 256) }},
		{"expiry 1 ms after timestamp", func(w *wireBody) { w.expires = w.timestamp + 1 }},
		{"tombstone", func(w *wireBody) { w.deleted, w.payload = 1, nil }},
		{"timestamp 1 ms after the epoch", func(w *wireBody) { w.timestamp, w.version = 1, 1 }},
		{"timestamp in year 9999", func(w *wireBody) { w.timestamp = 253402300799999 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := good
			tt.edit(&w)
			if _, err := record.Decode(envelope(w.encode(), sig)); err != nil {
				t.Errorf("Decode(%s) error = %v, want nil", tt.name, err)
			}
		})
	}

	// Exactly MaxRecordSize bytes is allowed.
	w := good
	w.payload = nil
	base := len(envelope(w.encode(), sig))
	for n := 0; n < 8; n++ {
		// Payload length varints and the body length change size as the
		// payload grows, so search for the payload that lands exactly.
		w.payload = make([]byte, record.MaxRecordSize-base-n)
		raw := envelope(w.encode(), sig)
		if len(raw) != record.MaxRecordSize {
			continue
		}
		if _, err := record.Decode(raw); err != nil {
			t.Errorf("Decode(%d bytes) error = %v, want nil", len(raw), err)
		}
		if _, err := record.Decode(append(raw, 0)); !errors.Is(err, record.ErrTooLarge) {
			t.Errorf("Decode(%d bytes) error = %v, want %v", len(raw)+1, err, record.ErrTooLarge)
		}
		return
	}
	t.Fatalf("found no payload size giving a %d-byte record", record.MaxRecordSize)
}

func TestDecodeAliasesRaw(t *testing.T) {
	key := testKey(1)
	r := mustSign(t, key, testBody(key))
	got, err := record.Decode(r.Raw)
	if err != nil {
		t.Fatalf("Decode error = %v", err)
	}
	// BodyBytes and Signature are views of Raw, not copies: that is what
	// lets a node store and forward the exact bytes it verified.
	if !bytes.Contains(got.Raw, got.BodyBytes) || !bytes.HasSuffix(got.Raw, got.Signature) {
		t.Errorf("Decode: BodyBytes/Signature are not inside Raw")
	}
	if &got.Raw[len(got.Raw)-1] != &got.Signature[len(got.Signature)-1] {
		t.Errorf("Decode: Signature does not alias Raw")
	}
}
