package node

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"syscall"

	"github.com/libp2p/go-libp2p/core/host"
	ma "github.com/multiformats/go-multiaddr"
)

// listenOrFree makes a host with mk listening on addrs (the default
// addresses) or, when another socket already holds one of their ports
// (another node on this machine?), on free ports: any port serves as
// well, peers learn it by discovery.
//
// libp2p.New succeeds as long as one address listens, and go-libp2p binds
// TCP with SO_REUSEPORT, so a second node on the default port would share
// the first one's TCP port (the kernel then hands each incoming connection
// to either process) and silently lose QUIC. The ports are therefore
// probed first with plain sockets, which SO_REUSEPORT does not let in.
func listenOrFree(log *slog.Logger, addrs []string, mk func([]string) (host.Host, error)) (host.Host, error) {
	err := portsTaken(addrs)
	if err == nil {
		h, err2 := mk(addrs)
		if err2 == nil {
			return h, nil
		}
		err = err2
	}
	log.Warn("default port in use, listening on a free port instead", "addrs", addrs, "err", err)
	free := make([]string, 0, len(addrs))
	for _, a := range addrs {
		free = append(free, freePort(a))
	}
	return mk(free)
}

// portsTaken returns an error if a TCP or UDP port of addrs is bound by
// another socket. Other errors (no IPv6 on this machine, say) are left to
// libp2p to report or skip, as without the probe.
func portsTaken(addrs []string) error {
	for _, s := range addrs {
		m, err := ma.NewMultiaddr(s)
		if err != nil {
			return err
		}
		ip, fam := "", ""
		if v, err := m.ValueForProtocol(ma.P_IP4); err == nil {
			ip, fam = v, "4"
		} else if v, err := m.ValueForProtocol(ma.P_IP6); err == nil {
			ip, fam = v, "6"
		} else {
			continue
		}
		var probe func() error
		if port, err := m.ValueForProtocol(ma.P_TCP); err == nil && port != "0" {
			probe = func() error {
				l, err := net.Listen("tcp"+fam, net.JoinHostPort(ip, port))
				if err == nil {
					err = l.Close()
				}
				return err
			}
		} else if port, err := m.ValueForProtocol(ma.P_UDP); err == nil && port != "0" {
			probe = func() error {
				c, err := net.ListenPacket("udp"+fam, net.JoinHostPort(ip, port))
				if err == nil {
					err = c.Close()
				}
				return err
			}
		}
		if probe == nil {
			continue
		}
		if err := probe(); errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// freePort returns addr with its TCP or UDP port replaced by 0.
func freePort(addr string) string {
	m, err := ma.NewMultiaddr(addr)
	if err != nil {
		return addr
	}
	for _, p := range []string{"tcp", "udp"} {
		if port, err := m.ValueForProtocol(ma.ProtocolWithName(p).Code); err == nil {
			return strings.Replace(addr, "/"+p+"/"+port, "/"+p+"/0", 1)
		}
	}
	return addr
}
