package mentorship

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealPad(t *testing.T) {
	for _, tt := range []struct{ in, want int }{
		{0, 256}, {1, 256}, {255, 256}, {256, 512}, {511, 512}, {512, 1024}, {16383, 16384},
	} {
		in := bytes.Repeat([]byte{0xaa}, tt.in)
		p, err := sealPad(in, "item")
		if err != nil || len(p) != tt.want {
			t.Errorf("sealPad(%d bytes) = %d bytes, %v; want %d", tt.in, len(p), err, tt.want)
			continue
		}
		if p[tt.in] != 0x80 || !bytes.Equal(p[:tt.in], in) || bytes.ContainsFunc(p[tt.in+1:], func(r rune) bool { return r != 0 }) {
			t.Errorf("sealPad(%d bytes) = %x", tt.in, p)
		}
		back, err := sealUnpad(p, "item")
		if err != nil || !bytes.Equal(back, in) {
			t.Errorf("sealUnpad(sealPad(%d bytes)) = %d bytes, %v", tt.in, len(back), err)
		}
	}
	if p, err := sealPad(make([]byte, 16384), "item"); !errors.Is(err, ErrInvalid) {
		t.Errorf("sealPad(16384 bytes) = %d bytes, %v; want %v", len(p), err, ErrInvalid)
	}
}

func TestSealUnpadRefuses(t *testing.T) {
	valid := func(n int, marker int) []byte {
		p := make([]byte, n)
		if marker >= 0 {
			p[marker] = 0x80
		}
		return p
	}
	over := valid(512, 10) // a writer may pad more than needed: accepted
	if b, err := sealUnpad(over, "item"); err != nil || len(b) != 10 {
		t.Errorf("sealUnpad(10 bytes padded to 512) = %d bytes, %v", len(b), err)
	}
	tooBig := valid(256, 10)
	tooBig[200] = 1
	for name, p := range map[string][]byte{
		"all zeros":           valid(256, -1),
		"no marker":           append(bytes.Repeat([]byte{1}, 255), 0),
		"marker 0x81":         append(append(bytes.Repeat([]byte{1}, 100), 0x81), make([]byte, 155)...),
		"length 300":          valid(300, 0),
		"length 128":          valid(128, 0),
		"length 32768":        valid(32768, 0),
		"data after a marker": tooBig, // 0x01 at 200 is the last non-zero byte
	} {
		if b, err := sealUnpad(p, "item"); !errors.Is(err, ErrInvalid) {
			t.Errorf("sealUnpad(%s) = %d bytes, %v; want %v", name, len(b), err, ErrInvalid)
		}
	}
}
