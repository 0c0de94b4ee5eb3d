// Package pbwire writes and reads the canonical subset of the protobuf wire
// format that mentormesh signs: fields in strictly ascending order, each at
// most once (repeated fields excepted, which must be contiguous), default
// values omitted, varints in their shortest form, and only the varint (0) and
// length-delimited (2) wire types.
//
// Canonical bytes matter because signatures cover the exact encoding and a
// record's ID is the hash of its bytes: one logical value must have exactly
// one encoding, or the same record could circulate under several IDs.
//
// The package is pure (standard library and protowire only) so that both the
// replication layer and the domain can use it.
package pbwire

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// Encoder appends fields to a buffer. Callers must add fields in ascending
// field-number order; Encoder omits default (zero) values itself.
type Encoder struct {
	buf []byte
}

// Bytes returns the encoded message.
func (e *Encoder) Bytes() []byte { return e.buf }

// Uint appends a varint field unless v is zero.
func (e *Encoder) Uint(num protowire.Number, v uint64) {
	if v == 0 {
		return
	}
	e.buf = protowire.AppendTag(e.buf, num, protowire.VarintType)
	e.buf = protowire.AppendVarint(e.buf, v)
}

// Bool appends a varint field holding 1 when v is true.
func (e *Encoder) Bool(num protowire.Number, v bool) {
	if v {
		e.Uint(num, 1)
	}
}

// BytesField appends a length-delimited field unless b is empty.
func (e *Encoder) BytesField(num protowire.Number, b []byte) {
	if len(b) == 0 {
		return
	}
	e.buf = protowire.AppendTag(e.buf, num, protowire.BytesType)
	e.buf = protowire.AppendBytes(e.buf, b)
}

// String appends a length-delimited field unless s is empty.
func (e *Encoder) String(num protowire.Number, s string) {
	if s == "" {
		return
	}
	e.buf = protowire.AppendTag(e.buf, num, protowire.BytesType)
	e.buf = protowire.AppendString(e.buf, s)
}

// Strings appends one length-delimited field per element (a repeated
// string). Empty elements are not allowed in canonical form and are skipped.
func (e *Encoder) Strings(num protowire.Number, ss []string) {
	for _, s := range ss {
		e.String(num, s)
	}
}

// Errors returned by Decoder. They are wrapped with the field number and
// offset, so callers can match them with errors.Is.
var (
	ErrTruncated    = errors.New("truncated input")
	ErrNonCanonical = errors.New("non-canonical encoding")
	ErrWireType     = errors.New("unexpected wire type")
	ErrOrder        = errors.New("fields out of order or repeated")
	ErrUnknownField = errors.New("unknown field")
	ErrInvalidUTF8  = errors.New("string is not valid UTF-8")
)

// Field is one decoded field. For varint fields Uint holds the value; for
// length-delimited fields Bytes aliases the input.
type Field struct {
	Num   protowire.Number
	Type  protowire.Type
	Uint  uint64
	Bytes []byte
}

// Decoder reads fields from canonical bytes, checking canonical form as it
// goes. Use Next until it returns false, then check Err.
type Decoder struct {
	b        []byte
	off      int
	last     protowire.Number
	repeated map[protowire.Number]bool
	err      error
	f        Field
}

// NewDecoder returns a decoder over b. Field numbers listed in repeated may
// occur several times in a row; any other number may occur once.
func NewDecoder(b []byte, repeated ...protowire.Number) *Decoder {
	d := &Decoder{b: b}
	if len(repeated) > 0 {
		d.repeated = make(map[protowire.Number]bool, len(repeated))
		for _, n := range repeated {
			d.repeated[n] = true
		}
	}
	return d
}

