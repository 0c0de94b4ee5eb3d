package main

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/metrics"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// counter is a libp2p bandwidth reporter (metrics.Reporter, installed with
// libp2p.BandwidthReporter) that keeps exact byte totals, overall and per
// protocol. metrics.NewBandwidthCounter, which the same hook usually
// takes, folds bytes into its totals only once a second, so a reading taken
// right after a short transfer misses up to a second of traffic. The swarm
// reports every read and write on a stream: application bytes of every
// protocol, including multistream negotiation, but not Noise and yamux
// framing or TCP/IP headers.
type counter struct {
	in, out atomic.Int64
	mu      sync.Mutex
	byProto map[protocol.ID]*[2]int64
}

var _ metrics.Reporter = (*counter)(nil)

func newCounter() *counter { return &counter{byProto: map[protocol.ID]*[2]int64{}} }

func (c *counter) LogSentMessage(n int64) { c.out.Add(n) }
func (c *counter) LogRecvMessage(n int64) { c.in.Add(n) }

func (c *counter) LogSentMessageStream(n int64, p protocol.ID, _ peer.ID) { c.logProto(p, 1, n) }
func (c *counter) LogRecvMessageStream(n int64, p protocol.ID, _ peer.ID) { c.logProto(p, 0, n) }

func (c *counter) logProto(p protocol.ID, dir int, n int64) {
	c.mu.Lock()
	v := c.byProto[p]
	if v == nil {
		v = new([2]int64)
		c.byProto[p] = v
	}
	v[dir] += n
	c.mu.Unlock()
}

func (c *counter) GetBandwidthTotals() metrics.Stats {
	return metrics.Stats{TotalIn: c.in.Load(), TotalOut: c.out.Load()}
}

func (c *counter) GetBandwidthByProtocol() map[protocol.ID]metrics.Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[protocol.ID]metrics.Stats, len(c.byProto))
	for p, v := range c.byProto {
		out[p] = metrics.Stats{TotalIn: v[0], TotalOut: v[1]}
	}
	return out
}

func (c *counter) GetBandwidthForProtocol(p protocol.ID) metrics.Stats {
	return c.GetBandwidthByProtocol()[p]
}

// Per-peer figures are not kept.
func (c *counter) GetBandwidthForPeer(peer.ID) metrics.Stats     { return metrics.Stats{} }
func (c *counter) GetBandwidthByPeer() map[peer.ID]metrics.Stats { return nil }
func (c *counter) Reset()                                        {}
func (c *counter) TrimIdle(time.Time)                            {}

// protoIn adds up the bytes received per protocol by several counters.
func protoIn(cs []*counter) map[string]int64 {
	out := map[string]int64{}
	for _, c := range cs {
		for p, s := range c.GetBandwidthByProtocol() {
			name := string(p)
			if name == "" {
				name = "(negotiation)"
			}
			out[name] += s.TotalIn
		}
	}
	return out
}

// diffMap returns b - a per key, dropping zeros.
func diffMap(a, b map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range b {
		if d := v - a[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}
