package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/node/web"
)

// APIInfo is the content of api.json, written by a running node so CLI
// commands can find its API.
type APIInfo struct {
	Addr string `json:"addr"`
	PID  int    `json:"pid"`
}

// ReadAPIInfo reads api.json; it returns an error wrapping fs.ErrNotExist
// when no node has written one.
func ReadAPIInfo(p Paths) (APIInfo, error) {
	var info APIInfo
	data, err := os.ReadFile(p.APIFile())
	if err != nil {
		return info, err
	}
	if err := json.Unmarshal(data, &info); err != nil {
		return info, fmt.Errorf("%s is corrupt: %w", p.APIFile(), err)
	}
	return info, nil
}

func checkAPIAddr(addr string, allowNonLoopback bool) (string, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("--api-addr %q: want host:port, e.g. %s", addr, DefaultAPIAddr)
	}
	ip := net.ParseIP(host)
	loopback := host == "localhost" || (ip != nil && ip.IsLoopback())
	if !loopback && !allowNonLoopback {
		return "", fmt.Errorf("--api-addr %q is not a loopback address: the API would be reachable from other machines. "+
			"Use 127.0.0.1, or pass --api-allow-remote if you really mean it", addr)
	}
	return addr, nil
}

func (n *Node) startAPI(addr, token string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("API address %s is in use (is another mentormesh node running?); "+
				"pass --api-addr 127.0.0.1:0 to use any free port: %w", addr, err)
		}
		return fmt.Errorf("listening for the API on %s: %w", addr, err)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		n.log.Warn("THE LOCAL API IS REACHABLE FROM OTHER MACHINES; anyone with the token controls this node", "addr", ln.Addr())
	}
	n.apiLn = ln
	srv := api.NewServer(n.local, api.ServerOptions{
		Token:                 token,
		Shutdown:              n.requestShutdown,
		AllowNonLoopbackHosts: n.opts.AllowNonLoopbackAPI,
		Page:                  web.Handler(),
		Logger:                n.log.With("subsystem", "api"),
	})
	n.apiH = srv
	n.apiSrv = &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
	}
	go func() {
		if err := n.apiSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("API server stopped", "err", err)
		}
	}()
	info, _ := json.Marshal(APIInfo{Addr: ln.Addr().String(), PID: os.Getpid()})
	if err := writeSecret(n.paths.APIFile(), append(info, '\n')); err != nil {
		return err
	}
	return nil
}

func removeAPIFile(p Paths) { _ = os.Remove(p.APIFile()) }
