package main

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

func TestPprofLoopbackOnly(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:0", ":0", "example.com:0", "no-port", "localhost.example.com:0", "[::]:0"} {
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

// TestPprofRefusesWebPages: the profiling endpoints have no login, so a
// DNS rebinding page (its own name in Host) and a page on another port of
// 127.0.0.1 (Sec-Fetch-Site) must get nothing; the command line is the
// profile a page would want most.
func TestPprofRefusesWebPages(t *testing.T) {
	bound, stop, err := startPprof("127.0.0.1:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("startPprof: %v", err)
	}
	defer stop()
	_, port, _ := strings.Cut(bound, ":")
	tests := []struct {
		name, host, site string
		status           int
	}{
		{name: "rebinding name", host: "evil.example:" + port, status: http.StatusForbidden},
		{name: "rebinding name without port", host: "evil.example", status: http.StatusForbidden},
		{name: "name that starts like loopback", host: "127.0.0.1.evil.example:" + port, status: http.StatusForbidden},
		{name: "page on another port", host: bound, site: "same-site", status: http.StatusForbidden},
		{name: "page on another site", host: bound, site: "cross-site", status: http.StatusForbidden},
		{name: "go tool pprof", host: bound, status: http.StatusOK},
		{name: "typed in the address bar", host: "localhost:" + port, site: "none", status: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest("GET", "http://"+bound+"/debug/pprof/cmdline", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = tt.host
			if tt.site != "" {
				req.Header.Set("Sec-Fetch-Site", tt.site)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Errorf("Host %q, Sec-Fetch-Site %q: status %d, want %d", tt.host, tt.site, resp.StatusCode, tt.status)
			}
			if tt.status != http.StatusOK && strings.Contains(string(body), "test") {
				t.Errorf("refused request got the command line: %q", body)
			}
		})
	}
}
