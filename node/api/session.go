package api

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"sync"
	"time"

	"github.com/mentormesh/mentormesh/internal/bounded"
)

// Browser sessions.
//
// Programs (the CLI) authenticate every request with the API token. A
// browser cannot be given the token safely, so the node hands out one-time
// login links instead: `mentormesh run` prints one and `mentormesh open`
// asks the running node for a fresh one. Opening the link exchanges it for
// a session: a cookie (HttpOnly, SameSite=Strict) and a session key, which
// the redirect to the page carries in the URL's fragment (/#session=KEY).
// Fragments are sent neither to servers nor in Referer headers; the page
// moves the key to localStorage and removes it from the address bar.
//
// The cookie alone is not enough. Browsers do not separate cookies by port
// (RFC 6265 section 8.5), so any page served on another port of 127.0.0.1
// gets this node's cookie sent along, and a program behind that page could
// replay it. localStorage is per origin, port included, so only this
// node's page holds the key. Every request authenticated by the cookie,
// reads included, must carry the key in the X-Mentormesh-Session header;
// the event stream, which a browser's EventSource opens without custom
// headers, takes a one-time ticket instead (POST /api/v1/events/tickets).
// On top of that an Origin header, when present, must name this node's own
// address, and a Sec-Fetch-Site header, when present, must say
// same-origin or none.
const (
	// SessionCookie prefixes the browser session cookie's name; the API's
	// port follows ("mentormesh_session_4748"). Browsers do not separate
	// cookies by port, and several nodes on one machine (the demo, or a
	// second data directory) must not log each other's pages out.
	SessionCookie = "mentormesh_session"
	// SessionHeader carries the session key on every request a browser
	// session makes.
	SessionHeader = "X-Mentormesh-Session"
	// SessionFragment precedes the session key in the fragment of the
	// address the login link redirects to (/#session=KEY).
	SessionFragment = "session="
	// LoginPath is where login links point.
	LoginPath = "/login"

	loginLinkTTL = 15 * time.Minute
	sessionTTL   = 30 * 24 * time.Hour
	ticketTTL    = 30 * time.Second
	maxLinks     = 64
	maxSessions  = 256
	maxTickets   = 64
)

// sessions holds the one-time login secrets and the live browser sessions.
// They live in memory: a restarted node asks the browser to log in again.
type sessions struct {
	mu       sync.Mutex
	links    map[string]time.Time // secret -> expiry
	sessions map[string]session   // cookie value -> session
	tickets  map[string]ticket    // event stream ticket -> its session
	now      func() time.Time
}

type session struct {
	key     string // what the page sends in SessionHeader
	expires time.Time
}

// ticket lets one event stream open for the session of cookie.
type ticket struct {
	cookie  string
	expires time.Time
}

func newSessions() *sessions {
	return &sessions{links: map[string]time.Time{}, sessions: map[string]session{}, tickets: map[string]ticket{}, now: time.Now}
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
func (s *sessions) redeem(secret string) (cookie string, ss session, ok bool) {
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
		return "", session{}, false
	}
	delete(s.links, found)
	bounded.MakeRoom(s.sessions, now, maxSessions, func(ss session) time.Time { return ss.expires })
	cookie = randomToken()
	ss = session{key: randomToken(), expires: now.Add(sessionTTL)}
	s.sessions[cookie] = ss
	return cookie, ss, true
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

// end closes a session and drops its unused tickets.
func (s *sessions) end(cookie string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, cookie)
	for k, tk := range s.tickets {
		if tk.cookie == cookie {
			delete(s.tickets, k)
		}
	}
}

// newTicket returns a one-time ticket for an event stream of the session
// of cookie, valid for ticketTTL.
func (s *sessions) newTicket(cookie string) (string, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	bounded.MakeRoom(s.tickets, now, maxTickets, func(tk ticket) time.Time { return tk.expires })
	t := randomToken()
	exp := now.Add(ticketTTL)
	s.tickets[t] = ticket{cookie: cookie, expires: exp}
	return t, exp
}

// useTicket consumes a ticket; ok is true if it was issued to the session
// of cookie and has not expired.
func (s *sessions) useTicket(cookie, t string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	var found string
	for k := range s.tickets {
		if subtle.ConstantTimeCompare([]byte(k), []byte(t)) == 1 {
			found = k
		}
	}
	if found == "" {
		return false
	}
	tk := s.tickets[found]
	delete(s.tickets, found)
	return tk.cookie == cookie && !s.now().After(tk.expires)
}
