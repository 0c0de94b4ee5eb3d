package store_test

import (
	"testing"

	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/store/storetest"
)

func TestMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s := store.NewMemory()
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
