package api_test

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/mentormesh/mentormesh/node/api"
)

// communitySequence joins, lists and leaves communities on any backend.
func communitySequence(t *testing.T, b api.Backend) []step {
	t.Helper()
	ctx := context.Background()
	var steps []step
	add := func(op string, v any, err error) {
		if l, ok := v.(api.CommunityList); ok {
			// Digests depend on the records' timestamps: check the shape,
			// then drop them.
			for i := range l.Communities {
				if len(l.Communities[i].Digest) != 32 {
					t.Errorf("%s: digest %q, want 32 hex digits", op, l.Communities[i].Digest)
				}
				l.Communities[i].Digest = ""
			}
			for i := range l.Left {
				l.Left[i].Digest = ""
			}
			v = l
		}
		steps = append(steps, step{Op: op, Value: v, Err: asAPIError(err)})
	}
	ch, err := b.JoinCommunity(ctx, "circle-b")
	add("Join", ch, err)
	ch, err = b.JoinCommunity(ctx, "circle-b")
	add("Join again", ch, err)
	ch, err = b.JoinCommunity(ctx, "Circle-B")
	add("Join a bad name", ch, err)
	ch, err = b.JoinCommunity(ctx, "")
	add("Join no name", ch, err)
	_, err = b.SetProfile(ctx, api.ProfileInput{Community: "circle-b", Name: ptr("Bea")})
	add("SetProfile in the joined community", nil, err)
	l, err := b.Communities(ctx)
	add("List", l, err)
	ch, err = b.LeaveCommunity(ctx, "elsewhere")
	add("Leave one not joined", ch, err)
	ch, err = b.LeaveCommunity(ctx, "sociocracy")
	add("Leave the first", ch, err)
	ch, err = b.LeaveCommunity(ctx, "circle-b")
	add("Leave the last", ch, err)
	ch, err = b.LeaveCommunity(ctx, "")
	add("Leave no name", ch, err)
	l, err = b.Communities(ctx)
	add("List after leaving", l, err)
	return steps
}

// TestCommunityConformance: the community operations answer the same in
// process and over HTTP, and as documented.
func TestCommunityConformance(t *testing.T) {
	inProc := openOffline(t, "")
	st, err := inProc.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	client, _ := serve(t, openOffline(t, st.DataDir), api.ServerOptions{})
	want := communitySequence(t, inProc)
	got := communitySequence(t, client)
	if len(got) != len(want) {
		t.Fatalf("over HTTP %d steps, in process %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("step %d:\n over HTTP  = %v\n in process = %v", i, got[i], want[i])
		}
	}

	both := []string{"sociocracy", "circle-b"}
	community := func(name string, isDefault bool, records int) api.Community {
		return api.Community{Name: name, Joined: true, Default: isDefault, Records: records, Peers: []string{}}
	}
	type failure struct {
		status  int
		mention string
	}
	expect := map[string]any{
		"Join":                               api.CommunityChange{Community: "circle-b", Changed: true, Communities: both},
		"Join again":                         api.CommunityChange{Community: "circle-b", Communities: both},
		"Join a bad name":                    failure{http.StatusBadRequest, `did you mean "circle-b"`},
		"Join no name":                       failure{http.StatusBadRequest, "no community name"},
		"SetProfile in the joined community": nil,
		"List": api.CommunityList{Communities: []api.Community{community("sociocracy", true, 0), community("circle-b", false, 1)},
			Left: []api.Community{}},
		"Leave one not joined": failure{http.StatusNotFound, "not in community"},
		"Leave the first":      api.CommunityChange{Community: "sociocracy", Changed: true, Communities: []string{"circle-b"}},
		"Leave the last":       failure{http.StatusConflict, "only community"},
		"Leave no name":        failure{http.StatusBadRequest, "no community name"},
		"List after leaving":   api.CommunityList{Communities: []api.Community{community("circle-b", true, 1)}, Left: []api.Community{}},
	}
	for _, s := range want {
		w, ok := expect[s.Op]
		if !ok {
			t.Errorf("%s: no expectation", s.Op)
			continue
		}
		if f, ok := w.(failure); ok {
			if s.Err == nil || s.Err.Status != f.status || !strings.Contains(s.Err.Message, f.mention) {
				t.Errorf("%v, want error %d mentioning %q", s, f.status, f.mention)
			}
			continue
		}
		if s.Err != nil || !reflect.DeepEqual(s.Value, w) {
			t.Errorf("%v, want %+v", s, w)
		}
	}
}
