package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/ingest"
	"github.com/mentormesh/mentormesh/sync/record"
)

// Export implements api.Backend. Records are listed community by
// community (in each, kind by kind for one's own records), in address
// order; each list is consistent, the export as a whole need not be.
func (l *Local) Export(ctx context.Context, opts api.ExportOptions, w io.Writer) (api.ExportResult, error) {
	counts, err := l.store.Counts(ctx)
	if err != nil {
		return api.ExportResult{}, fmt.Errorf("exporting: %w", err)
	}
	ew, err := newExportWriter(w, l.exportHeader(opts.All))
	if err != nil {
		return api.ExportResult{}, fmt.Errorf("exporting: %w", err)
	}
	var queries []store.Query
	for _, c := range counts { // sorted by community, then kind
		switch {
		case !opts.All:
			queries = append(queries, store.Query{Community: c.Community, Kind: c.Kind, Author: &l.author})
		case len(queries) == 0 || queries[len(queries)-1].Community != c.Community:
			queries = append(queries, store.Query{Community: c.Community})
		}
	}
	for _, q := range queries {
		if err := l.store.List(ctx, q, ew.write); err != nil {
			return api.ExportResult{Records: ew.n}, fmt.Errorf("exporting: %w", err)
		}
	}
	if err := ew.close(); err != nil {
		return api.ExportResult{Records: ew.n}, fmt.Errorf("exporting: %w", err)
	}
	return api.ExportResult{Records: ew.n}, nil
}

// importBatch is how many records Import passes to the pipeline at once.
const importBatch = 256

// Import implements api.Backend. Every record goes through ingest.Pipeline,
// as from a peer, with this node's communities and the same verdicts; only
// the store it applies to differs (importStore): records of this node's
// own identity are applied as local writes, so they enter the outbox and
// are published again. That is what restores a user's records after they
// lost their data directory but kept (or recovered) their identity key.
func (l *Local) Import(ctx context.Context, r io.Reader) (api.ImportSummary, error) {
	sum := api.ImportSummary{Problems: []api.ImportProblem{}}
	st := &importStore{s: l.store, self: l.author}
	joined := l.joined()
	pipe := ingest.New(st, mentorship.Kinds{}, ingest.Options{
		Joined:        func(c string) bool { return slices.Contains(joined, c) },
		IsUnknownKind: mentorship.IsUnknownKind,
		RootOnly:      mentorship.RootOnly,
		DeviceRevoked: l.dev.isRevoked,
	})
	type pending struct {
		index int
		raw   []byte
	}
	var batch []pending
	var lastOwn *record.Record
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		raws := make([][]byte, len(batch))
		for j, p := range batch {
			raws[j] = p.raw
		}
		outs := pipe.IngestBatch(ctx, raws, ingest.Source{})
		if err := st.failed(); err != nil {
			return fmt.Errorf("storing records: %w", err)
		}
		for j, o := range outs {
			if tallyImport(&sum, l.author, batch[j].index, o) {
				lastOwn = o.Record
			}
		}
		batch = batch[:0]
		return ctx.Err()
	}
	err := readExport(r,
		func(h api.ExportDocument) error { sum.ExportedBy = h.PeerID; return nil },
		func(i int, e api.ExportRecord) error {
			sum.Read++
			rec, err := record.Decode(e.Signed)
			if err == nil {
				err = checkExportFields(e, rec)
			}
			if err != nil {
				sum.Rejected++
				addProblem(&sum, i, rec, "rejected", err)
				return nil
			}
			batch = append(batch, pending{index: i, raw: e.Signed})
			if len(batch) == importBatch {
				return flush()
			}
			return nil
		})
	if err == nil {
		err = flush()
	}
	slices.SortFunc(sum.Problems, func(a, b api.ImportProblem) int { return a.Index - b.Index })
	if lastOwn != nil && l.net != nil {
		l.net.published(lastOwn) // wake the publisher for the outbox
	}
	if err != nil {
		done := fmt.Sprintf("%d records read: %d imported, %d already current, %d stale, %d skipped, %d rejected",
			sum.Read, sum.Imported, sum.AlreadyCurrent, sum.Stale, sum.Skipped, sum.Rejected)
		if errors.Is(err, ErrBadExport) {
			return sum, api.BadRequest(fmt.Sprintf("import stopped: %v (before that, %s; importing again is safe)", err, done))
		}
		return sum, fmt.Errorf("import stopped: %w (before that, %s; importing again is safe)", err, done)
	}
	return sum, nil
}

