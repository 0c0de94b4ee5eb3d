package node

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/sync/record"
)

func ptr[T any](v T) *T { return &v }

// openLocal opens a fresh data directory without a node.
func openLocal(t *testing.T) *Offline {
	t.Helper()
	off, err := OpenOffline(t.TempDir(), "test", nil)
	if err != nil {
		t.Fatalf("OpenOffline: %v", err)
	}
	t.Cleanup(func() {
		if err := off.Close(); err != nil {
			t.Errorf("closing: %v", err)
		}
	})
	return off
}

// peerKey is a practitioner other than the node's user.
type peerKey struct {
	key    ed25519.PrivateKey
	author record.Author
}

func newPeerKey(name string) peerKey {
	seed := sha256.Sum256([]byte("local mentor test " + name))
	k := ed25519.NewKeyFromSeed(seed[:])
	var a record.Author
	copy(a[:], k.Public().(ed25519.PublicKey))
	return peerKey{k, a}
}

// record signs version of pk's profile p (nil: a tombstone).
func (pk peerKey) record(t *testing.T, version uint64, p *mentorship.Profile) *record.Record {
	t.Helper()
	body := record.Body{Community: DefaultCommunity, Author: pk.author, Kind: mentorship.KindProfile,
		Version: version, Timestamp: record.Now()}
	if p == nil {
		body.Deleted = true
	} else {
		payload, err := p.Encode()
		if err != nil {
			t.Fatal(err)
		}
		body.Payload = payload
	}
	rec, err := record.Sign(pk.key, body)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// receive stores records as the ingest pipeline does (gossip and catch-up).
func receive(t *testing.T, l *Local, recs ...*record.Record) {
	t.Helper()
	a := storeAdapter{s: l.store}
	if len(recs) == 1 {
		if _, err := a.ApplyRemote(context.Background(), recs[0]); err != nil {
			t.Fatal(err)
		}
		return
	}
	if _, err := a.ApplyRemoteBatch(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
}

func mentorProfile(name string, skills ...string) *mentorship.Profile {
	return &mentorship.Profile{Name: name, Skills: skills, Roles: []mentorship.Role{mentorship.RoleMentor},
		Capacity: 2, Languages: []string{"en"}, TimeZone: "Europe/Berlin"}
}

func names(res api.MentorResults) []string {
	var out []string
	for _, m := range res.Mentors {
		out = append(out, m.Name)
	}
	return out
}

func TestSetProfileAllFields(t *testing.T) {
	l := openLocal(t).Local
	ctx := context.Background()
	p, err := l.SetProfile(ctx, api.ProfileInput{
		Name:          ptr("Ada"),
		Bio:           ptr("Facilitates circles."),
		Skills:        &[]string{"Facilitation"},
		Pronouns:      ptr("she/her"),
		Languages:     &[]string{"EN", "de"},
		TimeZone:      ptr("utc+1"),
		Location:      ptr("Berlin"),
		Interests:     &[]string{"feedback"},
		Experience:    ptr("experienced"),
		Roles:         &[]string{"peer", "mentor"},
		Capacity:      ptr(3),
		Availability:  ptr("closed"),
		HoursPerMonth: ptr(6),
		Links:         &[]string{"https://example.org/ada"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := api.Profile{
		PeerID: l.author.String(), Community: DefaultCommunity, Name: "Ada", Bio: "Facilitates circles.",
		Skills: []string{"facilitation"}, Pronouns: "she/her", Languages: []string{"de", "en"}, TimeZone: "UTC+01:00",
		Location: "Berlin", Interests: []string{"feedback"}, Experience: "experienced", Roles: []string{"mentor", "peer"},
		Capacity: 3, Availability: "closed", HoursPerMonth: 6, Links: []string{"https://example.org/ada"},
		Mentorships: api.Mentorships{FreePlaces: 3}, Version: 1, UpdatedAt: p.UpdatedAt,
	}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("SetProfile =\n%+v, want\n%+v", p, want)
	}
	// A partial update keeps the rest; empty values clear.
	p, err = l.SetProfile(ctx, api.ProfileInput{Availability: ptr("open"), Links: &[]string{}, Experience: ptr(""), Pronouns: ptr("")})
	if err != nil {
		t.Fatal(err)
	}
	want.Availability, want.Links, want.Experience, want.Pronouns, want.Version, want.UpdatedAt = "open", []string{}, "", "", 2, p.UpdatedAt
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("SetProfile (partial) =\n%+v, want\n%+v", p, want)
	}
	if got, err := l.Profile(ctx, "", ""); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Profile = %+v, %v; want %+v", got, err, want)
	}
}

// TestBadProfileInputWritesNothing: every kind of bad input is refused with
// a message naming the problem, and neither the store nor the outbox
// changes.
func TestBadProfileInputWritesNothing(t *testing.T) {
	l := openLocal(t).Local
	ctx := context.Background()
	if _, err := l.SetProfile(ctx, api.ProfileInput{Name: ptr("Ada"), Skills: &[]string{"facilitation"}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		in      api.ProfileInput
		mention string
	}{
		{"over-long name", api.ProfileInput{Name: ptr(strings.Repeat("x", 81))}, "display name"},
		{"over-long bio", api.ProfileInput{Bio: ptr(strings.Repeat("x", 2001))}, "bio"},
		{"over-long pronouns", api.ProfileInput{Pronouns: ptr(strings.Repeat("x", 33))}, "pronouns"},
		{"over-long location", api.ProfileInput{Location: ptr(strings.Repeat("x", 65))}, "location"},
		{"over-long skill", api.ProfileInput{Skills: &[]string{strings.Repeat("x", 49)}}, "skill"},
		{"over the payload cap", api.ProfileInput{Bio: ptr(strings.Repeat("😀", 2000)), Skills: &[]string{strings.Repeat("😀", 48)}}, "bytes"},
		{"bad URL", api.ProfileInput{Links: &[]string{"javascript:alert(1)"}}, "link"},
		{"URL with a user name", api.ProfileInput{Links: &[]string{"https://bank.example@evil.example/"}}, "user name"},
		{"too many links", api.ProfileInput{Links: &[]string{"https://a.example", "https://b.example", "https://c.example",
			"https://d.example", "https://e.example", "https://f.example"}}, "links"},
		{"bad language code", api.ProfileInput{Languages: &[]string{"english"}}, "language"},
		{"bad time zone", api.ProfileInput{TimeZone: ptr("Berlin, Germany")}, "time zone"},
		{"unknown time zone", api.ProfileInput{TimeZone: ptr("Berlin")}, "unknown time zone"},
		{"capacity 51", api.ProfileInput{Capacity: ptr(51)}, "capacity"},
		{"capacity -1", api.ProfileInput{Capacity: ptr(-1)}, "capacity"},
		{"hours 201", api.ProfileInput{HoursPerMonth: ptr(201)}, "hours"},
		{"unknown experience", api.ProfileInput{Experience: ptr("guru")}, "experience"},
		{"unknown role", api.ProfileInput{Roles: &[]string{"mentor", "coach"}}, "role"},
		{"unknown availability", api.ProfileInput{Availability: ptr("maybe")}, "availability"},
		{"name cleared", api.ProfileInput{Name: ptr(" ")}, "display name"},
	}
	before := statusSnapshot(t, l)
	for _, tt := range tests {
		_, err := l.SetProfile(ctx, tt.in)
		var e *api.Error
		if !errors.As(err, &e) || e.Code != api.CodeBadRequest || !strings.Contains(e.Message, tt.mention) {
			t.Errorf("SetProfile(%s) error = %v, want a bad request mentioning %q", tt.name, err, tt.mention)
		}
		if after := statusSnapshot(t, l); !reflect.DeepEqual(after, before) {
			t.Errorf("SetProfile(%s) changed the store:\n%+v\nwas\n%+v", tt.name, after, before)
		}
	}
	// Nothing is written for someone without a profile either.
	fresh := openLocal(t).Local
	if _, err := fresh.SetProfile(ctx, api.ProfileInput{Name: ptr("Bo"), Capacity: ptr(99)}); err == nil {
		t.Fatal("SetProfile(capacity 99) succeeded")
	}
	if st := statusSnapshot(t, fresh); len(st.Records) != 0 || st.Outbox != 0 {
		t.Errorf("a refused first profile left %+v", st)
	}
}

// snapshot is what a write could change: records by kind, the outbox, the
// digest of the records.
func statusSnapshot(t *testing.T, l *Local) api.Status {
	t.Helper()
	st, err := l.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return api.Status{Records: st.Records, Outbox: st.Outbox, Digests: st.Digests}
}

// TestFindMentorsFollowsChanges: the directory is built once and then
// follows every change applied to the store: new, updated, older (ignored),
// deleted profiles, from peers and from the user.
func TestFindMentorsFollowsChanges(t *testing.T) {
	l := openLocal(t).Local
	ctx := context.Background()
	ana, ben, cy := newPeerKey("ana"), newPeerKey("ben"), newPeerKey("cy")
	receive(t, l, ana.record(t, 1, mentorProfile("Ana", "facilitation", "rounds")),
		ben.record(t, 1, mentorProfile("Ben", "facilitation")))
	find := func() api.MentorResults {
		t.Helper()
		res, err := l.FindMentors(ctx, api.MentorQuery{Skills: []string{"facilitation", "rounds"}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if got := names(find()); !slices.Equal(got, []string{"Ana", "Ben"}) {
		t.Fatalf("first find = %q, want [Ana Ben]", got)
	}
	pd := l.dirs.m[DefaultCommunity]

	steps := []struct {
		what  string
		apply func()
		want  []string
	}{
		{"a new mentor by gossip", func() { receive(t, l, cy.record(t, 1, mentorProfile("Cy", "facilitation", "rounds", "feedback"))) },
			[]string{"Ana", "Cy", "Ben"}},
		{"Ana closes", func() {
			p := mentorProfile("Ana", "facilitation", "rounds")
			p.Closed = true
			receive(t, l, ana.record(t, 2, p))
		}, []string{"Cy", "Ben"}},
		{"an older version of Ana arrives late", func() { receive(t, l, ana.record(t, 1, mentorProfile("Ana again", "rounds"))) },
			[]string{"Cy", "Ben"}},
		{"Ben deletes his profile", func() { receive(t, l, ben.record(t, 2, nil)) }, []string{"Cy"}},
		{"Ben's old profile in a catch-up batch", func() {
			receive(t, l, ben.record(t, 1, mentorProfile("Ben", "facilitation")), ana.record(t, 3, mentorProfile("Ana", "rounds")))
		}, []string{"Cy", "Ana"}},
		{"the user becomes a mentor: not their own result", func() {
			if _, err := l.SetProfile(ctx, api.ProfileInput{Name: ptr("Me"), Skills: &[]string{"rounds"}, Roles: &[]string{"mentor"}, Capacity: ptr(1)}); err != nil {
				t.Fatal(err)
			}
		}, []string{"Cy", "Ana"}},
	}
	for _, s := range steps {
		s.apply()
		if got := names(find()); !slices.Equal(got, s.want) {
			t.Errorf("after %s: find = %q, want %q", s.what, got, s.want)
		}
	}
	if l.dirs.m[DefaultCommunity] != pd {
		t.Error("the directory was rebuilt; it should have been kept current")
	}
	st, err := l.Stats(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if st.Practitioners != 3 || st.Mentors != 3 || st.MentorsWithFreeCapacity != 3 || st.FreePlaces != 5 {
		t.Errorf("Stats = %+v, want 3 practitioners, 3 mentors with 5 free places", st)
	}
}

// TestFindMentorsConcurrentWithIngest runs finds while records arrive (for
// the race detector) and checks the directory ends up as a fresh one.
func TestFindMentorsConcurrentWithIngest(t *testing.T) {
	l := openLocal(t).Local
	ctx := context.Background()
	keys := make([]peerKey, 40)
	for i := range keys {
		keys[i] = newPeerKey(fmt.Sprint("concurrent ", i))
	}
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := uint64(1); v <= 5; v++ {
				for i := w; i < len(keys); i += 2 {
					receive(t, l, keys[i].record(t, v, mentorProfile(fmt.Sprintf("M%d v%d", i, v), "facilitation")))
				}
			}
		}()
	}
	stop := make(chan struct{})
	var finds sync.WaitGroup
	finds.Add(1)
	go func() {
		defer finds.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := l.FindMentors(ctx, api.MentorQuery{Skills: []string{"facilitation"}, Limit: 100}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	wg.Wait()
	close(stop)
	finds.Wait()
	res, err := l.FindMentors(ctx, api.MentorQuery{Skills: []string{"facilitation"}, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Mentors) != len(keys) {
		t.Fatalf("%d mentors, want %d", len(res.Mentors), len(keys))
	}
	for _, m := range res.Mentors {
		if !strings.HasSuffix(m.Name, " v5") {
			t.Errorf("mentor %s: not the newest version", m.Name)
		}
	}
}

// TestMentorAPIRoundTrip: list, find and stats answer the same through the
// HTTP API and its client as in process.
func TestMentorAPIRoundTrip(t *testing.T) {
	l := openLocal(t).Local
	ctx := context.Background()
	ana, ben := newPeerKey("ana"), newPeerKey("ben")
	pa := mentorProfile("Ana", "facilitation", "consent decision-making")
	pa.Experience = mentorship.ExperienceTrainer
	receive(t, l, ana.record(t, 1, pa), ben.record(t, 1, mentorProfile("Ben", "facilitaton")))
	if _, err := l.SetProfile(ctx, api.ProfileInput{Name: ptr("Me"), Languages: &[]string{"en"}, TimeZone: ptr("Europe/Paris")}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.NewServer(l, api.ServerOptions{Token: "t"}))
	t.Cleanup(srv.Close)
	client := api.NewClient(strings.TrimPrefix(srv.URL, "http://"), "t")

	q := api.MentorQuery{Skills: []string{"Facilitation", "consent decision-making", "facilitaton"}, Experience: "practising"}
	for _, b := range []api.Backend{l, client} {
		res, err := b.FindMentors(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if got := names(res); !slices.Equal(got, []string{"Ana"}) {
			t.Errorf("%T: find = %q, want [Ana]", b, got)
		}
		wantQuery := api.MentorQuery{Community: DefaultCommunity, Skills: []string{"consent decision-making", "facilitation", "facilitaton"},
			Languages: []string{"en"}, TimeZone: "Europe/Paris", Experience: "practising", Limit: 10}
		if !reflect.DeepEqual(res.Query, wantQuery) {
			t.Errorf("%T: query as applied = %+v, want %+v (languages and zone from the profile)", b, res.Query, wantQuery)
		}
		if want := map[string][]string{"facilitaton": {"facilitation"}}; !reflect.DeepEqual(res.Suggestions, want) {
			t.Errorf("%T: suggestions = %v, want %v", b, res.Suggestions, want)
		}
		if len(res.Mentors) == 1 {
			m := res.Mentors[0]
			want := []api.MatchReason{
				{Factor: "skills", Points: 26.666, Text: "2 of 3 skills: consent decision-making, facilitation"},
				{Factor: "language", Points: 15, Text: "speaks en"},
				{Factor: "time_zone", Points: 15, Text: "same time as you, 12h overlap"},
				{Factor: "capacity", Points: 6.666, Text: "2 of 2 places free"},
				{Factor: "experience", Points: 10, Text: "trainer"},
				{Factor: "outcomes", Points: 2.5, Text: "no completed mentorships yet"},
			}
			if m.Rank != 1 || m.PeerID != ana.author.String() || m.Score != 75.832 || !reflect.DeepEqual(m.Reasons, want) {
				t.Errorf("%T: result = %+v, want Ana (%s) scoring 75.832 with %+v", b, m, ana.author, want)
			}
		}
	}
	local, err1 := l.FindMentors(ctx, q)
	remote, err2 := client.FindMentors(ctx, q)
	if err1 != nil || err2 != nil || !reflect.DeepEqual(local.Mentors, remote.Mentors) || local.Eligible != remote.Eligible {
		t.Errorf("FindMentors differs: in process %+v, %v; over HTTP %+v, %v", local, err1, remote, err2)
	}
	for _, bad := range []api.MentorQuery{{Languages: []string{"english"}}, {TimeZone: "Mars/Base"}, {Experience: "guru"}, {Limit: 101}, {Community: "elsewhere"}} {
		_, err := client.FindMentors(ctx, bad)
		var e *api.Error
		if !errors.As(err, &e) || e.Code != api.CodeBadRequest {
			t.Errorf("FindMentors(%+v) error = %v, want a bad request", bad, err)
		}
	}

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/mentors?skill=rounds&limit=ten", nil)
	req.Header.Set("Authorization", "Bearer t")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("GET /api/v1/mentors?limit=ten = %v, %v; want 400", resp, err)
	} else {
		resp.Body.Close()
	}

	sl, err1 := l.Stats(ctx, "")
	sr, err2 := client.Stats(ctx, "")
	zero := 0
	wantStats := api.Stats{Community: DefaultCommunity, Practitioners: 3, Mentors: 2, MentorsWithFreeCapacity: 2, FreePlaces: 4,
		Pairings:  api.StatsPairings{Pending: &zero},
		Resources: map[string]int{}, TopSkills: []api.SkillCount{{Skill: "consent decision-making", Profiles: 1},
			{Skill: "facilitation", Profiles: 1}, {Skill: "facilitaton", Profiles: 1}}}
	if err1 != nil || err2 != nil || !reflect.DeepEqual(sl, wantStats) || !reflect.DeepEqual(sr, wantStats) {
		t.Errorf("Stats: in process %+v, %v; over HTTP %+v, %v; want %+v", sl, err1, sr, err2, wantStats)
	}

	ll, err1 := l.ListProfiles(ctx, "")
	lr, err2 := client.ListProfiles(ctx, "")
	if err1 != nil || err2 != nil || len(ll) != 3 || ll[0].Name != "Ana" || ll[2].Name != "Me" {
		t.Fatalf("ListProfiles = %+v, %v", ll, err1)
	}
	for i := range ll {
		ll[i].UpdatedAt, lr[i].UpdatedAt = time.Time{}, time.Time{}
	}
	if !reflect.DeepEqual(ll, lr) {
		t.Errorf("ListProfiles: in process %+v, over HTTP %+v", ll, lr)
	}
}

// TestKeyOrderIsPeerIDOrder: matching breaks ties by key bytes, which
// orders as the peer IDs people see.
func TestKeyOrderIsPeerIDOrder(t *testing.T) {
	var prev record.Author
	var prevID string
	for i := range 300 {
		a := newPeerKey(fmt.Sprint("order ", i)).author
		if i > 0 {
			byKey := strings.Compare(string(prev[:]), string(a[:]))
			byID := strings.Compare(prevID, a.String())
			if byKey != byID {
				t.Fatalf("keys %x, %x compare %d; their peer IDs %s, %s compare %d", prev[:4], a[:4], byKey, prevID, a, byID)
			}
		}
		prev, prevID = a, a.String()
	}
}

// TestOutcomesReadAgainAfterPairingChanges: pairing outcomes are cached in
// the directory and read again once a record of another kind is applied.
func TestOutcomesReadAgainAfterPairingChanges(t *testing.T) {
	l := openLocal(t).Local
	ctx := context.Background()
	state := func() (uint64, time.Time) {
		t.Helper()
		pd, err := l.profileDirectory(ctx, DefaultCommunity)
		if err != nil {
			t.Fatal(err)
		}
		pd.mu.RLock()
		defer pd.mu.RUnlock()
		if !pd.outcomesSet {
			t.Fatal("outcomes not read")
		}
		return pd.outcomesChanges, pd.outcomesAt
	}
	changes, at := state()
	if c, a := state(); c != changes || !a.Equal(at) {
		t.Errorf("outcomes read again with nothing changed: changes %d at %v, were %d at %v", c, a, changes, at)
	}
	pk := newPeerKey("pairing writer")
	rec, err := record.Sign(pk.key, record.Body{Community: DefaultCommunity, Author: pk.author, Kind: mentorship.KindPairing,
		Key: "0123456789abcdef0123456789abcdef", Version: 1, Timestamp: record.Now(), Payload: []byte{1}})
	if err != nil {
		t.Fatal(err)
	}
	receive(t, l, rec)
	if c, _ := state(); c != changes+1 {
		t.Errorf("after a pairing record: outcomes read at change %d, want %d", c, changes+1)
	}
}
