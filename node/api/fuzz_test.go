package api_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mentormesh/mentormesh/node/api"
)

// FuzzServerRequest sends arbitrary bodies to every write endpoint: the
// server must answer with a status (never panic), refuse what is not a
// well-formed request with a 4xx, and never answer 5xx for bad input.
func FuzzServerRequest(f *testing.F) {
	f.Add(uint8(0), []byte(`{"name":"Ada","skills":["facilitation"]}`))
	f.Add(uint8(0), []byte(`{"name":"Ada"}{"name":"Bea"}`))
	f.Add(uint8(0), []byte(`{"name":"\u202eAda"}`))
	f.Add(uint8(0), []byte(`{"name":123}`))
	f.Add(uint8(0), []byte(`{"unknown":true}`))
	f.Add(uint8(1), []byte(`[]`))
	f.Add(uint8(2), []byte(`null`))
	f.Add(uint8(0), bytes.Repeat([]byte("["), 10000))
	backend := openOffline(f, "")
	srv := api.NewServer(backend, api.ServerOptions{Token: testToken, Shutdown: func() {}})
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		endpoints := fuzzEndpoints
		e := endpoints[int(route)%len(endpoints)]
		req := httptest.NewRequest(e.method, e.path, bytes.NewReader(body))
		req.Host = "127.0.0.1:4748"
		req.Header.Set("Authorization", "Bearer "+testToken)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s with %q: status %d: %s", e.method, e.path, body, rec.Code, rec.Body.String())
		}
		if rec.Code >= 300 && rec.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("%s %s: error %d without a JSON body", e.method, e.path, rec.Code)
		}
	})
}

// fuzzEndpoints are the endpoints that read a body. Other areas add theirs.
var fuzzEndpoints = []struct{ method, path string }{
	{http.MethodPut, "/api/v1/profile"},
	{http.MethodPost, "/api/v1/login-links"},
	{http.MethodPost, "/api/v1/shutdown"},
	{http.MethodPost, "/api/v1/pairings"},
	{http.MethodPost, "/api/v1/resources"},
	{http.MethodPut, "/api/v1/resources/0123456789abcdef0123456789abcdef"},
	{http.MethodPost, "/api/v1/communities"},
	{http.MethodPost, "/api/v1/import"},
	{http.MethodPost, "/api/v1/pairings/0123456789abcdef0123456789abcdef/accept"},
	{http.MethodPost, "/api/v1/pairings/0123456789abcdef0123456789abcdef/complete"},
	{http.MethodPost, "/api/v1/blocks"},
	{http.MethodPost, "/api/v1/stewards"},
}
