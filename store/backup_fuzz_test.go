package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// FuzzFrameReader feeds arbitrary bytes to the reader that stands between
// a backup file and Badger's loader: it never panics, never passes on a
// frame header above MaxBackupFrame, and passes well-framed input through
// unchanged.
func FuzzFrameReader(f *testing.F) {
	frame := func(body []byte) []byte {
		return append(binary.LittleEndian.AppendUint64(nil, uint64(len(body))), body...)
	}
	f.Add([]byte{})
	f.Add(frame([]byte("hello")))
	f.Add(append(frame(nil), frame([]byte{1, 2, 3})...))
	f.Add(binary.LittleEndian.AppendUint64(nil, 1<<40))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		fr := &frameReader{r: bytes.NewReader(data), ctx: context.Background()}
		out, err := io.ReadAll(fr)
		if err != nil && !errors.Is(err, ErrBadBackup) {
			t.Fatalf("error %v does not wrap ErrBadBackup", err)
		}
		if !bytes.HasPrefix(data, out) {
			t.Fatalf("the reader changed the bytes it passed on")
		}
		// Walk the frames passed on: every header is within the cap.
		for rest := out; len(rest) >= 8; {
			size := binary.LittleEndian.Uint64(rest)
			if size > MaxBackupFrame {
				t.Fatalf("a frame header of %d bytes was passed on", size)
			}
			if uint64(len(rest)-8) < size {
				break
			}
			rest = rest[8+size:]
		}
		if err == nil && len(out) != len(data) {
			t.Fatalf("read %d of %d bytes without an error", len(out), len(data))
		}
	})
}
