package node

import (
	"context"
	"errors"
	"testing"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/ingest"
	"github.com/mentormesh/mentormesh/sync/record"
)

// acceptedPairingOnNodes has mentee ask mentor for a pairing and mentor
// accept it, each step carried by a catch-up session.
func acceptedPairingOnNodes(t *testing.T, mentor, mentee *Node) string {
	t.Helper()
	ctx := context.Background()
	p, err := mentee.Local().ProposePairing(ctx, api.PairingProposal{Type: api.PairingRequest, PeerID: authorOfNode(mentor).String()})
	if err != nil {
		t.Fatalf("ProposePairing: %v", err)
	}
	syncWith(t, mentor, mentee)
	if _, err := mentor.Local().AcceptPairing(ctx, p.ID, api.PairingUpdate{}); err != nil {
		t.Fatalf("AcceptPairing: %v", err)
	}
	syncWith(t, mentee, mentor)
	return p.ID
}

// contactsOn returns the texts and versions of the contact details n shows
// in pairing id.
func contactsOn(t *testing.T, n *Node, id string) []api.PairItem {
	t.Helper()
	items, err := n.Local().PairItems(context.Background(), "", id)
	if err != nil {
		t.Fatalf("PairItems: %v", err)
	}
	return items.Contacts
}

// TestDeviceCannotRollBackPrivateItems: a linked device (say a stolen one)
// replays the sealed payload of an older version of its practitioner's
// contact details at a higher version. Private items are root-only: every
// node rejects the replay; a node that stored one before hides it, keeps
// it out of catch-up, and revoking the device does not sign it again under
// the root key (which would make the stale content permanent).
func TestDeviceCannotRollBackPrivateItems(t *testing.T) {
	ctx := context.Background()
	a := startTestNode(t) // Ada, the mentee
	b := startTestNode(t, a.Addrs()[0])
	connectNodes(t, b, a) // as its bootstrap dials: the other way round, a simultaneous open can fail the handshake
	ada := authorOfNode(a)
	setName(t, a, "Ada")
	setName(t, b, "Ben")
	syncWith(t, a, b)
	id := acceptedPairingOnNodes(t, b, a)

	old, err := a.Local().SetContact(ctx, id, api.ContactInput{Text: "old"})
	if err != nil {
		t.Fatalf("SetContact: %v", err)
	}
	key, err := mentorship.PrivateRecordKey(id, old.ID)
	if err != nil {
		t.Fatal(err)
	}
	addr := record.Addr{Community: DefaultCommunity, Author: ada, Kind: mentorship.KindPrivate, Key: key}
	oldRec, err := a.store.Current(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}

	code, err := a.Local().LinkDevice(ctx, api.DeviceLinkInput{Name: "phone"})
	if err != nil {
		t.Fatalf("LinkDevice: %v", err)
	}
	dir := t.TempDir()
	if _, err := JoinDevice(ctx, dir, code.Code, nil); err != nil {
		t.Fatalf("JoinDevice: %v", err)
	}
	phone, err := OpenOffline(dir, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()

	if _, err := a.Local().SetContact(ctx, id, api.ContactInput{Text: "new"}); err != nil {
		t.Fatalf("SetContact: %v", err)
	}
	syncWith(t, b, a)
	if got := contactsOn(t, b, id); len(got) != 1 || got[0].Text != "new" || got[0].Version != 2 {
		t.Fatalf("Ben's view of Ada's contact details = %+v, want \"new\" (version 2)", got)
	}

	// The phone replays "old" at version 3.
	body := oldRec.Body
	body.Version, body.Timestamp = 3, record.Now()
	replay, err := record.SignAsDevice(phone.key, phone.dev.linked.cert, body)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []*Node{a, b} {
		out := n.net.cfg.pipe.Ingest(ctx, replay.Raw, ingest.Source{Community: DefaultCommunity, Live: true})
		if out.Verdict != ingest.Reject || !errors.Is(out.Err, ingest.ErrRootOnly) {
			t.Fatalf("ingesting the phone's replay = %v (%v), want reject (%v)", out.Verdict, out.Err, ingest.ErrRootOnly)
		}
	}

	// A node that stored such a record before private items became
	// root-only (here Ada's primary, written beneath the pipeline) hides it.
	if _, err := a.store.Apply(ctx, replay, store.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range contactsOn(t, a, id) {
		if c.Text == "old" {
			t.Fatalf("Ada's view shows the phone's replay: %+v", c)
		}
	}

	rv, err := a.Local().RevokeDevice(ctx, "phone")
	if err != nil {
		t.Fatalf("RevokeDevice: %v", err)
	}
	if rv.Resigned != 0 {
		t.Errorf("RevokeDevice re-signed %d records, want 0 (the phone's only record is the replay)", rv.Resigned)
	}
	if cur, err := a.store.Current(ctx, addr); err != nil || cur.Version != 3 || !cur.SignedByDevice() {
		t.Fatalf("Ada's record of the contact details after the revocation: %+v, %v; want the phone's version 3, not re-signed", cur, err)
	}
	// Catch-up in both directions completes (the replay is not sent: Ben
	// would reject it and end the session), and Ben keeps "new".
	syncWith(t, a, b)
	syncWith(t, b, a)
	if !b.local.dev.isRevoked(ada, phone.dev.linked.device) {
		t.Error("Ben does not know of the revocation after catch-up")
	}
	if got := contactsOn(t, b, id); len(got) != 1 || got[0].Text != "new" || got[0].Version != 2 {
		t.Errorf("Ben's view of Ada's contact details after the revocation = %+v, want \"new\" (version 2)", got)
	}
}

// TestPrivateItemsOnlyOfAcceptedPairings: the rule that a pairing takes no
// items until it is accepted is enforced by the writer's node; a proposer
// whose client skips it writes a note in a pending pairing, then in the
// same pairing once declined. The reader's node stores the note but shows
// it in neither state.
func TestPrivateItemsOnlyOfAcceptedPairings(t *testing.T) {
	ctx := context.Background()
	ben := startTestNode(t)
	cat := startTestNode(t, ben.Addrs()[0])
	connectNodes(t, cat, ben) // as its bootstrap dials: the other way round, a simultaneous open can fail the handshake
	setName(t, ben, "Ben")
	setName(t, cat, "Cat")
	syncWith(t, cat, ben)
	p, err := cat.Local().ProposePairing(ctx, api.PairingProposal{Type: api.PairingRequest, PeerID: authorOfNode(ben).String()})
	if err != nil {
		t.Fatalf("ProposePairing: %v", err)
	}
	// Cat's modified client: seal with the pair key and write, whatever
	// the state.
	pp, err := cat.local.pairFor(DefaultCommunity, p.ID, authorOfNode(ben), authorOfNode(cat), mentorship.PairActive)
	if err != nil {
		t.Fatal(err)
	}
	write := func(text string) {
		t.Helper()
		itemID, err := mentorship.NewItemID(nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cat.local.sealAndWrite(ctx, pp, itemID, 0, mentorship.Item{Type: mentorship.ItemNote, Text: text}); err != nil {
			t.Fatalf("writing the note: %v", err)
		}
	}

	check := func(state string, stored int) {
		t.Helper()
		syncWith(t, ben, cat)
		if n := privCount(t, ben.local); n != stored {
			t.Fatalf("Ben stores %d private records, want %d", n, stored)
		}
		items, err := ben.Local().PairItems(ctx, "", p.ID)
		if err != nil {
			t.Fatalf("Ben's PairItems: %v", err)
		}
		if items.State != state || len(items.Notes)+len(items.Goals)+len(items.Sessions)+len(items.Contacts) != 0 {
			t.Errorf("Ben's items of a %s pairing = %+v, want state %s and no items", state, items, state)
		}
	}
	write("Pending, but here I am.")
	check("pending", 1)
	if _, err := ben.Local().DeclinePairing(ctx, p.ID, api.PairingUpdate{}); err != nil {
		t.Fatalf("DeclinePairing: %v", err)
	}
	write("Declined, but here I am.")
	check("declined", 2)
}
