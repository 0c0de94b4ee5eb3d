package reconcile_test

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/mentormesh/mentormesh/sync/reconcile"
	"github.com/mentormesh/mentormesh/sync/record"
)

// Peers that break the protocol, talk garbage or try to make a node work
// without end, speaking over raw streams.

// rawStream opens a catch-up stream from a bare host, to speak the
// protocol (or not) by hand.
func rawStream(t *testing.T, from host.Host, to peer.ID) network.Stream {
	t.Helper()
	str, err := from.NewStream(testCtx(t), to, reconcile.Protocol)
	if err != nil {
		t.Fatalf("opening stream: %v", err)
	}
	t.Cleanup(func() { str.Reset() })
	return str
}

func writeRaw(t *testing.T, w io.Writer, f reconcile.Frame) {
	t.Helper()
	payload := reconcile.EncodeFrame(f)
	if _, err := w.Write(append(binary.AppendUvarint(nil, uint64(len(payload))), payload...)); err != nil {
		t.Fatalf("writing frame: %v", err)
	}
}

// readRaw reads one frame as a peer would.
func readRaw(r *bufio.Reader) (reconcile.Frame, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return reconcile.Frame{}, err
	}
	if n > reconcile.MaxFrameSize {
		return reconcile.Frame{}, fmt.Errorf("frame of %d bytes", n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return reconcile.Frame{}, err
	}
	return reconcile.DecodeFrame(buf)
}

// readTurn reads frames up to the end of a turn; it returns the frames and
// stops early at a frame with Error set.
func readTurn(r *bufio.Reader) ([]reconcile.Frame, error) {
	var fs []reconcile.Frame
	for {
		f, err := readRaw(r)
		if err != nil {
			return fs, err
		}
		fs = append(fs, f)
		if f.EndOfTurn || f.Error != "" {
			return fs, nil
		}
	}
}

// waitStreamDead waits until the peer has closed or reset str.
func waitStreamDead(t *testing.T, str network.Stream, timeout time.Duration) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, str)
		if err == nil {
			err = io.EOF
		}
		done <- err
	}()
	select {
	case <-done:
	case <-time.After(timeout):
		t.Fatalf("the responder kept the stream open for %s", timeout)
	}
}

