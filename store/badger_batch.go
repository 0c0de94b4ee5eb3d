package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/mentormesh/mentormesh/sync/record"
)

// ApplyBatch implements Store.
//
// The batch is cut into chunks, each applied and committed in one
// transaction, record by record with applyInTxn as Apply does: a record
// reads the current version through the transaction, so it sees what the
// records before it in the chunk wrote (Badger serves reads of an update
// transaction from its pending writes), and what earlier chunks committed.
//
// Chunks are planned to fit Badger's transaction limits (planChunk). Should
// a chunk not fit after all, Badger refuses the write that crosses the
// limit with ErrTxnTooBig, possibly in the middle of a record whose other
// writes are already in the transaction; committing then would store half a
// record. So the transaction is discarded instead, and the chunk is redone
// with only the records that were written whole.
func (b *Badger) ApplyBatch(ctx context.Context, recs []*record.Record) ([]bool, error) {
	applied := make([]bool, len(recs))
	if err := ctx.Err(); err != nil {
		return applied, fmt.Errorf("applying %d records: %w", len(recs), err)
	}
	if err := b.enter(); err != nil {
		return applied, fmt.Errorf("applying %d records: %w", len(recs), err)
	}
	defer b.leave()

	keys := make([][]byte, len(recs))
	for i, rec := range recs {
		keys[i] = currentKey(rec.Addr())
	}
	for start := 0; start < len(recs); {
		if err := ctx.Err(); err != nil {
			return applied, fmt.Errorf("applying %d records: stopped after %d: %w", len(recs), start, err)
		}
		end := b.planChunk(keys, recs, start)
		n, err := b.applyChunk(keys[start:end], recs[start:end], applied[start:end])
		if err != nil {
			return applied, fmt.Errorf("applying %d records: %w", len(recs), err)
		}
		start += n
	}
	return applied, nil
}

// txnEntryOverhead is what Badger charges a transaction per entry beyond
// its key and value (Txn.checkSize): 2 meta bytes and 10 for the version.
const txnEntryOverhead = 12

// recordTxnEntries is the most entries applyInTxn writes for a
// non-local record: the deletes of its predecessor's i/, s/ and a/ keys,
// and its own c/, i/, s/ and a/ entries.
const recordTxnEntries = 7

// recordTxnSize is the most that applying rec, whose c/ key is ck, adds to
// a transaction's size as Badger counts it. A value beyond Badger's value
// threshold is charged less (a pointer), so this is an upper bound.
func recordTxnSize(ck []byte, rec *record.Record) int64 {
	idLen := len(idPrefix) + len(record.ID{})
	// The predecessor's keys and the record's have the same lengths: same
	// community, same author.
	syncLen := syncKeyLen(rec.Community) + txnEntryOverhead
	authorLen := authorKeyLen(rec.Community) + txnEntryOverhead
	unindex := idLen + txnEntryOverhead + syncLen + authorLen
	current := len(ck) + valueHeaderLen + len(rec.Raw) + txnEntryOverhead
	index := idLen + len(ck) + txnEntryOverhead + syncLen + authorLen
	return int64(unindex + current + index)
}

// planChunk returns the end of the chunk that starts at start: as many
// records as surely fit one transaction (assuming each makes all its
// writes; records that turn out to be no-ops leave the chunk underfull),
// and at least one.
func (b *Badger) planChunk(keys [][]byte, recs []*record.Record, start int) int {
	// Badger refuses the entry that brings the count or size to its limit.
	var count, size int64
	end := start
	for end < len(recs) {
		c := count + recordTxnEntries
		s := size + recordTxnSize(keys[end], recs[end])
		if end > start && (c >= b.txnMaxCount || s >= b.txnMaxSize) {
			break
		}
		count, size = c, s
		end++
	}
	return end
}

// errTxnFull aborts a chunk's transaction that reached Badger's size limit.
var errTxnFull = errors.New("transaction full")

// applyChunk applies a prefix of recs (keys are their c/ keys) in one
// transaction, retrying on conflict as Apply does, and returns its length:
// all of recs unless they did not fit after all. It sets applied for that
// prefix only once the transaction has committed.
func (b *Badger) applyChunk(keys [][]byte, recs []*record.Record, applied []bool) (int, error) {
	n := len(recs)
	for attempt := 1; ; {
		fit, err := b.chunkTxn(keys[:n], recs[:n], applied[:n])
		switch {
		case err == nil:
			return n, nil
		case errors.Is(err, errTxnFull):
			// Not a conflict: the shorter chunk may start afresh.
			n = fit
		case errors.Is(err, badger.ErrConflict) && attempt < maxApplyAttempts:
			attempt++
		default:
			return 0, err
		}
	}
}

// chunkTxn is one attempt at a chunk. If the transaction reaches Badger's
// size limit at recs[fit], fit > 0, it is discarded and chunkTxn returns fit
// and errTxnFull. applied is set only if the transaction commits.
func (b *Badger) chunkTxn(keys [][]byte, recs []*record.Record, applied []bool) (fit int, err error) {
	res := make([]bool, len(recs))
	err = b.db.Update(func(txn *badger.Txn) error {
		for i, rec := range recs {
			r, err := applyInTxn(txn, keys[i], rec, false)
			if errors.Is(err, badger.ErrTxnTooBig) && i > 0 {
				fit = i
				return errTxnFull
			}
			if err != nil {
				return fmt.Errorf("applying record %s: %w", rec.ID, err)
			}
			res[i] = r.Applied
		}
		return nil
	})
	if err != nil {
		return fit, err
	}
	copy(applied, res)
	return 0, nil
}
