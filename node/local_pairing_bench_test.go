package node

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/sync/record"
)

// syntheticPairings signs n requests from 450 mentees to 50 mentors; the
// mentors accepted two thirds of them and completed half of those.
func syntheticPairings(tb testing.TB, n int) []*record.Record {
	tb.Helper()
	keys := make([]ed25519.PrivateKey, 500)
	authors := make([]record.Author, len(keys))
	for i := range keys {
		seed := sha256.Sum256(fmt.Appendf(nil, "pairing bench %d", i))
		keys[i] = ed25519.NewKeyFromSeed(seed[:])
		copy(authors[i][:], keys[i].Public().(ed25519.PublicKey))
	}
	now := record.Now()
	var recs []*record.Record
	sign := func(k ed25519.PrivateKey, a record.Author, p mentorship.Pairing) {
		payload, err := p.Encode()
		if err != nil {
			tb.Fatal(err)
		}
		rec, err := record.Sign(k, record.Body{Community: DefaultCommunity, Author: a, Kind: mentorship.KindPairing,
			Key: p.ID(), Version: 1, Timestamp: now, Payload: payload})
		if err != nil {
			tb.Fatal(err)
		}
		recs = append(recs, rec)
	}
	for i := range n {
		m, e := i%50, 50+i%450
		var nonce [16]byte
		binary.BigEndian.PutUint64(nonce[:], uint64(i))
		p, err := mentorship.NewProposal(authors[m], authors[e], authors[e], nonce, now, 0)
		if err != nil {
			tb.Fatal(err)
		}
		// The texts are sealed, as nodes write them (their size counts).
		seal := func(k ed25519.PrivateKey, partner record.Author, q mentorship.Pairing, text mentorship.PairText) mentorship.Pairing {
			pk, err := mentorship.NewPairKey(k, partner, DefaultCommunity, q.ID())
			if err == nil {
				q.SealedText, err = pk.SealText(nil, q, text)
			}
			if err != nil {
				tb.Fatal(err)
			}
			return q
		}
		sign(keys[e], authors[e], seal(keys[e], authors[m], p, mentorship.PairText{Message: "Help me learn."}))
		switch i % 3 {
		case 0:
			sign(keys[m], authors[m], mentorship.Pairing{Mentor: p.Mentor, Mentee: p.Mentee, Proposer: p.Proposer, Nonce: nonce,
				Status: mentorship.StatusAccepted, Accepted: true})
		case 1:
			sign(keys[m], authors[m], seal(keys[m], authors[e], mentorship.Pairing{Mentor: p.Mentor, Mentee: p.Mentee, Proposer: p.Proposer, Nonce: nonce,
				Status: mentorship.StatusCompleted, Accepted: true, Rating: 1 + i%5}, mentorship.PairText{Comment: "Thank you."}))
		}
	}
	return recs
}

// BenchmarkPairingOutcomes measures deriving every pairing of a community
// from a Badger store (what Local.outcomes, Pairings and every action do).
func BenchmarkPairingOutcomes(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("pairings=%d", n), func(b *testing.B) {
			ctx := context.Background()
			off, err := OpenOffline(b.TempDir(), "bench", nil)
			if err != nil {
				b.Fatal(err)
			}
			defer off.Close()
			recs := syntheticPairings(b, n)
			if _, err := off.store.ApplyBatch(ctx, recs); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				out, err := off.outcomes(ctx, DefaultCommunity)
				if err != nil || len(out) != 350 { // the mentees of pending requests have no outcome
					b.Fatalf("outcomes = %d practitioners, %v", len(out), err)
				}
			}
			b.ReportMetric(float64(len(recs)), "records")
		})
	}
}
