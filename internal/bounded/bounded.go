// Package bounded keeps maps that peers or pages can grow within a size:
// what has expired goes first, then the entry that would expire (or was
// made) earliest.
package bounded

import "time"

// MakeRoom prepares m for one more entry under a cap of max: it drops the
// entries whose time (by at) is before now, and if max or more remain, the
// one with the earliest time.
func MakeRoom[K comparable, V any](m map[K]V, now time.Time, max int, at func(V) time.Time) {
	for k, v := range m {
		if at(v).Before(now) {
			delete(m, k)
		}
	}
	if len(m) >= max {
		DropEarliest(m, at)
	}
}

// DropEarliest deletes the entry of m with the earliest time (by at).
func DropEarliest[K comparable, V any](m map[K]V, at func(V) time.Time) {
	var first K
	var earliest time.Time
	found := false
	for k, v := range m {
		if t := at(v); !found || t.Before(earliest) {
			first, earliest, found = k, t, true
		}
	}
	if found {
		delete(m, first)
	}
}
