package api

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// dataBackend fakes the data endpoints; other methods are not called.
type dataBackend struct {
	Backend
	imports   atomic.Int32
	readBytes atomic.Int64
	// written is what Export and Backup write before failing with fail.
	written string
	fail    error
}

func (b *dataBackend) Import(ctx context.Context, r io.Reader) (ImportSummary, error) {
	b.imports.Add(1)
	n, err := io.Copy(io.Discard, r)
	b.readBytes.Add(n)
	return ImportSummary{Read: int(n)}, err
}

func (b *dataBackend) Export(ctx context.Context, opts ExportOptions, w io.Writer) (ExportResult, error) {
	_, _ = io.WriteString(w, b.written)
	return ExportResult{Records: 1}, b.fail
}

func (b *dataBackend) Backup(ctx context.Context, w io.Writer) (BackupResult, error) {
	n, _ := io.WriteString(w, b.written)
	return BackupResult{Bytes: int64(n)}, b.fail
}

func serveData(t *testing.T, b Backend) (*Client, string) {
	t.Helper()
	srv := httptest.NewServer(NewServer(b, ServerOptions{Token: "tok"}))
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	return NewClient(addr, "tok"), addr
}

// TestImportRefusedByContentLength: an import whose declared size is over
// the limit is refused with 413 before a byte of its body is read (the
// request below sends none, and the answer comes anyway).
func TestImportRefusedByContentLength(t *testing.T) {
	b := &dataBackend{}
	_, addr := serveData(t, b)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "POST /api/v1/import HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer tok\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n", addr, MaxImportSize+1)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer (the server should answer without the body): %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "limit") {
		t.Errorf("answer = %d %s, want 413 naming the limit", resp.StatusCode, body)
	}
	if n := b.imports.Load(); n != 0 {
		t.Errorf("the backend's Import was called %d times", n)
	}
}

// TestImportCappedWithoutLength: a body of unknown length (chunked) is cut
// off at the limit, and the import fails with 413.
func TestImportCappedWithoutLength(t *testing.T) {
	old := maxImportSize
	maxImportSize = 4096
	t.Cleanup(func() { maxImportSize = old })
	b := &dataBackend{}
	cl, _ := serveData(t, b)
	// A plain io.Reader: no size is known, so the client streams it chunked.
	body := io.LimitReader(strings.NewReader(strings.Repeat("x", 1<<20)), 1<<20)
	_, err := cl.Import(context.Background(), struct{ io.Reader }{body})
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("Import of 1 MiB with a 4 KiB limit = %v, want 413", err)
	}
	if n := b.readBytes.Load(); n > 4096 {
		t.Errorf("the backend read %d bytes, more than the limit", n)
	}
}

// TestStreamsFailVisibly: an export or backup that fails after it began is
// an error for the client, never a complete-looking body; one that fails
// before is an ordinary API error.
func TestStreamsFailVisibly(t *testing.T) {
	boom := errors.New("disk on fire")
	tests := []struct {
		name    string
		written string
		want    string
	}{
		{"before the first byte", "", "disk on fire"},
		{"half way", strings.Repeat("y", 100_000), "incomplete"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl, _ := serveData(t, &dataBackend{written: tt.written, fail: boom})
			var out strings.Builder
			if _, err := cl.Export(context.Background(), ExportOptions{All: true}, &out); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Export = %v, want an error saying %q", err, tt.want)
			}
			if _, err := cl.Backup(context.Background(), &out); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Backup = %v, want an error saying %q", err, tt.want)
			}
		})
	}
	t.Run("complete", func(t *testing.T) {
		cl, _ := serveData(t, &dataBackend{written: "{}"})
		var out strings.Builder
		res, err := cl.Export(context.Background(), ExportOptions{}, &out)
		if err != nil || res.Records != 1 || out.String() != "{}" {
			t.Errorf("Export = %+v, %v, %q; want 1 record, {}", res, err, out.String())
		}
	})
}
