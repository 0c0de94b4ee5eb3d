package store

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/mentormesh/mentormesh/sync/record"
)

var quiet = slog.New(slog.DiscardHandler)

func openTest(t *testing.T, dir string, opts BadgerOptions) *Badger {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	b, err := OpenBadger(dir, opts)
	if err != nil {
		t.Fatalf("OpenBadger: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func testRecord(t *testing.T, b record.Body) *record.Record {
	t.Helper()
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	copy(b.Author[:], key.Public().(ed25519.PublicKey))
	if b.Community == "" {
		b.Community = "sociocracy"
	}
	if b.Kind == "" {
		b.Kind = "profile"
	}
	if b.Version == 0 {
		b.Version = 1
	}
	b.Timestamp = record.Now()
	rec, err := record.Sign(key, b)
	if err != nil {
		t.Fatalf("record.Sign: %v", err)
	}
	return rec
}

func TestCurrentKeyRoundTrip(t *testing.T) {
	author := record.Author{1, 2, 3}
	tests := []record.Addr{
		{Community: "sociocracy", Kind: "profile", Author: author},
		{Community: "a", Kind: "bcd", Author: author, Key: "k"},
		{Community: "ab", Kind: "cd", Author: author, Key: "k"},
		{Community: strings.Repeat("c", record.MaxCommunityLen), Kind: strings.Repeat("k", record.MaxKindLen), Author: author, Key: strings.Repeat("é", 128)},
	}
	for _, a := range tests {
		k := currentKey(a)
		got, err := parseCurrentKey(k)
		if err != nil || got != a {
			t.Errorf("parseCurrentKey(currentKey(%+v)) = %+v, %v", a, got, err)
		}
		p, err := queryPrefix(Query{Community: a.Community, Kind: a.Kind, Author: &a.Author})
		if err != nil || !bytes.HasPrefix(k, p) {
			t.Errorf("queryPrefix(%+v) = %q, %v; not a prefix of its key %q", a, p, err, k)
		}
	}
	if bytes.HasPrefix(currentKey(tests[2]), currentKey(tests[1])[:4]) {
		t.Errorf("key of community %q starts with the prefix of community %q", tests[2].Community, tests[1].Community)
	}
}

func TestParseCurrentKeyCorrupt(t *testing.T) {
	tests := []struct {
		name string
		key  []byte
	}{
		{"wrong namespace", []byte("i/xxxx")},
		{"empty", []byte("c/")},
		{"length past end", []byte("c/\x09abc")},
		{"bad varint", []byte("c/\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff")},
		{"short author", append([]byte("c/\x01a\x01b"), make([]byte, 31)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseCurrentKey(tt.key); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("parseCurrentKey(%q) err = %v, want ErrCorrupt", tt.key, err)
			}
		})
	}
}

func TestSchema(t *testing.T) {
	tests := []struct {
		name    string
		value   []byte
		wantErr error
	}{
		{"current", []byte{0, 0, 0, 0, 0, 0, 0, 1}, nil},
		{"newer", []byte{0, 0, 0, 0, 0, 0, 0, 2}, ErrNewerSchema},
		{"zero", []byte{0, 0, 0, 0, 0, 0, 0, 0}, ErrCorrupt},
		{"truncated", []byte{1}, ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			b, err := OpenBadger(dir, BadgerOptions{Logger: quiet})
			if err != nil {
				t.Fatalf("OpenBadger: %v", err)
			}
			if err := b.db.Update(func(txn *badger.Txn) error { return txn.Set(schemaKey, tt.value) }); err != nil {
				t.Fatalf("writing schema: %v", err)
			}
			if err := b.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			b, err = OpenBadger(dir, BadgerOptions{Logger: quiet})
			if err == nil {
				_ = b.Close()
			}
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("OpenBadger with schema %x: err = %v, want %v", tt.value, err, tt.wantErr)
			}
			if errors.Is(err, ErrNewerSchema) && !strings.Contains(err.Error(), "upgrade mentormesh") {
				t.Errorf("error %q does not tell the user what to do", err)
			}
		})
	}
}

func TestOpenLocked(t *testing.T) {
	dir := t.TempDir()
	openTest(t, dir, BadgerOptions{})
	b, err := OpenBadger(dir, BadgerOptions{Logger: quiet})
	if err == nil {
		_ = b.Close()
		t.Fatalf("second OpenBadger of the same directory succeeded, want an error")
	}
	if !strings.Contains(err.Error(), "another process") {
		t.Fatalf("second OpenBadger: err = %v, want it to name the cause", err)
	}
}

// TestOutboxDeletesStale checks that Outbox deletes the entries of
// superseded records, so the outbox does not grow with every local edit.
func TestOutboxDeletesStale(t *testing.T) {
	ctx := context.Background()
	b := openTest(t, t.TempDir(), BadgerOptions{})
	v1 := testRecord(t, record.Body{Version: 1, Payload: []byte("one")})
	v2 := testRecord(t, record.Body{Version: 2, Payload: []byte("two")})
	for _, step := range []struct {
		rec   *record.Record
		local bool
	}{{v1, true}, {v2, false}} {
		if _, err := b.Apply(ctx, step.rec, ApplyOptions{Local: step.local}); err != nil {
			t.Fatalf("Apply: %v", err)
		}
	}
	present := func() bool {
		t.Helper()
		err := b.db.View(func(txn *badger.Txn) error {
			_, err := txn.Get(outboxKey(v1.ID))
			return err
		})
		if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
			t.Fatalf("reading outbox key: %v", err)
		}
		return err == nil
	}
	if !present() {
		t.Fatalf("outbox entry of the superseded record is gone before Outbox ran; the test no longer tests anything")
	}
	if err := b.Outbox(ctx, func(r *record.Record) error {
		t.Errorf("Outbox yielded %s, want nothing", r.ID)
		return nil
	}); err != nil {
		t.Fatalf("Outbox: %v", err)
	}
	if present() {
		t.Fatalf("outbox entry of the superseded record still stored after Outbox")
	}
}
