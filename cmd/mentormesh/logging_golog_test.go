package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	golog "github.com/ipfs/go-log/v2"
)

// TestRouteGoLog: a go-log logger (the DHT's) writes through the slog
// handler, with its subsystem and fields, and below the level nothing.
func TestRouteGoLog(t *testing.T) {
	var buf bytes.Buffer
	routeGoLog(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}), slog.LevelWarn)
	log := golog.Logger("dht-test")
	log.Infow("quiet", "k", 1)
	log.Warnw("failed to bootstrap", "peer", "12D3KooW")
	out := buf.String()
	if strings.Contains(out, "quiet") {
		t.Errorf("info logged at warn level: %s", out)
	}
	for _, want := range []string{`"msg":"failed to bootstrap"`, `"subsystem":"dht-test"`, `"peer":"12D3KooW"`, `"level":"WARN"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output %s lacks %s", out, want)
		}
	}
}
