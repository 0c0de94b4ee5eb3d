package ratelimit_test

import (
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/internal/ratelimit"
)

func TestAllowN(t *testing.T) {
	now := time.Unix(0, 0)
	l := ratelimit.New[string](ratelimit.Rate{Burst: 5, Every: time.Second}, 2, func() time.Time { return now })
	tests := []struct {
		advance time.Duration
		key     string
		n, want int
	}{
		{0, "a", 3, 3},
		{0, "a", 3, 2}, // 2 left of the burst
		{0, "a", 1, 0},
		{1500 * time.Millisecond, "a", 3, 1}, // 1.5 tokens earned: 1 whole
		{500 * time.Millisecond, "a", 3, 1},  // the half and another half
		{time.Hour, "a", 10, 5},              // refilled to the burst only
		{0, "b", 5, 5},
		{0, "c", 5, 5}, // evicts a (least recently used): max 2 keys
		{0, "a", 5, 5}, // a comes back with a full bucket
	}
	for i, tt := range tests {
		now = now.Add(tt.advance)
		if got := l.AllowN(tt.key, tt.n); got != tt.want {
			t.Errorf("step %d: AllowN(%s, %d) = %d, want %d", i, tt.key, tt.n, got, tt.want)
		}
	}
	if l.Len() != 2 {
		t.Errorf("Len() = %d, want 2 (the bound)", l.Len())
	}
	if !(ratelimit.Rate{Burst: 1, Every: time.Second}).Valid() || (ratelimit.Rate{}).Valid() {
		t.Error("Valid: want true for a positive rate, false for zero")
	}
}

func TestInitial(t *testing.T) {
	now := time.Unix(0, 0)
	l := ratelimit.New[string](ratelimit.Rate{Burst: 10, Every: time.Second, Initial: 2}, 10, func() time.Time { return now })
	if got := l.AllowN("a", 5); got != 2 {
		t.Errorf("a new key's first AllowN(5) = %d, want its initial 2", got)
	}
	now = now.Add(time.Minute)
	if got := l.AllowN("a", 20); got != 10 {
		t.Errorf("after a minute AllowN(20) = %d, want the full burst 10", got)
	}
}
