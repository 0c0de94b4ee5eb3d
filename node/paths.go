package node

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// EnvDataDir overrides the default data directory (the --data-dir flag
// reads it too).
const EnvDataDir = "MENTORMESH_DATA_DIR"

// Paths is the one place that decides where a node keeps its files. Every
// other package asks it.
type Paths struct {
	Dir string
}

// DefaultDataDir returns $MENTORMESH_DATA_DIR if set, else the per-user data
// directory: $XDG_DATA_HOME/mentormesh (default ~/.local/share/mentormesh) on
// Linux and other Unixes, ~/Library/Application Support/mentormesh on macOS,
// %LocalAppData%\mentormesh on Windows.
func DefaultDataDir() (string, error) {
	if d := os.Getenv(EnvDataDir); d != "" {
		return d, nil
	}
	switch runtime.GOOS {
	case "darwin":
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("finding home directory: %w (set --data-dir)", err)
		}
		return filepath.Join(home, "Library", "Application Support", "mentormesh"), nil
	case "windows":
		if d := os.Getenv("LocalAppData"); d != "" {
			return filepath.Join(d, "mentormesh"), nil
		}
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "mentormesh"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding home directory: %w (set --data-dir)", err)
	}
	return filepath.Join(home, ".local", "share", "mentormesh"), nil
}

// NewPaths returns the layout of data directory dir, made absolute.
func NewPaths(dir string) (Paths, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Paths{}, fmt.Errorf("data directory %q: %w", dir, err)
	}
	return Paths{Dir: abs}, nil
}

// KeyFile holds the node's libp2p identity (mode 0600).
func (p Paths) KeyFile() string { return filepath.Join(p.Dir, "identity.key") }

// TokenFile holds the local API token (mode 0600).
func (p Paths) TokenFile() string { return filepath.Join(p.Dir, "api.token") }

// APIFile is written by a running node: where its API listens and its PID.
func (p Paths) APIFile() string { return filepath.Join(p.Dir, "api.json") }

// LockFile is held (flock) by whichever process has the store open.
func (p Paths) LockFile() string { return filepath.Join(p.Dir, "node.lock") }

// StoreDir is the Badger directory.
func (p Paths) StoreDir() string { return filepath.Join(p.Dir, "store") }
