package pbwire_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"slices"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"pgregory.net/rapid"

	"github.com/mentormesh/mentormesh/internal/pbwire"
)

func TestEncoder(t *testing.T) {
	tests := []struct {
		name  string
		build func(e *pbwire.Encoder)
		want  string // hex
	}{
		{"nothing", func(e *pbwire.Encoder) {}, ""},
		{"uint zero omitted", func(e *pbwire.Encoder) { e.Uint(1, 0) }, ""},
		{"uint one", func(e *pbwire.Encoder) { e.Uint(1, 1) }, "0801"},
		{"uint two-byte varint", func(e *pbwire.Encoder) { e.Uint(1, 300) }, "08ac02"},
		{"uint max", func(e *pbwire.Encoder) { e.Uint(1, 1<<64-1) }, "08ffffffffffffffffff01"},
		{"bool false omitted", func(e *pbwire.Encoder) { e.Bool(2, false) }, ""},
		{"bool true", func(e *pbwire.Encoder) { e.Bool(2, true) }, "1001"},
		{"bytes empty omitted", func(e *pbwire.Encoder) { e.BytesField(3, nil); e.BytesField(3, []byte{}) }, ""},
		{"bytes", func(e *pbwire.Encoder) { e.BytesField(3, []byte{0, 0xff}) }, "1a0200ff"},
		{"string empty omitted", func(e *pbwire.Encoder) { e.String(4, "") }, ""},
		{"string", func(e *pbwire.Encoder) { e.String(4, "hé") }, "220368c3a9"},
		{"strings skip empty", func(e *pbwire.Encoder) { e.Strings(5, []string{"a", "", "b"}) }, "2a01612a0162"},
		{"strings none", func(e *pbwire.Encoder) { e.Strings(5, nil) }, ""},
		{"two-byte tag", func(e *pbwire.Encoder) { e.Uint(16, 1) }, "800101"},
		{"max field number", func(e *pbwire.Encoder) { e.Uint(protowire.MaxValidNumber, 1) }, "f8ffffff0f01"},
		{"fields in call order, defaults skipped", func(e *pbwire.Encoder) {
			e.Uint(1, 7)
			e.String(2, "")
			e.String(3, "x")
			e.Bool(4, false)
			e.Bool(5, true)
		}, "08071a01782801"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e pbwire.Encoder
			tt.build(&e)
			if got := hex.EncodeToString(e.Bytes()); got != tt.want {
				t.Errorf("Encoder.Bytes() = %s, want %s", got, tt.want)
			}
		})
	}
}

// decodeAll runs a Decoder to the end and returns the fields it yielded.
func decodeAll(b []byte, repeated ...protowire.Number) ([]pbwire.Field, error) {
	var fields []pbwire.Field
	d := pbwire.NewDecoder(b, repeated...)
	for d.Next() {
		fields = append(fields, d.Field())
	}
	return fields, d.Err()
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(stripSpaces(s))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func TestDecoderErrors(t *testing.T) {
	tests := []struct {
		name     string
		in       string // hex
		repeated []protowire.Number
		want     error
	}{
		{"truncated tag", "80", nil, pbwire.ErrTruncated},
		{"truncated tag after field", "080180", nil, pbwire.ErrTruncated},
		{"truncated varint", "0880", nil, pbwire.ErrTruncated},
		{"missing varint", "08", nil, pbwire.ErrTruncated},
		{"missing length", "12", nil, pbwire.ErrTruncated},
		{"truncated length", "1280", nil, pbwire.ErrTruncated},
		{"truncated bytes", "12056162", nil, pbwire.ErrTruncated},
		{"non-minimal varint", "088100", nil, pbwire.ErrNonCanonical},
		{"non-minimal three-byte varint", "08ff8000", nil, pbwire.ErrNonCanonical},
		{"non-minimal tag", "880001", nil, pbwire.ErrNonCanonical},
		{"non-minimal length", "12810061", nil, pbwire.ErrNonCanonical},
		{"zero varint present", "0800", nil, pbwire.ErrNonCanonical},
		{"empty bytes present", "1200", nil, pbwire.ErrNonCanonical},
		{"field number zero", "0001", nil, pbwire.ErrNonCanonical},
		{"out of order", "10010801", nil, pbwire.ErrOrder},
		{"repeated non-repeated varint", "08010801", nil, pbwire.ErrOrder},
		{"repeated non-repeated bytes", "120161 120162", nil, pbwire.ErrOrder},
		{"repeated field of another number", "1a01611a0162", []protowire.Number{2}, pbwire.ErrOrder},
		{"repeated field not contiguous", "1a0161 2001 1a0162", []protowire.Number{3}, pbwire.ErrOrder},
		{"wire type 1 (fixed64)", "090102030405060708", nil, pbwire.ErrWireType},
		{"wire type 5 (fixed32)", "0d01020304", nil, pbwire.ErrWireType},
		{"wire type 3 (start group)", "0b", nil, pbwire.ErrWireType},
		{"wire type 4 (end group)", "0c", nil, pbwire.ErrWireType},
		{"wire type 6", "0e01", nil, pbwire.ErrWireType},
		{"wire type error after good field", "0801 1501020304", nil, pbwire.ErrWireType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := mustHex(t, tt.in)
			_, err := decodeAll(in, tt.repeated...)
			if !errors.Is(err, tt.want) {
				t.Errorf("decode(%x) error = %v, want %v", in, err, tt.want)
			}
		})
	}
}

