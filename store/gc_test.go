package store

import (
	"context"
	"errors"
	"testing"
)

// TestCollectGarbage: garbage collection on demand runs on a store in use,
// stops with its context, and refuses a closed store.
func TestCollectGarbage(t *testing.T) {
	ctx := context.Background()
	b := populated(t, t.TempDir())
	if _, err := b.CollectGarbage(ctx); err != nil {
		t.Errorf("CollectGarbage = %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := b.CollectGarbage(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("CollectGarbage with a cancelled context = %v, want context.Canceled", err)
	}
	if _, err := b.Check(ctx, CheckOptions{}); err != nil {
		t.Errorf("Check after garbage collection: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.CollectGarbage(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("CollectGarbage on a closed store = %v, want ErrClosed", err)
	}
}
