package node

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/sync/record"
)

// Export documents (api.ExportDocument) are written and read here as
// streams: records go out as the store is read and are imported as they
// are decoded, so neither side holds a whole document in memory.

// ErrBadExport is returned for a document that is not a well-formed
// mentormesh export.
var ErrBadExport = errors.New("not a valid mentormesh export")

// exportWriter writes an export document record by record.
type exportWriter struct {
	w   *bufio.Writer
	n   int
	err error
}

func newExportWriter(w io.Writer, hdr api.ExportDocument) (*exportWriter, error) {
	ew := &exportWriter{w: bufio.NewWriterSize(w, 64<<10)}
	// The header fields come first, in a fixed order, so a reader knows
	// what it reads before the records arrive.
	fields := []struct {
		name  string
		value any
	}{
		{"format", hdr.Format}, {"version", hdr.Version}, {"peer_id", hdr.PeerID},
		{"scope", hdr.Scope}, {"exported_at", hdr.ExportedAt},
	}
	ew.put([]byte("{"))
	for _, f := range fields {
		v, err := json.Marshal(f.value)
		if err != nil {
			return nil, err
		}
		ew.put(fmt.Appendf(nil, "%q:%s,", f.name, v))
	}
	ew.put([]byte("\"records\":["))
	return ew, ew.err
}

func (ew *exportWriter) put(p []byte) {
	if ew.err == nil {
		_, ew.err = ew.w.Write(p)
	}
}

// write adds rec to the document.
func (ew *exportWriter) write(rec *record.Record) error {
	v, err := json.Marshal(exportRecordOf(rec))
	if err != nil {
		return err
	}
	if ew.n > 0 {
		ew.put([]byte(","))
	}
	ew.put([]byte("\n"))
	ew.put(v)
	ew.n++
	return ew.err
}

// close ends the document and flushes it.
func (ew *exportWriter) close() error {
	ew.put([]byte("\n]}\n"))
	if ew.err == nil {
		ew.err = ew.w.Flush()
	}
	return ew.err
}

func exportRecordOf(rec *record.Record) api.ExportRecord {
	e := api.ExportRecord{
		ID:        rec.ID.String(),
		Community: rec.Community,
		Author:    rec.Author.String(),
		Kind:      rec.Kind,
		Key:       rec.Key,
		Version:   rec.Version,
		Timestamp: rec.Timestamp.UTC(),
		Deleted:   rec.Deleted,
		Payload:   rec.Payload,
		Signed:    rec.Raw,
	}
	if !rec.Expires.IsZero() {
		exp := rec.Expires.UTC()
		e.Expires = &exp
	}
	return e
}

// checkExportFields reports the decoded fields of e that are present (not
// zero) and disagree with the record its signed bytes hold.
func checkExportFields(e api.ExportRecord, rec *record.Record) error {
	var bad []string
	check := func(name string, present, equal bool) {
		if present && !equal {
			bad = append(bad, name)
		}
	}
	check("id", e.ID != "", e.ID == rec.ID.String())
	check("community", e.Community != "", e.Community == rec.Community)
	check("author", e.Author != "", e.Author == rec.Author.String())
	check("kind", e.Kind != "", e.Kind == rec.Kind)
	check("key", e.Key != "", e.Key == rec.Key)
	check("version", e.Version != 0, e.Version == rec.Version)
	check("timestamp", !e.Timestamp.IsZero(), e.Timestamp.Equal(rec.Timestamp))
	check("deleted", e.Deleted, rec.Deleted)
	check("expires", e.Expires != nil, e.Expires != nil && e.Expires.Equal(rec.Expires))
	check("payload", e.Payload != nil, bytes.Equal(e.Payload, rec.Payload))
	if len(bad) > 0 {
		return fmt.Errorf("%s disagree(s) with the signed bytes (was the file edited? only \"signed\" is imported)", strings.Join(bad, ", "))
	}
	return nil
}

