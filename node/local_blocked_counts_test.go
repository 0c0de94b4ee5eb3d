package node

import (
	"context"
	"slices"
	"testing"

	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/record"
)

// blockedCountsBackend is what the test reads and changes: a Local, or the
// HTTP API of a running node.
type blockedCountsBackend interface {
	Stats(ctx context.Context, community string) (api.Stats, error)
	ListProfiles(ctx context.Context, community string) ([]api.Profile, error)
	Block(ctx context.Context, in api.BlockInput) (api.BlockedPeer, error)
	Unblock(ctx context.Context, peerID string) error
}

// blockedCountsRecords writes Bo's and Cy's records on their own data
// directories: both mentors of facilitation, Bo with a guide, Cy with
// a pending request to Bo. It returns them and their authors.
func blockedCountsRecords(t *testing.T) (recs []*record.Record, bo, cy record.Author) {
	t.Helper()
	ctx := context.Background()
	b, c := openResourceTestLocal(t, "Bo"), openResourceTestLocal(t, "Cy")
	two := 2
	for _, l := range []*Local{b, c} {
		if _, err := l.SetProfile(ctx, api.ProfileInput{Skills: &[]string{"facilitation"}, Roles: &[]string{"mentor", "mentee"}, Capacity: &two}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.AddResource(ctx, resourceGuideInput("Bo's guide")); err != nil {
		t.Fatal(err)
	}
	resourceReplicate(t, b, c)
	if _, err := c.ProposePairing(ctx, api.PairingProposal{Type: "request", PeerID: b.author.String()}); err != nil {
		t.Fatal(err)
	}
	err := c.store.List(ctx, store.Query{Community: DefaultCommunity}, func(rec *record.Record) error {
		recs = append(recs, rec)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return recs, b.author, c.author
}

// checkBlockedCounts blocks Cy, then Bo, then unblocks both on me, and
// checks after each step that `stats` and `profile list` count exactly the
// practitioners not blocked. me holds its own profile ("Me", no role) and
// the records of blockedCountsRecords.
func checkBlockedCounts(t *testing.T, me blockedCountsBackend, bo, cy record.Author) {
	t.Helper()
	ctx := context.Background()
	type counts struct {
		Practitioners, Mentors, Facilitation, Pending, Guides int
		Names                                                 []string
	}
	read := func() counts {
		t.Helper()
		s, err := me.Stats(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		ps, err := me.ListProfiles(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		c := counts{Practitioners: s.Practitioners, Mentors: s.Mentors, Guides: s.Resources["guide"], Names: []string{}}
		if s.Pairings.Pending != nil {
			c.Pending = *s.Pairings.Pending
		}
		for _, sc := range s.TopSkills {
			if sc.Skill == "facilitation" {
				c.Facilitation = sc.Profiles
			}
		}
		for _, p := range ps {
			c.Names = append(c.Names, p.Name)
		}
		return c
	}
	steps := []struct {
		name string
		act  func() error
		want counts
	}{
		{"nobody blocked", func() error { return nil },
			counts{Practitioners: 3, Mentors: 2, Facilitation: 2, Pending: 1, Guides: 1, Names: []string{"Bo", "Cy", "Me"}}},
		{"Cy blocked", func() error { _, err := me.Block(ctx, api.BlockInput{PeerID: cy.String()}); return err },
			counts{Practitioners: 2, Mentors: 1, Facilitation: 1, Pending: 0, Guides: 1, Names: []string{"Bo", "Me"}}},
		{"Bo and Cy blocked", func() error { _, err := me.Block(ctx, api.BlockInput{PeerID: bo.String()}); return err },
			counts{Practitioners: 1, Names: []string{"Me"}}},
		{"both unblocked", func() error { return cmpErr(me.Unblock(ctx, bo.String()), me.Unblock(ctx, cy.String())) },
			counts{Practitioners: 3, Mentors: 2, Facilitation: 2, Pending: 1, Guides: 1, Names: []string{"Bo", "Cy", "Me"}}},
	}
	for _, st := range steps {
		if err := st.act(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := read(); got.Practitioners != st.want.Practitioners || got.Mentors != st.want.Mentors ||
			got.Facilitation != st.want.Facilitation || got.Pending != st.want.Pending ||
			got.Guides != st.want.Guides || !slices.Equal(got.Names, st.want.Names) {
			t.Errorf("%s: stats and profile list = %+v, want %+v", st.name, got, st.want)
		}
	}
}

func cmpErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// TestBlockedLeftOutOfCountsOffline: with no node running, `stats` and
// `profile list` (an Offline data directory) leave blocked practitioners
// out, and count them again on unblock.
func TestBlockedLeftOutOfCountsOffline(t *testing.T) {
	recs, bo, cy := blockedCountsRecords(t)
	me := openResourceTestLocal(t, "Me")
	if _, err := me.store.ApplyBatch(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	checkBlockedCounts(t, me, bo, cy)
}

// TestBlockedLeftOutOfCountsRunningNode: the same through the HTTP API of
// a running node.
func TestBlockedLeftOutOfCountsRunningNode(t *testing.T) {
	recs, bo, cy := blockedCountsRecords(t)
	n := startTestNode(t)
	setName(t, n, "Me")
	inject(t, n, recs)
	token, err := LoadToken(n.Paths())
	if err != nil {
		t.Fatal(err)
	}
	checkBlockedCounts(t, api.NewClient(n.APIAddr(), token), bo, cy)
}