// tallyImport counts one pipeline outcome in sum and reports whether it
// was an own record put in the outbox.
func tallyImport(sum *api.ImportSummary, self record.Author, index int, o ingest.Outcome) bool {
	switch {
	case o.Verdict == ingest.Accept:
		sum.Imported++
		if o.Record.Author == self {
			sum.Republished++
			return true
		}
	case o.Verdict == ingest.Reject:
		sum.Rejected++
		addProblem(sum, index, o.Record, "rejected", o.Err)
	case errors.Is(o.Err, ingest.ErrDuplicate):
		sum.AlreadyCurrent++
	case errors.Is(o.Err, ingest.ErrStale):
		sum.Stale++
	default:
		sum.Skipped++
		addProblem(sum, index, o.Record, "skipped", o.Err)
	}
	return false
}

func addProblem(sum *api.ImportSummary, index int, rec *record.Record, outcome string, err error) {
	if len(sum.Problems) >= api.MaxImportProblems {
		return
	}
	p := api.ImportProblem{Index: index, Outcome: outcome, Reason: err.Error()}
	if rec != nil {
		p.ID = rec.ID.String()
	}
	sum.Problems = append(sum.Problems, p)
}

// importStore is the pipeline's store for Import: records of this node's
// own identity are applied as local writes (synced, and put in the outbox
// to be published); everyone else's as from a peer. It keeps the first
// store error, which the pipeline would otherwise report per record.
type importStore struct {
	s    store.Store
	self record.Author

	mu  sync.Mutex
	err error
}

var _ ingest.BatchStore = (*importStore)(nil)

func (a *importStore) CurrentMeta(ctx context.Context, addr record.Addr) (record.Meta, bool, error) {
	return a.s.CurrentMeta(ctx, addr)
}

func (a *importStore) ApplyRemote(ctx context.Context, rec *record.Record) (bool, error) {
	res, err := a.s.Apply(ctx, rec, store.ApplyOptions{Local: rec.Author == a.self})
	a.keep(err)
	return res.Applied, err
}

func (a *importStore) ApplyRemoteBatch(ctx context.Context, recs []*record.Record) ([]bool, error) {
	applied := make([]bool, len(recs))
	var others []*record.Record
	var at []int
	for i, rec := range recs {
		if rec.Author != a.self {
			others, at = append(others, rec), append(at, i)
			continue
		}
		ok, err := a.ApplyRemote(ctx, rec)
		if err != nil {
			return applied, err
		}
		applied[i] = ok
	}
	res, err := a.s.ApplyBatch(ctx, others)
	for j, i := range at {
		applied[i] = res[j]
	}
	a.keep(err)
	return applied, err
}

func (a *importStore) keep(err error) {
	if err == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err == nil {
		a.err = err
	}
}

func (a *importStore) failed() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

// backupStore is a store that can write a backup file (store.Badger).
type backupStore interface {
	Backup(ctx context.Context, w io.Writer, meta store.BackupMeta) (int64, error)
}

// Backup implements api.Backend.
func (l *Local) Backup(ctx context.Context, w io.Writer) (api.BackupResult, error) {
	bs, ok := unwrapStore(l.store).(backupStore)
	if !ok {
		return api.BackupResult{}, errors.New("this store cannot be backed up")
	}
	n, err := bs.Backup(ctx, w, store.BackupMeta{PeerID: l.author.String(), CreatedAt: time.Now().UTC()})
	return api.BackupResult{Bytes: n}, err
}

// unwrapStore returns the store under wrappers such as observedStore, for
// what only the concrete store can do.
func unwrapStore(s store.Store) store.Store {
	for {
		u, ok := s.(interface{ Unwrap() store.Store })
		if !ok {
			return s
		}
		s = u.Unwrap()
	}
}
