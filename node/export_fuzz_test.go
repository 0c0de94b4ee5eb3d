package node

import (
	"bytes"
	"errors"
	"testing"

	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/sync/record"
)

// FuzzReadExport feeds arbitrary bytes to the export reader, the decoder
// of files users import: it never panics, refuses what is not a document
// with ErrBadExport, and hands on no entry larger than the entry cap. For
// every record it accepts, the fields check agrees with itself.
func FuzzReadExport(f *testing.F) {
	f.Add([]byte(`{"format":"mentormesh-export","version":1,"peer_id":"x","scope":"own","exported_at":"2026-01-01T00:00:00Z","records":[]}`))
	f.Add([]byte(`{"format":"mentormesh-export","version":1,"records":[{"signed":"AAAA","id":"00"},{"signed":""}],"later":{"a":[1,2]}}`))
	f.Add([]byte(`{"format":"mentormesh-export","version":1,"records":[{"version":-1}]}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"records":[],"format":"mentormesh-export"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		err := readExport(bytes.NewReader(data), func(h api.ExportDocument) error {
			if h.Format != api.ExportFormat {
				t.Fatalf("header callback with format %q", h.Format)
			}
			return nil
		}, func(i int, e api.ExportRecord) error {
			if i != n {
				t.Fatalf("entry %d after %d entries", i, n)
			}
			n++
			if len(e.Signed) > api.MaxImportEntry {
				t.Fatalf("entry of %d bytes handed on", len(e.Signed))
			}
			if rec, err := record.Decode(e.Signed); err == nil {
				_ = checkExportFields(e, rec)
				if err := checkExportFields(exportRecordOf(rec), rec); err != nil {
					t.Fatalf("a record's own export fields disagree with it: %v", err)
				}
			}
			return nil
		})
		if err != nil && !errors.Is(err, ErrBadExport) {
			t.Fatalf("readExport error %v does not wrap ErrBadExport", err)
		}
	})
}
