package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// CollectGarbage runs value-log garbage collection until no file is worth
// rewriting, and returns how many files it rewrote. The GC timer calls it;
// it may also be called directly (tests, benchmarks).
func (b *Badger) CollectGarbage(ctx context.Context) (int, error) {
	if err := b.enter(); err != nil {
		return 0, fmt.Errorf("collecting garbage: %w", err)
	}
	defer b.leave()
	rewritten := 0
	for {
		if err := ctx.Err(); err != nil {
			return rewritten, err
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
