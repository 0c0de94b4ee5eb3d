package reconcile

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/mentormesh/mentormesh/internal/pbwire"
	"github.com/mentormesh/mentormesh/sync/record"
)

// MaxFrameSize caps one frame's payload; a peer announcing a larger frame
// is cut off before anything is read.
const MaxFrameSize = 1 << 20

// Frame is one message on a reconciliation stream. A turn is a run of
// frames ending with one whose EndOfTurn is set.
type Frame struct {
	// Community and Author open a session (first frame of the initiator
	// only): the set to reconcile.
	Community string
	Author    *record.Author
	Ranges    []Range
	Want      []record.ID
	Records   [][]byte
	EndOfTurn bool
	// Error aborts the session, with a reason for the peer's log.
	Error string
}

// Field numbers (docs/PROTOCOL.md, "Catch-up").
const (
	fFrameCommunity = 1
	fFrameAuthor    = 2
	fFrameRange     = 3
	fFrameWant      = 4
	fFrameRecord    = 5
	fFrameEnd       = 6
	fFrameError     = 7

	fRangeTS     = 1
	fRangePrefix = 2
	fRangeMode   = 3
	fRangeFP     = 4
	fRangeIDs    = 5
)

func encodeRange(r Range) []byte {
	var e pbwire.Encoder
	if !r.Upper.Inf {
		e.Uint(fRangeTS, r.Upper.Timestamp)
		e.BytesField(fRangePrefix, r.Upper.Prefix)
	}
	e.Uint(fRangeMode, uint64(r.Mode))
	if r.Mode == FingerprintMode {
		e.BytesField(fRangeFP, r.Fingerprint[:])
	}
	if r.Mode == IDListMode {
		e.BytesField(fRangeIDs, packIDs(r.IDs))
	}
	return e.Bytes()
}

func decodeRange(b []byte) (Range, error) {
	var r Range
	var fp, idsRaw []byte
	d := pbwire.NewDecoder(b)
	for d.Next() {
		switch d.Field().Num {
		case fRangeTS:
			r.Upper.Timestamp = d.Varint()
		case fRangePrefix:
			r.Upper.Prefix = d.BytesValue()
		case fRangeMode:
			r.Mode = Mode(min(d.Varint(), 255))
		case fRangeFP:
			fp = d.BytesValue()
		case fRangeIDs:
			idsRaw = d.BytesValue()
		default:
			d.Unknown()
		}
	}
	if err := d.Err(); err != nil {
		return r, fmt.Errorf("%w: range: %w", ErrProtocol, err)
	}
	if r.Upper.Timestamp == 0 {
		if r.Upper.Prefix != nil {
			return r, fmt.Errorf("%w: range bound with a prefix but no timestamp", ErrProtocol)
		}
		r.Upper.Inf = true
	}
	switch r.Mode {
	case FingerprintMode:
		if len(fp) != FingerprintSize || idsRaw != nil {
			return r, fmt.Errorf("%w: fingerprint range needs a %d-byte fingerprint and no IDs", ErrProtocol, FingerprintSize)
		}
		copy(r.Fingerprint[:], fp)
	case IDListMode:
		if fp != nil {
			return r, fmt.Errorf("%w: ID-list range with a fingerprint", ErrProtocol)
		}
		ids, err := unpackIDs(idsRaw)
		if err != nil {
			return r, err
		}
		r.IDs = ids
	default:
		if fp != nil || idsRaw != nil {
			return r, fmt.Errorf("%w: skip range with a payload", ErrProtocol)
		}
	}
	return r, nil
}

func packIDs(ids []record.ID) []byte {
	out := make([]byte, 0, len(ids)*len(record.ID{}))
	for _, id := range ids {
		out = append(out, id[:]...)
	}
	return out
}

func unpackIDs(b []byte) ([]record.ID, error) {
	const n = len(record.ID{})
	if len(b)%n != 0 {
		return nil, fmt.Errorf("%w: ID list of %d bytes is not a multiple of %d", ErrProtocol, len(b), n)
	}
	ids := make([]record.ID, len(b)/n)
	for i := range ids {
		copy(ids[i][:], b[i*n:])
	}
	return ids, nil
}

