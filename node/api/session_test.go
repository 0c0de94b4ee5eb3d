package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/mentormesh/mentormesh/node/api"
)

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so the tests see what the server answers.
func browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func do(t *testing.T, hc *http.Client, method, u string, headers map[string]string, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// login opens a fresh login link in b and returns the session key the
// redirect carries in its fragment.
func login(t *testing.T, client *api.Client, b *http.Client, base string) string {
	t.Helper()
	link, err := client.LoginLink(context.Background())
	if err != nil {
		t.Fatalf("LoginLink: %v", err)
	}
	if !strings.HasPrefix(link.URL, base+api.LoginPath+"?t=") {
		t.Fatalf("login link %q, want one on %s%s", link.URL, base, api.LoginPath)
	}
	resp := do(t, b, "GET", link.URL, nil, "")
	key, ok := strings.CutPrefix(resp.Header.Get("Location"), "/#"+api.SessionFragment)
	if resp.StatusCode != http.StatusSeeOther || !ok || len(key) != 64 {
		t.Fatalf("opening the login link: %d to %q, want 303 to /#%sKEY", resp.StatusCode, resp.Header.Get("Location"), api.SessionFragment)
	}
	if body, _ := io.ReadAll(resp.Body); strings.Contains(string(body), key) {
		t.Errorf("the login redirect's body holds the session key: %q", body)
	}
	var c *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == api.CookieName(strings.TrimPrefix(base, "http://")) {
			c = ck
		}
	}
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
		t.Fatalf("session cookie %+v, want HttpOnly and SameSite=Strict", c)
	}
	if strings.Contains(c.Value, key) {
		t.Fatalf("session cookie holds the session key")
	}
	resp = do(t, b, "GET", base+"/api/v1/session", map[string]string{api.SessionHeader: key}, "")
	var si api.SessionInfo
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&si) != nil || si.ExpiresAt.IsZero() {
		t.Fatalf("GET /api/v1/session with the key: %d, %+v", resp.StatusCode, si)
	}
	return key
}

// TestBrowserSession: a one-time login link opens a session that reads and
// writes with the cookie and the session key together, only from its own
// origin, and the link does not work twice.
func TestBrowserSession(t *testing.T) {
	backend := &countingBackend{Backend: openOffline(t, "")}
	client, srv := serve(t, backend, api.ServerOptions{})
	base := srv.URL
	b := browser(t)
	key := login(t, client, b, base)
	withKey := func(kv ...string) map[string]string {
		m := map[string]string{api.SessionHeader: key}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}

	profile := `{"name":"Ada"}`
	tests := []struct {
		name    string
		method  string
		path    string
		headers map[string]string
		body    string
		status  int
		writes  int32
	}{
		{name: "read with the cookie and the key", method: "GET", path: "/api/v1/id", headers: withKey(), status: 200},
		{name: "write without the key", method: "PUT", path: "/api/v1/profile", body: profile, status: 401},
		{name: "write with a wrong key", method: "PUT", path: "/api/v1/profile", body: profile,
			headers: map[string]string{api.SessionHeader: "nope"}, status: 401},
		{name: "write from another origin", method: "PUT", path: "/api/v1/profile", body: profile,
			headers: withKey("Origin", "http://evil.example"), status: 403},
		{name: "read from another origin", method: "GET", path: "/api/v1/id",
			headers: withKey("Origin", "http://evil.example"), status: 403},
		{name: "read from another port", method: "GET", path: "/api/v1/id",
			headers: withKey("Origin", "http://127.0.0.1:1"), status: 403},
		{name: "cross-site fetch", method: "GET", path: "/api/v1/id",
			headers: withKey("Sec-Fetch-Site", "cross-site"), status: 403},
		{name: "same-site fetch (another port of this host)", method: "GET", path: "/api/v1/id",
			headers: withKey("Sec-Fetch-Site", "same-site"), status: 403},
		{name: "same-site write", method: "PUT", path: "/api/v1/profile", body: profile,
			headers: withKey("Sec-Fetch-Site", "same-site"), status: 403},
		{name: "same-origin fetch", method: "GET", path: "/api/v1/id",
			headers: withKey("Sec-Fetch-Site", "same-origin"), status: 200},
		{name: "browser cannot mint login links", method: "POST", path: "/api/v1/login-links",
			headers: withKey(), status: 403},
		{name: "write with the key from its own origin", method: "PUT", path: "/api/v1/profile", body: profile,
			headers: withKey("Origin", base, "Sec-Fetch-Site", "same-origin"), status: 200, writes: 1},
	}
	var writes int32
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := do(t, b, tc.method, base+tc.path, tc.headers, tc.body)
			if resp.StatusCode != tc.status {
				t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, resp.StatusCode, tc.status)
			}
			writes += tc.writes
			if got := backend.sets.Load(); got != writes {
				t.Errorf("writes reaching the backend: %d, want %d", got, writes)
			}
		})
	}

	// No CORS: nothing invites another origin to read answers.
	resp := do(t, b, "GET", base+"/api/v1/id", withKey("Origin", base), "")
	if h := resp.Header.Get("Access-Control-Allow-Origin"); h != "" {
		t.Errorf("Access-Control-Allow-Origin: %q, want none", h)
	}

	// Logging out ends the session.
	if resp := do(t, b, "POST", base+"/api/v1/logout", withKey(), ""); resp.StatusCode != 200 {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if resp := do(t, b, "GET", base+"/api/v1/id", withKey(), ""); resp.StatusCode != 401 {
		t.Errorf("after logout: %d, want 401", resp.StatusCode)
	}
}

