package node

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/record"
)

// TestResourceListCache checks that resource list and search, which read
// a cached copy of the community's resources (and show, its endorsers),
// see every change the cache depends on: a local write, a record from a
// peer, an endorsement, a block and its undoing, and a record's expiry.
func TestResourceListCache(t *testing.T) {
	ctx := context.Background()
	ada, bo := openResourceTestLocal(t, "Ada"), openResourceTestLocal(t, "Bo")
	titles := func(l *Local) []string {
		t.Helper()
		list, err := l.Resources(ctx, api.ResourceQuery{})
		if err != nil {
			t.Fatalf("Resources: %v", err)
		}
		var out []string
		for _, r := range list.Resources {
			out = append(out, r.Title)
		}
		slices.Sort(out)
		return out
	}
	want := func(l *Local, what string, titles0 ...string) {
		t.Helper()
		if got := titles(l); !slices.Equal(got, titles0) {
			t.Errorf("%s: resources %q, want %q", what, got, titles0)
		}
	}

	want(ada, "empty library")
	guide, err := ada.AddResource(ctx, resourceGuideInput("Consent handbook"))
	if err != nil {
		t.Fatal(err)
	}
	want(ada, "after a local write", "Consent handbook")

	// A record from a peer, applied as ingest applies it.
	if _, err := bo.AddResource(ctx, resourceGuideInput("Rounds explained")); err != nil {
		t.Fatal(err)
	}
	resourceReplicate(t, bo, ada)
	want(ada, "after a peer's resource arrived", "Consent handbook", "Rounds explained")

	resourceReplicate(t, ada, bo)
	if _, err := bo.EndorseResource(ctx, guide.ID, api.EndorseInput{}); err != nil {
		t.Fatal(err)
	}
	resourceReplicate(t, bo, ada)
	list, err := ada.Resources(ctx, api.ResourceQuery{Text: "consent"})
	if err != nil || len(list.Resources) != 1 || list.Resources[0].Endorsements != 1 {
		t.Errorf("search after an endorsement arrived = %+v, %v; want the handbook with 1 endorsement", list, err)
	}

	d, err := ada.Resource(ctx, guide.ID, "")
	if err != nil || d.Endorsements != 1 || len(d.Endorsers) != 1 || d.Endorsers[0].PeerID != bo.author.String() {
		t.Errorf("show after an endorsement arrived = %+v, %v; want Bo as the one endorser", d, err)
	}

	if _, err := ada.Block(ctx, api.BlockInput{PeerID: bo.author.String()}); err != nil {
		t.Fatal(err)
	}
	if d, err := ada.Resource(ctx, guide.ID, ""); err != nil || d.Endorsements != 0 || len(d.Endorsers) != 0 {
		t.Errorf("show after blocking the endorser = %+v, %v; want no endorser", d, err)
	}
	want(ada, "after blocking Bo", "Consent handbook")
	list, err = ada.Resources(ctx, api.ResourceQuery{Text: "consent"})
	if err != nil || len(list.Resources) != 1 || list.Resources[0].Endorsements != 0 {
		t.Errorf("search after blocking the endorser = %+v, %v; want the handbook with 0 endorsements", list, err)
	}
	if err := ada.Unblock(ctx, bo.author.String()); err != nil {
		t.Fatal(err)
	}
	want(ada, "after unblocking Bo", "Consent handbook", "Rounds explained")

	// A record that stops counting soon: gone once it has expired, with
	// nothing else changing.
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := mentorship.Resource{Type: mentorship.ResourceGuide, Title: "Short-lived notes", URL: "https://example.org/notes"}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	expires := time.Now().Add(3 * time.Second)
	rec, err := record.Sign(key, record.Body{Community: resourceTestCommunity, Author: record.Author(key.Public().(ed25519.PublicKey)),
		Kind: mentorship.KindResource, Key: mentorship.NewResourceID(), Version: 1, Timestamp: record.Now(), Expires: expires, Payload: payload})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ada.store.Apply(ctx, rec, store.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := titles(ada); time.Now().Before(expires) && !slices.Contains(got, "Short-lived notes") {
		t.Errorf("before the record expires: resources %q, want the short-lived notes among them", got)
	}
	deadline := time.Now().Add(10 * time.Second)
	for slices.Contains(titles(ada), "Short-lived notes") {
		if time.Now().After(deadline) {
			t.Fatalf("the expired resource is still listed %v after its expiry", time.Since(expires).Round(time.Millisecond))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if time.Now().Before(expires) {
		t.Errorf("the resource left the list before it expired")
	}
}

// TestResourceListCacheConcurrent lists resources from several goroutines
// while a peer's resources arrive (run it with -race): no list may fail,
// and once the writes are done every list shows them all.
func TestResourceListCacheConcurrent(t *testing.T) {
	ctx := context.Background()
	ada, bo := openResourceTestLocal(t, "Ada"), openResourceTestLocal(t, "Bo")
	const n = 40
	for i := range n {
		if _, err := bo.AddResource(ctx, resourceGuideInput(fmt.Sprintf("Guide %02d", i))); err != nil {
			t.Fatal(err)
		}
	}
	var recs []*record.Record
	if err := bo.store.List(ctx, store.Query{Community: resourceTestCommunity, Kind: mentorship.KindResource}, func(rec *record.Record) error {
		recs = append(recs, rec)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := ada.Resources(ctx, api.ResourceQuery{Text: "guide"}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for _, rec := range recs {
		if _, err := ada.store.Apply(ctx, rec, store.ApplyOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Resources during the writes: %v", err)
	}
	list, err := ada.Resources(ctx, api.ResourceQuery{})
	if err != nil || len(list.Resources) != n {
		t.Fatalf("Resources after the writes = %d resources, %v; want %d", len(list.Resources), err, n)
	}
}

// TestResourceSetDroppedWhenIdle checks that a kept set nobody reads is
// dropped, and that reading it again builds it again.
func TestResourceSetDroppedWhenIdle(t *testing.T) {
	ctx := context.Background()
	ada := openResourceTestLocal(t, "Ada")
	ada.resources.idle = 200 * time.Millisecond
	if _, err := ada.AddResource(ctx, resourceGuideInput("Consent handbook")); err != nil {
		t.Fatal(err)
	}
	list := func() {
		t.Helper()
		l, err := ada.Resources(ctx, api.ResourceQuery{})
		if err != nil || len(l.Resources) != 1 {
			t.Fatalf("Resources = %d resources, %v; want 1", len(l.Resources), err)
		}
	}
	list()
	if n := ada.resources.kept(); n != 1 {
		t.Fatalf("after a list: %d sets kept, want 1", n)
	}
	deadline := time.Now().Add(10 * time.Second)
	for ada.resources.kept() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the set unread for 200 ms is still kept after 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	list()
	if n := ada.resources.kept(); n != 1 {
		t.Errorf("after listing again: %d sets kept, want 1", n)
	}
}
