// Package reconcile is mentormesh's catch-up: range-based set
// reconciliation between two peers over the current records of a community
// (or of one author in it), so that after any time offline two nodes
// exchange exactly the records one has and the other lacks.
//
// Both sides order their sets by (timestamp, record ID) and exchange
// fingerprints of ranges of that order. Equal fingerprints end a range;
// unequal ones split it into 16 sub-ranges, until a range is small enough
// to send as a list of IDs, whose receiver then knows the exact difference:
// it sends the records the other side lacks and asks for the ones it lacks.
// Identical sets are confirmed in one round trip of a few dozen bytes; the
// cost otherwise grows with the size of the difference, not of the sets.
// The design follows Negentropy (range-based set reconciliation, Meyer
// 2023; Hoyte's protocol), adapted to a libp2p stream and to mentormesh's
// records; docs/PROTOCOL.md specifies the wire format.
//
// Every record received goes through the node's ingest pipeline like a
// gossiped one: nothing unverified is stored.
package reconcile
