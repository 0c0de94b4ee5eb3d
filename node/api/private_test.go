package api_test

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/node/api"
)

// runPrivateSequence calls every private endpoint with input that must be
// refused, on a node that knows no pairing.
func runPrivateSequence(b api.Backend) []step {
	ctx := context.Background()
	const known = "00112233445566778899aabbccddeeff"
	var steps []step
	add := func(op string, v any, err error) { steps = append(steps, step{Op: op, Value: v, Err: asAPIError(err)}) }
	items, err := b.PairItems(ctx, "", known)
	add("PairItems of an unknown pairing", items, err)
	items, err = b.PairItems(ctx, "", "NOT-AN-ID")
	add("PairItems of a malformed ID", items, err)
	items, err = b.PairItems(ctx, "elsewhere", known)
	add("PairItems in a community not joined", items, err)
	it, err := b.AddGoal(ctx, known, api.GoalInput{Title: "G"})
	add("AddGoal", it, err)
	done := "done"
	it, err = b.UpdateGoal(ctx, known, known, api.GoalUpdate{Status: &done})
	add("UpdateGoal", it, err)
	it, err = b.LogSession(ctx, known, api.SessionInput{Date: time.Now(), DurationMinutes: 30})
	add("LogSession", it, err)
	it, err = b.AddNote(ctx, "x/y", api.NoteInput{Text: "n"})
	add("AddNote with a slash in the ID", it, err)
	it, err = b.SetContact(ctx, known, api.ContactInput{Text: "c"})
	add("SetContact", it, err)
	return steps
}

// TestPrivateConformanceWithoutPairing: in process and over HTTP, the
// private endpoints answer alike when there is nothing to act on.
func TestPrivateConformanceWithoutPairing(t *testing.T) {
	inProc := openOffline(t, "")
	client, _ := serve(t, openOffline(t, ""), api.ServerOptions{})
	want := runPrivateSequence(inProc)
	got := runPrivateSequence(client)
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("step %d:\n over HTTP  = %v\n in process = %v", i, got[i], want[i])
		}
	}
	status := map[string]int{
		"PairItems of an unknown pairing":     404,
		"PairItems of a malformed ID":         400,
		"PairItems in a community not joined": 400,
		"AddGoal":                             404,
		"UpdateGoal":                          404,
		"LogSession":                          404,
		"AddNote with a slash in the ID":      400,
		"SetContact":                          404,
	}
	for _, s := range want {
		if s.Err == nil || s.Err.Status != status[s.Op] {
			t.Errorf("%v, want status %d", s, status[s.Op])
		}
	}
}

// TestPrivateRoutes: the endpoints exist with their methods, and bodies
// are decoded strictly.
func TestPrivateRoutes(t *testing.T) {
	_, srv := serve(t, openOffline(t, ""), api.ServerOptions{})
	const base = "/api/v1/pairings/00112233445566778899aabbccddeeff"
	for _, tc := range []struct {
		method, path, body string
		status             int
	}{
		{"GET", base + "/items", "", 404},
		{"POST", base + "/goals", `{"title":"G"}`, 404},
		{"PUT", base + "/goals/00112233445566778899aabbccddeeff", `{"status":"done"}`, 404},
		{"POST", base + "/sessions", `{"date":"2026-11-20T00:00:00Z","duration_minutes":60}`, 404},
		{"POST", base + "/notes", `{"text":"n"}`, 404},
		{"PUT", base + "/contact", `{"text":"c"}`, 404},
		{"DELETE", base + "/items", "", 405},
		{"GET", base + "/goals", "", 405},
		{"POST", base + "/goals", `{"title":"G","colour":"red"}`, 400},
		{"POST", base + "/notes", `{"text":"n"} {}`, 400},
	} {
		req, err := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+testToken)
		if tc.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s %s = %d, want %d", tc.method, tc.path, tc.body, resp.StatusCode, tc.status)
		}
	}
}

func init() {
	// The private endpoints that read a body, for FuzzServerRequest.
	const p = "/api/v1/pairings/00112233445566778899aabbccddeeff"
	fuzzEndpoints = append(fuzzEndpoints,
		struct{ method, path string }{http.MethodPost, p + "/goals"},
		struct{ method, path string }{http.MethodPut, p + "/goals/00112233445566778899aabbccddeeff"},
		struct{ method, path string }{http.MethodPost, p + "/sessions"},
		struct{ method, path string }{http.MethodPost, p + "/notes"},
		struct{ method, path string }{http.MethodPut, p + "/contact"},
	)
}
