package main

import (
	"fmt"
	"os"
	"time"
)

// progress writes timestamped progress lines to stderr.
type progress struct{ start time.Time }

func (p *progress) logf(format string, args ...any) {
	el := time.Since(p.start).Truncate(100 * time.Millisecond)
	fmt.Fprintf(os.Stderr, "[%7s] %s\n", el, fmt.Sprintf(format, args...))
}
