package netaddr

import (
	"testing"

	ma "github.com/multiformats/go-multiaddr"
)

func TestKey(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"/ip4/192.0.2.7/tcp/4747", "192.0.2.7"},
		{"/ip4/192.0.2.7/udp/4747/quic-v1", "192.0.2.7"},
		{"/ip4/127.0.0.1/tcp/4747", ""},
		{"/ip4/127.0.0.2/tcp/4747", "127.0.0.2"},
		{"/ip4/0.0.0.0/tcp/4747", ""},
		{"/ip6/::1/tcp/4747", ""},
		{"/ip6/::ffff:192.0.2.7/tcp/4747", "192.0.2.7"},
		{"/ip6/2001:db8:1:2:3:4:5:6/tcp/4747", "2001:db8:1:2::/64"},
		{"/ip6/2001:db8:1:2:ffff::1/tcp/4747", "2001:db8:1:2::/64"},
		{"/dns4/example.org/tcp/4747", ""},
	} {
		m, err := ma.NewMultiaddr(tc.addr)
		if err != nil {
			t.Fatalf("%s: %v", tc.addr, err)
		}
		if got := Key(m); got != tc.want {
			t.Errorf("Key(%s) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}
