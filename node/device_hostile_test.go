package node

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/mentormesh/mentormesh/node/api"
)

// TestDeviceLinkHostile speaks the device-link protocol to a primary as a
// stranger: an oversized frame, garbage, and a well-formed request with a
// proof for no code. Each is refused (the last with a refusal the stranger
// can read), nothing is written, and the pending code still works for the
// real device afterwards.
func TestDeviceLinkHostile(t *testing.T) {
	ctx := context.Background()
	a := startTestNode(t)
	code, err := a.Local().LinkDevice(ctx, api.DeviceLinkInput{Name: "laptop"})
	if err != nil {
		t.Fatal(err)
	}
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	if err := h.Connect(ctx, peer.AddrInfo{ID: a.hostID(), Addrs: a.net.h.Addrs()}); err != nil {
		t.Fatal(err)
	}
	send := func(frame []byte) ([]byte, error) {
		t.Helper()
		s, err := h.NewStream(ctx, a.hostID(), DeviceLinkProtocol)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		_ = s.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := s.Write(frame); err != nil {
			return nil, err
		}
		_ = s.CloseWrite()
		return io.ReadAll(s)
	}
	huge := binary.AppendUvarint(nil, 1<<30)
	garbage := append(binary.AppendUvarint(nil, 4), 0xff, 0xff, 0xff, 0xff)
	for name, frame := range map[string][]byte{"oversized frame": huge, "garbage": garbage, "truncated": {0x05, 0x0a}} {
		if out, err := send(frame); err == nil && len(out) > 0 {
			t.Errorf("%s: the primary answered %x, want the stream ended without an answer", name, out)
		}
	}
	var buf strings.Builder
	_ = writeFrame(&buf, encodeLinkRequest(make([]byte, 32)))
	out, err := send([]byte(buf.String()))
	if err != nil {
		t.Fatalf("wrong proof: %v", err)
	}
	frame, err := readFrame(bufio.NewReader(strings.NewReader(string(out))), maxLinkGrant)
	if err != nil {
		t.Fatal(err)
	}
	g, err := decodeLinkGrant(frame)
	if err != nil || !strings.Contains(g.err, "unknown, used or expired") {
		t.Fatalf("wrong proof: grant %+v (%v), want a refusal", g, err)
	}
	devs, err := a.Local().Devices(ctx, "")
	if err != nil || len(devs) != 1 {
		t.Fatalf("devices after hostile attempts = %+v, %v; want the primary alone", devs, err)
	}
	if _, err := JoinDevice(ctx, t.TempDir(), code.Code, nil); err != nil {
		t.Fatalf("JoinDevice after the hostile attempts: %v", err)
	}
}