func stripSpaces(s string) string {
	return string(slices.DeleteFunc([]byte(s), func(c byte) bool { return c == ' ' }))
}

func TestDecoderVarintOverflow(t *testing.T) {
	// Eleven bytes cannot be a uint64 varint.
	in := mustHex(t, "08ffffffffffffffffffff01")
	if _, err := decodeAll(in); err == nil {
		t.Errorf("decode(%x) error = nil, want an error", in)
	}
}

func TestDecoderValid(t *testing.T) {
	tests := []struct {
		name     string
		in       string // hex
		repeated []protowire.Number
		want     []pbwire.Field
	}{
		{"empty", "", nil, nil},
		{"varint", "08ac02", nil, []pbwire.Field{{Num: 1, Type: protowire.VarintType, Uint: 300}}},
		{"max varint", "08ffffffffffffffffff01", nil, []pbwire.Field{{Num: 1, Type: protowire.VarintType, Uint: 1<<64 - 1}}},
		{"bytes", "1a0200ff", nil, []pbwire.Field{{Num: 3, Type: protowire.BytesType, Bytes: []byte{0, 0xff}}}},
		{"ascending with gaps", "0801 1a0161 800101", nil, []pbwire.Field{
			{Num: 1, Type: protowire.VarintType, Uint: 1},
			{Num: 3, Type: protowire.BytesType, Bytes: []byte("a")},
			{Num: 16, Type: protowire.VarintType, Uint: 1},
		}},
		{"repeated allowed field contiguous", "0801 1a0161 1a0162 1a0163 2001", []protowire.Number{3}, []pbwire.Field{
			{Num: 1, Type: protowire.VarintType, Uint: 1},
			{Num: 3, Type: protowire.BytesType, Bytes: []byte("a")},
			{Num: 3, Type: protowire.BytesType, Bytes: []byte("b")},
			{Num: 3, Type: protowire.BytesType, Bytes: []byte("c")},
			{Num: 4, Type: protowire.VarintType, Uint: 1},
		}},
		{"repeated allowed but present once", "1a0161", []protowire.Number{3}, []pbwire.Field{
			{Num: 3, Type: protowire.BytesType, Bytes: []byte("a")},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := mustHex(t, tt.in)
			got, err := decodeAll(in, tt.repeated...)
			if err != nil {
				t.Fatalf("decode(%x) error = %v, want nil", in, err)
			}
			if !fieldsEqual(got, tt.want) {
				t.Errorf("decode(%x) = %+v, want %+v", in, got, tt.want)
			}
		})
	}
}

