package store

import "errors"

var (
	// ErrCorrupt is returned when stored bytes do not decode. The data
	// directory was damaged outside mentormesh (disk fault, manual edit);
	// restore it from a backup or remove it and let the node resync from
	// its peers.
	ErrCorrupt = errors.New("store is corrupt")
	// ErrClosed is returned by a store used after Close.
	ErrClosed = errors.New("store is closed")
)

// ErrNewerSchema is returned by OpenBadger for a data directory written by a
// newer mentormesh, whose layout this one does not understand.
var ErrNewerSchema = errors.New("store was written by a newer mentormesh")
