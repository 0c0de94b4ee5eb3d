package storetest

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/record"
)

func testOutbox(t *testing.T, open Opener) {
	type step struct {
		rec    int  // index into recs
		local  bool // apply as a local write
		remove bool // instead of applying, remove recs[rec] from the outbox
	}
	tests := []struct {
		name  string
		steps []step
		want  []int // indexes into recs
	}{
		{"local write appears", []step{{rec: 0, local: true}}, []int{0}},
		{"remote write does not", []step{{rec: 0}}, nil},
		{"superseded by a remote write", []step{{rec: 0, local: true}, {rec: 1}}, nil},
		{"superseded by a local write", []step{{rec: 0, local: true}, {rec: 1, local: true}}, []int{1}},
		{"older local write is a no-op", []step{{rec: 1}, {rec: 0, local: true}}, nil},
		{"other keys stay", []step{{rec: 0, local: true}, {rec: 2, local: true}, {rec: 1}}, []int{2}},
		{"removed", []step{{rec: 0, local: true}, {rec: 2, local: true}, {rec: 0, remove: true}}, []int{2}},
		{"removing an unknown ID", []step{{rec: 2, local: true}, {rec: 0, remove: true}}, []int{2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t)
			recs := []*record.Record{
				alice.Sign(t, record.Body{Key: "a", Version: 1, Payload: []byte("one")}),
				alice.Sign(t, record.Body{Key: "a", Version: 2, Payload: []byte("two")}),
				alice.Sign(t, record.Body{Key: "b", Version: 1, Payload: []byte("other")}),
			}
			for _, st := range tt.steps {
				if st.remove {
					if err := s.RemoveFromOutbox(ctx, recs[st.rec].ID); err != nil {
						t.Fatalf("RemoveFromOutbox: %v", err)
					}
					continue
				}
				apply(t, s, recs[st.rec], st.local)
			}
			var want []*record.Record
			for _, i := range tt.want {
				want = append(want, recs[i])
			}
			// Twice: the first call may clean up stale entries.
			for range 2 {
				if got := outbox(t, s); !slices.Equal(got, idsOf(want...)) {
					t.Fatalf("Outbox = %v, want %v", got, idsOf(want...))
				}
			}
			err := s.Outbox(ctx, func(r *record.Record) error {
				if i := slices.IndexFunc(want, func(w *record.Record) bool { return w.ID == r.ID }); i < 0 || !bytes.Equal(want[i].Raw, r.Raw) {
					t.Errorf("Outbox yielded %s with different bytes", r.ID)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("Outbox: %v", err)
			}
		})
	}
}

func testOutboxStops(t *testing.T, open Opener) {
	s := open(t)
	for _, key := range []string{"a", "b", "c"} {
		apply(t, s, alice.Sign(t, record.Body{Key: key}), true)
	}
	errStop := errors.New("stop")
	calls := 0
	err := s.Outbox(context.Background(), func(*record.Record) error {
		calls++
		return errStop
	})
	if !errors.Is(err, errStop) || calls != 1 {
		t.Fatalf("Outbox with failing fn = %v after %d calls, want errStop after 1", err, calls)
	}
	ctx, cancel := context.WithCancel(context.Background())
	calls = 0
	err = s.Outbox(ctx, func(*record.Record) error {
		calls++
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Fatalf("Outbox cancelled in fn = %v after %d calls, want context.Canceled after 1", err, calls)
	}
}

func testPeers(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	at := func(h int) time.Time { return time.Date(2026, 3, 1, h, 0, 0, 0, time.UTC) }
	steps := []struct {
		put  store.PeerInfo
		want []string // peer IDs, most recent first
	}{
		{store.PeerInfo{ID: "p1", Addrs: []string{"/ip4/10.0.0.1/tcp/4001"}, LastSeen: at(10)}, []string{"p1"}},
		{store.PeerInfo{ID: "p2", Addrs: []string{"/ip4/10.0.0.2/tcp/4001"}, LastSeen: at(11)}, []string{"p2", "p1"}},
		{store.PeerInfo{ID: "p3", LastSeen: at(9)}, []string{"p2", "p1", "p3"}},
		{store.PeerInfo{ID: "p1", Addrs: []string{"/ip4/10.0.0.9/udp/4001/quic-v1"}, LastSeen: at(12)}, []string{"p1", "p2", "p3"}},
	}
	for i, st := range steps {
		if err := s.PutPeer(ctx, st.put); err != nil {
			t.Fatalf("step %d: PutPeer(%+v): %v", i, st.put, err)
		}
		peers, err := s.Peers(ctx)
		if err != nil {
			t.Fatalf("step %d: Peers: %v", i, err)
		}
		var ids []string
		for _, p := range peers {
			ids = append(ids, p.ID)
		}
		if !slices.Equal(ids, st.want) {
			t.Fatalf("step %d: Peers = %v, want %v", i, ids, st.want)
		}
		got := peers[slices.Index(ids, st.put.ID)]
		if !got.LastSeen.Equal(st.put.LastSeen) || !slices.Equal(got.Addrs, st.put.Addrs) {
			t.Fatalf("step %d: Peers()[%s] = %+v, want %+v", i, st.put.ID, got, st.put)
		}
	}
	if err := s.PutPeer(ctx, store.PeerInfo{LastSeen: at(13)}); err == nil {
		t.Fatalf("PutPeer without an ID = nil error, want an error")
	}
}
