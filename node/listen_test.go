package node

import (
	"io"
	"log/slog"
	"net"
	"strconv"
	"testing"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
)

// TestListenOrFreeSecondNode starts two hosts on the same "default"
// addresses, as two nodes on one machine started without --listen: the
// second must move to free ports for TCP and QUIC alike, not share the
// first one's TCP port through SO_REUSEPORT (where the kernel would hand
// it half of the first node's incoming connections) and lose QUIC.
func TestListenOrFreeSecondNode(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	addrs := []string{"/ip4/127.0.0.1/tcp/" + port, "/ip4/127.0.0.1/udp/" + port + "/quic-v1"}
	mk := func(a []string) (host.Host, error) {
		return libp2p.New(libp2p.ListenAddrStrings(a...), libp2p.Transport(tcp.NewTCPTransport), libp2p.Transport(quic.NewTransport))
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	ports := func(h host.Host) (tcpPort, udpPort string) {
		for _, a := range h.Network().ListenAddresses() {
			if v, err := a.ValueForProtocol(ma.P_TCP); err == nil {
				tcpPort = v
			}
			if v, err := a.ValueForProtocol(ma.P_UDP); err == nil {
				udpPort = v
			}
		}
		return tcpPort, udpPort
	}
	first, err := listenOrFree(log, addrs, mk)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = first.Close() })
	if tp, up := ports(first); tp != port || up != port {
		t.Fatalf("first host listens on TCP %q, UDP %q; want both on %s", tp, up, port)
	}
	second, err := listenOrFree(log, addrs, mk)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = second.Close() })
	tp, up := ports(second)
	if tp == "" || up == "" || tp == port || up == port {
		t.Errorf("second host listens on TCP %q, UDP %q (%v); want both on free ports other than the first's %s",
			tp, up, second.Network().ListenAddresses(), port)
	}
}

func TestFreePort(t *testing.T) {
	for in, want := range map[string]string{
		"/ip4/0.0.0.0/tcp/4747":        "/ip4/0.0.0.0/tcp/0",
		"/ip6/::/udp/4747/quic-v1":     "/ip6/::/udp/0/quic-v1",
		"/ip4/127.0.0.1/tcp/47/ws":     "/ip4/127.0.0.1/tcp/0/ws",
		"/ip4/127.0.0.1/udp/0/quic-v1": "/ip4/127.0.0.1/udp/0/quic-v1",
		"/dns4/example.org/tcp/4747":   "/dns4/example.org/tcp/0",
	} {
		if got := freePort(in); got != want {
			t.Errorf("freePort(%q) = %q, want %q", in, got, want)
		}
	}
}
