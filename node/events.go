package node

import (
	"context"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/sync/record"
)

// subscriberBuffer is how many events a subscriber may fall behind before
// it is dropped (its channel closed, so it reloads and subscribes again):
// a slow page never slows the node down.
const subscriberBuffer = 256

// hub fans events out to subscribers (the API's event streams).
type hub struct {
	mu     sync.Mutex
	subs   map[chan api.Event]struct{}
	closed bool
}

func newHub() *hub { return &hub{subs: map[chan api.Event]struct{}{}} }

// subscribe returns a channel of events until ctx ends or the hub closes.
func (h *hub) subscribe(ctx context.Context) <-chan api.Event {
	ch := make(chan api.Event, subscriberBuffer)
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		close(ch)
		return ch
	}
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	context.AfterFunc(ctx, func() { h.drop(ch) })
	return ch
}

func (h *hub) drop(ch chan api.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[ch]; ok {
		delete(h.subs, ch)
		close(ch)
	}
}

func (h *hub) publish(e api.Event) {
	if h == nil {
		return
	}
	if e.At.IsZero() {
		e.At = time.Now().UTC()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- e:
		default:
			delete(h.subs, ch)
			close(ch)
		}
	}
}

// close ends every subscription.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for ch := range h.subs {
		delete(h.subs, ch)
		close(ch)
	}
}

// records publishes an event for each record that became current.
func (h *hub) records(recs []*record.Record, local bool) {
	if h == nil {
		return
	}
	for _, rec := range recs {
		h.publish(api.Event{Type: api.EventRecord, Record: &api.RecordEvent{
			Community: rec.Community, Kind: rec.Kind, Author: rec.Author.String(), Key: rec.Key,
			Version: rec.Version, Deleted: rec.Deleted, Local: local,
		}})
	}
}

// peerEvents reports connections as they open and close.
func peerEvents(h *hub) network.Notifiee {
	send := func(n network.Network, c network.Conn, up bool) {
		// Report the peer, not each of its connections.
		if up == (n.Connectedness(c.RemotePeer()) == network.Connected) {
			h.publish(api.Event{Type: api.EventPeer, Peer: &api.PeerEvent{PeerID: c.RemotePeer().String(), Connected: up}})
		}
	}
	return &network.NotifyBundle{
		ConnectedF:    func(n network.Network, c network.Conn) { send(n, c, true) },
		DisconnectedF: func(n network.Network, c network.Conn) { send(n, c, false) },
		ListenF:       func(network.Network, ma.Multiaddr) {},
	}
}
