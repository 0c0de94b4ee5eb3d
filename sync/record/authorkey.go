package record

import (
	"errors"
	"sync"

	"filippo.io/edwards25519"
)

// ErrWeakKey is returned for an author key that is not a usable Ed25519
// public key: not a curve point, or a point of small order. Signatures
// under a small-order key can be forged without any private key, so records
// "by" such a key would be writable by anyone.
var ErrWeakKey = errors.New("author key is not a valid Ed25519 public key")

// goodKeys caches authors whose keys passed checkAuthorKey: a community has
// few authors, and decompressing a point costs as much as a tenth of a
// signature check.
var goodKeys = struct {
	sync.Mutex
	m map[Author]struct{}
}{m: make(map[Author]struct{})}

const goodKeysMax = 4096

func checkAuthorKey(a Author) error {
	goodKeys.Lock()
	_, ok := goodKeys.m[a]
	goodKeys.Unlock()
	if ok {
		return nil
	}
	p, err := new(edwards25519.Point).SetBytes(a[:])
	if err != nil {
		return ErrWeakKey
	}
	if new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) == 1 {
		return ErrWeakKey
	}
	goodKeys.Lock()
	if len(goodKeys.m) >= goodKeysMax {
		clear(goodKeys.m)
	}
	goodKeys.m[a] = struct{}{}
	goodKeys.Unlock()
	return nil
}
