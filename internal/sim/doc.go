// Package sim simulates a mentormesh community of many nodes in one
// process, on go-libp2p's in-memory network (mocknet) with a fixed latency
// on every link, and measures what issue 6 asks of it: how fast a record
// reaches every node, how many duplicate copies GossipSub delivers, and how
// long the nodes take to agree again after a network partition heals.
//
// Every simulated node runs mentormesh's own replication code: the
// GossipSub layer of sync/gossip (its options, peer scoring and validator),
// the ingest pipeline of sync/ingest with mentorship.Kinds, an in-memory
// store (store.Memory, held to the same conformance suite as Badger), and
// the catch-up service of sync/reconcile. Only the glue is the
// simulation's: the adapters between store and pipeline, and the schedule
// of catch-up sessions, which mirror node/node.go and node/catchup.go.
//
// A simulation runs on the wall clock, or, inside a testing/synctest
// bubble, on a virtual clock: there, time advances only when every
// goroutine is blocked, so link latency is simulated exactly and the CPU
// time of 500 nodes sharing one machine does not count, as if each node had
// a machine of its own. docs/PERFORMANCE.md gives the figures and the
// commands.
package sim
