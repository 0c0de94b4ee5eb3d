package api

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Browser sessions.
//
// Programs (the CLI) authenticate every request with the API token. A
// browser cannot be given the token safely, so the node hands out one-time
// login links instead: `mentormesh run` prints one and `mentormesh open`
// asks the running node for a fresh one. Opening the link exchanges it for
// a session cookie (HttpOnly, SameSite=Strict) and lands on the page.
//
// Requests authenticated by the cookie must also pass two CSRF checks:
// an Origin header, when present, must name this node's own address, and
// every request that changes something must carry the session's CSRF token
// in the X-CSRF-Token header (a cross-site form cannot set headers, and
// without CORS a cross-site script cannot read the token).
const (
	// SessionCookie prefixes the browser session cookie's name; the API's
	// port follows ("mentormesh_session_4748"). Browsers do not separate
	// cookies by port, and several nodes on one machine (the demo, or a
	// second data directory) must not log each other's pages out.
	SessionCookie = "mentormesh_session"
	// CSRFHeader carries the session's CSRF token.
	CSRFHeader = "X-CSRF-Token"
	// LoginPath is where login links point.
	LoginPath = "/login"

	loginLinkTTL = 15 * time.Minute
	sessionTTL   = 30 * 24 * time.Hour
	maxLinks     = 64
	maxSessions  = 256
)

// sessions holds the one-time login secrets and the live browser sessions.
// They live in memory: a restarted node asks the browser to log in again.
type sessions struct {
	mu       sync.Mutex
	links    map[string]time.Time // secret -> expiry
	sessions map[string]session   // cookie value -> session
	now      func() time.Time
}

type session struct {
	csrf    string
	expires time.Time
}

func newSessions() *sessions {
	return &sessions{links: map[string]time.Time{}, sessions: map[string]session{}, now: time.Now}
}

func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// newLink returns a fresh one-time login secret.
func (s *sessions) newLink() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, exp := range s.links {
		if now.After(exp) {
			delete(s.links, k)
		}
	}
	if len(s.links) >= maxLinks {
		// Drop the oldest rather than refuse: the newest link is the one
		// the user is about to open.
		var oldest string
		for k, exp := range s.links {
			if oldest == "" || exp.Before(s.links[oldest]) {
				oldest = k
			}
		}
		delete(s.links, oldest)
	}
	secret := randomToken()
	s.links[secret] = now.Add(loginLinkTTL)
	return secret
}

// redeem consumes a login secret and opens a session; ok is false if the
// secret is unknown, used or expired.
func (s *sessions) redeem(secret string) (cookie string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var found string
	for k, exp := range s.links {
		if subtle.ConstantTimeCompare([]byte(k), []byte(secret)) == 1 && !now.After(exp) {
			found = k
		}
	}
	if found == "" {
		return "", false
	}
	delete(s.links, found)
	for k, ss := range s.sessions {
		if now.After(ss.expires) {
			delete(s.sessions, k)
		}
	}
	if len(s.sessions) >= maxSessions {
		var oldest string
		for k, ss := range s.sessions {
			if oldest == "" || ss.expires.Before(s.sessions[oldest].expires) {
				oldest = k
			}
		}
		delete(s.sessions, oldest)
	}
	cookie = randomToken()
	s.sessions[cookie] = session{csrf: randomToken(), expires: now.Add(sessionTTL)}
	return cookie, true
}

// lookup returns the session of a cookie value.
func (s *sessions) lookup(cookie string) (session, bool) {
	if cookie == "" {
		return session{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.sessions[cookie]
	if !ok || s.now().After(ss.expires) {
		return session{}, false
	}
	return ss, true
}

// end closes a session.
func (s *sessions) end(cookie string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, cookie)
}

// LoginLink is a one-time link that opens a browser session.
type LoginLink struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// SessionInfo answers GET /api/v1/session for a browser session.
type SessionInfo struct {
	CSRFToken string `json:"csrf_token"`
}

// NewLoginLink returns a one-time login URL for a browser, on base (the
// address the API listens on, host:port).
func (s *Server) NewLoginLink(base string) LoginLink {
	secret := s.sessions.newLink()
	u := url.URL{Scheme: "http", Host: base, Path: LoginPath, RawQuery: "t=" + secret}
	return LoginLink{URL: u.String(), ExpiresAt: time.Now().Add(loginLinkTTL).UTC()}
}

// handleLogin redeems a login link: it sets the session cookie and sends
// the browser to the page. The secret is single use.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	cookie, ok := s.sessions.redeem(r.URL.Query().Get("t"))
	if !ok {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(loginFailedPage))
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: CookieName(r.Host), Value: cookie, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
		MaxAge: int(sessionTTL / time.Second),
	})
	// Referrer-Policy keeps the used secret out of any later request.
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

