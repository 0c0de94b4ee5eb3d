package sim

import (
	"context"
	"fmt"
	"time"

	"github.com/mentormesh/mentormesh/sync/record"
)

// Run builds a network, measures propagation, then a partition and its
// heal, and stops the network.
func Run(ctx context.Context, cfg Config) (res Results, err error) {
	start := time.Now()
	net, err := Start(ctx, cfg)
	if err != nil {
		return res, err
	}
	defer func() {
		if cerr := net.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("stopping the network: %w", cerr)
		}
	}()
	res.MeshFormed = time.Since(start)
	res.Nodes, res.Links = len(net.nodes), len(net.edges)
	res.MinDegree, res.MeanDegree, res.MaxDegree = net.degrees()
	if res.Propagation, err = net.Propagate(ctx); err != nil {
		return res, err
	}
	res.Partitioned = time.Since(start)
	if res.Partition, err = net.PartitionAndHeal(ctx); err != nil {
		return res, err
	}
	res.Healed = res.Partition.healed.Sub(start)
	res.End = time.Since(start)
	return res, nil
}

func (net *Network) degrees() (lo int, mean float64, hi int) {
	lo = len(net.nodes)
	for _, a := range net.adj {
		lo, hi = min(lo, len(a)), max(hi, len(a))
	}
	return lo, 2 * float64(len(net.edges)) / float64(len(net.adj)), hi
}

// write has node i write record number seq, and returns the record's
// state in the observer.
func (net *Network) write(ctx context.Context, i, seq int) (*recState, error) {
	var rs *recState
	err := net.nodes[i].write(ctx, net.cfg.Community, seq, func(rec *record.Record) {
		rs = net.obs.published(i, rec)
	})
	if err != nil {
		return nil, fmt.Errorf("node %d writing record %d: %w", i, seq, err)
	}
	return rs, nil
}

// writeEvery calls write count times, cfg.PublishInterval apart.
func (net *Network) writeEvery(ctx context.Context, count int, write func(k int) error) error {
	tick := time.NewTicker(net.cfg.PublishInterval)
	defer tick.Stop()
	for k := range count {
		if k > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-tick.C:
			}
		}
		if err := write(k); err != nil {
			return err
		}
	}
	return nil
}

// pause lets d pass: a step of the scenario, not a wait for a condition.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