func fieldsEqual(a, b []pbwire.Field) bool {
	return slices.EqualFunc(a, b, func(x, y pbwire.Field) bool {
		return x.Num == y.Num && x.Type == y.Type && x.Uint == y.Uint && bytes.Equal(x.Bytes, y.Bytes)
	})
}

func TestDecoderNextStopsAfterError(t *testing.T) {
	in := mustHex(t, "1001 0801 1801") // field 1 after field 2, then a valid field 3
	d := pbwire.NewDecoder(in)
	n := 0
	for d.Next() {
		n++
	}
	if n != 1 {
		t.Errorf("fields before the error = %d, want 1", n)
	}
	if d.Next() {
		t.Errorf("Next() after error = true, want false")
	}
	if !errors.Is(d.Err(), pbwire.ErrOrder) {
		t.Errorf("Err() = %v, want %v", d.Err(), pbwire.ErrOrder)
	}
}

func TestDecoderAccessors(t *testing.T) {
	tests := []struct {
		name   string
		in     string // hex: a single field
		access func(d *pbwire.Decoder) any
		want   any
		err    error
	}{
		{"varint", "0805", func(d *pbwire.Decoder) any { return d.Varint() }, uint64(5), nil},
		{"varint of bytes field", "120161", func(d *pbwire.Decoder) any { return d.Varint() }, uint64(0), pbwire.ErrWireType},
		{"bool true", "0801", func(d *pbwire.Decoder) any { return d.Bool() }, true, nil},
		{"bool 2 is not canonical", "0802", func(d *pbwire.Decoder) any { return d.Bool() }, false, pbwire.ErrNonCanonical},
		{"bool of bytes field", "120101", func(d *pbwire.Decoder) any { return d.Bool() }, false, pbwire.ErrWireType},
		{"bytes", "1202ff00", func(d *pbwire.Decoder) any { return string(d.BytesValue()) }, "\xff\x00", nil},
		{"bytes of varint field", "0801", func(d *pbwire.Decoder) any { return d.BytesValue() == nil }, true, pbwire.ErrWireType},
		{"string", "1202c3a9", func(d *pbwire.Decoder) any { return d.StringValue() }, "é", nil},
		{"string invalid UTF-8", "1202c328", func(d *pbwire.Decoder) any { return d.StringValue() }, "", pbwire.ErrInvalidUTF8},
		{"string lone continuation byte", "120180", func(d *pbwire.Decoder) any { return d.StringValue() }, "", pbwire.ErrInvalidUTF8},
		{"string of varint field", "0801", func(d *pbwire.Decoder) any { return d.StringValue() }, "", pbwire.ErrWireType},
		{"unknown", "0801", func(d *pbwire.Decoder) any { d.Unknown(); return nil }, nil, pbwire.ErrUnknownField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := mustHex(t, tt.in)
			d := pbwire.NewDecoder(in)
			if !d.Next() {
				t.Fatalf("Next() on %x = false (err %v), want true", in, d.Err())
			}
			got := tt.access(d)
			if got != tt.want {
				t.Errorf("accessor on %x = %#v, want %#v", in, got, tt.want)
			}
			if err := d.Err(); !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Errorf("Err() after accessor on %x = %v, want %v", in, err, tt.err)
			}
			if tt.err != nil && d.Next() {
				t.Errorf("Next() after accessor error = true, want false")
			}
		})
	}
}

func TestDecoderFailKeepsFirstError(t *testing.T) {
	first := errors.New("first")
	d := pbwire.NewDecoder(mustHex(t, "08011001"))
	if !d.Next() {
		t.Fatalf("Next() = false (err %v), want true", d.Err())
	}
	d.Fail(first)
	d.Fail(errors.New("second"))
	d.Unknown()
	if d.Next() {
		t.Errorf("Next() after Fail = true, want false")
	}
	if err := d.Err(); err != first {
		t.Errorf("Err() = %v, want %v", err, first)
	}
}