const loginFailedPage = `<!doctype html><html lang="en"><meta charset="utf-8">
<title>mentormesh: link expired</title>
<body style="font-family:sans-serif;max-width:40em;margin:3em auto;line-height:1.5">
<h1>This login link has expired or was already used</h1>
<p>Login links work once, for 15 minutes. Get a fresh one with:</p>
<pre>mentormesh open</pre>
</body></html>`

// handleLoginLink answers POST /api/v1/login-links (token only: a browser
// session cannot mint links for other browsers).
func (s *Server) handleLoginLink(w http.ResponseWriter, r *http.Request) {
	if s.viaCookie(r) {
		writeError(w, &Error{Status: http.StatusForbidden, Code: CodeForbidden, Message: "login links are created with the API token (mentormesh open)"})
		return
	}
	respond(w, s.NewLoginLink(r.Host), nil)
}

// handleSession answers GET /api/v1/session with the CSRF token of the
// caller's browser session.
func (s *Server) handleSession(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(CookieName(r.Host))
	if err != nil {
		writeError(w, BadRequest("no browser session (this endpoint is for the page)"))
		return
	}
	ss, ok := s.sessions.lookup(c.Value)
	if !ok {
		writeError(w, &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized, Message: "session expired: run 'mentormesh open' for a new login link"})
		return
	}
	respond(w, SessionInfo{CSRFToken: ss.csrf}, nil)
}

// handleLogout ends the caller's browser session.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(CookieName(r.Host)); err == nil {
		s.sessions.end(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName(r.Host), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	respond(w, map[string]string{"status": "logged out"}, nil)
}

// authKind says how a request authenticated.
type authKind int

const (
	authNone authKind = iota
	authToken
	authCookie
)

// authenticate checks the token, or else the session cookie with its CSRF
// defences. It returns authNone and an error to send when both fail.
func (s *Server) authenticate(r *http.Request) (authKind, *Error) {
	if s.authorized(r) {
		return authToken, nil
	}
	c, err := r.Cookie(CookieName(r.Host))
	if err != nil {
		return authNone, errUnauthorized
	}
	ss, ok := s.sessions.lookup(c.Value)
	if !ok {
		return authNone, &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized,
			Message: "browser session expired or unknown: run 'mentormesh open' for a new login link"}
	}
	if origin := r.Header.Get("Origin"); origin != "" && !sameOrigin(origin, r.Host) {
		return authNone, &Error{Status: http.StatusForbidden, Code: CodeForbidden, Message: "cross-origin request refused"}
	}
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return authNone, &Error{Status: http.StatusForbidden, Code: CodeForbidden, Message: "cross-site request refused"}
	}
	if !safeMethod(r.Method) {
		got := r.Header.Get(CSRFHeader)
		if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(ss.csrf)) != 1 {
			return authNone, &Error{Status: http.StatusForbidden, Code: CodeForbidden,
				Message: "missing or wrong " + CSRFHeader + " header (get it from GET /api/v1/session)"}
		}
	}
	return authCookie, nil
}

var errUnauthorized = &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized,
	Message: "missing or wrong API token (the CLI reads it from api.token in the data directory; the page needs a login link: mentormesh open)"}

func (s *Server) viaCookie(r *http.Request) bool {
	return !s.authorized(r)
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// sameOrigin reports whether an Origin header names host (host:port).
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" {
		return false
	}
	return strings.EqualFold(u.Host, host)
}

// CookieName returns the session cookie's name for the API at host
// (host:port, as in the request's Host header).
func CookieName(host string) string {
	_, port, err := net.SplitHostPort(host)
	if err != nil || port == "" {
		port = "80"
	}
	return SessionCookie + "_" + port
}
