package node

import (
	"context"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mentormesh/mentormesh/node/api"
)

// TestLoadMembership: how the community list starts, grows with a node's
// --community, and refuses a damaged file.
func TestLoadMembership(t *testing.T) {
	tests := []struct {
		name    string
		file    string // content of communities.json; "" for none
		initial []string
		add     bool
		want    []string
		wantErr string
	}{
		{name: "new, no flag", want: []string{DefaultCommunity}},
		{name: "new, flag", initial: []string{"b", "a", "b"}, want: []string{"b", "a"}},
		{name: "new, flag, node", initial: []string{"b"}, add: true, want: []string{"b"}},
		{name: "stored, command with flag", file: `{"version":1,"communities":["a","b"]}`, initial: []string{"c"}, want: []string{"a", "b"}},
		{name: "stored, node without flag", file: `{"version":1,"communities":["a","b"]}`, add: true, want: []string{"a", "b"}},
		{name: "stored, node with flags", file: `{"version":1,"communities":["a","b"]}`, initial: []string{"b", "c"}, add: true, want: []string{"a", "b", "c"}},
		{name: "not JSON", file: `a,b`, wantErr: "is corrupt"},
		{name: "empty list", file: `{"version":1,"communities":[]}`, wantErr: "lists no community"},
		{name: "future version", file: `{"version":2,"communities":["a"]}`, wantErr: "version 2"},
		{name: "bad name stored", file: `{"version":1,"communities":["A"]}`, wantErr: "only lowercase"},
		{name: "bad flag", initial: []string{"Not Valid"}, wantErr: "--community"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Paths{Dir: t.TempDir()}
			if tt.file != "" {
				if err := os.WriteFile(p.CommunitiesFile(), []byte(tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			m, err := loadMembership(p, tt.initial, tt.add)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("loadMembership = %v, want an error mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := m.list(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("list = %v, want %v", got, tt.want)
			}
			// What is in use is what is on disk.
			stored, err := readCommunities(p.CommunitiesFile())
			if err != nil || !reflect.DeepEqual(stored, tt.want) {
				t.Errorf("communities.json = %v (%v), want %v", stored, err, tt.want)
			}
		})
	}
}

// TestMembershipJoinLeave: idempotent join, refusals, rollback of a join
// whose topic could not be joined, and the file following every change.
func TestMembershipJoinLeave(t *testing.T) {
	p := Paths{Dir: t.TempDir()}
	m, err := loadMembership(p, []string{"a"}, true)
	if err != nil {
		t.Fatal(err)
	}
	ok := func() error { return nil }
	check := func(what string, want ...string) {
		t.Helper()
		stored, err := readCommunities(p.CommunitiesFile())
		if err != nil {
			t.Fatal(err)
		}
		if got := m.list(); !reflect.DeepEqual(got, want) || !reflect.DeepEqual(stored, want) {
			t.Errorf("%s: list = %v, file = %v, want %v", what, got, stored, want)
		}
		for _, c := range want {
			if !m.has(c) {
				t.Errorf("%s: has(%q) = false", what, c)
			}
		}
	}
	if joined, err := m.join("b", ok); !joined || err != nil {
		t.Fatalf("join b = %v, %v; want true, nil", joined, err)
	}
	check("after join b", "a", "b")
	ran := false
	if joined, err := m.join("b", func() error { ran = true; return nil }); joined || err != nil || ran {
		t.Fatalf("join b again = %v, %v (apply ran: %v); want false, nil, not run", joined, err, ran)
	}
	failure := errors.New("topic refused")
	if joined, err := m.join("c", func() error { return failure }); joined || !errors.Is(err, failure) {
		t.Fatalf("join c with a failing apply = %v, %v; want false and the failure", joined, err)
	}
	if m.has("c") {
		t.Error("c is joined after its join failed")
	}
	check("after a failed join", "a", "b")
	if err := m.leave("c", ok); !errors.Is(err, errNotMember) {
		t.Errorf("leave c = %v, want errNotMember", err)
	}
	if err := m.leave("a", ok); err != nil {
		t.Fatal(err)
	}
	check("after leave a", "b")
	if err := m.leave("b", ok); !errors.Is(err, errLastCommunity) {
		t.Errorf("leave the last = %v, want errLastCommunity", err)
	}
	check("after refusing to leave the last", "b")

	again, err := loadMembership(p, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := again.list(); !reflect.DeepEqual(got, []string{"b"}) {
		t.Errorf("reloaded list = %v, want [b]", got)
	}
}

// TestOfflineCommunities: without a node, join and leave change the saved
// list (the node acts on it when it starts), list counts the records of
// each community, and records of a left community stay.
func TestOfflineCommunities(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	off, err := OpenOffline(dir, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { off.Close() }()

	ch, err := off.JoinCommunity(ctx, "circle-b")
	if err != nil {
		t.Fatal(err)
	}
	want := api.CommunityChange{Community: "circle-b", Changed: true, Running: false, Communities: []string{DefaultCommunity, "circle-b"}}
	if !reflect.DeepEqual(ch, want) {
		t.Errorf("JoinCommunity = %+v, want %+v", ch, want)
	}
	if ch, err = off.JoinCommunity(ctx, "circle-b"); err != nil || ch.Changed {
		t.Errorf("joining again = %+v, %v; want unchanged, no error", ch, err)
	}
	if _, err := off.SetProfile(ctx, api.ProfileInput{Community: "circle-b", Name: strp("Bea")}); err != nil {
		t.Fatal(err)
	}

	l, err := off.Communities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if l.Running || len(l.Communities) != 2 || len(l.Left) != 0 {
		t.Fatalf("Communities = %+v, want two joined, none left, not running", l)
	}
	def, b := l.Communities[0], l.Communities[1]
	if def.Name != DefaultCommunity || !def.Default || !def.Joined || def.Records != 0 || len(def.Digest) != 32 {
		t.Errorf("first community = %+v, want the default, joined, no records, a digest", def)
	}
	if b.Name != "circle-b" || b.Default || b.Records != 1 || len(b.Peers) != 0 || b.Digest == def.Digest {
		t.Errorf("second community = %+v, want circle-b with one record and its own digest", b)
	}

	// Leaving keeps the records, lists them as left, and refuses writes.
	if ch, err = off.LeaveCommunity(ctx, "circle-b"); err != nil || !ch.Changed || !reflect.DeepEqual(ch.Communities, []string{DefaultCommunity}) {
		t.Fatalf("LeaveCommunity = %+v, %v", ch, err)
	}
	if l, err = off.Communities(ctx); err != nil {
		t.Fatal(err)
	}
	if len(l.Left) != 1 || l.Left[0].Name != "circle-b" || l.Left[0].Joined || l.Left[0].Records != 1 || l.Left[0].Digest != b.Digest {
		t.Errorf("left = %+v, want circle-b with its record and digest", l.Left)
	}
	_, err = off.SetProfile(ctx, api.ProfileInput{Community: "circle-b", Name: strp("Bea")})
	if err == nil || !strings.Contains(err.Error(), "community join circle-b") {
		t.Errorf("writing in a left community: %v, want a refusal that says how to join", err)
	}

	for _, tt := range []struct {
		name, community string
		leave           bool
		status          int
		mention         string
	}{
		{"join a bad name", "Circle B", false, 400, "only lowercase"},
		{"join with capitals", "Circle", false, 400, `did you mean "circle"`},
		{"join no name", "", false, 400, "no community name"},
		{"leave a bad name", "../x", true, 400, "only lowercase"},
		{"leave one not joined", "elsewhere", true, 404, "not in community"},
		{"leave the last", DefaultCommunity, true, 409, "only community"},
	} {
		var err error
		if tt.leave {
			_, err = off.LeaveCommunity(ctx, tt.community)
		} else {
			_, err = off.JoinCommunity(ctx, tt.community)
		}
		var ae *api.Error
		if !errors.As(err, &ae) || ae.Status != tt.status || !strings.Contains(ae.Message, tt.mention) {
			t.Errorf("%s: %v, want a %d error mentioning %q", tt.name, err, tt.status, tt.mention)
		}
	}
	if got := off.joined(); !slices.Equal(got, []string{DefaultCommunity}) {
		t.Errorf("after the refusals joined = %v, want [%s]", got, DefaultCommunity)
	}

	// The list survives closing and is what the next command sees, whatever
	// its --community.
	if _, err := off.JoinCommunity(ctx, "circle-c"); err != nil {
		t.Fatal(err)
	}
	if err := off.Close(); err != nil {
		t.Fatal(err)
	}
	off, err = OpenOffline(dir, "test", []string{"circle-d"})
	if err != nil {
		t.Fatal(err)
	}
	if got := off.joined(); !slices.Equal(got, []string{DefaultCommunity, "circle-c"}) {
		t.Errorf("reopened: joined = %v, want [%s circle-c]", got, DefaultCommunity)
	}
}