// TestCookieAloneRefused: browsers send a node's cookie to every port of
// 127.0.0.1, so a program behind a page on another port can hold it. With
// the cookie but not the session key it can neither read, nor write, nor
// learn the key, nor open the event stream.
func TestCookieAloneRefused(t *testing.T) {
	backend := &countingBackend{Backend: streamingBackend{openOffline(t, "")}}
	client, srv := serve(t, backend, api.ServerOptions{})
	b := browser(t)
	key := login(t, client, b, srv.URL)
	if _, err := client.SetProfile(context.Background(), api.ProfileInput{Name: ptr("Ada")}); err != nil {
		t.Fatal(err)
	}
	backend.sets.Store(0)

	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/api/v1/session", ""},
		{"GET", "/api/v1/id", ""},
		{"GET", "/api/v1/profiles/self", ""},
		{"GET", "/api/v1/pairings", ""},
		{"GET", "/api/v1/events", ""},
		{"GET", "/api/v1/events?ticket=" + strings.Repeat("0", 64), ""},
		{"POST", "/api/v1/events/tickets", ""},
		{"PUT", "/api/v1/profile", `{"name":"Mallory"}`},
		{"POST", "/api/v1/communities", `{"name":"mallory"}`},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			resp := do(t, b, tc.method, srv.URL+tc.path, nil, tc.body)
			if resp.StatusCode != http.StatusUnauthorized {
				// Not read: an event stream would not end.
				t.Fatalf("%s %s with the cookie alone: status %d, want 401", tc.method, tc.path, resp.StatusCode)
			}
			body, _ := io.ReadAll(resp.Body)
			if strings.Contains(string(body), key) || strings.Contains(string(body), "Ada") {
				t.Errorf("%s %s with the cookie alone answered with session or user data: %s", tc.method, tc.path, body)
			}
		})
	}
	if n := backend.sets.Load(); n != 0 {
		t.Errorf("writes reaching the backend with the cookie alone: %d, want 0", n)
	}
	// The key alone, without the cookie, is not a session either.
	if resp := do(t, &http.Client{}, "GET", srv.URL+"/api/v1/id", map[string]string{api.SessionHeader: key}, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/id with the key and no cookie: %d, want 401", resp.StatusCode)
	}
}

// TestEventTicket: the page opens the event stream with a one-time ticket
// (EventSource cannot send the key header); a ticket works once, only
// with the cookie of the session it was issued to.
func TestEventTicket(t *testing.T) {
	client, srv := serve(t, streamingBackend{openOffline(t, "")}, api.ServerOptions{})
	b, other := browser(t), browser(t)
	key := login(t, client, b, srv.URL)
	otherKey := login(t, client, other, srv.URL)
	ticket := func(hc *http.Client, key string) string {
		t.Helper()
		resp := do(t, hc, "POST", srv.URL+"/api/v1/events/tickets", map[string]string{api.SessionHeader: key}, "")
		var et api.EventTicket
		if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&et) != nil || len(et.Ticket) != 64 {
			t.Fatalf("POST /api/v1/events/tickets: %d, %+v", resp.StatusCode, et)
		}
		return et.Ticket
	}
	stream := func(hc *http.Client, ticket string) int {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/v1/events?ticket="+ticket, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := hc.Do(req) // returns once the headers are in
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return resp.StatusCode
	}

	tk := ticket(b, key)
	if got := stream(other, tk); got != http.StatusUnauthorized {
		t.Errorf("another session's ticket: %d, want 401", got)
	}
	tk = ticket(b, key)
	if got := stream(b, tk); got != http.StatusOK {
		t.Fatalf("own ticket: %d, want 200", got)
	}
	if got := stream(b, tk); got != http.StatusUnauthorized {
		t.Errorf("ticket used twice: %d, want 401", got)
	}
	if got := stream(other, ticket(other, otherKey)); got != http.StatusOK {
		t.Errorf("the other session's own ticket: %d, want 200", got)
	}
	if resp := do(t, &http.Client{}, "POST", srv.URL+"/api/v1/events/tickets", map[string]string{"Authorization": "Bearer " + testToken}, ""); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("ticket for the API token: %d, want 400 (the CLI streams with its token)", resp.StatusCode)
	}
}

// TestLoginLinkSingleUse: a login link works once; a forged or reused one
// gets a page saying how to get a new one, and no cookie.
func TestLoginLinkSingleUse(t *testing.T) {
	client, srv := serve(t, openOffline(t, ""), api.ServerOptions{})
	link, err := client.LoginLink(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	first := browser(t)
	if resp := do(t, first, "GET", link.URL, nil, ""); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("first use: %d, want 303", resp.StatusCode)
	}
	u, _ := url.Parse(link.URL)
	forged := *u
	forged.RawQuery = "t=" + strings.Repeat("0", 64)
	for name, target := range map[string]string{"reused": link.URL, "forged": forged.String(), "empty": srv.URL + api.LoginPath} {
		b := browser(t)
		resp := do(t, b, "GET", target, nil, "")
		if resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
			t.Errorf("%s link: status %d, cookies %v; want 401 and no cookie", name, resp.StatusCode, resp.Cookies())
		}
		if resp := do(t, b, "GET", srv.URL+"/api/v1/id", nil, ""); resp.StatusCode != 401 {
			t.Errorf("%s link: API answered %d without a session, want 401", name, resp.StatusCode)
		}
	}
}

// streamingBackend adds an event stream, with no events, to a backend
// without one.
type streamingBackend struct{ api.Backend }

func (streamingBackend) Subscribe(ctx context.Context) (<-chan api.Event, error) {
	ch := make(chan api.Event)
	go func() {
		<-ctx.Done()
		close(ch)
	}()
	return ch, nil
}