// TestServiceRefusesOversizedFrame: a frame announced larger than
// MaxFrameSize ends the session at once, without waiting for its payload
// (which never comes: waiting would last until the session timeout).
func TestServiceRefusesOversizedFrame(t *testing.T) {
	header := binary.AppendUvarint(nil, reconcile.MaxFrameSize+1)

	t.Run("responder", func(t *testing.T) {
		b := newSvcPeer(t, svcConfig{opts: reconcile.ServiceOptions{SessionTimeout: time.Minute}})
		a := newTestHost(t)
		connectHosts(t, a, b.h)
		str := rawStream(t, a, b.h.ID())
		if _, err := str.Write(header); err != nil {
			t.Fatal(err)
		}
		e := b.nextEnd(t, 10*time.Second)
		if !errors.Is(e.err, reconcile.ErrProtocol) {
			t.Errorf("responder's error = %v, want a protocol violation", e.err)
		}
		waitStreamDead(t, str, 10*time.Second)
	})

	t.Run("initiator", func(t *testing.T) {
		a := newSvcPeer(t, svcConfig{opts: reconcile.ServiceOptions{SessionTimeout: time.Minute}})
		b := newTestHost(t)
		b.SetStreamHandler(reconcile.Protocol, func(str network.Stream) {
			defer str.Close()
			if _, err := readTurn(bufio.NewReader(str)); err != nil {
				return
			}
			_, _ = str.Write(header)
			_, _ = io.Copy(io.Discard, str) // hold the stream open
		})
		connectHosts(t, a.h, b)
		start := time.Now()
		_, err := a.svc.Sync(testCtx(t), b.ID(), sociocracy)
		if !errors.Is(err, reconcile.ErrProtocol) {
			t.Errorf("Sync against an oversized frame: err = %v, want a protocol violation", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("Sync took %s to refuse the frame", d)
		}
	})
}

// TestServiceGarbage: whatever a peer sends, the responder ends the session
// with an error (a protocol violation where the bytes are malformed), never
// panics, and goes on serving others.
func TestServiceGarbage(t *testing.T) {
	frame := func(f reconcile.Frame) []byte {
		p := reconcile.EncodeFrame(f)
		return append(binary.AppendUvarint(nil, uint64(len(p))), p...)
	}
	prefixed := func(payload []byte) []byte {
		return append(binary.AppendUvarint(nil, uint64(len(payload))), payload...)
	}
	inf := reconcile.Bound{Inf: true}
	// An ID list of 5 bytes, built by hand: EncodeFrame packs whole IDs.
	idRange := []byte{0x18, 0x02, 0x2a, 0x05, 1, 2, 3, 4, 5} // mode 2, 5 bytes of IDs
	oddIDList := append([]byte{0x0a, 0x0a}, "sociocracy"...)
	oddIDList = append(oddIDList, 0x1a, byte(len(idRange)))
	oddIDList = append(oddIDList, idRange...)
	oddIDList = append(oddIDList, 0x30, 0x01)
	tests := []struct {
		name     string
		bytes    []byte
		protocol bool // the error must be ErrProtocol
	}{
		{"random payload", prefixed([]byte("\x07\xff\xfe garbage \x00\x01\x02\x03")), true},
		{"unknown field", prefixed([]byte{0x40, 0x01}), true},
		{"fields out of order", prefixed([]byte{0x30, 0x01, 0x0a, 0x01, 'x'}), true},
		{"non-canonical varint", prefixed([]byte{0x30, 0x81, 0x00}), true},
		{"length beyond the payload", prefixed([]byte{0x0a, 0x7f, 'x'}), true},
		{"bad community", frame(reconcile.Frame{Community: "Not A Community!", EndOfTurn: true}), true},
		{"no community", frame(reconcile.Frame{EndOfTurn: true}), true},
		{"short author", prefixed([]byte{0x0a, 0x01, 'x', 0x12, 0x03, 1, 2, 3}), true},
		{"ID list not a multiple of 32", prefixed(oddIDList), true},
		{"bounds not increasing", frame(reconcile.Frame{Community: "sociocracy", EndOfTurn: true, Ranges: []reconcile.Range{
			{Upper: reconcile.Bound{Timestamp: 9}, Mode: reconcile.FingerprintMode},
			{Upper: reconcile.Bound{Timestamp: 5}, Mode: reconcile.FingerprintMode},
		}}), true},
		{"final turn with bounds not increasing", frame(reconcile.Frame{Community: "sociocracy", EndOfTurn: true, Ranges: []reconcile.Range{
			{Upper: reconcile.Bound{Timestamp: 9}, Mode: reconcile.Skip},
			{Upper: reconcile.Bound{Timestamp: 5}, Mode: reconcile.Skip},
		}}), true},
		{"unknown range mode", frame(reconcile.Frame{Community: "sociocracy", EndOfTurn: true,
			Ranges: []reconcile.Range{{Upper: inf, Mode: 9}}}), true},
		{"record that is not a record", frame(reconcile.Frame{Community: "sociocracy", EndOfTurn: true,
			Records: [][]byte{[]byte("not a record")}}), false},
		{"stream closed mid-frame", prefixed([]byte("truncated"))[:5], false},
		{"stream closed mid-length", []byte{0xff, 0xff}, false},
		{"stream closed mid-turn", frame(reconcile.Frame{Community: "sociocracy"}), true},
		{"nothing at all", nil, false},
	}
	b := newSvcPeer(t, svcConfig{opts: reconcile.ServiceOptions{SessionTimeout: 30 * time.Second}})
	for i := range 40 {
		put(t, b.store, profile(t, key(i), 1, "b"))
	}
	a := newSvcPeer(t, svcConfig{})
	connectHosts(t, a.h, b.h)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			str := rawStream(t, a.h, b.h.ID())
			if _, err := str.Write(tt.bytes); err != nil {
				t.Fatal(err)
			}
			if err := str.CloseWrite(); err != nil {
				t.Fatal(err)
			}
			e := b.nextEnd(t, 10*time.Second)
			switch {
			case e.err == nil:
				t.Errorf("session ended without an error")
			case tt.protocol && !errors.Is(e.err, reconcile.ErrProtocol):
				t.Errorf("error = %v, want a protocol violation", e.err)
			}
			waitStreamDead(t, str, 10*time.Second)
		})
	}
	if _, err := a.svc.Sync(testCtx(t), b.h.ID(), sociocracy); err != nil {
		t.Errorf("honest session after the garbage: %v", err)
	}
	if len(b.store.byID) != 40 || a.store.digest() != b.store.digest() {
		t.Errorf("b holds %d records after the garbage and a session, want its 40, same as a", len(b.store.byID))
	}
}

