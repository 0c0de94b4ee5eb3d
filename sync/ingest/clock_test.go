package ingest_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/ingest"
	"github.com/mentormesh/mentormesh/sync/record"
)

// Clock faults. Each simulated node has its own clock, an offset from the
// true time the test advances, and its own Badger store on disk. A node
// writes as node.Local does: version = the version it holds + 1, timestamp
// = its own clock. The outcomes are those docs/SECURITY.md describes.

// skewedNode is a node whose clock is off by skew.
type skewedNode struct {
	name  string
	skew  time.Duration
	truth *time.Time // the true time, shared by all nodes of a test
	store store.Store
	pipe  *ingest.Pipeline
}

func (n *skewedNode) now() time.Time { return n.truth.Add(n.skew).Truncate(time.Millisecond) }

func newSkewedNode(t *testing.T, name string, skew time.Duration, truth *time.Time) *skewedNode {
	t.Helper()
	s, err := store.OpenBadger(t.TempDir(), store.BadgerOptions{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	n := &skewedNode{name: name, skew: skew, truth: truth, store: s}
	n.pipe = newPipeline(badgerAdapter{s}, func(o *ingest.Options) { o.Now = n.now })
	return n
}

// write signs the next version of key's profile with the node's clock and
// stores it locally, as node.Local.write does.
func (n *skewedNode) write(t *testing.T, key ed25519.PrivateKey, name string) *record.Record {
	t.Helper()
	b := profileBody(t, key, 1)
	if m, ok, err := n.store.CurrentMeta(context.Background(), b.Addr()); err != nil {
		t.Fatal(err)
	} else if ok {
		b.Version = m.Version + 1
	}
	b.Timestamp = n.now()
	b.Payload = profilePayload(t, name)
	rec := sign(t, key, b)
	if res, err := n.store.Apply(context.Background(), rec, store.ApplyOptions{Local: true}); err != nil || !res.Applied {
		t.Fatalf("%s: local write: %+v, %v", n.name, res, err)
	}
	return rec
}

// receive ingests rec as if from a peer (gossip or catch-up).
func (n *skewedNode) receive(rec *record.Record) ingest.Outcome {
	return n.pipe.Ingest(context.Background(), rec.Raw, ingest.Source{Community: rec.Community})
}

func (n *skewedNode) currentID(t *testing.T, addr record.Addr) record.ID {
	t.Helper()
	m, _, err := n.store.CurrentMeta(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	return m.ID
}

// TestClockBehind: a node whose clock is 3 hours slow loses no writes: its
// records carry old timestamps, and every node takes them at once, newest
// version first, even over versions stamped later. What it receives is
// delayed instead: records stamped by correct clocks are more than 10
// minutes ahead of its clock, so it ignores them (without penalty) until
// its clock is within 10 minutes of their timestamp, 2 h 50 min later.
func TestClockBehind(t *testing.T) {
	truth := now
	slow := newSkewedNode(t, "slow", -3*time.Hour, &truth)
	honest := newSkewedNode(t, "honest", 0, &truth)
	fast := newSkewedNode(t, "fast", 3*time.Hour, &truth)
	ada, bob := testKey(11), testKey(14)

	// Ada's profile, written 4 hours ago when her clock was right.
	truth = now.Add(-4 * time.Hour)
	v1 := honest.write(t, ada, "Ada")
	truth = now
	if out := slow.receive(v1); out.Verdict != ingest.Accept {
		t.Fatalf("slow node receiving v1: %v %v", out.Verdict, out.Err)
	}
	// Her clock now runs 3 hours slow; her next versions are stamped
	// earlier than the records of others, and still win by version.
	bobs := honest.write(t, bob, "Bob")
	v2 := slow.write(t, ada, "Ada, on a slow clock")
	truth = truth.Add(time.Minute)
	v3 := slow.write(t, ada, "Ada, again")
	if !v2.Timestamp.Before(bobs.Timestamp) || v3.Version != 3 {
		t.Fatalf("v2 stamped %v, want before Bob's %v; v3 is version %d, want 3", v2.Timestamp, bobs.Timestamp, v3.Version)
	}
	for _, n := range []*skewedNode{honest, fast} {
		for _, r := range []*record.Record{v3, v2, v1} {
			n.receive(r)
		}
		if got := n.currentID(t, v3.Addr()); got != v3.ID {
			t.Errorf("%s node: current is not the slow node's version 3", n.name)
		}
	}

	// Bob's record, stamped by a correct clock, reaches the slow node late.
	if out := slow.receive(bobs); out.Verdict != ingest.Ignore || !errors.Is(out.Err, record.ErrFuture) {
		t.Errorf("slow node receiving a record from a correct clock: %v %v, want ignored (future)", out.Verdict, out.Err)
	}
	truth = now.Add(3*time.Hour - record.MaxFutureSkew)
	if out := slow.receive(bobs); out.Verdict != ingest.Accept {
		t.Errorf("slow node 2 h 50 min later: %v %v, want accept", out.Verdict, out.Err)
	}
}

// TestClockAhead: a node whose clock is 3 hours fast writes records that
// others ignore (not reject: no penalty) while their timestamps are more
// than 10 minutes ahead of the receiver's clock. Nothing is stored, nothing
// is remembered against them, and the same bytes are accepted once the
// receiver's clock is within 10 minutes of the timestamp: the write is
// delayed by up to 2 h 50 min, not lost, provided a node holding it (its
// writer) offers it again by catch-up after that.
func TestClockAhead(t *testing.T) {
	truth := now
	fast := newSkewedNode(t, "fast", 3*time.Hour, &truth)
	honest := newSkewedNode(t, "honest", 0, &truth)
	slow := newSkewedNode(t, "slow", -3*time.Hour, &truth)
	bea := testKey(12)

	v1 := fast.write(t, bea, "Bea on a fast clock")
	for _, n := range []*skewedNode{honest, slow} {
		out := n.receive(v1)
		if out.Verdict != ingest.Ignore || !errors.Is(out.Err, record.ErrFuture) {
			t.Fatalf("%s node receiving a record 3 h ahead: %v %v, want ignored (future)", n.name, out.Verdict, out.Err)
		}
		if _, ok, _ := n.store.CurrentMeta(context.Background(), v1.Addr()); ok {
			t.Errorf("%s node stored a record from the future", n.name)
		}
	}

	// 2 h 49 min later the honest node still refuses; a minute after
	// that, the timestamp is within 10 minutes and it accepts.
	truth = now.Add(3*time.Hour - record.MaxFutureSkew - time.Minute)
	if out := honest.receive(v1); out.Verdict != ingest.Ignore {
		t.Errorf("honest node at +2h49m: %v %v, want still ignored", out.Verdict, out.Err)
	}
	truth = now.Add(3*time.Hour - record.MaxFutureSkew)
	if out := honest.receive(v1); out.Verdict != ingest.Accept {
		t.Fatalf("honest node at +2h50m: %v %v, want accept", out.Verdict, out.Err)
	}
	// The slow node's clock reaches that point 3 hours later still.
	if out := slow.receive(v1); out.Verdict != ingest.Ignore {
		t.Errorf("slow node at +2h50m: %v %v, want ignored", out.Verdict, out.Err)
	}
	truth = now.Add(6*time.Hour - record.MaxFutureSkew)
	if out := slow.receive(v1); out.Verdict != ingest.Accept {
		t.Errorf("slow node at +5h50m: %v %v, want accept", out.Verdict, out.Err)
	}
}

// TestSkewedClockWinsNoConflict: the same identity writes one address on
// two devices, one 3 hours fast, without either seeing the other's write
// (the case of a restored laptop, or two laptops). The later timestamp
// does not win: equal versions are decided by record ID, identically on
// every node whatever the arrival order; and the next version, written on
// the correct clock with an earlier timestamp, replaces the fast device's
// everywhere.
func TestSkewedClockWinsNoConflict(t *testing.T) {
	truth := now
	fastDevice := newSkewedNode(t, "fast device", 3*time.Hour, &truth)
	rightDevice := newSkewedNode(t, "right device", 0, &truth)
	cy := testKey(13)
	fromFast := fastDevice.write(t, cy, "Cy (fast laptop)")
	fromRight := rightDevice.write(t, cy, "Cy (other laptop)")
	if fromFast.Version != fromRight.Version {
		t.Fatalf("versions %d and %d, want equal", fromFast.Version, fromRight.Version)
	}
	want := fromFast.ID
	if fromRight.Meta().Compare(fromFast.Meta()) > 0 {
		want = fromRight.ID
	}
	// Once the receivers' clocks accept the fast device's timestamp (within
	// 10 minutes of it), two that get the versions in opposite orders agree.
	truth = now.Add(3*time.Hour - record.MaxFutureSkew)
	for i, order := range [][]*record.Record{{fromFast, fromRight}, {fromRight, fromFast}} {
		n := newSkewedNode(t, "receiver", 0, &truth)
		for _, r := range order {
			n.receive(r)
		}
		if got := n.currentID(t, fromFast.Addr()); got != want {
			t.Errorf("receiver %d (order %d): current %x, want %x (the larger ID)", i, i, got[:4], want[:4])
		}
	}

	// The correct device, having received the fast device's version, writes
	// the next one with a timestamp 3 hours earlier: it wins everywhere.
	rightDevice.receive(fromFast)
	v2 := rightDevice.write(t, cy, "Cy, version 2")
	if v2.Version != 2 || !v2.Timestamp.Before(fromFast.Timestamp) {
		t.Fatalf("v2 = version %d at %v, want version 2 before %v", v2.Version, v2.Timestamp, fromFast.Timestamp)
	}
	if out := fastDevice.receive(v2); out.Verdict != ingest.Accept || fastDevice.currentID(t, v2.Addr()) != v2.ID {
		t.Errorf("fast device receiving version 2: %v %v, want it to replace its later-stamped version 1", out.Verdict, out.Err)
	}
}
