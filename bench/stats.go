package main

import (
	"math"
	"slices"
	"strconv"
	"time"
)

// Ms is a duration in milliseconds; +Inf (lost) is written as null in JSON.
type Ms float64

// MarshalJSON writes null for +Inf, which JSON cannot represent.
func (m Ms) MarshalJSON() ([]byte, error) {
	if math.IsInf(float64(m), 0) || math.IsNaN(float64(m)) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, float64(m), 'f', 3, 64), nil
}

// UnmarshalJSON reads null as +Inf.
func (m *Ms) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*m = lost
		return nil
	}
	v, err := strconv.ParseFloat(string(b), 64)
	*m = Ms(v)
	return err
}

// Dist summarises a latency distribution, in milliseconds. Lost samples
// (never completed) count as +Inf, so a percentile that falls on them is
// reported as such, not hidden.
type Dist struct {
	N    int `json:"n"`
	Lost int `json:"lost"`
	Min  Ms  `json:"min_ms"`
	P50  Ms  `json:"p50_ms"`
	P90  Ms  `json:"p90_ms"`
	P99  Ms  `json:"p99_ms"`
	Max  Ms  `json:"max_ms"`
	Mean Ms  `json:"mean_ms"`
}

func ms(d time.Duration) Ms { return Ms(float64(d) / float64(time.Millisecond)) }

var lost = Ms(math.Inf(1))

// distOf summarises samples in ms (math.Inf(1) for lost ones).
func distOf(samples []Ms) Dist {
	s := slices.Clone(samples)
	slices.Sort(s)
	d := Dist{N: len(s)}
	if len(s) == 0 {
		return d
	}
	var sum Ms
	var finite int
	for _, v := range s {
		if math.IsInf(float64(v), 1) {
			d.Lost++
			continue
		}
		sum += v
		finite++
	}
	if finite > 0 {
		d.Mean = sum / Ms(finite)
	}
	d.Min, d.Max = s[0], s[len(s)-1]
	d.P50, d.P90, d.P99 = quantile(s, 0.50), quantile(s, 0.90), quantile(s, 0.99)
	return d
}

// quantile of sorted s by the nearest-rank method.
func quantile(s []Ms, q float64) Ms {
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}
