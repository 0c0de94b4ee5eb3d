package record_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/mentormesh/mentormesh/sync/record"
)

// bodyEqual compares bodies, times by instant (decoded times are local).
func bodyEqual(a, b record.Body) bool {
	return a.Community == b.Community && a.Author == b.Author && a.Kind == b.Kind && a.Key == b.Key &&
		a.Version == b.Version && a.Timestamp.Equal(b.Timestamp) && a.Deleted == b.Deleted &&
		a.Expires.Equal(b.Expires) && bytes.Equal(a.Payload, b.Payload)
}

func TestSignDecodeRoundTrip(t *testing.T) {
	key := testKey(1)
	full := testBody(key)
	minimal := record.Body{Community: "a", Author: authorOf(key), Kind: "p", Version: 1, Timestamp: t0}
	tombstone := testBody(key)
	tombstone.Deleted, tombstone.Payload, tombstone.Expires = true, nil, time.Time{}
	keyed := testBody(key)
	keyed.Kind, keyed.Key = "resource", "intro to Go — part 1/2"
	maxVersion := testBody(key)
	maxVersion.Version = record.MaxVersionAt(t0)
	bigPayload := testBody(key)
	bigPayload.Payload = bytes.Repeat([]byte{0xab}, 30<<10)

	tests := []struct {
		name string
		body record.Body
	}{
		{"all fields", full},
		{"minimal", minimal},
		{"tombstone", tombstone},
		{"key with unicode", keyed},
		{"version at its cap", maxVersion},
		{"30 KiB payload", bigPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustSign(t, key, tt.body)
			if !bodyEqual(r.Body, tt.body) {
				t.Errorf("Sign(%+v).Body = %+v, want the input", tt.body, r.Body)
			}
			if err := r.Verify(); err != nil {
				t.Errorf("Sign(...).Verify() = %v, want nil", err)
			}
			if want := record.ID(sha256.Sum256(r.Raw)); r.ID != want {
				t.Errorf("Sign(...).ID = %s, want sha256(Raw) = %s", r.ID, want)
			}
			if len(r.Raw) > record.MaxRecordSize {
				t.Errorf("len(Sign(...).Raw) = %d, want <= %d", len(r.Raw), record.MaxRecordSize)
			}
			got, err := record.Decode(bytes.Clone(r.Raw))
			if err != nil {
				t.Fatalf("Decode(Sign(...).Raw) error = %v", err)
			}
			if !bodyEqual(got.Body, tt.body) || got.ID != r.ID || !bytes.Equal(got.Signature, r.Signature) ||
				!bytes.Equal(got.BodyBytes, r.BodyBytes) {
				t.Errorf("Decode(Sign(...).Raw) = %+v, want %+v", got, r)
			}
			if err := got.Verify(); err != nil {
				t.Errorf("Decode(...).Verify() = %v, want nil", err)
			}
			// Canonical: signing the decoded body again gives the same bytes
			// (Ed25519 signatures are deterministic).
			again := mustSign(t, key, got.Body)
			if !bytes.Equal(again.Raw, r.Raw) {
				t.Errorf("Sign(Decode(raw).Body).Raw = %x, want %x", again.Raw, r.Raw)
			}
		})
	}
}

func TestSignTruncatesToMilliseconds(t *testing.T) {
	key := testKey(1)
	b := testBody(key)
	b.Timestamp = t0.Add(999 * time.Microsecond)
	r := mustSign(t, key, b)
	if !r.Timestamp.Equal(t0) {
		t.Errorf("Sign(timestamp %v).Timestamp = %v, want %v", b.Timestamp, r.Timestamp, t0)
	}
}

// TestTamper flips every bit pattern in a few masks at every offset of a
// record: the result must fail to decode or fail to verify.
func TestTamper(t *testing.T) {
	key := testKey(1)
	r := mustSign(t, key, testBody(key))
	for i := range r.Raw {
		for _, mask := range []byte{0x01, 0x02, 0x80, 0xff} {
			raw := bytes.Clone(r.Raw)
			raw[i] ^= mask
			got, err := record.Decode(raw)
			if err != nil {
				continue
			}
			if err := got.Verify(); err == nil {
				t.Errorf("Decode(raw with byte %d ^ %#x).Verify() = nil, want an error (body %+v)", i, mask, got.Body)
			}
		}
	}
	for n := range len(r.Raw) {
		if _, err := record.Decode(r.Raw[:n]); err == nil {
			t.Errorf("Decode(raw[:%d]) error = nil, want an error", n)
		}
	}
	for _, suffix := range [][]byte{{0}, {0x08, 0x01}, {0x1a, 0x01, 0x00}} {
		raw := append(bytes.Clone(r.Raw), suffix...)
		if _, err := record.Decode(raw); err == nil {
			t.Errorf("Decode(raw + %x) error = nil, want an error", suffix)
		}
	}
}

