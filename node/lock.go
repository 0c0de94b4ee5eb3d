package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
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

// runCommand is the lock holder's command of a running node.
const runCommand = "mentormesh run"

// lockWait is how long lockDir tries before it reports the directory in
// use: long enough to outlast RunningNode's test of the lock, far shorter
// than any real holder keeps it.
const lockWait = 250 * time.Millisecond

func lockDir(p Paths, command string) (*dirLock, error) {
	f, err := os.OpenFile(p.LockFile(), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock file: %w", err)
	}
	deadline := time.Now().Add(lockWait)
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
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

// LockedBy reports whether a process holds the data directory now, and
// which (its PID and command, as it wrote them; empty for a moment while
// it starts). The CLI checks it before it sends the API token to the
// address in api.json: a node that crashed leaves that file behind, and
// another program may listen there since. The lock is tested, not kept (a
// shared lock taken and released at once; lockDir waits lockWait, so a
// node starting at that moment still starts).
func LockedBy(p Paths) (LockHolder, bool, error) {
	f, err := os.Open(p.LockFile())
	if errors.Is(err, fs.ErrNotExist) {
		return LockHolder{}, false, nil
	}
	if err != nil {
		return LockHolder{}, false, fmt.Errorf("opening lock file: %w", err)
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	if err == nil {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return LockHolder{}, false, nil
	}
	if !errors.Is(err, syscall.EWOULDBLOCK) {
		return LockHolder{}, false, fmt.Errorf("testing the data directory's lock: %w", err)
	}
	var h LockHolder
	data, _ := os.ReadFile(p.LockFile())
	_ = json.Unmarshal(data, &h)
	return h, true, nil
}

// IsNode reports whether h is a running node (`mentormesh run`).
func (h LockHolder) IsNode() bool { return h.Command == runCommand }

func isWindows() bool { return runtime.GOOS == "windows" }
