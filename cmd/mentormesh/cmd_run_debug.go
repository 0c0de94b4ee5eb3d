package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mentormesh/mentormesh/node/api"
)

// pprofFlag is a hidden option of `run` for profiling a running node
// (memory and CPU, with `go tool pprof`): off unless given, and only on a
// loopback address.
var pprofFlag = &cli.StringFlag{
	Name:    "pprof-addr",
	Usage:   "serve Go's profiling endpoints (/debug/pprof/) on this loopback host:port (off by default)",
	EnvVars: []string{"MENTORMESH_PPROF_ADDR"},
	Hidden:  true,
}

// noTrimFlag is a hidden option of `run` that keeps the Go heap's free
// memory resident after bursts of work (internal/memtrim), to measure what
// trimming saves.
var noTrimFlag = &cli.BoolFlag{
	Name:    "no-memory-trim",
	Usage:   "do not return free heap memory to the system after bursts of work",
	EnvVars: []string{"MENTORMESH_NO_MEMORY_TRIM"},
	Hidden:  true,
}

// startPprof serves net/http/pprof on addr, which must be a loopback
// address, until stop is called. It returns the address it listens on.
func startPprof(addr string, log *slog.Logger) (bound string, stop func(), err error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return "", nil, fmt.Errorf("--pprof-addr %q: %w", addr, err)
	}
	if !api.IsLoopbackHost(addr) {
		return "", nil, fmt.Errorf("--pprof-addr %q: only a loopback address is allowed (127.0.0.1:PORT)", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("--pprof-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: pprofGuard(mux), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("profiling endpoint stopped", "err", err)
		}
	}()
	log.Info("profiling endpoints on loopback", "addr", "http://"+ln.Addr().String()+"/debug/pprof/")
	return ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// pprofGuard refuses what a web page could send to the profiling
// endpoints, which have no login: a Host header that is not loopback (a
// DNS rebinding page's own name) and requests a page started
// (Sec-Fetch-Site other than none, which a typed address or go tool pprof
// sends or leaves out). Profiles show the command line and memory.
func pprofGuard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !api.IsLoopbackHost(r.Host) {
			http.Error(w, "host not allowed", http.StatusForbidden)
			return
		}
		if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "none" && site != "same-origin" {
			http.Error(w, site+" request refused", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}
