package node

import (
	"bytes"
	"context"
	"testing"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/record"
)

// syncAll runs a catch-up session between every two of the nodes, so each
// holds every record any of them held.
func syncAll(t *testing.T, nodes ...*Node) {
	t.Helper()
	for i, a := range nodes {
		for _, b := range nodes[i+1:] {
			syncWith(t, a, b)
			syncWith(t, b, a)
		}
	}
}

// pairingRecordsHold reports whether any pairing record stored on n holds
// text in its raw (signed, as relayed) bytes.
func pairingRecordsHold(t *testing.T, n *Node, text string) bool {
	t.Helper()
	found := false
	err := n.store.List(context.Background(), store.Query{Community: DefaultCommunity, Kind: mentorship.KindPairing}, func(r *record.Record) error {
		found = found || bytes.Contains(r.Raw, []byte(text))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestPairingTextOnlyForTheParties runs real nodes on loopback: Ben asks
// Ada to mentor him with a message, Ada accepts, both complete with a
// comment; in a second pairing Ada offers, Ben declines with a reason.
// Cat, a member who holds and relays every record, sees the pairings, the
// statuses and the ratings, but not one word of the text, through the same
// API the parties use; the parties read it all.
func TestPairingTextOnlyForTheParties(t *testing.T) {
	ctx := context.Background()
	adaN, benN, catN := startTestNode(t), startTestNode(t), startTestNode(t)
	setName(t, adaN, "Ada")
	setName(t, benN, "Ben")
	setName(t, catN, "Cat")
	connectNodes(t, adaN, benN)
	connectNodes(t, adaN, catN)
	connectNodes(t, benN, catN)
	syncAll(t, adaN, benN, catN)
	ada, ben, cat := adaN.Local(), benN.Local(), catN.Local()

	const (
		message = "Goal: facilitate my first consent round"
		comment = "Patient and practical, thank you"
		thanks  = "Well prepared every time"
		offer   = "I can help with selection processes"
		reason  = "Too busy this season, sorry"
	)
	p := mustPairing(t, "request")(ben.ProposePairing(ctx, api.PairingProposal{Type: api.PairingRequest, PeerID: adaN.PeerID(), Message: message}))
	syncAll(t, adaN, benN, catN)
	mustPairing(t, "accept")(ada.AcceptPairing(ctx, p.ID, api.PairingUpdate{}))
	syncAll(t, adaN, benN, catN)
	mustPairing(t, "complete")(ben.CompletePairing(ctx, p.ID, api.PairingUpdate{Rating: 5, Comment: comment}))
	syncAll(t, adaN, benN, catN)
	mustPairing(t, "complete")(ada.CompletePairing(ctx, p.ID, api.PairingUpdate{Rating: 4, Comment: thanks}))
	o := mustPairing(t, "offer")(ada.ProposePairing(ctx, api.PairingProposal{Type: api.PairingOffer, PeerID: benN.PeerID(), Message: offer}))
	syncAll(t, adaN, benN, catN)
	mustPairing(t, "decline")(ben.DeclinePairing(ctx, o.ID, api.PairingUpdate{Reason: reason}))
	syncAll(t, adaN, benN, catN)

	for _, party := range []struct {
		name string
		l    *Local
	}{{"Ada", ada}, {"Ben", ben}} {
		v, err := party.l.Pairing(ctx, p.ID, "")
		if err != nil {
			t.Fatalf("%s: Pairing(%s): %v", party.name, p.ID, err)
		}
		if v.State != "completed" || v.Message != message || v.MenteeSide.Comment != comment || v.MentorSide.Comment != thanks ||
			v.MenteeSide.Rating != 5 || v.MentorSide.Rating != 4 || v.MenteeSide.TextSealed || v.MentorSide.TextSealed {
			t.Errorf("%s sees the request as %+v, want it completed with the message, both comments and ratings", party.name, v)
		}
		d, err := party.l.Pairing(ctx, o.ID, "")
		if err != nil {
			t.Fatalf("%s: Pairing(%s): %v", party.name, o.ID, err)
		}
		if d.State != "declined" || d.Message != offer || d.MenteeSide.Reason != reason {
			t.Errorf("%s sees the offer as %+v, want it declined with the message and the reason", party.name, d)
		}
	}

	v, err := cat.Pairing(ctx, p.ID, "")
	if err != nil {
		t.Fatalf("Cat: Pairing(%s): %v", p.ID, err)
	}
	if v.State != "completed" || v.MenteeSide.Rating != 5 || v.MentorSide.Rating != 4 {
		t.Errorf("Cat sees the request as %+v, want it completed with both ratings (they are public)", v)
	}
	if v.Message != "" || v.MenteeSide.Comment != "" || v.MentorSide.Comment != "" {
		t.Errorf("Cat reads the pairing's text: message %q, comments %q and %q; want none", v.Message, v.MenteeSide.Comment, v.MentorSide.Comment)
	}
	if !v.MenteeSide.TextSealed || !v.MentorSide.TextSealed {
		t.Errorf("Cat's view: text_sealed mentee %v, mentor %v; want both true", v.MenteeSide.TextSealed, v.MentorSide.TextSealed)
	}
	d, err := cat.Pairing(ctx, o.ID, "")
	if err != nil {
		t.Fatalf("Cat: Pairing(%s): %v", o.ID, err)
	}
	if d.State != "declined" || d.Message != "" || d.MenteeSide.Reason != "" || d.MentorSide.Reason != "" {
		t.Errorf("Cat sees the offer as %+v, want it declined without message or reason", d)
	}
	for _, text := range []string{message, comment, thanks, offer, reason} {
		for _, n := range []*Node{adaN, benN, catN} {
			if pairingRecordsHold(t, n, text) {
				t.Errorf("a pairing record stored on %s holds %q in plaintext", n.PeerID(), text)
			}
		}
	}
}

// rewritePairing writes p as the next version of p's record by party
// (signed by them, as only they can), bypassing the checks of the pairing
// actions: what a modified client could publish.
func rewritePairing(t *testing.T, party *party, p mentorship.Pairing) {
	t.Helper()
	ctx := context.Background()
	payload, err := p.Encode()
	if err != nil {
		t.Fatalf("%s: Encode: %v", party.name, err)
	}
	addr := record.Addr{Community: DefaultCommunity, Author: party.author, Kind: mentorship.KindPairing, Key: p.ID()}
	meta, _, err := party.store.CurrentMeta(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := party.write(ctx, addr, meta.Version, false, payload); err != nil {
		t.Fatalf("%s: write: %v", party.name, err)
	}
}

// currentPairing returns party's own current record of pairing id, as
// stored on from.
func currentPairing(t *testing.T, from, party *party, id string) mentorship.Pairing {
	t.Helper()
	rec, err := from.store.Current(context.Background(), record.Addr{Community: DefaultCommunity, Author: party.author, Kind: mentorship.KindPairing, Key: id})
	if err != nil {
		t.Fatalf("reading %s's record of %s: %v", party.name, id, err)
	}
	p, err := mentorship.DecodePairing(rec.Payload)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPairingTextTamperedOrMoved: a sealed text that was altered, or
// copied to another record (the partner's, or another pairing's), is valid
// on the wire (no node but the parties can tell) but is never shown: the
// parties see that the record carries text they cannot read.
func TestPairingTextTamperedOrMoved(t *testing.T) {
	ctx := context.Background()
	ada, ben := newParty(t, "Ada"), newParty(t, "Ben")
	exchange(t, ada, ben)
	const message = "Help me facilitate my first circle."
	p := mustPairing(t, "request")(ben.ProposePairing(ctx, api.PairingProposal{Type: api.PairingRequest, PeerID: ada.id, Message: message}))
	exchange(t, ada, ben)
	if v := checkState(t, ada, p.ID, "pending", "accept", "decline"); v.Message != message {
		t.Fatalf("Ada reads message %q, want %q", v.Message, message)
	}
	prop := currentPairing(t, ada, ben, p.ID)

	// Ben's record with one ciphertext bit flipped.
	bad := prop
	bad.SealedText = bytes.Clone(prop.SealedText)
	bad.SealedText[len(bad.SealedText)-20] ^= 1
	rewritePairing(t, ben, bad)
	exchange(t, ada, ben)
	for _, who := range []*party{ada, ben} {
		v := checkState(t, who, p.ID, "pending", map[*party][]string{ada: {"accept", "decline"}, ben: {"cancel"}}[who]...)
		if v.Message != "" || !v.MenteeSide.TextSealed {
			t.Errorf("%s, tampered text: message %q, text_sealed %v; want no message, sealed", who.name, v.Message, v.MenteeSide.TextSealed)
		}
	}

	// Ada declines and copies Ben's (intact) sealed message into her own
	// record: it does not open under her name.
	mustPairing(t, "decline")(ada.DeclinePairing(ctx, p.ID, api.PairingUpdate{}))
	moved := currentPairing(t, ada, ada, p.ID)
	moved.SealedText = prop.SealedText
	rewritePairing(t, ada, moved)
	exchange(t, ada, ben)
	if v := checkState(t, ben, p.ID, "declined"); v.MentorSide.Reason != "" || !v.MentorSide.TextSealed {
		t.Errorf("Ben, text moved to Ada's record: reason %q, text_sealed %v; want no reason, sealed", v.MentorSide.Reason, v.MentorSide.TextSealed)
	}

	// Ben proposes again and puts the first pairing's sealed message in the
	// new proposal: it does not open in another pairing.
	q := mustPairing(t, "request 2")(ben.ProposePairing(ctx, api.PairingProposal{Type: api.PairingRequest, PeerID: ada.id}))
	second := currentPairing(t, ben, ben, q.ID)
	second.SealedText = prop.SealedText
	rewritePairing(t, ben, second)
	exchange(t, ada, ben)
	if v := checkState(t, ada, q.ID, "pending", "accept", "decline"); v.Message != "" || !v.MenteeSide.TextSealed {
		t.Errorf("Ada, text moved to another pairing: message %q, text_sealed %v; want no message, sealed", v.Message, v.MenteeSide.TextSealed)
	}
}
