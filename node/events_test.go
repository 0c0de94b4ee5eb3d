package node

import (
	"context"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/node/api"
)

// nextEvent waits for an event matching ok on ch, failing after timeout or
// if the stream ends.
func nextEvent(t *testing.T, ch <-chan api.Event, timeout time.Duration, what string, ok func(api.Event) bool) api.Event {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case e, open := <-ch:
			if !open {
				t.Fatalf("event stream ended while waiting for %s", what)
			}
			if ok(e) {
				return e
			}
		case <-deadline:
			t.Fatalf("no %s event within %s", what, timeout)
		}
	}
}

// TestEventStream: the API's event stream (through the HTTP client, as the
// page uses it) reports local writes, peers connecting, records arriving
// from a peer and catch-up sessions, and ends when the node stops.
func TestEventStream(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, err := Start(Options{DataDir: t.TempDir(), Listen: []string{"/ip4/127.0.0.1/tcp/0"}, NoMDNS: true, APIAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	token, err := LoadToken(a.Paths())
	if err != nil {
		t.Fatal(err)
	}
	events, err := api.NewClient(a.APIAddr(), token).Subscribe(ctx)
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}

	if _, err := a.Local().SetProfile(ctx, api.ProfileInput{Name: strp("Ada")}); err != nil {
		t.Fatal(err)
	}
	e := nextEvent(t, events, 10*time.Second, "local record", func(e api.Event) bool { return e.Type == api.EventRecord })
	if r := e.Record; r.Kind != "profile" || r.Author != a.PeerID() || !r.Local || r.Version != 1 {
		t.Errorf("local write event: %+v", r)
	}

	b := startTestNode(t, a.Addrs()...)
	nextEvent(t, events, 10*time.Second, "peer connected", func(e api.Event) bool {
		return e.Type == api.EventPeer && e.Peer.PeerID == b.PeerID() && e.Peer.Connected
	})
	nextEvent(t, events, 20*time.Second, "catch-up session", func(e api.Event) bool {
		return e.Type == api.EventSync && e.Sync.PeerID == b.PeerID()
	})
	if _, err := b.Local().SetProfile(ctx, api.ProfileInput{Name: strp("Bea")}); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, events, 10*time.Second, "record from the peer", func(e api.Event) bool {
		return e.Type == api.EventRecord && e.Record.Author == b.PeerID() && !e.Record.Local
	})

	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-drain(events):
	case <-time.After(10 * time.Second):
		t.Fatal("event stream still open 10 s after the node stopped")
	}
}

// drain discards events until ch closes, then closes the returned channel.
func drain(ch <-chan api.Event) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		for range ch {
		}
		close(done)
	}()
	return done
}

// TestHubDropsSlowSubscriber: a subscriber that stops reading is cut off
// (its channel closed) instead of blocking the node or growing memory.
func TestHubDropsSlowSubscriber(t *testing.T) {
	h := newHub()
	slow := h.subscribe(context.Background())
	fast := h.subscribe(context.Background())
	got := 0
	for i := range subscriberBuffer + 1 {
		h.publish(api.Event{Type: api.EventPeer, Peer: &api.PeerEvent{PeerID: "p", Connected: i%2 == 0}})
		if _, ok := <-fast; ok {
			got++
		}
	}
	if got != subscriberBuffer+1 {
		t.Errorf("reading subscriber got %d events, want %d", got, subscriberBuffer+1)
	}
	n := 0
	for range slow {
		n++
	}
	if n != subscriberBuffer {
		t.Errorf("slow subscriber: %d buffered events then closed, want %d", n, subscriberBuffer)
	}
}
