package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Streaming endpoints: an export or backup is written as the store is
// read, so the status line goes out before the end is known. A failure
// after the first byte aborts the connection (http.ErrAbortHandler), which
// the client sees as a truncated body, never as a complete one.

// exportCountTrailer carries ExportResult.Records after an export body.
const exportCountTrailer = "X-Mentormesh-Records"

// maxImportSize is MaxImportSize; tests lower it.
var maxImportSize int64 = MaxImportSize

// importTimeout bounds an import's request, in place of the server's
// 30-second read timeout, which a large import may exceed.
const importTimeout = 30 * time.Minute

// routesData registers the export, import and backup endpoints.
func (s *Server) routesData() {
	s.mux.HandleFunc("GET /api/v1/export", s.handleExport)
	s.mux.HandleFunc("POST /api/v1/import", s.handleImport)
	s.mux.HandleFunc("GET /api/v1/backup", s.handleBackup)
}

// streamWriter remembers whether the body has begun.
type streamWriter struct {
	http.ResponseWriter
	started bool
}

func (w *streamWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil // would send the status line
	}
	w.started = true
	return w.ResponseWriter.Write(p)
}

// fail reports err as a JSON error if nothing was sent yet, else aborts
// the response.
func (w *streamWriter) fail(s *Server, what string, err error) {
	if !w.started {
		w.Header().Del("Trailer")
		writeError(w.ResponseWriter, asError(err))
		return
	}
	s.opts.Logger.Warn(what+" failed after it started; aborting the response", "err", err)
	panic(http.ErrAbortHandler)
}

func (s *Server) handleExport(w http.ResponseWriter, r *http.Request) {
	var opts ExportOptions
	switch v := r.URL.Query().Get("all"); v {
	case "", "false", "0":
	case "true", "1":
		opts.All = true
	default:
		writeError(w, BadRequest(fmt.Sprintf("all=%q: want true or false", v)))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Trailer", exportCountTrailer)
	sw := &streamWriter{ResponseWriter: w}
	res, err := s.b.Export(r.Context(), opts, sw)
	if err != nil {
		sw.fail(s, "export", err)
		return
	}
	w.Header().Set(exportCountTrailer, strconv.Itoa(res.Records))
}

func (s *Server) handleBackup(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/octet-stream")
	sw := &streamWriter{ResponseWriter: w}
	if _, err := s.b.Backup(r.Context(), sw); err != nil {
		sw.fail(s, "backup", err)
	}
}

func (s *Server) handleImport(w http.ResponseWriter, r *http.Request) {
	if !requireJSON(w, r) {
		return
	}
	if r.ContentLength > maxImportSize {
		writeError(w, importTooLarge(r.ContentLength))
		return
	}
	// Lift the server's read timeout for this request: reading a large
	// import takes as long as ingesting it. The context still bounds it.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(importTimeout))
	r.Body = http.MaxBytesReader(w, r.Body, maxImportSize)
	v, err := s.b.Import(r.Context(), r.Body)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = importTooLarge(-1)
	}
	respond(w, v, err)
}

func importTooLarge(size int64) *Error {
	msg := fmt.Sprintf("import document larger than %d bytes (the limit)", maxImportSize)
	if size >= 0 {
		msg = fmt.Sprintf("import document is %d bytes, larger than the %d-byte limit", size, maxImportSize)
	}
	return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge,
		Message: msg + "; split the export, e.g. one file per community"}
}
