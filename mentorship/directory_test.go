package mentorship_test

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/mentormesh/mentormesh/mentorship"
)

// TestDirectoryIncremental: a directory kept current through many Puts,
// replacements and Removes ranks and summarises exactly as one built from
// the final profiles, and as the package's Rank over them.
func TestDirectoryIncremental(t *testing.T) {
	pool := randomCandidates(400, 11)
	r := rand.New(rand.NewPCG(11, 5))
	d := mentorship.NewDirectory()
	final := map[[32]byte]*mentorship.Profile{}
	keys := make([][32]byte, 60) // few keys: many replacements and slot reuses
	for i := range keys {
		keys[i] = pool[i].Key
	}
	for range 3000 {
		k := keys[r.IntN(len(keys))]
		if r.IntN(4) == 0 {
			d.Remove(k)
			delete(final, k)
			continue
		}
		p := pool[r.IntN(len(pool))].Profile
		d.Put(k, p)
		final[k] = p
	}
	outcomes := map[[32]byte]mentorship.Outcome{}
	for i, k := range keys {
		if i%3 == 0 {
			outcomes[k] = pool[i].Outcome
		}
	}
	outcomes[[32]byte{9}] = mentorship.Outcome{ActiveAsMentee: 1, Ratings: 1, RatingSum: 4} // no profile
	d.SetOutcomes(outcomes)

	fresh := mentorship.NewDirectory()
	fresh.SetOutcomes(outcomes)
	var cands []mentorship.Candidate
	for k, p := range final {
		fresh.Put(k, p)
		cands = append(cands, mentorship.Candidate{Key: k, Profile: p, Outcome: outcomes[k]})
	}
	if d.Len() != len(final) || fresh.Len() != len(final) {
		t.Fatalf("Len() = %d (incremental), %d (fresh), want %d", d.Len(), fresh.Len(), len(final))
	}
	for _, k := range keys {
		if got := d.Get(k); got != final[k] {
			t.Errorf("Get(%x) = %p, want %p", k[:2], got, final[k])
		}
	}
	if got, want := d.Summarize(5), fresh.Summarize(5); !reflect.DeepEqual(got, want) {
		t.Errorf("Summarize: incremental %+v, fresh %+v", got, want)
	}
	for i := range 40 {
		q := randomQuery(r, keys[i])
		q.Limit = mentorship.MaxMatchLimit
		if i%4 == 0 {
			q.Skills = nil
		}
		got, err1 := d.Rank(q)
		want, err2 := fresh.Rank(q)
		pure, err3 := mentorship.Rank(q, cands)
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatal(err1, err2, err3)
		}
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(got, pure) {
			t.Fatalf("query %d: incremental directory, fresh directory and Rank disagree:\n%+v\n%+v\n%+v", i, got, want, pure)
		}
	}
	n := 0
	d.Each(func(k [32]byte, p *mentorship.Profile) bool {
		if final[k] != p {
			t.Errorf("Each: %x has %p, want %p", k[:2], p, final[k])
		}
		n++
		return true
	})
	if n != len(final) {
		t.Errorf("Each visited %d profiles, want %d", n, len(final))
	}
	for k := range final {
		d.Remove(k)
	}
	if s := d.Summarize(5); d.Len() != 0 || len(s.TopSkills) != 0 || s.Practitioners != 0 {
		t.Errorf("after removing all: Len %d, %+v", d.Len(), s)
	}
}

// TestDirectoryOutcomesBeforeProfiles: outcomes set before a profile
// arrives apply to it.
func TestDirectoryOutcomesBeforeProfiles(t *testing.T) {
	d := mentorship.NewDirectory()
	d.SetOutcomes(map[[32]byte]mentorship.Outcome{key(1): {ActiveAsMentor: 1}})
	d.Put(key(1), mentor("Full", func(p *mentorship.Profile) { p.Capacity = 1 }))
	res, err := d.Rank(mentorship.MatchQuery{At: winter})
	if err != nil || len(res.Matches) != 0 {
		t.Errorf("Rank = %+v, %v; want no match (the mentor's one place is taken)", res, err)
	}
	if o := d.Outcome(key(1)); o.ActiveAsMentor != 1 {
		t.Errorf("Outcome(key 1) = %+v", o)
	}
}
