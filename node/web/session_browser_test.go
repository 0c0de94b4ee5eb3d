package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/mentormesh/mentormesh/node/api"
)

// TestPageSessionKeyStaysWithThePage: Chromium sends the node's session
// cookie to a page on another port of 127.0.0.1 (cookies ignore ports),
// but the cookie alone opens nothing: the session key the login link
// brought in the fragment lives in the page's localStorage, is gone from
// the address bar, and is not revealed to the cookie. Without the key the
// page asks for a login link again.
func TestPageSessionKeyStaysWithThePage(t *testing.T) {
	a := startNode(t)
	ctx := newBrowser(t)
	base := "http://" + a.APIAddr()
	run(t, ctx, "log in", chromedp.Navigate(a.LoginURL()),
		chromedp.WaitVisible(`//div[@id="live"][contains(., "live")]`))

	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href`))
	if err != nil || href != base+"/" {
		t.Errorf("address after login = %q (%v), want %q: the key must leave the address bar", href, err, base+"/")
	}
	key, err := chromedp.Run(ctx, chromedp.Evaluate[string](`localStorage.getItem("mentormesh.session") || ""`))
	if err != nil || len(key) != 64 {
		t.Fatalf("session key in localStorage = %q (%v), want 64 hex digits", key, err)
	}
	back, err := chromedp.Run(ctx, chromedp.Evaluate[int](`history.length`))
	if err != nil {
		t.Fatal(err)
	}
	if back > 2 {
		t.Errorf("history has %d entries after login, want the fragment's entry replaced", back)
	}

	// Another program's page on another port of the same host.
	var mu sync.Mutex
	var cookies []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		cookies = append(cookies, r.Header.Get("Cookie"))
		mu.Unlock()
		_, _ = io.WriteString(w, "<!doctype html><title>other</title><p>another program</p>")
	}))
	t.Cleanup(other.Close)
	run(t, ctx, "visit a page on another port", chromedp.Navigate(other.URL+"/"),
		chromedp.WaitVisible(`//p[contains(., "another program")]`))
	mu.Lock()
	got := strings.Join(cookies, "; ")
	mu.Unlock()
	name := api.CookieName(a.APIAddr())
	var stolen string
	for _, c := range strings.Split(got, "; ") {
		if v, ok := strings.CutPrefix(c, name+"="); ok {
			stolen = v
		}
	}
	if stolen == "" {
		t.Fatalf("the browser did not send %s to another port (cookies there: %q): the premise of this test changed", name, got)
	}
	if strings.Contains(got, key) {
		t.Fatalf("the page on another port received the session key")
	}
	for _, path := range []string{"/api/v1/session", "/api/v1/id", "/api/v1/profiles/self"} {
		req, err := http.NewRequest("GET", base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.AddCookie(&http.Cookie{Name: name, Value: stolen})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || strings.Contains(string(body), key) {
			t.Errorf("GET %s with the cookie from the other port: %d %s, want 401 without the key", path, resp.StatusCode, body)
		}
	}

	// The page itself still works, and without the key (storage cleared,
	// as in a new profile) it asks for a login link.
	run(t, ctx, "back to the page", chromedp.Navigate(base+"/#/network"),
		chromedp.WaitVisible(`//h2[contains(., "Peers")]`),
		chromedp.WaitVisible(`//div[@id="live"][contains(., "live")]`))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`localStorage.clear(), true`)); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "reload without the key", chromedp.Reload(),
		chromedp.WaitVisible(`//h1[contains(., "Log in to your node")]`))
}
