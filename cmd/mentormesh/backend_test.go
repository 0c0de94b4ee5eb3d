package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/mentormesh/mentormesh/node"
)

// TestDialNodeSendsNoTokenToStaleAddress: api.json left behind by a node
// that is no longer running points at an address where something else may
// listen now. The CLI must not send it the API token, whether the data
// directory is free or held by an offline command.
func TestDialNodeSendsNoTokenToStaleAddress(t *testing.T) {
	var mu sync.Mutex
	var got []string
	squatter := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("Authorization"))
		mu.Unlock()
		http.Error(w, "not a node", http.StatusTeapot)
	}))
	t.Cleanup(squatter.Close)

	paths, err := node.NewPaths(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := node.Init(paths); err != nil {
		t.Fatal(err)
	}
	// As a crashed node leaves it: its address and process ID.
	info, _ := json.Marshal(node.APIInfo{Addr: strings.TrimPrefix(squatter.URL, "http://"), PID: os.Getpid()})
	if err := os.WriteFile(paths.APIFile(), info, 0o600); err != nil {
		t.Fatal(err)
	}

	check := func(t *testing.T) {
		t.Helper()
		if _, err := dialNode(context.Background(), paths); !errors.Is(err, errNoNode) {
			t.Errorf("dialNode with a stale api.json: err = %v, want errNoNode", err)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(got) > 0 {
			t.Errorf("the address in a stale api.json got %d requests (Authorization %q)", len(got), got[0])
		}
	}
	t.Run("directory free", check)
	t.Run("held by an offline command", func(t *testing.T) {
		off, err := node.OpenOffline(paths.Dir, "mentormesh status", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer off.Close()
		check(t)
	})
	if _, err := os.Stat(paths.LockFile()); err != nil {
		t.Fatalf("lock file: %v", err)
	}
}
