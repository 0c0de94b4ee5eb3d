package sim

import (
	"fmt"
	"slices"
	"time"
)

// HealTarget is how soon after a partition heals every node should hold
// the same records (issue 6).
const HealTarget = 10 * time.Second

// Results are a simulation's figures. Durations are on the simulation's
// clock: virtual inside a synctest bubble.
type Results struct {
	Nodes, Links         int
	MinDegree, MaxDegree int
	MeanDegree           float64
	Propagation          Propagation
	Partition            Partition
	// Timeline, from the start: the meshes formed, the partition began,
	// the links were restored, the run ended.
	MeshFormed, Partitioned, Healed, End time.Duration
}

// Propagation is what the first phase measures: records written one at a
// time at random nodes of the connected network.
type Propagation struct {
	Records int
	// ToAll is, per record, the time from its publication until every
	// node stored it.
	ToAll Quantiles
	// PerDelivery is the time from publication to a node's store, for
	// every (record, node) pair that gossip delivered.
	PerDelivery Quantiles
	// ByGossip and ByCatchUp count the (record, node) pairs each path
	// delivered first (catch-up sessions also run while records spread:
	// on peer joins, 5 s later and every minute); Missing those no path
	// delivered before Config.Timeout.
	ByGossip, ByCatchUp, Missing int
	// ReceivedPerRecord is the number of copies of a record that nodes
	// received from GossipSub peers, summed over all nodes;
	// DuplicatesPerRecord counts those the receiving node had already
	// seen.
	ReceivedPerRecord, DuplicatesPerRecord float64
	// Dropped counts messages GossipSub dropped from full outbound queues.
	Dropped int
}

// Partition is what the second phase measures: the network is split into
// two halves, records are written on both sides, then the links are
// restored and catch-up has to bring every node to the same records.
type Partition struct {
	// SideA and SideB are the halves' sizes; Cut the links removed;
	// NoLinkAcross the nodes with no link to the other side: no peer joins
	// them at the heal, so they learn the other side's records only from a
	// periodic catch-up session.
	SideA, SideB, Cut, NoLinkAcross int
	// Written is the number of records written on each side.
	Written int
	// Split is, per record written during the partition, the time until
	// every node of its side (of its connected part of the side) held it;
	// SplitByGossip and SplitByCatchUp count how those nodes got them.
	Split                         Quantiles
	SplitByGossip, SplitByCatchUp int
	// ConvergedAfter is the time from the heal until every node held every
	// record (then checked: every node's digest is the same). Converged is
	// false if that did not happen within Config.Timeout.
	ConvergedAfter time.Duration
	Converged      bool
	// PerNode is, for each node that lacked records at the heal, the time
	// until it held them all.
	PerNode Quantiles
	// WithinTarget counts the nodes that held every record HealTarget
	// after the heal.
	WithinTarget int
	// After the heal: records stored from catch-up sessions and from gossip
	// (gossip should carry none: the records are older than its memory),
	// and the sessions run, failed, and their bytes (both directions).
	ByCatchUp, ByGossip int
	Sessions, Failed    int
	Bytes               int64

	healed time.Time
}

// Quantiles summarise a distribution of durations.
type Quantiles struct {
	P50, P99, Max time.Duration
	N             int
}

// quantiles uses the nearest-rank method.
func quantiles(d []time.Duration) Quantiles {
	if len(d) == 0 {
		return Quantiles{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	at := func(q float64) time.Duration {
		i := int(q*float64(len(s))+0.999999) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	return Quantiles{P50: at(0.50), P99: at(0.99), Max: s[len(s)-1], N: len(s)}
}

func (q Quantiles) String() string {
	return fmt.Sprintf("p50 %s, p99 %s, max %s (n=%d)", ms(q.P50), ms(q.P99), ms(q.Max), q.N)
}

func ms(d time.Duration) string { return d.Round(time.Millisecond).String() }

// Report is the results in a few lines of text.
func (r Results) Report() []string {
	p, q := r.Propagation, r.Partition
	return []string{
		fmt.Sprintf("%d nodes, %d links, degree min %d, mean %.1f, max %d; meshes formed after %s",
			r.Nodes, r.Links, r.MinDegree, r.MeanDegree, r.MaxDegree, ms(r.MeshFormed)),
		fmt.Sprintf("propagation of %d records: to every node %s; per delivery %s", p.Records, p.ToAll, p.PerDelivery),
		fmt.Sprintf("  copies received per record %.1f, duplicates per record %.1f (%.2f per node); delivered first by gossip %d, by catch-up %d, missing %d; dropped %d",
			p.ReceivedPerRecord, p.DuplicatesPerRecord, p.DuplicatesPerRecord/float64(r.Nodes), p.ByGossip, p.ByCatchUp, p.Missing, p.Dropped),
		fmt.Sprintf("partition into %d and %d nodes: %d links cut, %d nodes with no link across; %d records written on each side",
			q.SideA, q.SideB, q.Cut, q.NoLinkAcross, q.Written),
		fmt.Sprintf("  while split, to every node of the side: %s; delivered by gossip %d, by catch-up %d", q.Split, q.SplitByGossip, q.SplitByCatchUp),
		fmt.Sprintf("  after the heal: converged %v after %s; %d of %d nodes within %s; per node %s",
			q.Converged, ms(q.ConvergedAfter), q.WithinTarget, r.Nodes, HealTarget, q.PerNode),
		fmt.Sprintf("  stored %d records by catch-up, %d by gossip; %d sessions (%d failed), %d bytes",
			q.ByCatchUp, q.ByGossip, q.Sessions, q.Failed, q.Bytes),
		fmt.Sprintf("timeline: meshes %s, partition %s, heal %s, end %s", ms(r.MeshFormed), ms(r.Partitioned), ms(r.Healed), ms(r.End)),
		fmt.Sprintf("summary: nodes=%d p50_ms=%d p99_ms=%d dups_per_record=%.1f dups_per_node=%.2f converge_s=%.2f converged_within_10s=%d/%d",
			r.Nodes, p.ToAll.P50.Milliseconds(), p.ToAll.P99.Milliseconds(), p.DuplicatesPerRecord, p.DuplicatesPerRecord/float64(r.Nodes),
			q.ConvergedAfter.Seconds(), q.WithinTarget, r.Nodes),
	}
}