// TestServiceStopsAtMaxTurns: a peer that answers every turn with a fresh
// fingerprint that never matches is cut off after MaxTurns.
func TestServiceStopsAtMaxTurns(t *testing.T) {
	const maxTurns = 8
	b := newSvcPeer(t, svcConfig{limits: reconcile.Limits{MaxTurns: maxTurns}})
	for i := range 100 {
		put(t, b.store, profile(t, key(i), 1, "b"))
	}
	a := newTestHost(t)
	connectHosts(t, a, b.h)
	str := rawStream(t, a, b.h.ID())
	r := bufio.NewReader(str)
	// The responder ends the session with an error frame, but resets the
	// stream right after it, which may discard the frame before it is read.
	var reason string
	var ended error
	sent := 0
	for ; sent <= maxTurns && reason == "" && ended == nil; sent++ {
		var fp reconcile.Fingerprint
		fp[0], fp[1] = 0xee, byte(sent)
		f := reconcile.Frame{EndOfTurn: true,
			Ranges: []reconcile.Range{{Upper: reconcile.Bound{Inf: true}, Mode: reconcile.FingerprintMode, Fingerprint: fp}}}
		if sent == 0 {
			f.Community = "sociocracy"
		}
		writeRaw(t, str, f)
		fs, err := readTurn(r)
		switch {
		case err != nil:
			ended = err
		case fs[len(fs)-1].Error != "":
			reason = fs[len(fs)-1].Error
		}
	}
	if reason == "" && ended == nil {
		t.Fatalf("after %d turns the responder still answers", sent)
	}
	if reason != "" && !strings.Contains(reason, "no convergence") {
		t.Errorf("the responder ended the session with %q, want no convergence", reason)
	}
	if sent > maxTurns/2+1 {
		t.Errorf("the peer got to send %d turns, want at most %d", sent, maxTurns/2+1)
	}
	e := b.nextEnd(t, 5*time.Second)
	if !errors.Is(e.err, reconcile.ErrProtocol) || !strings.Contains(e.err.Error(), "no convergence") || e.stats.Turns > maxTurns+1 {
		t.Errorf("responder's Done: err %v after %d turns, want a protocol violation after at most %d", e.err, e.stats.Turns, maxTurns+1)
	}
}