// msgField is one field of a generated message, as the encoder sees it.
type msgField struct {
	num  protowire.Number
	kind int // 0 uint, 1 bool, 2 bytes, 3 repeated strings
	u    uint64
	b    []byte
	ss   []string
}

func genMessage(t *rapid.T) []msgField {
	nums := rapid.SliceOfNDistinct(rapid.Int32Range(1, int32(protowire.MaxValidNumber)), 0, 8, rapid.ID).Draw(t, "nums")
	slices.Sort(nums)
	fields := make([]msgField, len(nums))
	for i, n := range nums {
		f := msgField{num: protowire.Number(n), kind: rapid.IntRange(0, 3).Draw(t, "kind")}
		switch f.kind {
		case 0:
			f.u = rapid.OneOf(rapid.Just(uint64(0)), rapid.Uint64()).Draw(t, "u")
		case 1:
			f.u = uint64(rapid.IntRange(0, 1).Draw(t, "bool"))
		case 2:
			f.b = rapid.SliceOfN(rapid.Byte(), 0, 300).Draw(t, "b")
		case 3:
			f.ss = rapid.SliceOfN(rapid.String(), 0, 4).Draw(t, "ss")
		}
		fields[i] = f
	}
	return fields
}

// TestRoundTrip checks that what the encoder writes the decoder reads back,
// field for field, with defaults absent.
func TestRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		msg := genMessage(t)
		var e pbwire.Encoder
		var want []pbwire.Field
		var repeated []protowire.Number
		for _, f := range msg {
			switch f.kind {
			case 0:
				e.Uint(f.num, f.u)
				if f.u != 0 {
					want = append(want, pbwire.Field{Num: f.num, Type: protowire.VarintType, Uint: f.u})
				}
			case 1:
				e.Bool(f.num, f.u == 1)
				if f.u == 1 {
					want = append(want, pbwire.Field{Num: f.num, Type: protowire.VarintType, Uint: 1})
				}
			case 2:
				e.BytesField(f.num, f.b)
				if len(f.b) > 0 {
					want = append(want, pbwire.Field{Num: f.num, Type: protowire.BytesType, Bytes: f.b})
				}
			case 3:
				e.Strings(f.num, f.ss)
				repeated = append(repeated, f.num)
				for _, s := range f.ss {
					if s != "" {
						want = append(want, pbwire.Field{Num: f.num, Type: protowire.BytesType, Bytes: []byte(s)})
					}
				}
			}
		}
		got, err := decodeAll(e.Bytes(), repeated...)
		if err != nil {
			t.Fatalf("decode(%x) error = %v, want nil", e.Bytes(), err)
		}
		if !fieldsEqual(got, want) {
			t.Fatalf("decode(%x) = %+v, want %+v", e.Bytes(), got, want)
		}
	})
}

// reencode writes decoded fields back with the Encoder.
func reencode(fields []pbwire.Field) []byte {
	var e pbwire.Encoder
	for _, f := range fields {
		if f.Type == protowire.VarintType {
			e.Uint(f.Num, f.Uint)
		} else {
			e.BytesField(f.Num, f.Bytes)
		}
	}
	return e.Bytes()
}

// checkCanonical asserts the decoder's central promise: whatever it accepts
// is exactly what the encoder writes for the same fields, so one logical
// value has one encoding.
func checkCanonical(t interface{ Fatalf(string, ...any) }, in []byte) {
	got, err := decodeAll(in, 3)
	if err != nil {
		return
	}
	if out := reencode(got); !bytes.Equal(out, in) {
		t.Fatalf("reencode(decode(%x)) = %x, want the input", in, out)
	}
}

func TestDecoderAcceptsOnlyCanonical(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		checkCanonical(t, rapid.SliceOfN(rapid.Byte(), 0, 32).Draw(t, "in"))
	})
}

func FuzzDecoder(f *testing.F) {
	for _, s := range []string{"", "0801", "08ac02", "088100", "1a01611a0162", "0801 1a0161 800101", "0d01020304", "80"} {
		f.Add(mustHex(f, s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkCanonical(t, in)
	})
}
