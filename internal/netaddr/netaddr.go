// Package netaddr keys peers by the network address they come from, for
// limits that must hold per address rather than per (freely made) peer ID.
package netaddr

import (
	"net/netip"

	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// loopback4 is exempt, as it is from go-libp2p's own per-address
// connection limits: nodes sharing one machine (a developer's, a test's)
// are not one attacker. Other 127.0.0.0/8 addresses are not exempt, so
// tests can play distinct remote addresses on one host.
var loopback4 = netip.AddrFrom4([4]byte{127, 0, 0, 1})

// Key returns the key of a remote address for per-address limits: the IPv4
// address, or the IPv6 /64 (one subscriber's usual allocation), of its
// first component; "" for this host's loopback, an unspecified address or
// one without an IP address.
func Key(m ma.Multiaddr) string {
	ip, err := manet.ToIP(m)
	if err != nil {
		return ""
	}
	addr, ok := netip.AddrFromSlice(ip)
	if !ok {
		return ""
	}
	addr = addr.Unmap()
	switch {
	case addr == netip.IPv4Unspecified(), addr == loopback4, addr == netip.IPv6Loopback():
		return ""
	case addr.Is4():
		return addr.String()
	default:
		pfx, _ := addr.Prefix(64)
		return pfx.String()
	}
}
