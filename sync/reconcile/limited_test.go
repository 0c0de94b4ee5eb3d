package reconcile

import (
	"testing"

	"github.com/libp2p/go-libp2p/core/network"
)

// fakeStream is a stream whose connection reports limited or not.
type fakeStream struct {
	network.Stream
	conn fakeConn
}

func (s fakeStream) Conn() network.Conn { return s.conn }

type fakeConn struct {
	network.Conn
	limited bool
}

func (c fakeConn) Stat() network.ConnStats {
	return network.ConnStats{Stats: network.Stats{Limited: c.limited}}
}

func TestSyncerForLimitedConnections(t *testing.T) {
	s := &Service{syncer: New(nil, nil, Options{})}
	if got := s.syncerFor(fakeStream{conn: fakeConn{limited: false}}); got != s.syncer {
		t.Errorf("syncerFor(direct) is not the service's syncer")
	}
	got := s.syncerFor(fakeStream{conn: fakeConn{limited: true}})
	if b := got.opts.Limits.FrameBudget; b != LimitedFrameBudget {
		t.Errorf("syncerFor(limited) frame budget = %d, want %d", b, LimitedFrameBudget)
	}
	if b := s.syncer.opts.Limits.FrameBudget; b != 256<<10 {
		t.Errorf("service's frame budget changed to %d", b)
	}
}
