package gossip

import (
	"fmt"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// TestMarkBadFullEvictsSoonest checks that a full table of reported peers
// makes room by forgetting the mark that expires first, not every mark: a
// burst of new identities must not clear the others.
func TestMarkBadFullEvictsSoonest(t *testing.T) {
	g := &Gossip{bad: map[peer.ID]time.Time{}}
	now := time.Now()
	ids := make([]peer.ID, maxBudgetPeers-1)
	for i := range ids {
		ids[i] = peer.ID(fmt.Sprintf("peer-%d", i))
		// ids[0] expires first, then ids[1], and so on; all still live.
		g.bad[ids[i]] = now.Add(badFor/2 + time.Duration(i)*time.Millisecond)
	}
	expired := peer.ID("expired")
	g.bad[expired] = now.Add(-time.Second)

	newcomer := peer.ID("newcomer")
	g.markBad(newcomer)
	if !g.isBad(newcomer) {
		t.Fatal("the newly reported peer is not marked bad")
	}
	if _, ok := g.bad[expired]; ok {
		t.Error("an expired mark was kept")
	}
	for _, q := range ids {
		if !g.isBad(q) {
			t.Fatalf("%s lost its mark while an expired one could go", q)
		}
	}
	if got := len(g.bad); got != maxBudgetPeers {
		t.Errorf("table holds %d marks, want %d", got, maxBudgetPeers)
	}

	// Now full of live marks only: the next report drops ids[0] alone.
	g.markBad(peer.ID("another"))
	if g.isBad(ids[0]) {
		t.Error("the mark expiring first was kept")
	}
	for _, q := range append(ids[1:], newcomer) {
		if !g.isBad(q) {
			t.Fatalf("%s lost its mark: a full table must drop one mark, not all", q)
		}
	}
	if got := len(g.bad); got != maxBudgetPeers {
		t.Errorf("table holds %d marks, want %d", got, maxBudgetPeers)
	}
}
