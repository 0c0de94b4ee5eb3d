package api_test

import (
	"context"
	"encoding/json"
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

// login opens a fresh login link in b and returns the session's CSRF token.
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
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("opening the login link: %d to %q, want 303 to /", resp.StatusCode, resp.Header.Get("Location"))
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
	resp = do(t, b, "GET", base+"/api/v1/session", nil, "")
	var si api.SessionInfo
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&si) != nil || si.CSRFToken == "" {
		t.Fatalf("GET /api/v1/session: %d, csrf %q", resp.StatusCode, si.CSRFToken)
	}
	return si.CSRFToken
}

// TestBrowserSession: a one-time login link opens a cookie session that
// reads freely, writes only with the CSRF token and from its own origin,
// and the link does not work twice.
func TestBrowserSession(t *testing.T) {
	backend := &countingBackend{Backend: openOffline(t, "")}
	client, srv := serve(t, backend, api.ServerOptions{})
	base := srv.URL
	b := browser(t)
	csrf := login(t, client, b, base)

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
		{name: "read with the cookie", method: "GET", path: "/api/v1/id", status: 200},
		{name: "write without CSRF token", method: "PUT", path: "/api/v1/profile", body: profile, status: 403},
		{name: "write with a wrong CSRF token", method: "PUT", path: "/api/v1/profile", body: profile,
			headers: map[string]string{api.CSRFHeader: "nope"}, status: 403},
		{name: "write from another origin", method: "PUT", path: "/api/v1/profile", body: profile,
			headers: map[string]string{api.CSRFHeader: csrf, "Origin": "http://evil.example"}, status: 403},
		{name: "read from another origin", method: "GET", path: "/api/v1/id",
			headers: map[string]string{"Origin": "http://evil.example"}, status: 403},
		{name: "cross-site fetch", method: "GET", path: "/api/v1/id",
			headers: map[string]string{"Sec-Fetch-Site": "cross-site"}, status: 403},
		{name: "browser cannot mint login links", method: "POST", path: "/api/v1/login-links",
			headers: map[string]string{api.CSRFHeader: csrf}, status: 403},
		{name: "write with the CSRF token from its own origin", method: "PUT", path: "/api/v1/profile", body: profile,
			headers: map[string]string{api.CSRFHeader: csrf, "Origin": base}, status: 200, writes: 1},
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
	resp := do(t, b, "GET", base+"/api/v1/id", map[string]string{"Origin": base}, "")
	if h := resp.Header.Get("Access-Control-Allow-Origin"); h != "" {
		t.Errorf("Access-Control-Allow-Origin: %q, want none", h)
	}

	// Logging out ends the session.
	if resp := do(t, b, "POST", base+"/api/v1/logout", map[string]string{api.CSRFHeader: csrf}, ""); resp.StatusCode != 200 {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if resp := do(t, b, "GET", base+"/api/v1/id", nil, ""); resp.StatusCode != 401 {
		t.Errorf("after logout: %d, want 401", resp.StatusCode)
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
