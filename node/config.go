package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
)

// ConfigFileName is the optional configuration file in the data directory.
const ConfigFileName = "config.json"

// FileConfig is the content of config.json: the peers a node starts from,
// for nodes that always use the same community nodes. Lists given on the
// command line (--bootstrap, --relay) are used on top of these.
//
//	{
//	  "bootstrap": ["/dns4/node.example.org/tcp/4747/p2p/12D3KooW..."],
//	  "relays":    ["/dns4/node.example.org/tcp/4747/p2p/12D3KooW..."]
//	}
type FileConfig struct {
	// Bootstrap are multiaddrs ending in /p2p/<peer ID>, dialled at start
	// and redialled while disconnected.
	Bootstrap []string `json:"bootstrap,omitempty"`
	// Relays are circuit relays (community nodes) to reserve a slot on
	// when the node is not reachable; they are dialled like bootstrap peers.
	Relays []string `json:"relays,omitempty"`
}

// ConfigFile returns the path of config.json.
func (p Paths) ConfigFile() string { return filepath.Join(p.Dir, ConfigFileName) }

// LoadFileConfig reads config.json. A missing file is an empty
// configuration; an unknown field or a malformed file is an error that
// names the file, so a typo is never silently ignored.
func LoadFileConfig(p Paths) (FileConfig, error) {
	var fc FileConfig
	data, err := os.ReadFile(p.ConfigFile())
	if errors.Is(err, os.ErrNotExist) {
		return fc, nil
	}
	if err != nil {
		return fc, fmt.Errorf("reading %s: %w", p.ConfigFile(), err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fc); err != nil {
		return fc, fmt.Errorf("%s: %w (fields: bootstrap, relays; fix or remove the file)", p.ConfigFile(), err)
	}
	if err := dec.Decode(&struct{}{}); err != io.EOF {
		return fc, fmt.Errorf("%s: more than one JSON value (fix or remove the file)", p.ConfigFile())
	}
	return fc, nil
}

// withFileConfig adds config.json's peers to the options' own.
func withFileConfig(p Paths, opts Options) (Options, error) {
	fc, err := LoadFileConfig(p)
	if err != nil {
		return opts, err
	}
	// Checked here, so a bad address is blamed on the file, not on the
	// --bootstrap or --relay flag it is merged into.
	for _, l := range []struct {
		field string
		addrs []string
	}{{"bootstrap", fc.Bootstrap}, {"relays", fc.Relays}} {
		if _, err := parseAddrInfos(fmt.Sprintf("%s: %s entry", p.ConfigFile(), l.field), l.addrs); err != nil {
			return opts, fmt.Errorf("%w (fix or remove the file)", err)
		}
	}
	opts.Bootstrap = union(opts.Bootstrap, fc.Bootstrap)
	opts.Relays = union(opts.Relays, fc.Relays)
	return opts, nil
}

// union returns a followed by the elements of b not in a.
func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
