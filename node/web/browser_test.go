package web_test

import (
	"context"
	"encoding/json"
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
	tctx, cancel := context.WithTimeout(ctx, 45*time.Second)
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

	run(t, ctx, "join a community",
		chromedp.Navigate(base+"/#/communities"),
		chromedp.WaitVisible(`//tr[@data-community="sociocracy"]`),
		chromedp.SendKeys(chromedp.CSS(`form input[name="name"]`), "sociocracy-nl"),
		chromedp.Click(`//button[text()="Join"]`),
		chromedp.WaitVisible(`//tr[@data-community="sociocracy-nl"]`),
	)
	if cl, err := a.Local().Communities(context.Background()); err != nil || len(cl.Communities) != 2 {
		t.Fatalf("communities after joining on the page: %+v, %v", cl, err)
	}
}

func ptr[T any](v T) *T { return &v }

// newTab opens another tab in the browser of ctx.
func newTab(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(ctx)
	t.Cleanup(cancel)
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	return tab
}

// TestPageMentorRequestAcceptedLive is the page's key scenario, with two
// real nodes: on node A's page a mentee asks a mentor who lives on node B;
// on B's page the request appears without a reload and the mentor accepts;
// A's page then shows the pairing active, again without a reload.
func TestPageMentorRequestAcceptedLive(t *testing.T) {
	ctx := context.Background()
	a := startNode(t)
	b := startNode(t, a.Addrs()...)
	if _, err := a.Local().SetProfile(ctx, api.ProfileInput{Name: ptr("Sam Mentee")}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Local().SetProfile(ctx, api.ProfileInput{Name: ptr("Amara Mentor"), Skills: &[]string{"facilitation"}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "each node to hold the other's profile", func() bool {
		_, errA := a.Local().Profile(ctx, b.PeerID(), "")
		_, errB := b.Local().Profile(ctx, a.PeerID(), "")
		return errA == nil && errB == nil
	})

	tabA := newBrowser(t)
	tabB := newTab(t, tabA)
	run(t, tabA, "A: log in and open pairings",
		chromedp.Navigate(a.LoginURL()),
		chromedp.WaitVisible(`//div[@id="live"][contains(., "live")]`),
		chromedp.Navigate("http://"+a.APIAddr()+"/#/pairings"),
		chromedp.WaitVisible(`//h2[contains(., "Ask for a mentor")]`),
	)
	run(t, tabB, "B: log in and open pairings",
		chromedp.Navigate(b.LoginURL()),
		chromedp.WaitVisible(`//div[@id="live"][contains(., "live")]`),
		chromedp.Navigate("http://"+b.APIAddr()+"/#/pairings"),
		chromedp.WaitVisible(`//p[contains(., "No open pairings")]`),
	)

	run(t, tabA, "A: ask B to mentor",
		chromedp.SendKeys(chromedp.CSS(`input[name="peer_id"]`), b.PeerID()),
		chromedp.SendKeys(chromedp.CSS(`textarea[name="message"]`), "Help me facilitate my first consent round"),
		chromedp.Click(`//button[text()="Send"]`),
		chromedp.WaitVisible(`//article[@data-state="pending"]//h2[contains(., "Amara Mentor")]`),
	)
	run(t, tabB, "B: see the request appear live and accept it",
		chromedp.WaitVisible(`//article[@data-state="pending"]//p[contains(., "Help me facilitate")]`),
	)
	screenshot(t, tabB, "pairings-request")
	run(t, tabB, "B: accept",
		chromedp.Click(`//article[@data-state="pending"]//button[@data-action="accept"]`),
		chromedp.WaitVisible(`//article[@data-state="active"]//h2[contains(., "Sam Mentee")]`),
	)
	run(t, tabA, "A: see the pairing active, live",
		chromedp.WaitVisible(`//article[@data-state="active"]//h2[contains(., "Amara Mentor")]`),
	)
	screenshot(t, tabA, "pairings-active")
	list, err := a.Local().Pairings(ctx, api.PairingQuery{})
	if err != nil || len(list) != 1 || list[0].State != "active" || list[0].Mentor != b.PeerID() {
		t.Fatalf("A's pairings after the browser flow: %+v, %v", list, err)
	}

	// Inside the pairing: a goal and a private note written on A's page
	// reach B's page, live.
	detail := "/#/pairings/" + list[0].ID
	run(t, tabA, "A: add a goal and a note",
		chromedp.Navigate("http://"+a.APIAddr()+detail),
		chromedp.WaitVisible(`//h2[text()="Goals"]`),
		chromedp.SendKeys(chromedp.CSS(`form[aria-label="Add a goal"] input[name="title"]`), "Facilitate a consent round"),
		chromedp.Click(`//button[text()="Add goal"]`),
		chromedp.WaitVisible(`//li[contains(., "Facilitate a consent round")]`),
		chromedp.SendKeys(chromedp.CSS(`form[aria-label="Add a note"] textarea[name="text"]`), "Nervous about objections"),
		chromedp.Click(`//button[text()="Add note"]`),
		chromedp.WaitVisible(`//blockquote[contains(., "Nervous about objections")]`),
	)
	run(t, tabB, "B: see the goal and the note",
		chromedp.Navigate("http://"+b.APIAddr()+detail),
		chromedp.WaitVisible(`//li[contains(., "Facilitate a consent round")]`),
		chromedp.WaitVisible(`//blockquote[contains(., "Nervous about objections")]`),
	)
	screenshot(t, tabB, "pairing-inside")
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestPageResourcesLive: a resource shared on A's page appears on B's page
// without a reload; B endorses it and A's page shows the endorsement.
func TestPageResourcesLive(t *testing.T) {
	ctx := context.Background()
	a := startNode(t)
	b := startNode(t, a.Addrs()...)
	for n, name := range map[*node.Node]string{a: "Ada", b: "Bea"} {
		if _, err := n.Local().SetProfile(ctx, api.ProfileInput{Name: ptr(name)}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 30*time.Second, "each node to hold the other's profile", func() bool {
		_, errA := a.Local().Profile(ctx, b.PeerID(), "")
		_, errB := b.Local().Profile(ctx, a.PeerID(), "")
		return errA == nil && errB == nil
	})
	tabA := newBrowser(t)
	tabB := newTab(t, tabA)
	for tab, n := range map[context.Context]*node.Node{tabA: a, tabB: b} {
		run(t, tab, "log in and open resources",
			chromedp.Navigate(n.LoginURL()),
			chromedp.WaitVisible(`//div[@id="live"][contains(., "live")]`),
			chromedp.Navigate("http://"+n.APIAddr()+"/#/resources"),
			chromedp.WaitVisible(`//p[@role="status"][contains(., "0 resources")]`),
		)
	}
	run(t, tabA, "A: share a guide",
		chromedp.Click(`//summary[contains(., "Share a resource")]`),
		chromedp.SendKeys(chromedp.CSS(`form[aria-label="Share a resource"] input[name="title"]`), "Consent decision-making, step by step"),
		chromedp.SendKeys(chromedp.CSS(`form[aria-label="Share a resource"] input[name="url"]`), "https://example.org/consent"),
		chromedp.SendKeys(chromedp.CSS(`form[aria-label="Share a resource"] input[name="tags"]`), "consent decision-making"),
		chromedp.Click(`//button[text()="Share"]`),
		chromedp.WaitVisible(`//article[contains(@class,"resource")]//h2[contains(., "step by step")]`),
	)
	run(t, tabB, "B: see it live and endorse it",
		chromedp.WaitVisible(`//article[contains(@class,"resource")]//h2[contains(., "step by step")]`),
		chromedp.Click(`//article[contains(@class,"resource")]//button[@data-action="endorse"]`),
		chromedp.WaitVisible(`//article[contains(@class,"resource")]//button[@data-action="unendorse"]`),
	)
	run(t, tabA, "A: see the endorsement",
		chromedp.WaitVisible(`//article[contains(@class,"resource")]//p[contains(., "1 endorsement")]`),
	)
	screenshot(t, tabA, "resources")
}

// TestPageFindAndStats: a mentor on B with the skills asked for is ranked
// on A's page with its score and reasons; the statistics page adds up.
func TestPageFindAndStats(t *testing.T) {
	ctx := context.Background()
	a := startNode(t)
	b := startNode(t, a.Addrs()...)
	c := startNode(t, a.Addrs()...)
	two := 2
	mk := func(n *node.Node, in api.ProfileInput) {
		t.Helper()
		if _, err := n.Local().SetProfile(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	mk(a, api.ProfileInput{Name: ptr("Sam"), Languages: &[]string{"en"}, Roles: &[]string{"mentee"}})
	mk(b, api.ProfileInput{Name: ptr("Amara"), Skills: &[]string{"facilitation", "consent decision-making"},
		Languages: &[]string{"en"}, Roles: &[]string{"mentor"}, Capacity: &two, Experience: ptr("trainer")})
	mk(c, api.ProfileInput{Name: ptr("Jonas"), Skills: &[]string{"facilitation"},
		Languages: &[]string{"de"}, Roles: &[]string{"mentor"}, Capacity: &two, Experience: ptr("practising")})
	waitFor(t, 30*time.Second, "A to hold all three profiles", func() bool {
		l, err := a.Local().ListProfiles(ctx, "")
		return err == nil && len(l) == 3
	})
	tab := newBrowser(t)
	base := "http://" + a.APIAddr()
	run(t, tab, "find mentors for facilitation and consent",
		chromedp.Navigate(a.LoginURL()),
		chromedp.WaitVisible(`//div[@id="live"][contains(., "live")]`),
		chromedp.Navigate(base+"/#/find"),
		chromedp.SendKeys(chromedp.CSS(`form[aria-label="Find a mentor"] input[name="skill"]`), "facilitation, consent decision-making"),
		chromedp.Click(`//button[text()="Find mentors"]`),
		chromedp.WaitVisible(`//ol[@class="results"]/li[1][@data-mentor="`+b.PeerID()+`"]`),
		chromedp.WaitVisible(`//ol[@class="results"]/li[2][@data-mentor="`+c.PeerID()+`"]`),
		chromedp.WaitVisible(`//li[@data-mentor="`+b.PeerID()+`"]//ul[@class="reasons"]/li[contains(., "2 of 2 skills")]`),
	)
	screenshot(t, tab, "find")
	run(t, tab, "ask the best match, from the results",
		chromedp.Click(`//li[@data-mentor="`+b.PeerID()+`"]//button[contains(., "Ask to mentor me")]`),
		chromedp.WaitVisible(`//h2[contains(., "Ask for a mentor")]`),
		chromedp.Click(`//button[text()="Send"]`),
		chromedp.WaitVisible(`//article[@data-state="pending"]//h2[contains(., "Amara")]`),
	)
	run(t, tab, "statistics add up",
		chromedp.Navigate(base+"/#/stats"),
		chromedp.WaitVisible(`//h2[text()="Practitioners"]`),
		chromedp.WaitVisible(`//div[@class="bars"]/span[text()="mentors"]/following-sibling::span[1][text()="2"]`),
		chromedp.WaitVisible(`//div[@class="bars"]/span[text()="pending"]/following-sibling::span[1][text()="1"]`),
	)
	screenshot(t, tab, "stats")
}

// TestPageAccessibleAndNarrow: on a phone-sized window every section
// renders without horizontal scrolling, every form control has a label,
// and the sections can be reached with the keyboard alone.
func TestPageAccessibleAndNarrow(t *testing.T) {
	a := startNode(t)
	if _, err := a.Local().SetProfile(context.Background(), api.ProfileInput{Name: ptr("Ada")}); err != nil {
		t.Fatal(err)
	}
	tab := newBrowser(t)
	base := "http://" + a.APIAddr()
	run(t, tab, "log in", chromedp.Navigate(a.LoginURL()), chromedp.WaitVisible(`//div[@id="live"][contains(., "live")]`))
	if _, err := chromedp.Run(tab, chromedp.EmulateViewport(360, 740)); err != nil {
		t.Fatal(err)
	}
	// Checks run in the page: controls without a label, and content wider
	// than the window.
	const audit = `(() => {
	  const unlabelled = [...document.querySelectorAll("main input, main select, main textarea")]
	    .filter((el) => el.type !== "hidden" && !(el.labels && el.labels.length) && !el.getAttribute("aria-label"))
	    .map((el) => el.name || el.outerHTML.slice(0, 60));
	  return JSON.stringify({unlabelled, overflow: document.documentElement.scrollWidth - window.innerWidth});
	})()`
	for _, view := range []string{"profile", "find", "pairings", "resources", "communities", "network", "stats"} {
		run(t, tab, "open "+view, chromedp.Navigate(base+"/#/"+view), chromedp.WaitVisible(`//main/h1`))
		got, err := chromedp.Run(tab, chromedp.Evaluate[string](audit))
		if err != nil {
			t.Fatalf("%s: audit: %v", view, err)
		}
		var res struct {
			Unlabelled []string `json:"unlabelled"`
			Overflow   int      `json:"overflow"`
		}
		if err := json.Unmarshal([]byte(got), &res); err != nil {
			t.Fatalf("%s: audit result %q: %v", view, got, err)
		}
		if len(res.Unlabelled) > 0 {
			t.Errorf("%s: form controls without a label: %v", view, res.Unlabelled)
		}
		if res.Overflow > 0 {
			t.Errorf("%s: content %d px wider than a 360 px window", view, res.Overflow)
		}
	}
	screenshot(t, tab, "narrow-stats")
	// Keyboard: Tab from the top reaches the skip link, then the first
	// section link; Enter follows it.
	run(t, tab, "keyboard navigation",
		chromedp.Navigate(base+"/#/network"), chromedp.WaitVisible(`//main/h1[text()="Network"]`),
		chromedp.KeyEvent("\t"), chromedp.KeyEvent("\t"),
	)
	focused, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.activeElement.textContent`))
	if err != nil || focused != "My profile" {
		t.Fatalf("second Tab focuses %q (%v), want the first section link", focused, err)
	}
	run(t, tab, "Enter follows the link", chromedp.KeyEvent("\r"), chromedp.WaitVisible(`//main/h1[text()="My profile"]`))
}
