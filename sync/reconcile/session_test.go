package reconcile_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/sync/ingest"
	"github.com/mentormesh/mentormesh/sync/reconcile"
	"github.com/mentormesh/mentormesh/sync/record"
)

// memStore is a minimal store for session tests: current records by
// address, satisfying both ingest.Store and reconcile.Store.
type memStore struct {
	mu   sync.Mutex
	cur  map[record.Addr]*record.Record
	byID map[record.ID]*record.Record
}

func newMemStore() *memStore {
	return &memStore{cur: map[record.Addr]*record.Record{}, byID: map[record.ID]*record.Record{}}
}

func (m *memStore) CurrentMeta(_ context.Context, a record.Addr) (record.Meta, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.cur[a]; ok {
		return r.Meta(), true, nil
	}
	return record.Meta{}, false, nil
}

func (m *memStore) ApplyRemote(_ context.Context, rec *record.Record) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.cur[rec.Addr()]; ok {
		if old.Meta().Compare(rec.Meta()) >= 0 {
			return false, nil
		}
		delete(m.byID, old.ID)
	}
	m.cur[rec.Addr()] = rec
	m.byID[rec.ID] = rec
	return true, nil
}

func (m *memStore) Records(_ context.Context, ids []record.ID) ([]*record.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*record.Record
	for _, id := range ids {
		if r, ok := m.byID[id]; ok {
			out = append(out, r)
		}
	}
	return out, nil
}

type memSnap struct{ items []reconcile.Item }

func (m *memStore) Snapshot(context.Context) (reconcile.Snapshot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var items []reconcile.Item
	for _, r := range m.byID {
		items = append(items, reconcile.Item{Timestamp: uint64(r.Timestamp.UnixMilli()), ID: r.ID})
	}
	slices.SortFunc(items, reconcile.Item.Compare)
	return memSnap{items}, nil
}

func (s memSnap) Set(reconcile.Scope) reconcile.Set { return reconcile.SliceSet(s.items) }
func (memSnap) Close()                              {}

func (m *memStore) digest() [32]byte {
	snap, _ := m.Snapshot(context.Background())
	h := sha256.New()
	for _, it := range snap.(memSnap).items {
		h.Write(it.ID[:])
	}
	var d [32]byte
	copy(d[:], h.Sum(nil))
	return d
}

func newSide() (*memStore, *reconcile.Syncer) {
	st := newMemStore()
	pipe := ingest.New(st, mentorship.Kinds{}, ingest.Options{})
	return st, reconcile.New(st, pipe, reconcile.Options{})
}

func key(i int) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte(fmt.Sprint("author ", i)))
	return ed25519.NewKeyFromSeed(seed[:])
}

func profile(t testing.TB, k ed25519.PrivateKey, version uint64, name string) *record.Record {
	t.Helper()
	var a record.Author
	copy(a[:], k.Public().(ed25519.PublicKey))
	payload, err := mentorship.Profile{Name: name}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	r, err := record.Sign(k, record.Body{Community: "sociocracy", Author: a, Kind: "profile",
		Version: version, Timestamp: time.UnixMilli(1_700_000_000_000 + int64(version)*1000), Payload: payload})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func put(t testing.TB, st *memStore, recs ...*record.Record) {
	t.Helper()
	for _, r := range recs {
		if _, err := st.ApplyRemote(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
}

// pipeSession runs initiator a against responder b over an in-memory pipe.
func pipeSession(t *testing.T, a, b *reconcile.Syncer) (reconcile.Stats, reconcile.Stats) {
	t.Helper()
	c1, c2 := net.Pipe()
	defer c1.Close()
	defer c2.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var rs reconcile.Stats
	var rerr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		rs, rerr = b.Respond(ctx, c2, nil)
	}()
	is, ierr := a.Initiate(ctx, c1, reconcile.Scope{Community: "sociocracy"}, nil)
	<-done
	if ierr != nil || rerr != nil {
		t.Fatalf("initiator: %v; responder: %v", ierr, rerr)
	}
	return is, rs
}

func TestSessionConvergesBothWays(t *testing.T) {
	sa, a := newSide()
	sb, b := newSide()
	// Shared records, records on one side only, and two versions of one
	// address (b has the newer).
	for i := range 200 {
		r := profile(t, key(i), 1, fmt.Sprint("shared ", i))
		put(t, sa, r)
		put(t, sb, r)
	}
	for i := 200; i < 260; i++ {
		put(t, sa, profile(t, key(i), 1, "only a"))
	}
	for i := 260; i < 300; i++ {
		put(t, sb, profile(t, key(i), 1, "only b"))
	}
	put(t, sb, profile(t, key(5), 2, "newer on b"))
	is, rs := pipeSession(t, a, b)
	if sa.digest() != sb.digest() {
		t.Fatalf("sets differ after the session (initiator %+v, responder %+v)", is, rs)
	}
	if n := len(sa.byID); n != 300 {
		t.Errorf("a holds %d records, want 300", n)
	}
	if got := sa.cur[profile(t, key(5), 2, "newer on b").Addr()]; got.Version != 2 {
		t.Errorf("address 5 at version %d on a, want 2", got.Version)
	}
	if is.Accepted != 41 || rs.Accepted != 60 {
		t.Errorf("accepted a=%d b=%d, want 41 and 60", is.Accepted, rs.Accepted)
	}
}

func TestIdenticalSetsCostOneRoundTrip(t *testing.T) {
	sa, a := newSide()
	sb, b := newSide()
	for i := range 2000 {
		r := profile(t, key(i), 1, "same")
		put(t, sa, r)
		put(t, sb, r)
	}
	is, _ := pipeSession(t, a, b)
	if is.RoundTrips() != 1 || is.BytesSent+is.BytesReceived > 100 {
		t.Errorf("identical sets: %d round trips, %d bytes; want 1 and under 100", is.RoundTrips(), is.BytesSent+is.BytesReceived)
	}
}

func TestForgedRecordEndsSession(t *testing.T) {
	_, a := newSide()
	sb, b := newSide()
	r := profile(t, key(1), 1, "Alice")
	forged := *r
	forged.Raw = append([]byte(nil), r.Raw...)
	forged.Raw[len(forged.Raw)-1] ^= 1 // break the signature
	forged.ID = sha256.Sum256(forged.Raw)
	sb.byID[forged.ID] = &forged
	sb.cur[forged.Addr()] = &forged
	c1, c2 := net.Pipe()
	defer c1.Close()
	defer c2.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go b.Respond(ctx, c2, nil)
	_, err := a.Initiate(ctx, c1, reconcile.Scope{Community: "sociocracy"}, nil)
	if !errors.Is(err, reconcile.ErrRejectedRecord) {
		t.Fatalf("session with a forged record: %v, want %v", err, reconcile.ErrRejectedRecord)
	}
}