func TestVerifyWrongSigner(t *testing.T) {
	alice, mallory := testKey(1), testKey(2)
	body := goodWireBody(alice).encode() // claims Alice as author
	r, err := record.Decode(signRaw(mallory, body))
	if err != nil {
		t.Fatalf("Decode(body by Alice signed by Mallory) error = %v, want nil (signature is checked by Verify)", err)
	}
	if err := r.Verify(); !errors.Is(err, record.ErrBadSignature) {
		t.Errorf("Verify() of a record signed by another key = %v, want %v", err, record.ErrBadSignature)
	}
	// The same bytes signed by the right key do verify.
	r, err = record.Decode(signRaw(alice, body))
	if err != nil {
		t.Fatalf("Decode(body signed by Alice) error = %v", err)
	}
	if err := r.Verify(); err != nil {
		t.Errorf("Verify() of a record signed by its author = %v, want nil", err)
	}
}

func TestVerifyPrefixIsSigned(t *testing.T) {
	// A signature over the bare body (no domain-separation prefix) must not
	// verify, or signatures made for other purposes could be replayed.
	key := testKey(1)
	body := goodWireBody(key).encode()
	r, err := record.Decode(envelope(body, ed25519.Sign(key, body)))
	if err != nil {
		t.Fatalf("Decode error = %v", err)
	}
	if err := r.Verify(); !errors.Is(err, record.ErrBadSignature) {
		t.Errorf("Verify() of a signature without the prefix = %v, want %v", err, record.ErrBadSignature)
	}
}

func TestSignErrors(t *testing.T) {
	key := testKey(1)
	other := testKey(2)
	tests := []struct {
		name string
		key  ed25519.PrivateKey
		edit func(b *record.Body)
		want error // nil: any error
	}{
		{"key is not the author's", other, func(*record.Body) {}, nil},
		{"nil key", nil, func(*record.Body) {}, nil},
		{"short key", key[:32], func(*record.Body) {}, nil},
		{"bad community", key, func(b *record.Body) { b.Community = "Gophers" }, record.ErrMalformed},
		{"bad kind", key, func(b *record.Body) { b.Kind = "" }, record.ErrMalformed},
		{"version 0", key, func(b *record.Body) { b.Version = 0 }, record.ErrVersion},
		{"version above cap", key, func(b *record.Body) { b.Version = record.MaxVersionAt(t0) + 1 }, record.ErrVersion},
		{"no timestamp", key, func(b *record.Body) { b.Timestamp = time.Time{} }, record.ErrMalformed},
		{"tombstone with payload", key, func(b *record.Body) { b.Deleted = true }, record.ErrMalformed},
		{"expiry at timestamp", key, func(b *record.Body) { b.Expires = b.Timestamp }, record.ErrMalformed},
		{"expiry in the same millisecond", key, func(b *record.Body) { b.Expires = b.Timestamp.Add(time.Microsecond) }, record.ErrMalformed},
		{"too large", key, func(b *record.Body) { b.Payload = make([]byte, record.MaxRecordSize) }, record.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := testBody(key)
			tt.edit(&b)
			r, err := record.Sign(tt.key, b)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("Sign(%s) = %v, %v; want error %v", tt.name, r, err, tt.want)
			}
		})
	}
}

