package api_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/node"
	"github.com/mentormesh/mentormesh/node/api"
)

const testToken = "conformance-token"

// openOffline opens a fresh data directory without a node. If like is not
// empty, the new directory gets the identity of the one at like, so two
// backends answer with the same peer ID.
func openOffline(t testing.TB, like string) *node.Offline {
	t.Helper()
	dir := t.TempDir()
	if like != "" {
		for _, f := range []string{"identity.key", "api.token"} {
			data, err := os.ReadFile(filepath.Join(like, f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, f), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	off, err := node.OpenOffline(dir, "test", nil)
	if err != nil {
		t.Fatalf("OpenOffline: %v", err)
	}
	t.Cleanup(func() {
		if err := off.Close(); err != nil {
			t.Errorf("closing offline store: %v", err)
		}
	})
	return off
}

// serve exposes b over HTTP on a real loopback listener and returns a
// client for it.
func serve(t *testing.T, b api.Backend, opts api.ServerOptions) (*api.Client, *httptest.Server) {
	t.Helper()
	if opts.Token == "" {
		opts.Token = testToken
	}
	srv := httptest.NewServer(api.NewServer(b, opts))
	t.Cleanup(srv.Close)
	return api.NewClient(strings.TrimPrefix(srv.URL, "http://"), opts.Token), srv
}

// step is the outcome of one operation, comparable across backends.
type step struct {
	Op    string
	Value any
	Err   *api.Error // with Status, as the server would answer
}

func (s step) String() string {
	if s.Err != nil {
		return fmt.Sprintf("%s: error %d %s %q", s.Op, s.Err.Status, s.Err.Code, s.Err.Message)
	}
	return fmt.Sprintf("%s: %+v", s.Op, s.Value)
}

// asAPIError is what the server makes of a backend error: an *api.Error
// keeps its status and code, anything else is a 500.
func asAPIError(err error) *api.Error {
	if err == nil {
		return nil
	}
	var e *api.Error
	if errors.As(err, &e) {
		return &api.Error{Status: e.Status, Code: e.Code, Message: e.Message}
	}
	return &api.Error{Status: http.StatusInternalServerError, Code: api.CodeInternal, Message: err.Error()}
}

func ptr[T any](v T) *T { return &v }

// otherPeer is a valid peer ID that has no profile anywhere.
const otherPeer = "12D3KooWPFJ2JvZtCiDgM6ReqArCuVr9AoKYEBVjE86NNT9KSMoj"

// runSequence performs the same operations on any backend and returns their
// outcomes, normalised where backends may differ legitimately: the data
// directory and the time of writes (checked to be recent, then zeroed).
func runSequence(t *testing.T, b api.Backend) []step {
	t.Helper()
	ctx := context.Background()
	start := time.Now().Add(-time.Second)
	var steps []step
	add := func(op string, v any, err error) {
		switch p := v.(type) {
		case api.Profile:
			if err == nil && (p.UpdatedAt.Before(start) || p.UpdatedAt.After(time.Now().Add(time.Second))) {
				t.Errorf("%s: updated_at %v is not the time of the write", op, p.UpdatedAt)
			}
			p.UpdatedAt = time.Time{}
			v = p
		case api.Status:
			if p.DataDir == "" {
				t.Errorf("%s: no data_dir", op)
			}
			p.DataDir = ""
			// Digests depend on the records' timestamps, which differ
			// between the two stores: check the shape, then drop them.
			if d := p.Digests["sociocracy"]; len(p.Digests) != 1 || len(d) != 32 {
				t.Errorf("%s: digests = %v, want one 32-hex-digit digest for sociocracy", op, p.Digests)
			}
			p.Digests = nil
			v = p
		}
		steps = append(steps, step{Op: op, Value: v, Err: asAPIError(err)})
	}

	id, err := b.ID(ctx)
	add("ID", id, err)
	me := id.PeerID
	st, err := b.Status(ctx)
	add("Status before writes", st, err)
	peers, err := b.Peers(ctx)
	add("Peers", peers, err)
	p, err := b.Profile(ctx, "", "")
	add("Profile self before writes", p, err)

	p, err = b.SetProfile(ctx, api.ProfileInput{Name: ptr("Ada")})
	add("SetProfile name", p, err)
	p, err = b.SetProfile(ctx, api.ProfileInput{Bio: ptr("  Facilitates circles.  ")})
	add("SetProfile bio keeps name", p, err)
	p, err = b.SetProfile(ctx, api.ProfileInput{Skills: &[]string{"Go", " go ", "Consent  Decisions", ""}})
	add("SetProfile skills normalised", p, err)
	p, err = b.SetProfile(ctx, api.ProfileInput{Community: "sociocracy", Skills: &[]string{}})
	add("SetProfile clear skills in one community", p, err)
	p, err = b.SetProfile(ctx, api.ProfileInput{})
	add("SetProfile nothing", p, err)
	p, err = b.SetProfile(ctx, api.ProfileInput{Name: ptr("")})
	add("SetProfile empty name", p, err)
	p, err = b.SetProfile(ctx, api.ProfileInput{Name: ptr(strings.Repeat("x", 81))})
	add("SetProfile long name", p, err)
	p, err = b.SetProfile(ctx, api.ProfileInput{Community: "elsewhere", Name: ptr("Ada")})
	add("SetProfile community not joined", p, err)

	p, err = b.Profile(ctx, "", "")
	add("Profile self", p, err)
	p, err = b.Profile(ctx, me, "")
	add("Profile by peer ID", p, err)
	p, err = b.Profile(ctx, me, "sociocracy")
	add("Profile by peer ID and community", p, err)
	p, err = b.Profile(ctx, me, "elsewhere")
	add("Profile in a community not joined", p, err)
	p, err = b.Profile(ctx, me, "Not A Community")
	add("Profile in an invalid community", p, err)
	p, err = b.Profile(ctx, otherPeer, "")
	add("Profile of an unknown peer", p, err)
	p, err = b.Profile(ctx, "not-a-peer", "")
	add("Profile of something that is not a peer ID", p, err)
	p, err = b.Profile(ctx, "self", "")
	add("Profile self by name", p, err)

	st, err = b.Status(ctx)
	add("Status after writes", st, err)
	return steps
}

// TestBackendConformance runs the same operations on a backend in process
// and through the HTTP server and client, and requires identical answers:
// the CLI must behave the same whether or not a node is running.
func TestBackendConformance(t *testing.T) {
	inProc := openOffline(t, "")
	st, err := inProc.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	remote := openOffline(t, st.DataDir)
	client, _ := serve(t, remote, api.ServerOptions{})

	want := runSequence(t, inProc)
	got := runSequence(t, client)
	if len(got) != len(want) {
		t.Fatalf("over HTTP %d steps, in process %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("step %d:\n over HTTP  = %v\n in process = %v", i, got[i], want[i])
		}
	}
	checkSequence(t, want)
}

// checkSequence holds the in-process answers to what the API promises, so
// both backends cannot agree on a wrong answer.
func checkSequence(t *testing.T, steps []step) {
	t.Helper()
	me := steps[0].Value.(api.Identity).PeerID
	profile := func(version uint64, name, bio string, skills ...string) api.Profile {
		if skills == nil {
			skills = []string{}
		}
		return api.Profile{PeerID: me, Community: "sociocracy", Name: name, Bio: bio, Skills: skills, Version: version,
			Languages: []string{}, Interests: []string{}, Roles: []string{}, Links: []string{}, Availability: "open"}
	}
	final := profile(5, "Ada", "Facilitates circles.")
	status := func(outbox int, counts ...api.KindCount) api.Status {
		if counts == nil {
			counts = []api.KindCount{}
		}
		return api.Status{PeerID: me, Communities: []string{"sociocracy"}, Records: counts, Outbox: outbox, CatchUp: []api.CatchUp{}}
	}
	type failure struct {
		status  int
		code    string
		mention string
	}
	want := map[string]any{
		"ID":                           api.Identity{PeerID: me, Addrs: []string{}},
		"Status before writes":         status(0),
		"Peers":                        []api.Peer{},
		"Profile self before writes":   failure{404, api.CodeNotFound, "profile set --name"},
		"SetProfile name":              profile(1, "Ada", ""),
		"SetProfile bio keeps name":    profile(2, "Ada", "Facilitates circles."),
		"SetProfile skills normalised": profile(3, "Ada", "Facilitates circles.", "consent decisions", "go"),
		"SetProfile clear skills in one community":   profile(4, "Ada", "Facilitates circles."),
		"SetProfile nothing":                         final,
		"SetProfile empty name":                      failure{400, api.CodeBadRequest, "display name"},
		"SetProfile long name":                       failure{400, api.CodeBadRequest, "display name"},
		"SetProfile community not joined":            failure{400, api.CodeBadRequest, "elsewhere"},
		"Profile self":                               final,
		"Profile by peer ID":                         final,
		"Profile by peer ID and community":           final,
		"Profile in a community not joined":          failure{400, api.CodeBadRequest, `not in community "elsewhere" (joined: sociocracy); join it with`},
		"Profile in an invalid community":            failure{400, api.CodeBadRequest, "community"},
		"Profile of an unknown peer":                 failure{404, api.CodeNotFound, otherPeer},
		"Profile of something that is not a peer ID": failure{400, api.CodeBadRequest, "not a peer ID"},
		"Profile self by name":                       final,
		"Status after writes":                        status(1, api.KindCount{Community: "sociocracy", Kind: "profile", Records: 1}),
	}
	if len(want) != len(steps) {
		t.Errorf("%d steps, %d expectations", len(steps), len(want))
	}
	for _, s := range steps {
		w, ok := want[s.Op]
		if !ok {
			t.Errorf("%s: no expectation", s.Op)
			continue
		}
		if f, ok := w.(failure); ok {
			if s.Err == nil || s.Err.Status != f.status || s.Err.Code != f.code || !strings.Contains(s.Err.Message, f.mention) {
				t.Errorf("%v, want error %d %s mentioning %q", s, f.status, f.code, f.mention)
			}
			continue
		}
		if s.Err != nil || !reflect.DeepEqual(s.Value, w) {
			t.Errorf("%v, want %+v", s, w)
		}
	}
}
