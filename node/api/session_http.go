package api

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// LoginLink is a one-time link that opens a browser session.
type LoginLink struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// SessionInfo answers GET /api/v1/session for a browser session. It holds
// no secret: the page already has its key, and a caller without the key
// gets no answer at all.
type SessionInfo struct {
	ExpiresAt time.Time `json:"expires_at"`
}

// EventTicket answers POST /api/v1/events/tickets: a one-time ticket that
// opens the event stream, GET /api/v1/events?ticket=TICKET.
type EventTicket struct {
	Ticket    string    `json:"ticket"`
	ExpiresAt time.Time `json:"expires_at"`
}

const eventsPath = "/api/v1/events"

// NewLoginLink returns a one-time login URL for a browser, on base (the
// address the API listens on, host:port).
func (s *Server) NewLoginLink(base string) LoginLink {
	secret := s.sessions.newLink()
	u := url.URL{Scheme: "http", Host: base, Path: LoginPath, RawQuery: "t=" + secret}
	return LoginLink{URL: u.String(), ExpiresAt: time.Now().Add(loginLinkTTL).UTC()}
}

// handleLogin redeems a login link: it sets the session cookie and sends
// the browser to the page with the session key in the fragment. The
// secret is single use.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	cookie, ss, ok := s.sessions.redeem(r.URL.Query().Get("t"))
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
	// No body: the key appears in the Location header only.
	w.Header().Set("Location", "/#"+SessionFragment+ss.key)
	w.WriteHeader(http.StatusSeeOther)
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

// browserSession returns the cookie of an authenticated browser session,
// or writes an error for a token caller.
func (s *Server) browserSession(w http.ResponseWriter, r *http.Request) (string, session, bool) {
	c, err := r.Cookie(CookieName(r.Host))
	if err != nil || !s.viaCookie(r) {
		writeError(w, BadRequest("no browser session (this endpoint is for the page)"))
		return "", session{}, false
	}
	ss, ok := s.sessions.lookup(c.Value)
	if !ok {
		writeError(w, errSessionExpired)
		return "", session{}, false
	}
	return c.Value, ss, true
}

// handleSession answers GET /api/v1/session: when the caller's browser
// session ends. The page calls it to check that its key still works.
func (s *Server) handleSession(w http.ResponseWriter, r *http.Request) {
	if _, ss, ok := s.browserSession(w, r); ok {
		respond(w, SessionInfo{ExpiresAt: ss.expires.UTC()}, nil)
	}
}

// handleEventTicket answers POST /api/v1/events/tickets with a one-time
// ticket for the caller's browser session to open the event stream.
func (s *Server) handleEventTicket(w http.ResponseWriter, r *http.Request) {
	if cookie, _, ok := s.browserSession(w, r); ok {
		t, exp := s.sessions.newTicket(cookie)
		respond(w, EventTicket{Ticket: t, ExpiresAt: exp.UTC()}, nil)
	}
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

// authenticate checks the token, or else the session cookie together with
// the session key (or, for the event stream, a ticket) and the origin
// checks. It returns authNone and an error to send when both fail.
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
		return authNone, errSessionExpired
	}
	if origin := r.Header.Get("Origin"); origin != "" && !sameOrigin(origin, r.Host) {
		return authNone, &Error{Status: http.StatusForbidden, Code: CodeForbidden, Message: "cross-origin request refused"}
	}
	// same-site includes every other port of this host: only the page
	// itself (same-origin) or the user (none: typed, bookmarked, opened
	// from a terminal) may use the session.
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return authNone, &Error{Status: http.StatusForbidden, Code: CodeForbidden, Message: site + " request refused"}
	}
	if key := r.Header.Get(SessionHeader); key != "" {
		if subtle.ConstantTimeCompare([]byte(key), []byte(ss.key)) != 1 {
			return authNone, errNoSessionKey
		}
		return authCookie, nil
	}
	if t := r.URL.Query().Get("ticket"); t != "" && r.Method == http.MethodGet && r.URL.Path == eventsPath {
		if !s.sessions.useTicket(c.Value, t) {
			return authNone, &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized,
				Message: "event stream ticket unknown, used or expired (get a new one: POST /api/v1/events/tickets)"}
		}
		return authCookie, nil
	}
	return authNone, errNoSessionKey
}

var (
	errUnauthorized = &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized,
		Message: "missing or wrong API token (the CLI reads it from api.token in the data directory; the page needs a login link: mentormesh open)"}
	errSessionExpired = &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized,
		Message: "browser session expired or unknown: run 'mentormesh open' for a new login link"}
	errNoSessionKey = &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized,
		Message: "missing or wrong " + SessionHeader + " header: the session cookie alone is not enough; run 'mentormesh open' for a new login link"}
)

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