// readExport decodes an export document from r, calling header once the
// header fields are read (before the first record) and entry for each
// record in order. An error from a callback stops the reading and is
// returned as is; a malformed document gives an error wrapping
// ErrBadExport; an error of r is returned wrapped.
func readExport(r io.Reader, header func(api.ExportDocument) error, entry func(i int, e api.ExportRecord) error) error {
	lr := &entryLimitReader{r: r, limit: api.MaxImportEntry}
	dec := json.NewDecoder(lr)
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrBadExport, fmt.Sprintf(format, args...))
	}
	// decodeErr tells a reader error (kept) from a syntax error.
	decodeErr := func(what string, err error) error {
		if lr.err != nil {
			if errors.Is(lr.err, errEntryTooLarge) {
				return bad("%s is larger than %d bytes", what, api.MaxImportEntry)
			}
			return fmt.Errorf("reading the document: %w", lr.err)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return bad("the document ends in the middle of %s (truncated?)", what)
		}
		return bad("%s: %v", what, err)
	}
	delim := func(want json.Delim, what string) error {
		tok, err := dec.Token()
		if err != nil {
			return decodeErr(what, err)
		}
		if d, ok := tok.(json.Delim); !ok || d != want {
			return bad("%s: expected %q, found %v", what, want, tok)
		}
		return nil
	}
	if err := delim('{', "the document"); err != nil {
		return err
	}
	var hdr api.ExportDocument
	sawRecords := false
	for dec.More() {
		lr.mark(dec.InputOffset())
		tok, err := dec.Token()
		if err != nil {
			return decodeErr("the document", err)
		}
		name, _ := tok.(string)
		var dst any
		switch name {
		case "format":
			dst = &hdr.Format
		case "version":
			dst = &hdr.Version
		case "peer_id":
			dst = &hdr.PeerID
		case "scope":
			dst = &hdr.Scope
		case "exported_at":
			dst = &hdr.ExportedAt
		case "records":
			if sawRecords {
				return bad("\"records\" appears twice")
			}
			sawRecords = true
			if err := checkExportHeader(hdr); err != nil {
				return err
			}
			if err := header(hdr); err != nil {
				return err
			}
			if err := readRecords(dec, lr, delim, decodeErr, entry); err != nil {
				return err
			}
			continue
		default:
			dst = new(json.RawMessage) // a field of a later version
		}
		if err := dec.Decode(dst); err != nil {
			return decodeErr(fmt.Sprintf("field %q", name), err)
		}
	}
	if err := delim('}', "the document"); err != nil {
		return err
	}
	if !sawRecords {
		if err := checkExportHeader(hdr); err != nil {
			return err
		}
		return bad("the document has no \"records\"")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if lr.err != nil {
			return decodeErr("the end", err)
		}
		return bad("data after the end of the document")
	}
	return nil
}

func readRecords(dec *json.Decoder, lr *entryLimitReader, delim func(json.Delim, string) error,
	decodeErr func(string, error) error, entry func(int, api.ExportRecord) error) error {
	if err := delim('[', "the records"); err != nil {
		return err
	}
	for i := 0; dec.More(); i++ {
		lr.mark(dec.InputOffset())
		var e api.ExportRecord
		if err := dec.Decode(&e); err != nil {
			return decodeErr(fmt.Sprintf("record %d", i), err)
		}
		if err := entry(i, e); err != nil {
			return err
		}
	}
	return delim(']', "the records")
}

func checkExportHeader(hdr api.ExportDocument) error {
	if hdr.Format != api.ExportFormat {
		return fmt.Errorf("%w: it does not start with \"format\": %q (made by 'mentormesh export'?)", ErrBadExport, api.ExportFormat)
	}
	if hdr.Version < 1 || hdr.Version > api.ExportVersion {
		return fmt.Errorf("%w: version %d; this mentormesh reads versions 1 to %d (upgrade mentormesh?)", ErrBadExport, hdr.Version, api.ExportVersion)
	}
	return nil
}

var errEntryTooLarge = errors.New("entry too large")

// entryLimitReader fails once the decoder has read more than limit bytes
// past the mark (the start of the value being decoded), so one huge value
// cannot make the decoder buffer the whole document.
type entryLimitReader struct {
	r           io.Reader
	limit       int64
	read, start int64
	err         error
}

func (l *entryLimitReader) mark(offset int64) { l.start = offset }

func (l *entryLimitReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	if l.read-l.start > l.limit {
		l.err = errEntryTooLarge
		return 0, l.err
	}
	n, err := l.r.Read(p)
	l.read += int64(n)
	if err != nil && err != io.EOF {
		l.err = err
	}
	return n, err
}

// CheckExport reads a whole export document from r without importing it
// and returns its header and number of records: a malformed or truncated
// file is refused before anything is written. Records' signed bytes are
// checked later, by import.
func CheckExport(r io.Reader) (api.ExportDocument, int, error) {
	var hdr api.ExportDocument
	n := 0
	err := readExport(r, func(h api.ExportDocument) error { hdr = h; return nil },
		func(int, api.ExportRecord) error { n++; return nil })
	return hdr, n, err
}

// exportHeader is the header of an export of this node's data.
func (l *Local) exportHeader(all bool) api.ExportDocument {
	scope := api.ScopeOwn
	if all {
		scope = api.ScopeAll
	}
	return api.ExportDocument{Format: api.ExportFormat, Version: api.ExportVersion, PeerID: l.author.String(),
		Scope: scope, ExportedAt: time.Now().UTC().Truncate(time.Millisecond)}
}
