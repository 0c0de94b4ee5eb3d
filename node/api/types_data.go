package api

import (
	"context"
	"io"
	"time"
)

// DataBackend moves a node's data in and out: records as JSON (export,
// import) and the whole store as a backup file. Bodies are streamed, never
// held in memory whole.
type DataBackend interface {
	// Export writes an export document (ExportDocument) of this node's own
	// records, or of every record it holds if opts.All, to w.
	Export(ctx context.Context, opts ExportOptions, w io.Writer) (ExportResult, error)
	// Import reads an export document from r and runs each record through
	// the ingest pipeline that records from peers go through. Records by
	// this node's own identity that become current are put in the outbox,
	// to be published again. A malformed document stops the import with an
	// error; the records before the fault have been imported (importing
	// them again is harmless).
	Import(ctx context.Context, r io.Reader) (ImportSummary, error)
	// Backup writes a backup file of the whole store (records, outbox,
	// remembered peers) to w, consistent at one moment.
	Backup(ctx context.Context, w io.Writer) (BackupResult, error)
}

// Export documents.
const (
	// ExportFormat is the value of an export document's "format" field.
	ExportFormat = "mentormesh-export"
	// ExportVersion is the version of the document layout this mentormesh
	// writes and the highest it reads.
	ExportVersion = 1
	// ScopeOwn and ScopeAll are the values of "scope".
	ScopeOwn = "own"
	ScopeAll = "all"
)

// MaxImportSize caps an import document: 1 GiB, about 500 000 records of
// typical size. A larger document is refused before it is read (by its
// Content-Length over the API, by its size on disk offline); split the
// export by community instead.
const MaxImportSize = 1 << 30

// MaxImportEntry caps one record entry of an import document: a signed
// record is at most 32 KiB, 43 KiB in base64, and its payload appears a
// second time.
const MaxImportEntry = 256 << 10

// ExportOptions select what Export writes.
type ExportOptions struct {
	// All exports every record the node holds, not only its own.
	All bool
}

// ExportResult says what Export wrote.
type ExportResult struct {
	Records int `json:"records"`
}

// ExportDocument is the layout of an export file. Export writes the fields
// in this order, and Import needs "format" and "version" before "records";
// unknown fields are ignored.
type ExportDocument struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	// PeerID is the identity of the node that exported.
	PeerID string `json:"peer_id"`
	// Scope is ScopeOwn or ScopeAll.
	Scope      string         `json:"scope"`
	ExportedAt time.Time      `json:"exported_at"`
	Records    []ExportRecord `json:"records"`
}

// ExportRecord is one record of an export document: its exact signed bytes
// and, for people and tools, the fields decoded from them. Import uses only
// Signed; the other fields, where present (not zero), must agree with it,
// so an edited field is reported instead of silently ignored.
type ExportRecord struct {
	// ID is the record ID, hex SHA-256 of Signed.
	ID        string `json:"id"`
	Community string `json:"community"`
	// Author is the author's peer ID.
	Author    string     `json:"author"`
	Kind      string     `json:"kind"`
	Key       string     `json:"key"`
	Version   uint64     `json:"version"`
	Timestamp time.Time  `json:"timestamp"`
	Deleted   bool       `json:"deleted,omitempty"`
	Expires   *time.Time `json:"expires,omitempty"`
	// Payload is the kind's payload (base64), as in Signed.
	Payload []byte `json:"payload,omitempty"`
	// Signed is the record envelope exactly as its author signed it
	// (base64): the record itself.
	Signed []byte `json:"signed"`
}

// ImportSummary says what Import did with each record of a document.
type ImportSummary struct {
	// ExportedBy is the peer ID the document names as its exporter.
	ExportedBy string `json:"exported_by"`
	// Read counts the records in the document.
	Read int `json:"read"`
	// Imported counts records that were new here and are now stored.
	Imported int `json:"imported"`
	// AlreadyCurrent counts records this node already held.
	AlreadyCurrent int `json:"already_current"`
	// Stale counts records older than the version this node holds.
	Stale int `json:"stale"`
	// Skipped counts valid records this node does not take: community not
	// joined, unknown kind, expired, or stamped in the future.
	Skipped int `json:"skipped"`
	// Rejected counts invalid records (bad signature, malformed, invalid
	// payload, fields that disagree with the signed bytes); nothing of them
	// was written.
	Rejected int `json:"rejected"`
	// Republished counts imported records of this node's own identity,
	// queued in the outbox to be published.
	Republished int `json:"republished"`
	// Problems lists skipped and rejected records with the reason, the
	// first MaxImportProblems of them.
	Problems []ImportProblem `json:"problems"`
}

// MaxImportProblems caps ImportSummary.Problems.
const MaxImportProblems = 100

// ImportProblem is a record Import skipped or rejected.
type ImportProblem struct {
	// Index is the record's position in the document's records, from 0.
	Index int    `json:"index"`
	ID    string `json:"id,omitempty"`
	// Outcome is "skipped" or "rejected".
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
}

// BackupResult says what Backup wrote.
type BackupResult struct {
	Bytes int64 `json:"bytes"`
}
