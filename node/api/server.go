package api

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strings"
)

// MaxBodySize caps request bodies; larger ones are refused before they are
// read in full.
const MaxBodySize = 64 << 10

// TokenHeader and the standard Authorization: Bearer header both carry the
// API token.
const TokenHeader = "X-Mentormesh-Token"

// ServerOptions configure a Server.
type ServerOptions struct {
	// Token is the secret every request must present.
	Token string
	// Shutdown, if set, is called by POST /api/v1/shutdown.
	Shutdown func()
	// AllowNonLoopbackHosts disables the Host header check (only for a node
	// deliberately exposed beyond loopback).
	AllowNonLoopbackHosts bool
	// Page, if set, serves the web page at / and /assets/. Its files hold
	// no data (everything comes from the API), so they need no login.
	Page   http.Handler
	Logger *slog.Logger
}

// Server serves a Backend over HTTP.
type Server struct {
	b        Backend
	opts     ServerOptions
	mux      *http.ServeMux
	sessions *sessions
	// streams holds a slot per open event stream (MaxEventStreams).
	streams chan struct{}
}

// NewServer returns the API handler for b.
func NewServer(b Backend, opts ServerOptions) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{b: b, opts: opts, mux: http.NewServeMux(), sessions: newSessions(), streams: make(chan struct{}, MaxEventStreams)}
	s.mux.HandleFunc("GET /api/v1/id", s.handleID)
	s.mux.HandleFunc("GET /api/v1/peers", s.handlePeers)
	s.mux.HandleFunc("GET /api/v1/status", s.handleStatus)
	s.mux.HandleFunc("PUT /api/v1/profile", s.handleSetProfile)
	s.mux.HandleFunc("DELETE /api/v1/profile", s.handleDeleteProfile)
	s.mux.HandleFunc("GET /api/v1/profiles/{peer}", s.handleProfile)
	s.mux.HandleFunc("POST /api/v1/shutdown", s.handleShutdown)
	s.mux.HandleFunc("POST /api/v1/login-links", s.handleLoginLink)
	s.mux.HandleFunc("GET /api/v1/session", s.handleSession)
	s.mux.HandleFunc("POST /api/v1/logout", s.handleLogout)
	s.mux.HandleFunc("GET "+eventsPath, s.handleEvents)
	s.mux.HandleFunc("POST /api/v1/events/tickets", s.handleEventTicket)
	s.routesProfile()
	s.routesPairing()
	s.routesPrivate()
	s.routesResource()
	s.routesCommunity()
	s.routesData()
	s.routesModeration()
	s.routesDevice()
	return s
}

// ServeHTTP checks the Host header and the token, then routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.opts.AllowNonLoopbackHosts && !IsLoopbackHost(r.Host) {
		// Defeats DNS rebinding: a page on evil.example resolving to
		// 127.0.0.1 still sends Host: evil.example.
		writeError(w, &Error{Status: http.StatusForbidden, Code: CodeForbidden, Message: "host not allowed"})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	if r.URL.Path == LoginPath && r.Method == http.MethodGet {
		s.handleLogin(w, r)
		return
	}
	if s.opts.Page != nil && safeMethod(r.Method) && (r.URL.Path == "/" || strings.HasPrefix(r.URL.Path, "/assets/")) {
		s.opts.Page.ServeHTTP(w, r)
		return
	}
	if _, e := s.authenticate(r); e != nil {
		writeError(w, e)
		return
	}
	if _, pattern := s.mux.Handler(r); pattern == "" {
		s.noRoute(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// noRoute answers a request no pattern matches with a JSON error: 405 with
// an Allow header when the path exists for other methods, else 404.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{header: http.Header{}}
	s.mux.ServeHTTP(rec, r) // the mux's own 404 or 405, with Allow
	if rec.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", rec.header.Get("Allow"))
		writeError(w, &Error{Status: http.StatusMethodNotAllowed, Code: CodeMethodNotAllowed,
			Message: fmt.Sprintf("%s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, rec.header.Get("Allow"))})
		return
	}
	writeError(w, NotFound(fmt.Sprintf("no API endpoint %s %s", r.Method, r.URL.Path)))
}

// statusRecorder captures the status and headers a handler writes.
type statusRecorder struct {
	header http.Header
	status int
}

func (r *statusRecorder) Header() http.Header         { return r.header }
func (r *statusRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *statusRecorder) WriteHeader(status int)      { r.status = status }

func (s *Server) authorized(r *http.Request) bool {
	tok := r.Header.Get(TokenHeader)
	if tok == "" {
		if a, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			tok = a
		}
	}
	return s.opts.Token != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.Token)) == 1
}

