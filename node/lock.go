package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"
)

// ErrLocked is returned when another process holds the data directory.
var ErrLocked = errors.New("data directory in use")

// LockHolder describes the process holding a data directory.
type LockHolder struct {
	PID     int       `json:"pid"`
	Command string    `json:"command"`
	Since   time.Time `json:"since"`
}

// LockedError names the process that holds the data directory and says
// what to do instead.
type LockedError struct {
	Dir    string
	Holder LockHolder
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("data directory %s is in use by %s. If a node is running there, "+
		"CLI commands reach it through its API automatically; stop it with 'mentormesh shutdown', "+
		"or pass a different --data-dir to run a second node", e.Dir, e.Holder)
}

// String names the holder for messages.
func (h LockHolder) String() string {
	if h.PID <= 0 {
		return "another mentormesh process"
	}
	return fmt.Sprintf("mentormesh process %d (%q, since %s)", h.PID, h.Command, h.Since.Local().Format(time.DateTime))
}

func (e *LockedError) Unwrap() error { return ErrLocked }

// dirLock is an exclusive flock on the data directory's lock file. The OS
// releases it when the process dies, even by kill -9, so a stale lock never
// needs cleaning up by hand.
type dirLock struct {
	f *os.File
}

func lockDir(p Paths, command string) (*dirLock, error) {
	f, err := os.OpenFile(p.LockFile(), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			var h LockHolder
			data, _ := os.ReadFile(p.LockFile())
			_ = json.Unmarshal(data, &h)
			return nil, &LockedError{Dir: p.Dir, Holder: h}
		}
		return nil, fmt.Errorf("locking data directory: %w", err)
	}
	h := LockHolder{PID: os.Getpid(), Command: command, Since: time.Now().UTC()}
	data, _ := json.Marshal(h)
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt(append(data, '\n'), 0)
	}
	return &dirLock{f: f}, nil
}

func (l *dirLock) unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = l.f.Truncate(0)
	err := l.f.Close() // closing releases the flock
	l.f = nil
	return err
}

func isWindows() bool { return runtime.GOOS == "windows" }