// Next decodes the next field. It returns false at the end of input or on
// the first error.
func (d *Decoder) Next() bool {
	if d.err != nil || d.off >= len(d.b) {
		return false
	}
	rest := d.b[d.off:]
	num, typ, n := protowire.ConsumeTag(rest)
	if n < 0 {
		return d.fail(fmt.Errorf("tag at offset %d: %w", d.off, tagErr(n)))
	}
	if n != protowire.SizeTag(num) {
		return d.fail(fmt.Errorf("tag of field %d at offset %d: %w", num, d.off, ErrNonCanonical))
	}
	if num < d.last || (num == d.last && !d.repeated[num]) {
		return d.fail(fmt.Errorf("field %d after field %d at offset %d: %w", num, d.last, d.off, ErrOrder))
	}
	rest = rest[n:]
	f := Field{Num: num, Type: typ}
	switch typ {
	case protowire.VarintType:
		v, m := protowire.ConsumeVarint(rest)
		if m < 0 {
			return d.fail(fmt.Errorf("field %d: %w", num, ErrTruncated))
		}
		if m != protowire.SizeVarint(v) || v == 0 {
			// Zero values are omitted in canonical form.
			return d.fail(fmt.Errorf("field %d: %w", num, ErrNonCanonical))
		}
		f.Uint = v
		n += m
	case protowire.BytesType:
		v, m := protowire.ConsumeBytes(rest)
		if m < 0 {
			return d.fail(fmt.Errorf("field %d: %w", num, ErrTruncated))
		}
		if m != protowire.SizeBytes(len(v)) || len(v) == 0 {
			return d.fail(fmt.Errorf("field %d: %w", num, ErrNonCanonical))
		}
		f.Bytes = v
		n += m
	default:
		return d.fail(fmt.Errorf("field %d has wire type %d: %w", num, typ, ErrWireType))
	}
	d.off += n
	d.last = num
	d.f = f
	return true
}

// Field returns the field decoded by the last successful Next.
func (d *Decoder) Field() Field { return d.f }

// Err returns the first error met, or nil.
func (d *Decoder) Err() error { return d.err }

// Fail records err (if no error is recorded yet) and stops decoding. Callers
// use it to report a field with the wrong type or an invalid value.
func (d *Decoder) Fail(err error) { d.fail(err) }

func (d *Decoder) fail(err error) bool {
	if d.err == nil {
		d.err = err
	}
	return false
}

func tagErr(n int) error {
	if n == -1 { // protowire.errCodeTruncated
		return ErrTruncated
	}
	return ErrNonCanonical
}

// Varint returns the field's value, failing if it is not a varint field.
func (d *Decoder) Varint() uint64 {
	if d.f.Type != protowire.VarintType {
		d.fail(fmt.Errorf("field %d: %w", d.f.Num, ErrWireType))
		return 0
	}
	return d.f.Uint
}

// Bool returns the field as a boolean: canonical true is the varint 1.
func (d *Decoder) Bool() bool {
	v := d.Varint()
	if v != 1 && d.err == nil {
		d.fail(fmt.Errorf("field %d: boolean %d: %w", d.f.Num, v, ErrNonCanonical))
	}
	return v == 1
}

// BytesValue returns the field's bytes (aliasing the input), failing if it
// is not length-delimited.
func (d *Decoder) BytesValue() []byte {
	if d.f.Type != protowire.BytesType {
		d.fail(fmt.Errorf("field %d: %w", d.f.Num, ErrWireType))
		return nil
	}
	return d.f.Bytes
}

// StringValue returns the field as a string, failing if it is not
// length-delimited or not valid UTF-8.
func (d *Decoder) StringValue() string {
	b := d.BytesValue()
	if b != nil && !utf8.Valid(b) {
		d.fail(fmt.Errorf("field %d: %w", d.f.Num, ErrInvalidUTF8))
		return ""
	}
	return string(b)
}

// Unknown records an unknown-field error for the current field. Decoders of
// strictly versioned messages call it from their default case.
func (d *Decoder) Unknown() {
	d.fail(fmt.Errorf("field %d: %w", d.f.Num, ErrUnknownField))
}
