package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// CollectGarbage runs value-log garbage collection until no file is worth
// rewriting (half of it garbage), and returns how many files it rewrote.
// The store's GC timer does the same every BadgerOptions.GCInterval.
//
// Records are small and live in the LSM tree, not the value log, so the
// space of replaced versions is mostly reclaimed by Badger's compactions,
// which keep one version per key; value-log GC reclaims what the log
// holds beyond that. BenchmarkStorageGrowth measures the result.
func (b *Badger) CollectGarbage(ctx context.Context) (int, error) {
	if err := b.enter(); err != nil {
		return 0, fmt.Errorf("collecting garbage: %w", err)
	}
	defer b.leave()
	n, err := b.collectGarbage(ctx.Done())
	if err == nil {
		err = ctx.Err()
	}
	return n, err
}

// collectGarbage rewrites value-log files until none is worth it or stop
// is closed.
func (b *Badger) collectGarbage(stop <-chan struct{}) (int, error) {
	rewritten := 0
	for {
		select {
		case <-stop:
			return rewritten, nil
		default:
		}
		err := b.db.RunValueLogGC(gcDiscardRatio)
		switch {
		case err == nil:
			rewritten++
		case errors.Is(err, badger.ErrNoRewrite), errors.Is(err, badger.ErrRejected):
			return rewritten, nil
		default:
			return rewritten, fmt.Errorf("collecting garbage: %w", err)
		}
	}
}
