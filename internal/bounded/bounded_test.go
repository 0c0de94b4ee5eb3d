package bounded

import (
	"testing"
	"time"
)

func TestMakeRoom(t *testing.T) {
	now := time.Now()
	at := func(v time.Time) time.Time { return v }
	for _, tc := range []struct {
		name string
		m    map[string]time.Time
		max  int
		want []string // keys left
	}{
		{"expired go, room left", map[string]time.Time{"old": now.Add(-time.Second), "a": now.Add(time.Minute)}, 2, []string{"a"}},
		{"full: the earliest goes", map[string]time.Time{"a": now.Add(2 * time.Minute), "b": now.Add(time.Minute), "c": now.Add(3 * time.Minute)}, 3, []string{"a", "c"}},
		{"under the cap: nothing goes", map[string]time.Time{"a": now.Add(time.Minute)}, 2, []string{"a"}},
		{"empty", map[string]time.Time{}, 1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			MakeRoom(tc.m, now, tc.max, at)
			if len(tc.m) != len(tc.want) {
				t.Fatalf("left %v, want %v", tc.m, tc.want)
			}
			for _, k := range tc.want {
				if _, ok := tc.m[k]; !ok {
					t.Errorf("%s dropped; left %v", k, tc.m)
				}
			}
		})
	}
}
