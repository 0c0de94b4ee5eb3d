package sim

import (
	"context"
	"time"
)

// Propagate writes cfg.Records records, one every cfg.PublishInterval, each
// at a random node, and waits until every node has stored them all (or
// cfg.Timeout passes: the records missing are then counted).
func (net *Network) Propagate(ctx context.Context) (Propagation, error) {
	o := net.obs
	o.resetCounters()
	seq := o.records()
	var written []*recState
	err := net.writeEvery(ctx, net.cfg.Records, func(k int) error {
		rs, err := net.write(ctx, net.rng.IntN(len(net.nodes)), seq+k)
		written = append(written, rs)
		return err
	})
	if err != nil {
		return Propagation{}, err
	}
	all := len(net.nodes)
	err = o.wait(ctx, net.cfg.Timeout, "propagating records", func() bool {
		for _, rs := range written {
			if rs.stored < all {
				return false
			}
		}
		return true
	})
	if err != nil && ctx.Err() != nil {
		return Propagation{}, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	p := Propagation{
		Records:     len(written),
		PerDelivery: quantiles(o.delays),
		ByGossip:    o.byPath[viaGossip],
		ByCatchUp:   o.byPath[viaCatchUp],
		Dropped:     o.dropped,
	}
	var toAll []time.Duration
	for _, rs := range written {
		if rs.stored == all {
			toAll = append(toAll, rs.last.Sub(rs.published))
		}
		p.Missing += all - rs.stored
	}
	p.ToAll = quantiles(toAll)
	p.ReceivedPerRecord = float64(o.firsts+o.dups) / float64(len(written))
	p.DuplicatesPerRecord = float64(o.dups) / float64(len(written))
	return p, nil
}
