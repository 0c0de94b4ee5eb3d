package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mentormesh/mentormesh/node"
	"github.com/mentormesh/mentormesh/node/api"
)

// FuzzAPIRequestBodies sends arbitrary bodies to the endpoints that decode
// one (profile writes and imports), through the whole server over a real
// offline data directory: every answer is a success or a client error
// with a JSON body, never a panic or an internal error.
func FuzzAPIRequestBodies(f *testing.F) {
	f.Add(uint8(0), []byte(`{"name":"Ada","skills":["facilitation"]}`))
	f.Add(uint8(0), []byte(`{"name":"","bio":"\u202e"}`))
	f.Add(uint8(1), []byte(`{"format":"mentormesh-export","version":1,"records":[{"signed":"AAAA"}]}`))
	f.Add(uint8(1), []byte(`{"format":"mentormesh-export","version":1,"records":[`))
	off, err := node.OpenOffline(f.TempDir(), "fuzz", nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { off.Close() })
	srv := api.NewServer(off, api.ServerOptions{Token: testToken})
	f.Fuzz(func(t *testing.T, endpoint uint8, body []byte) {
		method, path := http.MethodPut, "/api/v1/profile"
		if endpoint%2 == 1 {
			method, path = http.MethodPost, "/api/v1/import"
		}
		req := httptest.NewRequest(method, path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testToken)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s answered %d: %s", method, path, rec.Code, rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s answered %d with a body that is not JSON: %q", method, path, rec.Code, rec.Body)
		}
	})
}
