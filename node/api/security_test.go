package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mentormesh/mentormesh/node/api"
)

// countingBackend counts the writes that reach the backend.
type countingBackend struct {
	api.Backend
	sets atomic.Int32
}

func (b *countingBackend) SetProfile(ctx context.Context, in api.ProfileInput) (api.Profile, error) {
	b.sets.Add(1)
	return b.Backend.SetProfile(ctx, in)
}

// TestServerRefuses checks the server's defences: the token, the Host
// check against DNS rebinding, and strict, size-capped request bodies.
func TestServerRefuses(t *testing.T) {
	backend := &countingBackend{Backend: openOffline(t, "")}
	_, srv := serve(t, backend, api.ServerOptions{})
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	bearer := "Bearer " + testToken
	profileJSON := `{"name":"Ada"}`

	tests := []struct {
		name    string
		method  string
		path    string
		host    string // Host header; "" for the listener's address
		headers map[string]string
		body    string
		status  int
		code    string // error code; "" for a success
		// writes is how many SetProfile calls must reach the backend.
		writes int32
	}{
		{name: "no token", method: "GET", path: "/api/v1/id", status: 401, code: api.CodeUnauthorized},
		{name: "wrong bearer token", method: "GET", path: "/api/v1/id",
			headers: map[string]string{"Authorization": "Bearer nope"}, status: 401, code: api.CodeUnauthorized},
		{name: "wrong token header", method: "GET", path: "/api/v1/id",
			headers: map[string]string{api.TokenHeader: "nope"}, status: 401, code: api.CodeUnauthorized},
		{name: "token as basic auth", method: "GET", path: "/api/v1/id",
			headers: map[string]string{"Authorization": "Basic " + testToken}, status: 401, code: api.CodeUnauthorized},
		{name: "token prefix", method: "GET", path: "/api/v1/id",
			headers: map[string]string{api.TokenHeader: testToken[:5]}, status: 401, code: api.CodeUnauthorized},
		{name: "token in header", method: "GET", path: "/api/v1/id",
			headers: map[string]string{api.TokenHeader: testToken}, status: 200},
		{name: "bearer token", method: "GET", path: "/api/v1/id",
			headers: map[string]string{"Authorization": bearer}, status: 200},
		{name: "foreign host with the token", method: "GET", path: "/api/v1/id", host: "evil.example",
			headers: map[string]string{"Authorization": bearer}, status: 403, code: api.CodeForbidden},
		{name: "foreign host and port", method: "GET", path: "/api/v1/id", host: "evil.example:" + port,
			headers: map[string]string{"Authorization": bearer}, status: 403, code: api.CodeForbidden},
		{name: "host that starts like loopback", method: "GET", path: "/api/v1/id", host: "127.0.0.1.evil.example:" + port,
			headers: map[string]string{"Authorization": bearer}, status: 403, code: api.CodeForbidden},
		{name: "localhost subdomain", method: "GET", path: "/api/v1/id", host: "localhost.evil.example",
			headers: map[string]string{"Authorization": bearer}, status: 403, code: api.CodeForbidden},
		{name: "foreign host without a token", method: "GET", path: "/api/v1/id", host: "evil.example",
			status: 403, code: api.CodeForbidden},
		{name: "localhost", method: "GET", path: "/api/v1/id", host: "localhost:" + port,
			headers: map[string]string{"Authorization": bearer}, status: 200},
		{name: "127.0.0.1", method: "GET", path: "/api/v1/id", host: "127.0.0.1:" + port,
			headers: map[string]string{"Authorization": bearer}, status: 200},
		{name: "::1", method: "GET", path: "/api/v1/id", host: "[::1]:" + port,
			headers: map[string]string{"Authorization": bearer}, status: 200},
		{name: "write", method: "PUT", path: "/api/v1/profile", body: profileJSON,
			headers: map[string]string{"Authorization": bearer, "Content-Type": "application/json"}, status: 200, writes: 1},
		{name: "write with charset", method: "PUT", path: "/api/v1/profile", body: profileJSON,
			headers: map[string]string{"Authorization": bearer, "Content-Type": "application/json; charset=utf-8"}, status: 200, writes: 1},
		{name: "write without a token", method: "PUT", path: "/api/v1/profile", body: profileJSON,
			headers: map[string]string{"Content-Type": "application/json"}, status: 401, code: api.CodeUnauthorized},
		{name: "oversized body", method: "PUT", path: "/api/v1/profile",
			body:    `{"name":"Ada","bio":"` + strings.Repeat("x", api.MaxBodySize) + `"}`,
			headers: map[string]string{"Authorization": bearer, "Content-Type": "application/json"}, status: 413, code: api.CodeTooLarge},
		{name: "malformed JSON", method: "PUT", path: "/api/v1/profile", body: `{"name":`,
			headers: map[string]string{"Authorization": bearer, "Content-Type": "application/json"}, status: 400, code: api.CodeBadRequest},
		{name: "empty body", method: "PUT", path: "/api/v1/profile",
			headers: map[string]string{"Authorization": bearer, "Content-Type": "application/json"}, status: 400, code: api.CodeBadRequest},
		{name: "unknown field", method: "PUT", path: "/api/v1/profile", body: `{"name":"Ada","admin":true}`,
			headers: map[string]string{"Authorization": bearer, "Content-Type": "application/json"}, status: 400, code: api.CodeBadRequest},
		{name: "two JSON values", method: "PUT", path: "/api/v1/profile", body: profileJSON + profileJSON,
			headers: map[string]string{"Authorization": bearer, "Content-Type": "application/json"}, status: 400, code: api.CodeBadRequest},
		{name: "wrong JSON type", method: "PUT", path: "/api/v1/profile", body: `{"name":42}`,
			headers: map[string]string{"Authorization": bearer, "Content-Type": "application/json"}, status: 400, code: api.CodeBadRequest},
		{name: "form content type", method: "PUT", path: "/api/v1/profile", body: profileJSON,
			headers: map[string]string{"Authorization": bearer, "Content-Type": "application/x-www-form-urlencoded"}, status: 415, code: api.CodeBadRequest},
		{name: "text content type", method: "PUT", path: "/api/v1/profile", body: profileJSON,
			headers: map[string]string{"Authorization": bearer, "Content-Type": "text/plain"}, status: 415, code: api.CodeBadRequest},
		{name: "no content type", method: "PUT", path: "/api/v1/profile", body: profileJSON,
			headers: map[string]string{"Authorization": bearer}, status: 415, code: api.CodeBadRequest},
		{name: "content type that starts like JSON", method: "PUT", path: "/api/v1/profile", body: profileJSON,
			headers: map[string]string{"Authorization": bearer, "Content-Type": "application/jsonx"}, status: 415, code: api.CodeBadRequest},
		{name: "malformed content type", method: "PUT", path: "/api/v1/profile", body: profileJSON,
			headers: map[string]string{"Authorization": bearer, "Content-Type": "application/json;;"}, status: 415, code: api.CodeBadRequest},
		{name: "import without a content type", method: "POST", path: "/api/v1/import", body: `{}`,
			headers: map[string]string{"Authorization": bearer}, status: 415, code: api.CodeBadRequest},
		{name: "import with a content type that starts like JSON", method: "POST", path: "/api/v1/import", body: `{}`,
			headers: map[string]string{"Authorization": bearer, "Content-Type": "application/json-seq"}, status: 415, code: api.CodeBadRequest},
		{name: "trailing closing brace", method: "PUT", path: "/api/v1/profile", body: profileJSON + "}",
			headers: map[string]string{"Authorization": bearer, "Content-Type": "application/json"}, status: 400, code: api.CodeBadRequest},
		{name: "trailing closing bracket", method: "PUT", path: "/api/v1/profile", body: profileJSON + " ]",
			headers: map[string]string{"Authorization": bearer, "Content-Type": "application/json"}, status: 400, code: api.CodeBadRequest},
		{name: "trailing garbage", method: "PUT", path: "/api/v1/profile", body: profileJSON + "x",
			headers: map[string]string{"Authorization": bearer, "Content-Type": "application/json"}, status: 400, code: api.CodeBadRequest},
		{name: "trailing white space", method: "PUT", path: "/api/v1/profile", body: profileJSON + " \n",
			headers: map[string]string{"Authorization": bearer, "Content-Type": "application/json"}, status: 200, writes: 1},
		{name: "pairing action with no body", method: "POST", path: "/api/v1/pairings/0123456789abcdef0123456789abcdef/accept",
			headers: map[string]string{"Authorization": bearer}, status: 404, code: api.CodeNotFound},
		{name: "unknown endpoint", method: "GET", path: "/api/v1/nope",
			headers: map[string]string{"Authorization": bearer}, status: 404, code: api.CodeNotFound},
		{name: "unknown endpoint without a token", method: "GET", path: "/api/v1/nope", status: 401, code: api.CodeUnauthorized},
		{name: "write with GET", method: "GET", path: "/api/v1/profile",
			headers: map[string]string{"Authorization": bearer}, status: 405, code: api.CodeMethodNotAllowed},
		{name: "shutdown not offered", method: "POST", path: "/api/v1/shutdown",
			headers: map[string]string{"Authorization": bearer}, status: 501, code: api.CodeUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := backend.sets.Load()
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, body)
			if err != nil {
				t.Fatal(err)
			}
			if tt.host != "" {
				req.Host = tt.host
			}
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			// A page in a browser sends its origin; the API must never
			// let it read the answer.
			req.Header.Set("Origin", "https://evil.example")
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			data, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Errorf("%s %s: status %d, want %d; body %s", tt.method, tt.path, resp.StatusCode, tt.status, data)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			if resp.StatusCode == http.StatusMethodNotAllowed && resp.Header.Get("Allow") == "" {
				t.Errorf("405 without an Allow header")
			}
			if acao := resp.Header.Get("Access-Control-Allow-Origin"); acao != "" {
				t.Errorf("Access-Control-Allow-Origin = %q, want none", acao)
			}
			if tt.code != "" {
				var e struct {
					Code    string `json:"code"`
					Message string `json:"error"`
				}
				if err := json.Unmarshal(data, &e); err != nil || e.Code != tt.code || e.Message == "" {
					t.Errorf("error body = %s, want JSON with code %q and a message", data, tt.code)
				}
			} else if !json.Valid(data) {
				t.Errorf("body = %s, want JSON", data)
			}
			if got := backend.sets.Load() - before; got != tt.writes {
				t.Errorf("%d writes reached the backend, want %d", got, tt.writes)
			}
		})
	}

	// Refused writes changed nothing: the three accepted ones are all there is.
	st, err := backend.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p, err := backend.Profile(context.Background(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != 3 || p.Name != "Ada" || p.Bio != "" || st.Outbox != 1 {
		t.Errorf("after the refused requests: profile %+v, outbox %d; want version 3, name Ada, no bio, outbox 1", p, st.Outbox)
	}
}

// TestClientErrors checks that the client turns error answers into
// *api.Error with the server's status and code.
func TestClientErrors(t *testing.T) {
	_, srv := serve(t, openOffline(t, ""), api.ServerOptions{})
	addr := strings.TrimPrefix(srv.URL, "http://")
	ctx := context.Background()

	_, err := api.NewClient(addr, "wrong").ID(ctx)
	var e *api.Error
	if !errors.As(err, &e) || e.Status != http.StatusUnauthorized || e.Code != api.CodeUnauthorized {
		t.Errorf("ID with a wrong token: err = %#v, want *api.Error 401 %s", err, api.CodeUnauthorized)
	}
	_, err = api.NewClient(addr, testToken).Profile(ctx, "", "")
	if !api.IsNotFound(err) {
		t.Errorf("Profile with none: err = %v, want not found", err)
	}
	if err := api.NewClient(addr, testToken).Shutdown(ctx); err == nil {
		t.Error("Shutdown without ServerOptions.Shutdown: no error")
	}
}

// TestShutdownEndpoint checks that POST /api/v1/shutdown calls the owner's
// Shutdown function and answers first.
func TestShutdownEndpoint(t *testing.T) {
	var calls atomic.Int32
	client, _ := serve(t, openOffline(t, ""), api.ServerOptions{Shutdown: func() { calls.Add(1) }})
	if err := client.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("Shutdown called %d times, want 1", n)
	}
}

// TestRemoteHostsAllowedWhenAsked checks the one escape hatch of the Host
// check: a node deliberately exposed beyond loopback.
func TestRemoteHostsAllowedWhenAsked(t *testing.T) {
	srv := httptest.NewServer(api.NewServer(openOffline(t, ""), api.ServerOptions{Token: testToken, AllowNonLoopbackHosts: true}))
	t.Cleanup(srv.Close)
	req, err := http.NewRequest("GET", srv.URL+"/api/v1/id", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "mentor.example:4748"
	req.Header.Set(api.TokenHeader, testToken)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /api/v1/id with Host mentor.example and AllowNonLoopbackHosts: status %d, want 200", resp.StatusCode)
	}
}
