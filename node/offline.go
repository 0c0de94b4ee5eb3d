package node

import (
	"context"
	"fmt"

	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/record"
)

// Offline is a data directory opened without a node: CLI commands use it
// when no node is running. Writes land in the store and the outbox; the node
// publishes them when it next starts.
type Offline struct {
	*Local
	lock  *dirLock
	store *store.Badger
}

// OpenOffline opens the data directory for one CLI command. It fails with a
// *LockedError if a node (or another command) holds it.
//
// The joined communities are those the data directory remembers
// (communities.json); communities only initialises a data directory that has
// none yet (default [DefaultCommunity]). Unlike a starting node, a command
// does not join what its --community names: it acts in it, and Local refuses
// a community that is not joined.
func OpenOffline(dataDir, command string, communities []string) (*Offline, error) {
	for _, c := range communities {
		if err := record.CheckCommunity(c); err != nil {
			return nil, fmt.Errorf("--community: %w", err)
		}
	}
	p, err := NewPaths(dataDir)
	if err != nil {
		return nil, err
	}
	if _, err := Init(p); err != nil {
		return nil, err
	}
	lock, err := lockDir(p, command)
	if err != nil {
		return nil, err
	}
	key, err := LoadKey(p)
	if err != nil {
		lock.unlock()
		return nil, err
	}
	edKey, author, linked, err := loadIdentity(p, key)
	if err != nil {
		lock.unlock()
		return nil, err
	}
	members, err := loadMembership(p, communities, false)
	if err != nil {
		lock.unlock()
		return nil, err
	}
	st, err := store.OpenBadger(p.StoreDir(), store.BadgerOptions{})
	if err != nil {
		lock.unlock()
		return nil, fmt.Errorf("opening store: %w", err)
	}
	mod, err := loadModeration(context.Background(), p, st, author, nil)
	if err != nil {
		st.Close()
		lock.unlock()
		return nil, err
	}
	off := &Offline{
		Local: &Local{paths: p, key: edKey, author: author, store: st, communities: members, mod: mod},
		lock:  lock,
		store: st,
	}
	off.observeStore()
	if err := off.watchDevices(context.Background(), linked); err != nil {
		st.Close()
		lock.unlock()
		return nil, err
	}
	return off, nil
}

// Close closes the store and releases the data directory.
func (o *Offline) Close() error {
	err := o.store.Close()
	if uerr := o.lock.unlock(); err == nil {
		err = uerr
	}
	return err
}
