package node

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// InitResult describes an initialised data directory.
type InitResult struct {
	PeerID  peer.ID
	DataDir string
	// Created is true if this call created the identity.
	Created bool
}

// Init creates the data directory, an Ed25519 identity and an API token, if
// they do not exist yet. It is idempotent: on an initialised directory it
// only reads the identity.
func Init(p Paths) (InitResult, error) {
	if err := os.MkdirAll(p.Dir, 0o700); err != nil {
		return InitResult{}, fmt.Errorf("creating data directory: %w", err)
	}
	key, created, err := loadOrCreateKey(p.KeyFile())
	if err != nil {
		return InitResult{}, err
	}
	if _, err := loadOrCreateToken(p.TokenFile()); err != nil {
		return InitResult{}, err
	}
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return InitResult{}, fmt.Errorf("deriving peer ID: %w", err)
	}
	return InitResult{PeerID: id, DataDir: p.Dir, Created: created}, nil
}

// LoadKey reads the node's identity.
func LoadKey(p Paths) (crypto.PrivKey, error) {
	data, err := readSecret(p.KeyFile())
	if err != nil {
		return nil, err
	}
	key, err := crypto.UnmarshalPrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("identity file %s is corrupt: %w", p.KeyFile(), err)
	}
	if key.Type() != crypto.Ed25519 {
		return nil, fmt.Errorf("identity file %s holds a %v key; mentormesh needs Ed25519", p.KeyFile(), key.Type())
	}
	return key, nil
}

// LoadToken reads the API token.
func LoadToken(p Paths) (string, error) {
	data, err := readSecret(p.TokenFile())
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(data)), nil
}

func loadOrCreateKey(path string) (crypto.PrivKey, bool, error) {
	if _, err := os.Stat(path); err == nil {
		k, err := LoadKey(Paths{Dir: filepath.Dir(path)})
		return k, false, err
	}
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return nil, false, fmt.Errorf("generating identity: %w", err)
	}
	data, err := crypto.MarshalPrivateKey(key)
	if err != nil {
		return nil, false, fmt.Errorf("encoding identity: %w", err)
	}
	if err := writeSecret(path, data); err != nil {
		return nil, false, err
	}
	return key, true, nil
}

func loadOrCreateToken(path string) (string, error) {
	if data, err := readSecret(path); err == nil {
		return strings.TrimSpace(string(data)), nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating API token: %w", err)
	}
	tok := hex.EncodeToString(b)
	return tok, writeSecret(path, []byte(tok+"\n"))
}

// readSecret reads a file that must not be readable by others, and refuses
// one that is: a key anyone on the machine can read is not a secret.
func readSecret(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s does not exist; run 'mentormesh init' first: %w", path, err)
		}
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 && !isWindows() {
		return nil, fmt.Errorf("%s is readable by other users (mode %v); run 'chmod 600 %s'", path, fi.Mode().Perm(), path)
	}
	return os.ReadFile(path)
}

// writeSecret writes data with mode 0600 atomically: a crash leaves either
// no file or the whole file, never half a key.
func writeSecret(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