func TestCheckTime(t *testing.T) {
	now := t0
	tests := []struct {
		name    string
		ts      time.Time
		expires time.Time
		want    error
	}{
		{"now", now, time.Time{}, nil},
		{"past", now.Add(-365 * 24 * time.Hour), time.Time{}, nil},
		{"10 min ahead, the limit", now.Add(record.MaxFutureSkew), time.Time{}, nil},
		{"1 ms inside the limit", now.Add(record.MaxFutureSkew - time.Millisecond), time.Time{}, nil},
		{"1 ms past the limit", now.Add(record.MaxFutureSkew + time.Millisecond), time.Time{}, record.ErrFuture},
		{"a day ahead", now.Add(24 * time.Hour), time.Time{}, record.ErrFuture},
		{"expires in 1 ms", now.Add(-time.Hour), now.Add(time.Millisecond), nil},
		{"expires now", now.Add(-time.Hour), now, record.ErrExpired},
		{"expired 1 ms ago", now.Add(-time.Hour), now.Add(-time.Millisecond), record.ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := record.Body{Timestamp: tt.ts, Expires: tt.expires}
			err := b.CheckTime(now)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("CheckTime(ts %v, expires %v, now %v) = %v, want %v", tt.ts, tt.expires, now, err, tt.want)
			}
		})
	}
}

func TestMetaCompare(t *testing.T) {
	lo, hi := record.ID{0x01}, record.ID{0x02}
	hiLast := record.ID{0x01, 31: 0x01}
	tests := []struct {
		name string
		a, b record.Meta
		want int
	}{
		{"higher version wins", record.Meta{Version: 2, ID: lo}, record.Meta{Version: 1, ID: hi}, 1},
		{"lower version loses", record.Meta{Version: 1, ID: hi}, record.Meta{Version: 2, ID: lo}, -1},
		{"version dominates even at max", record.Meta{Version: 1<<64 - 1}, record.Meta{Version: 1<<64 - 2, ID: record.ID{0xff}}, 1},
		{"equal version, larger ID wins", record.Meta{Version: 5, ID: hi}, record.Meta{Version: 5, ID: lo}, 1},
		{"equal version, smaller ID loses", record.Meta{Version: 5, ID: lo}, record.Meta{Version: 5, ID: hi}, -1},
		{"ID compared to the last byte", record.Meta{Version: 5, ID: hiLast}, record.Meta{Version: 5, ID: lo}, 1},
		{"equal", record.Meta{Version: 5, ID: hi}, record.Meta{Version: 5, ID: hi}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.Compare(tt.b); got != tt.want {
				t.Errorf("%+v.Compare(%+v) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			if got := tt.b.Compare(tt.a); got != -tt.want {
				t.Errorf("%+v.Compare(%+v) = %d, want %d", tt.b, tt.a, got, -tt.want)
			}
		})
	}
}

func TestMaxVersionAt(t *testing.T) {
	tests := []struct {
		ts   time.Time
		want uint64
	}{
		{t0, 1735689600000},
		{t0.Add(1500 * time.Microsecond), 1735689600001},
		{time.UnixMilli(0), 0},
		{time.UnixMilli(-5), 0},
	}
	for _, tt := range tests {
		if got := record.MaxVersionAt(tt.ts); got != tt.want {
			t.Errorf("MaxVersionAt(%v) = %d, want %d", tt.ts, got, tt.want)
		}
	}
}

func TestGrammar(t *testing.T) {
	tests := []struct {
		check func(string) error
		name  string
		in    string
		ok    bool
	}{
		{record.CheckCommunity, "community", "gophers", true},
		{record.CheckCommunity, "community", "0day.rust_go-x", true},
		{record.CheckCommunity, "community", strings.Repeat("a", record.MaxCommunityLen), true},
		{record.CheckCommunity, "community", strings.Repeat("a", record.MaxCommunityLen+1), false},
		{record.CheckCommunity, "community", "", false},
		{record.CheckCommunity, "community", "Gophers", false},
		{record.CheckCommunity, "community", "-gophers", false},
		{record.CheckCommunity, "community", ".gophers", false},
		{record.CheckCommunity, "community", "go phers", false},
		{record.CheckCommunity, "community", "go/phers", false},
		{record.CheckCommunity, "community", "gophérs", false},
		{record.CheckKind, "kind", "profile", true},
		{record.CheckKind, "kind", "goal-v2", true},
		{record.CheckKind, "kind", strings.Repeat("k", record.MaxKindLen), true},
		{record.CheckKind, "kind", strings.Repeat("k", record.MaxKindLen+1), false},
		{record.CheckKind, "kind", "", false},
		{record.CheckKind, "kind", "2fa", false},
		{record.CheckKind, "kind", "-x", false},
		{record.CheckKind, "kind", "Profile", false},
		{record.CheckKind, "kind", "pro_file", false},
		{record.CheckKind, "kind", "pro.file", false},
		{record.CheckKind, "kind", "x", true},
		{record.CheckKey, "key", "", true},
		{record.CheckKey, "key", "intro to Go — part 1/2", true},
		{record.CheckKey, "key", strings.Repeat("k", record.MaxKeyLen), true},
		{record.CheckKey, "key", strings.Repeat("é", record.MaxKeyLen/2), true},
		{record.CheckKey, "key", strings.Repeat("é", record.MaxKeyLen/2) + "k", false}, // 257 bytes
		{record.CheckKey, "key", "a\nb", false},
		{record.CheckKey, "key", "a\x00b", false},
		{record.CheckKey, "key", "a\u0085b", false}, // C1 control
		{record.CheckKey, "key", "a\x7fb", false},
		{record.CheckKey, "key", "\xff", false},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+tt.in, func(t *testing.T) {
			err := tt.check(tt.in)
			if (err == nil) != tt.ok {
				t.Errorf("Check %s(%q) = %v, want ok=%v", tt.name, tt.in, err, tt.ok)
			}
		})
	}
}

