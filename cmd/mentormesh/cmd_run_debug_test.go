package main

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

func TestPprofLoopbackOnly(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:0", ":0", "example.com:0", "no-port"} {
		if _, stop, err := startPprof(addr, log); err == nil {
			stop()
			t.Errorf("startPprof(%q) = nil error, want a refusal", addr)
		}
	}
	bound, stop, err := startPprof("127.0.0.1:0", log)
	if err != nil {
		t.Fatalf("startPprof(127.0.0.1:0): %v", err)
	}
	defer stop()
	resp, err := http.Get("http://" + bound + "/debug/pprof/heap?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	n, _ := resp.Body.Read(buf)
	b.Write(buf[:n])
	if resp.StatusCode != http.StatusOK || !strings.Contains(b.String(), "heap profile") {
		t.Errorf("GET /debug/pprof/heap = %d %.80q, want 200 and a heap profile", resp.StatusCode, b.String())
	}
}
