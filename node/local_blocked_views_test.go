package node

import (
	"context"
	"testing"

	"github.com/mentormesh/mentormesh/node/api"
)

// TestBlockedHiddenFromSearchAndLibrary: a blocked practitioner's
// resources, endorsements and mentor offer disappear from the views at
// once, and come back on unblock.
func TestBlockedHiddenFromSearchAndLibrary(t *testing.T) {
	ctx := context.Background()
	me, bo, cy := openResourceTestLocal(t, "Me"), openResourceTestLocal(t, "Bo"), openResourceTestLocal(t, "Cy")
	two := 2
	for _, l := range []*Local{bo, cy} {
		if _, err := l.SetProfile(ctx, api.ProfileInput{Skills: &[]string{"facilitation"}, Roles: &[]string{"mentor"}, Capacity: &two}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := bo.AddResource(ctx, resourceGuideInput("Bo's guide"))
	if err != nil {
		t.Fatal(err)
	}
	resourceReplicate(t, bo, cy)
	if _, err := cy.EndorseResource(ctx, res.ID, api.EndorseInput{}); err != nil {
		t.Fatal(err)
	}
	resourceReplicate(t, bo, me)
	resourceReplicate(t, cy, me)

	view := func() (resources, endorsements, mentors int) {
		t.Helper()
		l, err := me.Resources(ctx, api.ResourceQuery{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range l.Resources {
			endorsements += r.Endorsements
		}
		m, err := me.FindMentors(ctx, api.MentorQuery{Skills: []string{"facilitation"}})
		if err != nil {
			t.Fatal(err)
		}
		return len(l.Resources), endorsements, len(m.Mentors)
	}
	if r, e, m := view(); r != 1 || e != 1 || m != 2 {
		t.Fatalf("before blocking: %d resources, %d endorsements, %d mentors; want 1, 1, 2", r, e, m)
	}
	if _, err := me.Block(ctx, api.BlockInput{PeerID: cy.author.String()}); err != nil {
		t.Fatal(err)
	}
	if r, e, m := view(); r != 1 || e != 0 || m != 1 {
		t.Errorf("Cy blocked: %d resources, %d endorsements, %d mentors; want 1, 0 (Cy's endorsement hidden), 1", r, e, m)
	}
	if _, err := me.Block(ctx, api.BlockInput{PeerID: bo.author.String()}); err != nil {
		t.Fatal(err)
	}
	if r, _, m := view(); r != 0 || m != 0 {
		t.Errorf("Bo and Cy blocked: %d resources, %d mentors; want 0, 0", r, m)
	}
	for _, l := range []*Local{bo, cy} {
		if err := me.Unblock(ctx, l.author.String()); err != nil {
			t.Fatal(err)
		}
	}
	if r, e, m := view(); r != 1 || e != 1 || m != 2 {
		t.Errorf("after unblocking: %d resources, %d endorsements, %d mentors; want 1, 1, 2", r, e, m)
	}
}