func TestAuthorPeerID(t *testing.T) {
	a := authorOf(testKey(1))
	s := a.String()
	if !strings.HasPrefix(s, "12D3KooW") {
		t.Errorf("Author.String() = %q, want an Ed25519 peer ID (12D3KooW...)", s)
	}
	got, err := record.ParseAuthor(s)
	if err != nil || got != a {
		t.Errorf("ParseAuthor(%q) = %x, %v; want %x, nil", s, got, err, a)
	}
	if _, err := record.ParseAuthor("not-a-peer-id"); err == nil {
		t.Errorf("ParseAuthor(%q) error = nil, want an error", "not-a-peer-id")
	}
}

// genBody draws a valid body by key's author.
func genBody(t *rapid.T, author record.Author) record.Body {
	ts := time.UnixMilli(rapid.Int64Range(1, 253402300799999).Draw(t, "ts"))
	b := record.Body{
		Community: rapid.StringMatching(`[a-z0-9][a-z0-9._-]{0,63}`).Draw(t, "community"),
		Author:    author,
		Kind:      rapid.StringMatching(`[a-z][a-z0-9-]{0,31}`).Draw(t, "kind"),
		Key:       rapid.StringMatching(`[^\p{Cc}]{0,20}`).Draw(t, "key"),
		Version:   rapid.Uint64Range(1, record.MaxVersionAt(ts)).Draw(t, "version"),
		Timestamp: ts,
		Deleted:   rapid.Bool().Draw(t, "deleted"),
	}
	if !b.Deleted {
		b.Payload = rapid.SliceOfN(rapid.Byte(), 0, 200).Draw(t, "payload")
	}
	if rapid.Bool().Draw(t, "expires") && ts.UnixMilli() < 253402300799999 {
		b.Expires = time.UnixMilli(rapid.Int64Range(ts.UnixMilli()+1, 253402300799999).Draw(t, "expiresAt"))
	}
	return b
}

// TestSignDecodeProperty: any valid body signs, decodes back to itself, and
// re-signs to the same bytes.
func TestSignDecodeProperty(t *testing.T) {
	key := testKey(7)
	rapid.Check(t, func(t *rapid.T) {
		b := genBody(t, authorOf(key))
		r, err := record.Sign(key, b)
		if err != nil {
			t.Fatalf("Sign(%+v) error = %v", b, err)
		}
		got, err := record.Decode(r.Raw)
		if err != nil {
			t.Fatalf("Decode(Sign(%+v).Raw) error = %v", b, err)
		}
		if !bodyEqual(got.Body, b) {
			t.Fatalf("Decode(Sign(b).Raw).Body = %+v, want %+v", got.Body, b)
		}
		if err := got.Verify(); err != nil {
			t.Fatalf("Verify() = %v, want nil", err)
		}
		again, err := record.Sign(key, got.Body)
		if err != nil || !bytes.Equal(again.Raw, r.Raw) {
			t.Fatalf("Sign(decoded body) = %x, %v; want %x", again.Raw, err, r.Raw)
		}
	})
}
