package mentorship

import (
	"sync"
	"time"

	// The IANA database is built into the binary, so matching resolves zone
	// names on machines without one (Windows, minimal containers). Go still
	// prefers the system's copy when there is one.
	_ "time/tzdata"
)

// zones caches resolved zone names: *time.Location, or nil for a name no
// database knows. Zone names in profiles are few in practice; the cache
// keeps a hostile flood of distinct names from costing a file-system
// lookup per name on every query (each costs one, once).
var zones sync.Map

// ZoneOffset returns the UTC offset of zone at t, in seconds. ok is false
// for "" and for a name that is malformed or unknown to the time-zone
// database.
func ZoneOffset(zone string, t time.Time) (seconds int, ok bool) {
	if zone == "" {
		return 0, false
	}
	if off, isOffset, err := parseUTCOffset(zone); isOffset {
		return off, err == nil
	}
	var loc *time.Location
	if v, found := zones.Load(zone); found {
		loc = v.(*time.Location)
	} else {
		// The syntax check rules out "Local", paths and "..", so only the
		// database decides.
		if CheckTimeZone(zone) == nil {
			loc, _ = time.LoadLocation(zone)
		}
		zones.Store(zone, loc)
	}
	if loc == nil {
		return 0, false
	}
	_, off := t.In(loc).Zone()
	return off, true
}
