package store_test

import (
	"log/slog"
	"testing"

	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/store/storetest"
)

// quietLogger drops Badger's chatter (it logs at Info on every open).
var quietLogger = slog.New(slog.DiscardHandler)

func openBadger(t testing.TB, dir string) *store.Badger {
	t.Helper()
	s, err := store.OpenBadger(dir, store.BadgerOptions{Logger: quietLogger})
	if err != nil {
		t.Fatalf("OpenBadger(%s): %v", dir, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestBadger(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openBadger(t, t.TempDir()) })
}