// IsLoopbackHost reports whether a Host header (host or host:port) names
// this machine's loopback interface: localhost, 127.0.0.0/8 or ::1. Any
// other name, even one that resolves to 127.0.0.1, may be a DNS rebinding
// page's.
func IsLoopbackHost(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

func (s *Server) handleID(w http.ResponseWriter, r *http.Request) {
	v, err := s.b.ID(r.Context())
	respond(w, v, err)
}

func (s *Server) handlePeers(w http.ResponseWriter, r *http.Request) {
	v, err := s.b.Peers(r.Context())
	if v == nil {
		v = []Peer{}
	}
	respond(w, v, err)
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	v, err := s.b.Status(r.Context())
	respond(w, v, err)
}

func (s *Server) handleSetProfile(w http.ResponseWriter, r *http.Request) {
	var in ProfileInput
	if !decodeBody(w, r, &in) {
		return
	}
	v, err := s.b.SetProfile(r.Context(), in)
	respond(w, v, err)
}

func (s *Server) handleDeleteProfile(w http.ResponseWriter, r *http.Request) {
	err := s.b.DeleteProfile(r.Context(), r.URL.Query().Get("community"))
	respond(w, map[string]string{"status": "deleted"}, err)
}

func (s *Server) handleProfile(w http.ResponseWriter, r *http.Request) {
	p := r.PathValue("peer")
	if p == "self" {
		p = ""
	}
	v, err := s.b.Profile(r.Context(), p, r.URL.Query().Get("community"))
	respond(w, v, err)
}

func (s *Server) handleShutdown(w http.ResponseWriter, r *http.Request) {
	if s.opts.Shutdown == nil {
		writeError(w, &Error{Status: http.StatusNotImplemented, Code: CodeUnavailable, Message: "shutdown not available"})
		return
	}
	respond(w, map[string]string{"status": "shutting down"}, nil)
	s.opts.Shutdown()
}

// decodeBody reads a JSON body strictly: size-capped, unknown fields
// refused, exactly one value.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if !requireJSON(w, r) {
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodySize)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge,
				Message: fmt.Sprintf("request body larger than %d bytes", MaxBodySize)})
			return false
		}
		writeError(w, BadRequest("malformed JSON body: "+err.Error()))
		return false
	}
	// Nothing but white space may follow the value: not a second value,
	// and not a stray closing bracket (which dec.More does not see).
	if _, err := dec.Token(); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge,
				Message: fmt.Sprintf("request body larger than %d bytes", MaxBodySize)})
			return false
		}
		writeError(w, BadRequest("malformed JSON body: more than one value, or data after it"))
		return false
	}
	return true
}

// requireJSON refuses a body that is not declared as application/json
// (parameters such as charset allowed): a missing Content-Type too, so
// that nothing but a request built to call the API has a body read.
func requireJSON(w http.ResponseWriter, r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		writeError(w, &Error{Status: http.StatusUnsupportedMediaType, Code: CodeBadRequest,
			Message: "body must be application/json (set Content-Type: application/json)"})
		return false
	}
	return true
}

func respond(w http.ResponseWriter, v any, err error) {
	if err != nil {
		writeError(w, asError(err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *Error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(e)
}
