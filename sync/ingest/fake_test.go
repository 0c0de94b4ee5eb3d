package ingest_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/sync/ingest"
	"github.com/mentormesh/mentormesh/sync/record"
)

// fakeStore is an in-memory ingest.Store that counts its calls, so tests
// can see which checks the pipeline reached.
type fakeStore struct {
	mu      sync.Mutex
	cur     map[record.Addr]*record.Record
	metas   int // CurrentMeta calls
	applies int // ApplyRemote calls
	applied int // ApplyRemote calls that changed the store
	// metaErr and applyErr, if set, are returned by the methods.
	metaErr, applyErr error
}

var _ ingest.Store = (*fakeStore)(nil)

func newFakeStore() *fakeStore {
	return &fakeStore{cur: make(map[record.Addr]*record.Record)}
}

func (s *fakeStore) CurrentMeta(ctx context.Context, addr record.Addr) (record.Meta, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.metas++
	if s.metaErr != nil {
		return record.Meta{}, false, s.metaErr
	}
	r, ok := s.cur[addr]
	if !ok {
		return record.Meta{}, false, nil
	}
	return r.Meta(), true, nil
}

func (s *fakeStore) ApplyRemote(ctx context.Context, rec *record.Record) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.applies++
	if s.applyErr != nil {
		return false, s.applyErr
	}
	if cur, ok := s.cur[rec.Addr()]; ok && cur.Meta().Compare(rec.Meta()) >= 0 {
		return false, nil
	}
	s.cur[rec.Addr()] = rec
	s.applied++
	return true, nil
}

// current returns the record stored at addr, or nil.
func (s *fakeStore) current(addr record.Addr) *record.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur[addr]
}

func (s *fakeStore) counts() (metas, applies, applied int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.metas, s.applies, s.applied
}

// now is the pipeline clock in tests (2025-06-01T12:00:00Z).
var now = time.UnixMilli(1748779200000)

func newPipeline(s ingest.Store, edit func(o *ingest.Options)) *ingest.Pipeline {
	opts := ingest.Options{
		Now:           func() time.Time { return now },
		Joined:        func(c string) bool { return c == "gophers" || c == "rustaceans" },
		IsUnknownKind: func(err error) bool { return errors.Is(err, mentorship.ErrUnknownKind) },
	}
	if edit != nil {
		edit(&opts)
	}
	return ingest.New(s, mentorship.Kinds{}, opts)
}

func testKey(b byte) ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = b
	}
	return ed25519.NewKeyFromSeed(seed)
}

func authorOf(key ed25519.PrivateKey) record.Author {
	var a record.Author
	copy(a[:], key.Public().(ed25519.PublicKey))
	return a
}

func profilePayload(t testing.TB, name string) []byte {
	t.Helper()
	b, err := mentorship.Profile{Name: name, Bio: "Mentor.", Skills: []string{"go"}}.Encode()
	if err != nil {
		t.Fatalf("Encode profile: %v", err)
	}
	return b
}

// profileBody returns a valid profile body by key's author at version v.
func profileBody(t testing.TB, key ed25519.PrivateKey, v uint64) record.Body {
	return record.Body{
		Community: "gophers",
		Author:    authorOf(key),
		Kind:      mentorship.KindProfile,
		Version:   v,
		Timestamp: now.Add(-time.Minute),
		Payload:   profilePayload(t, "Ada"),
	}
}

func sign(t testing.TB, key ed25519.PrivateKey, b record.Body) *record.Record {
	t.Helper()
	r, err := record.Sign(key, b)
	if err != nil {
		t.Fatalf("Sign(%+v) error = %v", b, err)
	}
	return r
}
