package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node"
	"github.com/mentormesh/mentormesh/sync/record"
)

// community is the one community every benchmark node joins.
const community = node.DefaultCommunity

// bio makes every profile record about 700 bytes signed, as in
// docs/PERFORMANCE.md's ingest and catch-up benchmarks.
var bio = strings.Repeat("Facilitator of sociocratic circles, consent decisions and elections. ", 8)[:540]

// author is a synthetic identity that signs profile records.
type author struct {
	key ed25519.PrivateKey
	id  record.Author
}

func newAuthor(seed string) author {
	s := sha256.Sum256([]byte(seed))
	k := ed25519.NewKeyFromSeed(s[:])
	var a author
	a.key = k
	copy(a.id[:], k.Public().(ed25519.PublicKey))
	return a
}

// profile signs version of a's profile, named name.
func (a author) profile(version uint64, name string) (*record.Record, error) {
	payload, err := mentorship.Profile{Name: name, Bio: bio}.Encode()
	if err != nil {
		return nil, err
	}
	return record.Sign(a.key, record.Body{
		Community: community, Author: a.id, Kind: mentorship.KindProfile,
		Version: version, Timestamp: record.Now(), Payload: payload,
	})
}

// crdtKey is the go-ds-crdt key a record is stored under: one key per
// address, as mentormesh keeps one current record per address.
func crdtKey(r *record.Record) string {
	return "/profile/" + hex.EncodeToString(r.Author[:])
}

// dataset is the records of the catch-up and footprint workloads: n profiles
// of n distinct authors, signed once and shared by both systems (go-ds-crdt
// stores the same signed bytes as its values).
type dataset struct {
	mu   sync.Mutex
	recs []*record.Record
	run  string
}

func newDataset() *dataset { return &dataset{run: fmt.Sprint(time.Now().UnixNano())} }

// first returns the first n records, signing more if needed.
func (d *dataset) first(n int) ([]*record.Record, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if n <= len(d.recs) {
		return d.recs[:n], nil
	}
	from := len(d.recs)
	more := make([]*record.Record, n-from)
	errs := make([]error, len(more))
	parallel(len(more), func(i int) {
		a := newAuthor(fmt.Sprintf("bench author %s %d", d.run, from+i))
		more[i], errs[i] = a.profile(1, fmt.Sprintf("Practitioner %d", from+i))
	})
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("signing records: %w", err)
		}
	}
	d.recs = append(d.recs, more...)
	return d.recs[:n], nil
}

// parallel runs fn(0..n-1) on every core.
func parallel(n int, fn func(i int)) {
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// sigCost measures single-core Ed25519 verification of a record, the work
// mentormesh does per record and go-ds-crdt does not do at all. It counts
// the CPU time of the thread that verifies (not wall time), so that other
// work on the machine, which makes the thread wait, inflates it little.
func sigCost() (time.Duration, error) {
	r, err := newAuthor("sig cost").profile(1, "Sig Cost")
	if err != nil {
		return 0, err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	n := 0
	start, cpu0 := time.Now(), threadCPU()
	for n < 200 || time.Since(start) < 500*time.Millisecond {
		for range 50 {
			if err := r.Verify(); err != nil {
				return 0, err
			}
		}
		n += 50
	}
	return (threadCPU() - cpu0) / time.Duration(n), nil
}
