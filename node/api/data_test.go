package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/mentormesh/mentormesh/node"
	"github.com/mentormesh/mentormesh/node/api"
)

// TestDataThroughAPI: export, import and backup give the same results
// through the HTTP client as in process.
func TestDataThroughAPI(t *testing.T) {
	ctx := context.Background()
	src := openOffline(t, "")
	for _, name := range []string{"Ada", "Ada Lovelace"} {
		if _, err := src.SetProfile(ctx, api.ProfileInput{Name: ptr(name)}); err != nil {
			t.Fatal(err)
		}
	}
	cl, _ := serve(t, src, api.ServerOptions{})

	records := func(b api.Backend, all bool) (api.ExportDocument, []byte) {
		t.Helper()
		var buf bytes.Buffer
		res, err := b.Export(ctx, api.ExportOptions{All: all}, &buf)
		if err != nil {
			t.Fatalf("Export: %v", err)
		}
		var doc api.ExportDocument
		if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
			t.Fatalf("export is not JSON: %v", err)
		}
		if res.Records != len(doc.Records) {
			t.Errorf("Export reports %d records, the document holds %d", res.Records, len(doc.Records))
		}
		return doc, buf.Bytes()
	}
	for _, all := range []bool{false, true} {
		local, raw := records(src, all)
		remote, _ := records(cl, all)
		if fmt.Sprint(local.Records) != fmt.Sprint(remote.Records) || local.Scope != remote.Scope || len(local.Records) != 1 {
			t.Errorf("all=%v: export through the API differs:\n local %+v\nremote %+v", all, local, remote)
		}

		direct, viaAPI := openOffline(t, ""), openOffline(t, "")
		cl2, _ := serve(t, viaAPI, api.ServerOptions{})
		want, err := direct.Import(ctx, bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		got, err := cl2.Import(ctx, bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) || got.Imported != 1 {
			t.Errorf("all=%v: Import through the API = %+v, in process %+v; want 1 imported", all, got, want)
		}
	}

	file := filepath.Join(t.TempDir(), "backup")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	res, err := cl.Backup(ctx, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("Backup through the API: %v", err)
	}
	fi, err := os.Stat(file)
	if err != nil || fi.Size() != res.Bytes {
		t.Errorf("backup file: %v, %v; want %d bytes", fi, err, res.Bytes)
	}
	meta, err := node.VerifyBackup(file)
	if err != nil {
		t.Fatalf("the backup made through the API does not verify: %v", err)
	}
	id, _ := src.ID(ctx)
	if meta.PeerID != id.PeerID {
		t.Errorf("backup of %s, want %s", meta.PeerID, id.PeerID)
	}
}
