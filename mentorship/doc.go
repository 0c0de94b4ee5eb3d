// Package mentorship is mentormesh's domain: practitioner profiles and, as
// the project grows, pairings, goals, sessions, feedback and resources.
//
// It is pure logic. It knows nothing of libp2p, Badger or HTTP (a test
// enforces that): it defines the record kinds, encodes and validates their
// payloads, and turns records into views. The replication layer plugs it in
// through the small interface it declares (see Kinds).
package mentorship