// TestServiceTurnLimits: a turn may not grow without bound, whether in
// frames, in wanted records or in range IDs.
func TestServiceTurnLimits(t *testing.T) {
	inf := reconcile.Bound{Inf: true}
	idList := func(ts uint64, n int) reconcile.Range {
		ids := make([]record.ID, n)
		for i := range ids {
			binary.BigEndian.PutUint64(ids[i][:], ts<<32|uint64(i))
		}
		return reconcile.Range{Upper: reconcile.Bound{Timestamp: ts}, Mode: reconcile.IDListMode, IDs: ids}
	}
	tests := []struct {
		name   string
		limits reconcile.Limits
		send   func(t *testing.T, w io.Writer)
		want   string
	}{
		{
			name: "endless frames",
			send: func(t *testing.T, w io.Writer) {
				writeRaw(t, w, reconcile.Frame{Community: "sociocracy"})
				// An empty frame is one byte, its zero length.
				bw := bufio.NewWriter(w)
				for range reconcile.MaxFramesPerTurn {
					if bw.WriteByte(0) != nil {
						return // cut off
					}
				}
				_ = bw.Flush()
			},
			want: "frames in one turn",
		},
		{
			name:   "too many wants",
			limits: reconcile.Limits{MaxWants: 100},
			send: func(t *testing.T, w io.Writer) {
				writeRaw(t, w, reconcile.Frame{Community: "sociocracy", Want: make([]record.ID, 60)})
				writeRaw(t, w, reconcile.Frame{Want: make([]record.ID, 60), EndOfTurn: true})
			},
			want: "wanted records",
		},
		{
			name: "too many ranges",
			send: func(t *testing.T, w io.Writer) {
				writeRaw(t, w, reconcile.Frame{Community: "sociocracy"})
				// Skip ranges with increasing bounds, 8192 per frame.
				ts := uint64(1)
				for range reconcile.MaxRangesPerTurn/8192 + 1 {
					rs := make([]reconcile.Range, 8192)
					for i := range rs {
						rs[i] = reconcile.Range{Upper: reconcile.Bound{Timestamp: ts}}
						ts++
					}
					writeRaw(t, w, reconcile.Frame{Ranges: rs})
				}
				writeRaw(t, w, reconcile.Frame{Ranges: []reconcile.Range{{Upper: inf}}, EndOfTurn: true})
			},
			want: "ranges in one turn",
		},
		{
			name: "too many range IDs",
			send: func(t *testing.T, w io.Writer) {
				writeRaw(t, w, reconcile.Frame{Community: "sociocracy"})
				// Full ID lists, 7 per frame (just under MaxFrameSize):
				// far more IDs than an honest turn ever carries.
				ts := uint64(1)
				for range (reconcile.MaxIDsPerTurn/reconcile.MaxIDsPerRange)/7 + 1 {
					var rs []reconcile.Range
					for range 7 {
						rs = append(rs, idList(ts, reconcile.MaxIDsPerRange))
						ts++
					}
					if !writeRawOK(w, reconcile.Frame{Ranges: rs}) {
						return // cut off
					}
				}
				writeRawOK(w, reconcile.Frame{EndOfTurn: true})
			},
			want: "IDs in one turn",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newSvcPeer(t, svcConfig{limits: tt.limits})
			put(t, b.store, profile(t, key(1), 1, "b"))
			a := newTestHost(t)
			connectHosts(t, a, b.h)
			str := rawStream(t, a, b.h.ID())
			go func() {
				// Read the responder's error frame, so its abort does not
				// block on a full stream.
				_, _ = io.Copy(io.Discard, str)
			}()
			tt.send(t, str)
			e := b.nextEnd(t, 30*time.Second)
			if !errors.Is(e.err, reconcile.ErrProtocol) || !strings.Contains(e.err.Error(), tt.want) {
				t.Errorf("responder's error = %v, want a protocol violation about %s", e.err, tt.want)
			}
		})
	}
}

// writeRawOK writes a frame and reports whether the write succeeded (the
// responder may cut the stream off while the test still writes).
func writeRawOK(w io.Writer, f reconcile.Frame) bool {
	payload := reconcile.EncodeFrame(f)
	_, err := w.Write(append(binary.AppendUvarint(nil, uint64(len(payload))), payload...))
	return err == nil
}
