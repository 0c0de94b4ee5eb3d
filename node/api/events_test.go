package api_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/node/api"
)

// TestEventStreamsCapped: at most MaxEventStreams streams are open at once;
// one more is refused with 503 and a reason, and a slot is free again once
// a stream ends.
func TestEventStreamsCapped(t *testing.T) {
	cl, _ := serve(t, streamingBackend{}, api.ServerOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cancels := make([]context.CancelFunc, 0, api.MaxEventStreams)
	for i := range api.MaxEventStreams {
		sctx, scancel := context.WithCancel(ctx)
		cancels = append(cancels, scancel)
		if _, err := cl.Subscribe(sctx); err != nil {
			t.Fatalf("stream %d of %d: %v", i+1, api.MaxEventStreams, err)
		}
	}
	defer func() {
		for _, c := range cancels {
			c()
		}
	}()
	_, err := cl.Subscribe(ctx)
	var apiErr *api.Error
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusServiceUnavailable || apiErr.Message == "" {
		t.Fatalf("stream %d: err = %v, want a 503 with a reason", api.MaxEventStreams+1, err)
	}

	cancels[0]()
	deadline := time.Now().Add(10 * time.Second)
	for {
		sctx, scancel := context.WithCancel(ctx)
		_, err := cl.Subscribe(sctx)
		if err == nil {
			scancel()
			break
		}
		scancel()
		if time.Now().After(deadline) {
			t.Fatalf("no slot came free after a stream ended: %v", err)
		}
		time.Sleep(20 * time.Millisecond) // polling for the server to notice; the deadline bounds it
	}
}
