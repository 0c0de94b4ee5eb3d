package sim

import (
	"context"
	"fmt"
	"slices"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
)

// gossipMemory is how long GossipSub may still send a message after it was
// published: its message cache keeps HistoryLength heartbeats.
var gossipMemory = time.Duration(pubsub.GossipSubHistoryLength+1) * pubsub.GossipSubHeartbeatInterval

// PartitionAndHeal splits the nodes into two random halves by removing
// every link between them, writes cfg.PartitionWrites records on each side
// and waits until each has reached its side, waits until GossipSub has
// forgotten them, restores the links and measures how long catch-up takes
// to bring every node to the same records.
func (net *Network) PartitionAndHeal(ctx context.Context) (Partition, error) {
	n := len(net.nodes)
	sideB := make([]bool, n)
	for _, i := range net.rng.Perm(n)[:n/2] {
		sideB[i] = true
	}
	sameSide := func(i, j int) bool { return sideB[i] == sideB[j] }
	var cut [][2]int
	for _, e := range net.edges {
		if !sameSide(e[0], e[1]) {
			cut = append(cut, e)
		}
	}
	res := Partition{SideA: n - n/2, SideB: n / 2, Cut: len(cut), Written: net.cfg.PartitionWrites}
	for i, a := range net.adj {
		if !slices.ContainsFunc(a, func(j int) bool { return !sameSide(i, j) }) {
			res.NoLinkAcross++
		}
	}
	for _, e := range cut {
		if err := net.disconnect(e); err != nil {
			return res, err
		}
	}
	if err := net.writeSplit(ctx, &res, sameSide); err != nil {
		return res, err
	}
	// Heal only once gossip can no longer carry the records, so that
	// what brings them across is catch-up alone.
	if err := pause(ctx, gossipMemory); err != nil {
		return res, err
	}
	return res, net.heal(ctx, &res, cut)
}

// writeSplit writes on both sides in turn, at random nodes, and waits until
// each record has reached every node of its connected part of its side.
func (net *Network) writeSplit(ctx context.Context, res *Partition, sameSide func(i, j int) bool) error {
	o := net.obs
	part := make([]int, len(net.nodes)) // connected part of a side
	var partSize []int
	for c, nodes := range components(net.adj, sameSide) {
		for _, i := range nodes {
			part[i] = c
		}
		partSize = append(partSize, len(nodes))
	}
	var sides [2][]int
	for i := range net.nodes {
		if sameSide(i, 0) {
			sides[0] = append(sides[0], i)
		} else {
			sides[1] = append(sides[1], i)
		}
	}
	type written struct {
		rs   *recState
		want int
	}
	var ws []written
	o.resetCounters()
	seq := o.records()
	err := net.writeEvery(ctx, 2*net.cfg.PartitionWrites, func(k int) error {
		s := sides[k%2]
		i := s[net.rng.IntN(len(s))]
		rs, err := net.write(ctx, i, seq+k)
		ws = append(ws, written{rs, partSize[part[i]]})
		return err
	})
	if err != nil {
		return err
	}
	err = o.wait(ctx, net.cfg.Timeout, "propagating records within each side", func() bool {
		for _, w := range ws {
			if w.rs.stored < w.want {
				return false
			}
		}
		return true
	})
	if err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var split []time.Duration
	for k, w := range ws {
		if w.rs.stored > w.want {
			return fmt.Errorf("record %d written during the partition reached %d nodes, but its side has %d", k, w.rs.stored, w.want)
		}
		if w.want > 1 {
			split = append(split, w.rs.last.Sub(w.rs.published))
		}
	}
	res.Split = quantiles(split)
	res.SplitByGossip, res.SplitByCatchUp = o.byPath[viaGossip], o.byPath[viaCatchUp]
	return nil
}

// heal restores the links that were cut and waits until every node holds
// every record, then checks that all digests are equal.
func (net *Network) heal(ctx context.Context, res *Partition, cut [][2]int) error {
	o := net.obs
	o.resetCounters()
	total := o.records()
	missing, lacking := o.setWant(total)
	res.healed = time.Now()
	for _, e := range cut {
		if err := net.reconnect(e); err != nil {
			return err
		}
	}
	err := o.wait(ctx, net.cfg.Timeout, "converging after the heal", func() bool {
		return !slices.ContainsFunc(o.held, func(h int) bool { return h < total })
	})
	if err != nil && ctx.Err() != nil {
		return err
	}
	o.mu.Lock()
	res.Converged = err == nil
	var perNode []time.Duration
	for i, t := range o.complete {
		if t.IsZero() {
			continue
		}
		res.ConvergedAfter = max(res.ConvergedAfter, t.Sub(res.healed))
		if t.Sub(res.healed) <= HealTarget {
			res.WithinTarget++
		}
		if lacking[i] {
			perNode = append(perNode, t.Sub(res.healed))
		}
	}
	res.PerNode = quantiles(perNode)
	res.ByCatchUp, res.ByGossip = o.byPath[viaCatchUp], o.byPath[viaGossip]
	res.Sessions, res.Failed, res.Bytes = o.sessions, o.sessionErrs, o.sessionIn+o.sessionOut
	o.mu.Unlock()
	if !res.Converged {
		return nil
	}
	if stored := res.ByCatchUp + res.ByGossip; stored != missing {
		return fmt.Errorf("after the heal the nodes stored %d records, but lacked %d", stored, missing)
	}
	// Every node holds every record: check it the way a user would.
	want, err := net.digest(ctx, 0)
	if err != nil {
		return err
	}
	for i := 1; i < len(net.nodes); i++ {
		d, err := net.digest(ctx, i)
		if err != nil {
			return err
		}
		if d != want {
			return fmt.Errorf("node %d holds every record but its digest %s differs from node 0's %s", i, d, want)
		}
	}
	return nil
}
