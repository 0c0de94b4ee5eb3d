package web_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mentormesh/mentormesh/node"
	"github.com/mentormesh/mentormesh/node/api"
)

// chromiumPath finds the browser. CI installs Debian's chromium (.ci/run);
// a developer machine without one skips the browser tests, but CI never
// does (CI=true makes a missing browser a failure).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("MENTORMESH_CHROMIUM"), "chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no chromium on PATH: .ci/run installs Debian's chromium package")
	}
	t.Skip("no chromium on PATH (apt-get install chromium); CI runs this test")
	return ""
}

// newBrowser starts a headless Chromium with its own profile directory.
// Each returned tab context is a separate browser (separate cookies).
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "chromium")),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox refuses to start
		chromedp.WindowSize(1100, 900),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithErrorf(func(f string, a ...any) {
		// cdproto lags Chromium; unknown event types are not the test's concern.
		if !strings.Contains(f, "unhandled") && !strings.Contains(fmt.Sprintf(f, a...), "unknown") {
			t.Logf("chromedp: "+f, a...)
		}
	}))
	t.Cleanup(cancelTab)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// startNode starts a real node on loopback with a fresh data directory.
func startNode(t *testing.T, bootstrap ...string) *node.Node {
	t.Helper()
	n, err := node.Start(node.Options{
		DataDir: t.TempDir(), Listen: []string{"/ip4/127.0.0.1/tcp/0"},
		NoMDNS: true, APIAddr: "127.0.0.1:0", Bootstrap: bootstrap,
	})
	if err != nil {
		t.Fatalf("starting node: %v", err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// run runs browser actions with a deadline, failing the test with what
// was being done.
func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, actions...); err != nil {
		bctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		body, _ := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("%s: %v\npage text:\n%s", what, err, body)
	}
}

// screenshot saves the page to docs/screenshots when MENTORMESH_SCREENSHOTS
// names a directory (see README: the docs' screenshots come from here).
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("MENTORMESH_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPageFirstRunAndLive: the login link opens a session; a new user
// creates a profile on the first-run form; the network view shows a peer
// that connects and its profile arrives, live, without reloading.
func TestPageFirstRunAndLive(t *testing.T) {
	a := startNode(t)
	ctx := newBrowser(t)

	// Without a login link the page explains how to get one.
	base := "http://" + a.APIAddr()
	run(t, ctx, "open the page without a session",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(`//h1[contains(., "Log in to your node")]`),
	)

	run(t, ctx, "log in and see the first-run form",
		chromedp.Navigate(a.LoginURL()),
		chromedp.WaitVisible(`//h1[contains(., "Create your profile")]`),
	)
	screenshot(t, ctx, "first-run")
	run(t, ctx, "create a profile",
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "Ada Lovelace"),
		chromedp.SendKeys(chromedp.CSS(`textarea[name="bio"]`), "Facilitator of circles."),
		chromedp.SendKeys(chromedp.CSS(`input[name="skills"]`), "facilitation, consent decision-making"),
		chromedp.Click(`//button[contains(., "Create profile")]`),
		chromedp.WaitVisible(`//h1[contains(., "My profile")]`),
	)
	p, err := a.Local().Profile(context.Background(), "", "")
	if err != nil || p.Name != "Ada Lovelace" || len(p.Skills) != 2 {
		t.Fatalf("profile stored by the page: %+v, %v", p, err)
	}

	run(t, ctx, "open the network view", chromedp.Navigate(base+"/#/network"),
		chromedp.WaitVisible(`//h2[contains(., "Peers")]`))
	b := startNode(t, a.Addrs()...)
	if _, err := b.Local().SetProfile(context.Background(), api.ProfileInput{Name: ptr("Bea")}); err != nil {
		t.Fatal(err)
	}
	// The view updates from the event stream: no reload.
	run(t, ctx, "see the peer appear live",
		chromedp.WaitVisible(fmt.Sprintf(`//td[@title=%q]`, b.PeerID())),
	)
	screenshot(t, ctx, "network")
}

func ptr[T any](v T) *T { return &v }
