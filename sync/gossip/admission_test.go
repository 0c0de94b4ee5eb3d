package gossip

import (
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/mentormesh/mentormesh/internal/ratelimit"
)

func rpcOf(n int) *pubsub.RPC {
	rpc := &pubsub.RPC{}
	for range n {
		rpc.Publish = append(rpc.Publish, &pb.Message{Data: []byte("x")})
	}
	return rpc
}

// TestAdmission checks the per-peer message budget: messages beyond it are
// cut from the RPC (its control part kept), counted, and a peer far beyond
// it is reported once.
func TestAdmission(t *testing.T) {
	var stats Stats
	var reported []peer.ID
	// A budget that does not refill during the test.
	a := newAdmission(ratelimit.Rate{Burst: 10, Every: time.Hour}, ratelimit.Rate{Burst: 1000, Every: time.Hour}, nil,
		func(p peer.ID) { reported = append(reported, p) }, &stats)
	flooder, honest := peer.ID("flooder"), peer.ID("honest")

	rpc := rpcOf(8)
	rpc.Control = &pb.ControlMessage{}
	if err := a.inspect(flooder, rpc); err != nil || len(rpc.Publish) != 8 {
		t.Fatalf("within the budget: %d messages kept, err %v; want 8", len(rpc.Publish), err)
	}
	rpc = rpcOf(8)
	rpc.Control = &pb.ControlMessage{}
	_ = a.inspect(flooder, rpc)
	if len(rpc.Publish) != 2 || rpc.Control == nil {
		t.Errorf("over the budget: %d messages kept (control kept: %v), want 2 and the control part", len(rpc.Publish), rpc.Control != nil)
	}
	if got := stats.OverBudget.Load(); got != 6 {
		t.Errorf("OverBudget = %d, want 6", got)
	}
	if len(reported) != 0 {
		t.Fatalf("reported %v after 6 messages over the budget, want nobody yet", reported)
	}
	// Another peer has its own budget.
	rpc = rpcOf(10)
	if _ = a.inspect(honest, rpc); len(rpc.Publish) != 10 {
		t.Errorf("another peer: %d messages kept, want 10", len(rpc.Publish))
	}
	// Far over the budget: reported (Gossip.report keeps it to once a
	// minute).
	_ = a.inspect(flooder, rpcOf(floodExcess-6))
	if len(reported) != 0 {
		t.Fatalf("reported %v at exactly the tolerated excess, want nobody yet", reported)
	}
	_ = a.inspect(flooder, rpcOf(1))
	if len(reported) != 1 || reported[0] != flooder {
		t.Errorf("reported = %v, want the flooder", reported)
	}
	// RPCs without messages cost nothing.
	if err := a.inspect(flooder, &pubsub.RPC{}); err != nil {
		t.Error(err)
	}
}

// TestAdmissionPerAddress checks the address budget: peers of one address
// share it, and drops it causes are not held against a peer.
func TestAdmissionPerAddress(t *testing.T) {
	var stats Stats
	var reported []peer.ID
	addr := map[peer.ID]string{"a1": "192.0.2.1", "a2": "192.0.2.1", "b": "198.51.100.7"}
	a := newAdmission(ratelimit.Rate{Burst: 10, Every: time.Hour}, ratelimit.Rate{Burst: 15, Every: time.Hour},
		func(p peer.ID) string { return addr[p] }, func(p peer.ID) { reported = append(reported, p) }, &stats)
	kept := func(p peer.ID, n int) int {
		rpc := rpcOf(n)
		_ = a.inspect(p, rpc)
		return len(rpc.Publish)
	}
	if got := kept("a1", 10); got != 10 {
		t.Errorf("a1: %d kept, want 10", got)
	}
	if got := kept("a2", 10); got != 5 {
		t.Errorf("a2 (same address as a1): %d kept, want 5 (the address's 15 less a1's 10)", got)
	}
	if got := kept("b", 10); got != 10 {
		t.Errorf("b (another address): %d kept, want 10", got)
	}
	if len(reported) != 0 {
		t.Errorf("reported %v: drops for the address's budget must not count as flooding", reported)
	}
}
