package main_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mentormesh/mentormesh/internal/harness"
)

type (
	fullProfileJSON struct {
		PeerID        string   `json:"peer_id"`
		Name          string   `json:"name"`
		Skills        []string `json:"skills"`
		Pronouns      string   `json:"pronouns"`
		Languages     []string `json:"languages"`
		TimeZone      string   `json:"time_zone"`
		Location      string   `json:"location"`
		Interests     []string `json:"interests"`
		Experience    string   `json:"experience"`
		Roles         []string `json:"roles"`
		Capacity      int      `json:"capacity"`
		Availability  string   `json:"availability"`
		HoursPerMonth int      `json:"hours_per_month"`
		Links         []string `json:"links"`
		Version       uint64   `json:"version"`
		Mentorships   struct {
			FreePlaces int `json:"free_places"`
		} `json:"mentorships"`
	}
	mentorsJSON struct {
		Eligible int `json:"eligible"`
		Mentors  []struct {
			Rank    int     `json:"rank"`
			PeerID  string  `json:"peer_id"`
			Name    string  `json:"name"`
			Score   float64 `json:"score"`
			Reasons []struct {
				Factor string `json:"factor"`
				Text   string `json:"text"`
			} `json:"reasons"`
		} `json:"mentors"`
		Suggestions map[string][]string `json:"suggestions"`
	}
	statsJSON struct {
		Practitioners           int `json:"practitioners"`
		Mentors                 int `json:"mentors"`
		Mentees                 int `json:"mentees"`
		MentorsWithFreeCapacity int `json:"mentors_with_free_capacity"`
		FreePlaces              int `json:"free_places"`
		TopSkills               []struct {
			Skill    string `json:"skill"`
			Profiles int    `json:"profiles"`
		} `json:"top_skills"`
	}
)

// TestMentorFindAcrossNodes: a mentor's extended profile, written offline
// with every flag, reaches another node, which finds the mentor with the
// expected reasons and counts both practitioners in its stats. Bad input
// is refused and changes nothing.
func TestMentorFindAcrossNodes(t *testing.T) {
	t.Parallel()
	h := harness.New(t, bin)
	dirA := t.TempDir()
	run := func(args ...string) harness.Result {
		return h.Run(nil, append([]string{"--data-dir", dirA}, args...)...)
	}

	r := run("profile", "set", "--name", "Ana", "--skill", "facilitation", "--skill", "consent decision-making",
		"--interest", "feedbak", "--role", "mentor", "--role", "peer", "--experience", "trainer", "--capacity", "2",
		"--availability", "open", "--hours", "6", "--lang", "de,en", "--tz", "Europe/Berlin", "--pronouns", "she/her",
		"--location", "Berlin", "--link", "https://example.org/a,b", "--json")
	if r.Code != 0 {
		t.Fatalf("%v", r)
	}
	if !strings.Contains(r.Stderr, `did you mean "feedback"`) {
		t.Errorf("profile set --interest feedbak: stderr = %q, want a suggestion of \"feedback\"", r.Stderr)
	}
	want := fullProfileJSON{Name: "Ana", Skills: []string{"consent decision-making", "facilitation"}, Pronouns: "she/her",
		Languages: []string{"de", "en"}, TimeZone: "Europe/Berlin", Location: "Berlin", Interests: []string{"feedbak"},
		Experience: "trainer", Roles: []string{"mentor", "peer"}, Capacity: 2, Availability: "open", HoursPerMonth: 6,
		Links: []string{"https://example.org/a,b"}, Version: 1}
	want.Mentorships.FreePlaces = 2
	var got fullProfileJSON
	if err := r.DecodeJSON(&got); err != nil {
		t.Fatal(err)
	}
	want.PeerID = got.PeerID
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("profile set = %+v, want %+v", got, want)
	}
	for _, bad := range [][]string{
		{"--capacity", "51"}, {"--link", "ftp://example.org"}, {"--lang", "english"},
		{"--name", strings.Repeat("x", 81)}, {"--tz", "Berlin"}, {"--role", "guru"},
	} {
		r := run(append([]string{"profile", "set"}, bad...)...)
		if r.Code == 0 || !strings.Contains(r.Stderr, "invalid") {
			t.Errorf("profile set %s: %v; want a failure saying what is invalid", strings.Join(bad, " "), r)
		}
	}
	h.MustRunJSON(&got, nil, "--data-dir", dirA, "profile", "show", "--json")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after refused updates, profile show = %+v, want %+v (version 1)", got, want)
	}

	a := h.StartNode(dirA)
	b := h.StartNode(t.TempDir(), "--bootstrap", tcpAddr(t, a))
	a.Name, b.Name = "A", "B"
	b.MustCLI("profile", "set", "--name", "Bo", "--role", "mentee", "--lang", "en", "--tz", "Europe/London")
	waitPeers(t, b, a)

	var found mentorsJSON
	harness.WaitFor(t, propagateTimeout, "B finds A", func() error {
		r := b.CLI("mentor", "find", "--skill", "facilitation", "--skill", "rounds", "--skill", "facilitaton", "--json")
		if r.Code != 0 {
			return fmt.Errorf("%v", r)
		}
		if err := r.DecodeJSON(&found); err != nil {
			return err
		}
		if len(found.Mentors) != 1 {
			return fmt.Errorf("mentor find on B = %+v, want Ana", found)
		}
		return nil
	})
	m := found.Mentors[0]
	var reasons []string
	for _, r := range m.Reasons {
		reasons = append(reasons, r.Text)
	}
	wantReasons := []string{"1 of 3 skills: facilitation", "speaks en", "+1h from you, 11h overlap", "2 of 2 places free",
		"trainer", "no completed mentorships yet"}
	if m.PeerID != a.PeerID || m.Name != "Ana" || m.Rank != 1 || !slices.Equal(reasons, wantReasons) {
		t.Errorf("mentor find on B = %+v, want Ana (%s) with reasons %q", m, a.PeerID, wantReasons)
	}
	if s := found.Suggestions["facilitaton"]; !slices.Equal(s, []string{"facilitation"}) {
		t.Errorf("suggestions = %v, want facilitaton -> facilitation", found.Suggestions)
	}
	// Summer time in London and Berlin starts the same day, so the
	// difference is always one hour; the text output says so too.
	if out := b.MustCLI("mentor", "find", "--skill", "facilitation"); !strings.Contains(out, "Ana") || !strings.Contains(out, "+1h from you") {
		t.Errorf("mentor find (text) = %q, want Ana and her reasons", out)
	}

	var st statsJSON
	b.MustCLIJSON(&st, "stats", "--json")
	if st.Practitioners != 2 || st.Mentors != 1 || st.Mentees != 1 || st.MentorsWithFreeCapacity != 1 || st.FreePlaces != 2 ||
		len(st.TopSkills) != 2 || st.TopSkills[0].Skill != "consent decision-making" {
		t.Errorf("stats on B = %+v, want 2 practitioners, 1 mentor with 2 places, 2 skills", st)
	}
	if out := b.MustCLI("profile", "list"); !strings.Contains(out, "Ana") || !strings.Contains(out, "Bo") {
		t.Errorf("profile list on B = %q, want Ana and Bo", out)
	}
	if out := b.MustCLI("profile", "vocabulary"); !strings.Contains(out, "consent decision-making") {
		t.Errorf("profile vocabulary = %q", out)
	}
}
