package harness

import (
	"testing"
	"time"
)

// PollInterval is how long WaitFor pauses between two checks.
const PollInterval = 50 * time.Millisecond

// WaitFor calls check until it returns nil or timeout passes, and then fails
// the test with check's last error. It returns how long it waited.
func WaitFor(t testing.TB, timeout time.Duration, what string, check func() error) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	for {
		err := check()
		if err == nil {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, timeout, err)
		}
		time.Sleep(PollInterval)
	}
}
