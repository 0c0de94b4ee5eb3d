package node

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mentormesh/mentormesh/node/api"
)

// serveParty exposes p's Local over the HTTP API and returns a client.
func serveParty(t *testing.T, p *party) (*api.Client, string) {
	t.Helper()
	const token = "pairing-test-token"
	srv := httptest.NewServer(api.NewServer(p.Local, api.ServerOptions{Token: token}))
	t.Cleanup(srv.Close)
	return api.NewClient(strings.TrimPrefix(srv.URL, "http://"), token), srv.URL
}

func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(g) != string(w) {
		t.Errorf("%s over HTTP =\n%s\nin process =\n%s", what, g, w)
	}
}

func apiStatus(err error) int {
	var e *api.Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// TestPairingAPIRoundTrip runs a pairing through the HTTP API and its Go
// client, and checks that the answers are those of the in-process backend.
func TestPairingAPIRoundTrip(t *testing.T) {
	ctx := context.Background()
	ada, ben := newParty(t, "Ada"), newParty(t, "Ben")
	adaAPI, adaURL := serveParty(t, ada)
	benAPI, _ := serveParty(t, ben)
	exchange(t, ada, ben)

	p, err := benAPI.ProposePairing(ctx, api.PairingProposal{Type: "request", PeerID: ada.id, Message: "Goal: run a selection process.", ExpiresIn: "168h"})
	if err != nil {
		t.Fatalf("ProposePairing over HTTP: %v", err)
	}
	local, err := ben.Pairing(ctx, p.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "ProposePairing", p, local)
	if p.ExpiresAt == nil || p.CreatedAt == nil || p.ExpiresAt.Sub(*p.CreatedAt).Hours() != 168 {
		t.Errorf("expires %v, created %v; want 168h apart", p.ExpiresAt, p.CreatedAt)
	}
	exchange(t, ada, ben)

	list, err := adaAPI.Pairings(ctx, api.PairingQuery{State: "pending", Community: DefaultCommunity})
	if err != nil || len(list) != 1 || list[0].ID != p.ID {
		t.Fatalf("Ada's pending pairings over HTTP = %+v, %v", list, err)
	}
	if none, err := adaAPI.Pairings(ctx, api.PairingQuery{State: "active"}); err != nil || none == nil || len(none) != 0 {
		t.Errorf("Ada's active pairings over HTTP = %#v, %v; want an empty list", none, err)
	}

	// Accept with no body at all, as curl -X POST would.
	req, err := http.NewRequest(http.MethodPost, adaURL+"/api/v1/pairings/"+p.ID+"/accept", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer pairing-test-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var accepted api.Pairing
	if err := json.NewDecoder(resp.Body).Decode(&accepted); err != nil || resp.StatusCode != 200 || accepted.State != "active" {
		t.Errorf("POST accept without a body: %s, %+v, %v; want 200 and active", resp.Status, accepted, err)
	}
	resp.Body.Close()

	// Errors keep their status and message through the client.
	_, err = adaAPI.AcceptPairing(ctx, p.ID, api.PairingUpdate{})
	if apiStatus(err) != http.StatusConflict || !strings.Contains(err.Error(), "it is active; you can cancel or complete it") {
		t.Errorf("second accept over HTTP: %v, want 409 naming the state and what is possible", err)
	}
	if _, err := adaAPI.Pairing(ctx, strings.Repeat("0", 32), ""); apiStatus(err) != http.StatusNotFound {
		t.Errorf("unknown pairing over HTTP: %v, want 404", err)
	}
	if _, err := adaAPI.Pairings(ctx, api.PairingQuery{State: "paused"}); apiStatus(err) != http.StatusBadRequest {
		t.Errorf("bad state filter over HTTP: %v, want 400", err)
	}
	if _, err := adaAPI.CompletePairing(ctx, p.ID, api.PairingUpdate{Rating: 9}); apiStatus(err) != http.StatusBadRequest {
		t.Errorf("rating 9 over HTTP: %v, want 400", err)
	}
	for _, tt := range []struct {
		method, path, body string
		status             int
	}{
		{http.MethodPost, "/api/v1/pairings/" + p.ID + "/complete", `{"rating": 5, "stars": 5}`, http.StatusBadRequest},
		{http.MethodGet, "/api/v1/pairings/" + p.ID + "/accept", "", http.StatusMethodNotAllowed},
		{http.MethodPost, "/api/v1/pairings/" + p.ID + "/pause", "{}", http.StatusNotFound},
		{http.MethodDelete, "/api/v1/pairings/" + p.ID, "", http.StatusMethodNotAllowed},
	} {
		req, err := http.NewRequest(tt.method, adaURL+tt.path, strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer pairing-test-token")
		if tt.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s %s %s: %s, want %d", tt.method, tt.path, tt.body, resp.Status, tt.status)
		}
	}

	done, err := adaAPI.CompletePairing(ctx, p.ID, api.PairingUpdate{Rating: 5, Comment: "A pleasure."})
	if err != nil || done.State != "completed" || done.MentorSide.Rating != 5 {
		t.Fatalf("CompletePairing over HTTP = %+v, %v", done, err)
	}
	exchange(t, ada, ben)
	done2, err := benAPI.CompletePairing(ctx, p.ID, api.PairingUpdate{Rating: 4, Comment: "Thank you!"})
	if err != nil {
		t.Fatal(err)
	}
	local, err = ben.Pairing(ctx, p.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "CompletePairing", done2, local)
	all, err := benAPI.Pairings(ctx, api.PairingQuery{})
	if err != nil {
		t.Fatal(err)
	}
	localAll, err := ben.Pairings(ctx, api.PairingQuery{})
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "Pairings", all, localAll)
}
