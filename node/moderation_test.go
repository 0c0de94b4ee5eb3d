package node

import (
	"context"
	"crypto/ed25519"
	"errors"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/record"
)

func openTestOffline(t *testing.T, dir string) *Offline {
	t.Helper()
	o, err := OpenOffline(dir, "test", nil)
	if err != nil {
		t.Fatalf("OpenOffline: %v", err)
	}
	t.Cleanup(func() { _ = o.Close() })
	return o
}

func authorOfKey(k ed25519.PrivateKey) record.Author {
	var a record.Author
	copy(a[:], k.Public().(ed25519.PublicKey))
	return a
}

// signList signs a moderation list by key in the default community.
func signList(t *testing.T, key ed25519.PrivateKey, version uint64, entries ...mentorship.ModerationEntry) *record.Record {
	t.Helper()
	payload, err := mentorship.ModerationList{Blocked: entries}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	rec, err := record.Sign(key, record.Body{
		Community: DefaultCommunity, Author: authorOfKey(key), Kind: mentorship.KindModeration,
		Version: version, Timestamp: record.Now(), Payload: payload,
	})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func apiCode(err error) string {
	var e *api.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// TestBlockOffline exercises blocks on a data directory without a node:
// input checks, hiding from views, persistence, and steward lists read
// from the store.
func TestBlockOffline(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	o := openTestOffline(t, dir)
	carol, steward := newKey(t), newKey(t)
	carolID := authorOfKey(carol).String()
	if _, err := o.store.Apply(ctx, signProfile(t, carol, "Carol"), store.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}

	bad := []struct {
		name string
		in   api.BlockInput
		code string
	}{
		{"not a peer ID", api.BlockInput{PeerID: "carol"}, api.CodeBadRequest},
		{"self", api.BlockInput{PeerID: o.author.String()}, api.CodeBadRequest},
		{"reason with newline", api.BlockInput{PeerID: carolID, Reason: "a\nb"}, api.CodeBadRequest},
		{"reason too long", api.BlockInput{PeerID: carolID, Reason: strings.Repeat("x", 201)}, api.CodeBadRequest},
		{"community without publish", api.BlockInput{PeerID: carolID, Community: DefaultCommunity}, api.CodeBadRequest},
		{"publish in a community not joined", api.BlockInput{PeerID: carolID, Publish: true, Community: "elsewhere"}, api.CodeBadRequest},
	}
	for _, tt := range bad {
		if _, err := o.Block(ctx, tt.in); apiCode(err) != tt.code {
			t.Errorf("Block(%s) = %v, want a %s error", tt.name, err, tt.code)
		}
	}
	if bs, err := o.Blocks(ctx); err != nil || len(bs) != 0 {
		t.Fatalf("after refused blocks: Blocks = %+v, %v; want none (nothing written)", bs, err)
	}
	if _, err := os.Stat(o.paths.BlocksFile()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("refused blocks wrote %s (stat: %v)", o.paths.BlocksFile(), err)
	}
	if err := o.Unblock(ctx, carolID); apiCode(err) != api.CodeNotFound {
		t.Errorf("Unblock of a peer not blocked = %v, want not found", err)
	}

	if _, err := o.Profile(ctx, carolID, ""); err != nil {
		t.Fatalf("Carol's profile before the block: %v", err)
	}
	bp, err := o.Block(ctx, api.BlockInput{PeerID: carolID, Reason: "spam"})
	if err != nil {
		t.Fatalf("Block: %v", err)
	}
	if len(bp.Sources) != 1 || bp.Sources[0].Source != api.BlockSourceLocal || bp.Sources[0].Reason != "spam" || bp.Sources[0].Since == nil {
		t.Errorf("Block = %+v, want one local source with the reason and a time", bp)
	}
	if _, err := o.Profile(ctx, carolID, ""); !api.IsNotFound(err) || !strings.Contains(err.Error(), "blocked") {
		t.Errorf("Carol's profile after the block = %v, want not found (blocked)", err)
	}

	// Persisted: a new process sees the block.
	_ = o.Close()
	o = openTestOffline(t, dir)
	if _, err := o.Profile(ctx, carolID, ""); !api.IsNotFound(err) {
		t.Errorf("after reopening, Carol's profile = %v, want still blocked", err)
	}

	// A steward's list, once followed, blocks the peers it names, with the
	// steward as the source; a steward never blocks itself out, nor this
	// node.
	dave := newKey(t)
	daveID := authorOfKey(dave).String()
	list := signList(t, steward, 1,
		mentorship.ModerationEntry{Peer: authorOfKey(dave), Reason: "harassment"},
		mentorship.ModerationEntry{Peer: o.author, Reason: "the follower itself"},
		mentorship.ModerationEntry{Peer: authorOfKey(carol), Reason: "also spam"},
	)
	if _, err := o.store.Apply(ctx, list, store.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if bs, _ := o.Blocks(ctx); len(bs) != 1 {
		t.Errorf("before following the steward: %d blocked, want 1 (Carol)", len(bs))
	}
	st, err := o.FollowSteward(ctx, api.StewardInput{PeerID: authorOfKey(steward).String()})
	if err != nil {
		t.Fatalf("FollowSteward: %v", err)
	}
	if st.Community != DefaultCommunity || st.Listed != 3 || st.ListVersion != 1 {
		t.Errorf("FollowSteward = %+v, want the default community and a list of 3 at version 1", st)
	}
	bs, err := o.Blocks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]api.BlockSource{}
	for _, b := range bs {
		got[b.PeerID] = b.Sources
	}
	if len(got) != 2 || len(got[daveID]) != 1 || got[daveID][0].Source != api.BlockSourceSteward ||
		got[daveID][0].Steward != authorOfKey(steward).String() || got[daveID][0].Reason != "harassment" {
		t.Errorf("Blocks with the steward = %+v, want Carol (local and steward) and Dave (steward, harassment)", bs)
	}
	if len(got[carolID]) != 2 {
		t.Errorf("Carol's sources = %+v, want local and steward", got[carolID])
	}
	if o.blocked(o.author) {
		t.Error("the steward's list blocked this node itself")
	}
	// Unblocking a peer only a steward lists says what to do instead.
	if err := o.Unblock(ctx, daveID); apiCode(err) != api.CodeConflict || !strings.Contains(err.Error(), "steward unfollow") {
		t.Errorf("Unblock of a steward-listed peer = %v, want a conflict pointing to 'steward unfollow'", err)
	}
	// Unfollowing reverses the steward's blocks; the user's own stays.
	if err := o.UnfollowSteward(ctx, authorOfKey(steward).String(), ""); err != nil {
		t.Fatalf("UnfollowSteward: %v", err)
	}
	if o.blocked(authorOfKey(dave)) || !o.blocked(authorOfKey(carol)) {
		t.Error("after unfollowing: want Dave unblocked and Carol still blocked")
	}
	if err := o.UnfollowSteward(ctx, authorOfKey(steward).String(), ""); apiCode(err) != api.CodeNotFound {
		t.Errorf("second UnfollowSteward = %v, want not found", err)
	}
	if err := o.Unblock(ctx, carolID); err != nil {
		t.Fatalf("Unblock: %v", err)
	}
	if p, err := o.Profile(ctx, carolID, ""); err != nil || p.Name != "Carol" {
		t.Errorf("after unblocking, Carol's profile = %+v, %v", p, err)
	}
}

// TestPublishedList checks a steward's side: block --publish writes a
// signed moderation list, unblock removes the peer from it.
func TestPublishedList(t *testing.T) {
	ctx := context.Background()
	o := openTestOffline(t, t.TempDir())
	x, y := authorOfKey(newKey(t)), authorOfKey(newKey(t))
	for _, a := range []record.Author{x, y} {
		if _, err := o.Block(ctx, api.BlockInput{PeerID: a.String(), Reason: "spam", Publish: true}); err != nil {
			t.Fatalf("Block --publish: %v", err)
		}
	}
	list, version, err := o.ownList(ctx, DefaultCommunity)
	if err != nil || version != 2 || len(list.Blocked) != 2 {
		t.Fatalf("own list = %+v at version %d, %v; want 2 entries at version 2", list, version, err)
	}
	rec, err := o.store.Current(ctx, record.Addr{Community: DefaultCommunity, Author: o.author, Kind: mentorship.KindModeration})
	if err != nil || rec.Verify() != nil {
		t.Fatalf("the published list is not a verified record: %v", err)
	}
	n := 0
	_ = o.store.Outbox(ctx, func(*record.Record) error { n++; return nil })
	if n != 1 {
		t.Errorf("outbox holds %d records, want 1 (the list's latest version, to publish)", n)
	}
	bs, _ := o.Blocks(ctx)
	for _, b := range bs {
		if len(b.PublishedIn) != 1 || b.PublishedIn[0] != DefaultCommunity {
			t.Errorf("%s published in %v, want [%s]", b.PeerID, b.PublishedIn, DefaultCommunity)
		}
	}
	if err := o.Unblock(ctx, x.String()); err != nil {
		t.Fatal(err)
	}
	list, _, _ = o.ownList(ctx, DefaultCommunity)
	if _, listed := list.Listed(x); listed || len(list.Blocked) != 1 {
		t.Errorf("after unblocking x, the list = %+v, want only y", list)
	}
}

func TestBans(t *testing.T) {
	b := newBans()
	now := time.Now()
	b.now = func() time.Time { return now }
	p := authorOfKey(newKey(t)).PeerID()
	if b.banned(p) {
		t.Fatal("banned before any ban")
	}
	b.ban(p, time.Minute)
	if !b.banned(p) {
		t.Fatal("not banned after ban")
	}
	now = now.Add(time.Minute)
	if b.banned(p) {
		t.Error("still banned after the ban expired")
	}
	var nilBans *bans
	if nilBans.banned(p) {
		t.Error("nil bans banned a peer")
	}
}

// TestModerationAPIRoundTrip runs blocks and stewards through the HTTP API
// and its Go client, and checks the answers against the in-process backend.
func TestModerationAPIRoundTrip(t *testing.T) {
	ctx := context.Background()
	o := openTestOffline(t, t.TempDir())
	const token = "moderation-test-token"
	srv := httptest.NewServer(api.NewServer(o.Local, api.ServerOptions{Token: token}))
	t.Cleanup(srv.Close)
	cl := api.NewClient(strings.TrimPrefix(srv.URL, "http://"), token)
	x, s := authorOfKey(newKey(t)).String(), authorOfKey(newKey(t)).String()

	bp, err := cl.Block(ctx, api.BlockInput{PeerID: x, Reason: "spam", Publish: true})
	if err != nil {
		t.Fatalf("Block over HTTP: %v", err)
	}
	if len(bp.PublishedIn) != 1 || len(bp.Sources) != 1 {
		t.Errorf("Block over HTTP = %+v, want one local source, published in one community", bp)
	}
	remote, err := cl.Blocks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	local, _ := o.Blocks(ctx)
	sameJSON(t, "Blocks", remote, local)
	if _, err := cl.FollowSteward(ctx, api.StewardInput{PeerID: s}); err != nil {
		t.Fatal(err)
	}
	rs, err := cl.Stewards(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ls, _ := o.Stewards(ctx)
	sameJSON(t, "Stewards", rs, ls)
	for _, tt := range []struct {
		what   string
		err    error
		status int
	}{
		{"Block self", func() error { _, err := cl.Block(ctx, api.BlockInput{PeerID: o.author.String()}); return err }(), 400},
		{"Unblock unknown", cl.Unblock(ctx, s), 404},
		{"Unfollow unknown", cl.UnfollowSteward(ctx, x, ""), 404},
		{"Follow in unknown community", func() error {
			_, err := cl.FollowSteward(ctx, api.StewardInput{PeerID: s, Community: "elsewhere"})
			return err
		}(), 400},
	} {
		if apiStatus(tt.err) != tt.status {
			t.Errorf("%s over HTTP = %v, want status %d", tt.what, tt.err, tt.status)
		}
	}
	if err := cl.UnfollowSteward(ctx, s, DefaultCommunity); err != nil {
		t.Errorf("UnfollowSteward over HTTP: %v", err)
	}
	if err := cl.Unblock(ctx, x); err != nil {
		t.Errorf("Unblock over HTTP: %v", err)
	}
	if bs, _ := cl.Blocks(ctx); len(bs) != 0 {
		t.Errorf("Blocks after unblock = %+v, want none", bs)
	}
}