// EncodeFrame returns a frame's payload (without the length prefix).
func EncodeFrame(f Frame) []byte {
	var e pbwire.Encoder
	e.String(fFrameCommunity, f.Community)
	if f.Author != nil {
		e.BytesField(fFrameAuthor, f.Author[:])
	}
	for _, r := range f.Ranges {
		e.BytesField(fFrameRange, encodeRange(r))
	}
	e.BytesField(fFrameWant, packIDs(f.Want))
	for _, rec := range f.Records {
		e.BytesField(fFrameRecord, rec)
	}
	e.Bool(fFrameEnd, f.EndOfTurn)
	e.String(fFrameError, f.Error)
	return e.Bytes()
}

// DecodeFrame parses a frame payload strictly.
func DecodeFrame(b []byte) (Frame, error) {
	var f Frame
	d := pbwire.NewDecoder(b, fFrameRange, fFrameRecord)
	for d.Next() {
		switch d.Field().Num {
		case fFrameCommunity:
			f.Community = d.StringValue()
		case fFrameAuthor:
			v := d.BytesValue()
			if len(v) != len(record.Author{}) {
				d.Fail(fmt.Errorf("%w: author of %d bytes", ErrProtocol, len(v)))
				break
			}
			var a record.Author
			copy(a[:], v)
			f.Author = &a
		case fFrameRange:
			if len(f.Ranges) >= MaxRangesPerTurn {
				d.Fail(fmt.Errorf("%w: more than %d ranges in a frame", ErrProtocol, MaxRangesPerTurn))
				break
			}
			r, err := decodeRange(d.BytesValue())
			if err != nil {
				d.Fail(err)
				break
			}
			f.Ranges = append(f.Ranges, r)
		case fFrameWant:
			ids, err := unpackIDs(d.BytesValue())
			if err != nil {
				d.Fail(err)
				break
			}
			f.Want = ids
		case fFrameRecord:
			if len(f.Records) >= MaxRecordsPerFrame {
				d.Fail(fmt.Errorf("%w: more than %d records in a frame", ErrProtocol, MaxRecordsPerFrame))
				break
			}
			f.Records = append(f.Records, d.BytesValue())
		case fFrameEnd:
			f.EndOfTurn = d.Bool()
		case fFrameError:
			f.Error = d.StringValue()
		default:
			d.Unknown()
		}
	}
	if err := d.Err(); err != nil {
		if errors.Is(err, ErrProtocol) {
			return f, err
		}
		return f, fmt.Errorf("%w: frame: %w", ErrProtocol, err)
	}
	return f, nil
}

// frameReader reads length-prefixed frames.
type frameReader struct {
	r *bufio.Reader
}

func newFrameReader(r io.Reader) *frameReader { return &frameReader{r: bufio.NewReader(r)} }

// next reads one frame. The length is checked before the payload is read,
// so a peer cannot make the node allocate more than MaxFrameSize.
func (fr *frameReader) next() (Frame, int, error) {
	n, err := binary.ReadUvarint(fr.r)
	if err != nil {
		return Frame{}, 0, err
	}
	if n > MaxFrameSize {
		return Frame{}, 0, fmt.Errorf("%w: frame of %d bytes, limit %d", ErrProtocol, n, MaxFrameSize)
	}
	// A fresh buffer per frame: the decoded frame aliases it.
	buf := make([]byte, n)
	if _, err := io.ReadFull(fr.r, buf); err != nil {
		return Frame{}, 0, err
	}
	f, err := DecodeFrame(buf)
	return f, int(n) + uvarintLen(n), err
}

func writeFrame(w io.Writer, f Frame) (int, error) {
	payload := EncodeFrame(f)
	if len(payload) > MaxFrameSize {
		return 0, fmt.Errorf("frame of %d bytes exceeds the limit", len(payload))
	}
	out := binary.AppendUvarint(make([]byte, 0, len(payload)+binary.MaxVarintLen64), uint64(len(payload)))
	out = append(out, payload...)
	return w.Write(out)
}

func uvarintLen(n uint64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], n)
}
