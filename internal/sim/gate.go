package sim

import (
	"context"
	"errors"
	"sync"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// errBlocked is what a node gets for a stream across the partition.
var errBlocked = errors.New("peer unreachable: the simulated network is partitioned")

// gatedHost is a node's host as its gossip and catch-up see it: while a
// peer is blocked, streams to it and from it are refused, as a firewall
// would. Mocknet alone does not make a clean partition: it closes the far
// side of a connection asynchronously, and GossipSub, which reopens its
// stream to a peer that still looks connected, can open a stream on a
// connection that is being closed; nothing then ever closes that stream.
type gatedHost struct {
	host.Host

	mu      sync.RWMutex
	blocked map[peer.ID]bool
}

func newGatedHost(h host.Host) *gatedHost { return &gatedHost{Host: h, blocked: map[peer.ID]bool{}} }

func (h *gatedHost) block(p peer.ID, on bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if on {
		h.blocked[p] = true
	} else {
		delete(h.blocked, p)
	}
}

func (h *gatedHost) isBlocked(p peer.ID) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.blocked[p]
}

func (h *gatedHost) NewStream(ctx context.Context, p peer.ID, pids ...protocol.ID) (network.Stream, error) {
	if h.isBlocked(p) {
		return nil, errBlocked
	}
	return h.Host.NewStream(ctx, p, pids...)
}

func (h *gatedHost) SetStreamHandler(pid protocol.ID, handler network.StreamHandler) {
	h.Host.SetStreamHandler(pid, h.gate(handler))
}

func (h *gatedHost) SetStreamHandlerMatch(pid protocol.ID, match func(protocol.ID) bool, handler network.StreamHandler) {
	h.Host.SetStreamHandlerMatch(pid, match, h.gate(handler))
}

func (h *gatedHost) gate(handler network.StreamHandler) network.StreamHandler {
	return func(s network.Stream) {
		if h.isBlocked(s.Conn().RemotePeer()) {
			_ = s.Reset()
			return
		}
		handler(s)
	}
}
