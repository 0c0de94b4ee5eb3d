package store

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/sync/record"
)

// BenchmarkStorageGrowth measures the disk a store takes after many updates
// to the same keys: 10 000 keys written once, then updated until 1 000 000
// records have been applied in all (100 versions per key), with value-log
// garbage collection run as the node's timer runs it. Disk use is the
// blocks the data directory occupies (du), with the store closed, after
// the first 10 000 writes and at the end; bounded growth means the two
// are close. It takes about a minute and is not part of the tests:
//
//	go test -run XXX -bench StorageGrowth -benchtime 1x ./store/
//
// MENTORMESH_GROWTH_UPDATES overrides the total number of records (for a
// quick look: 100000).
func BenchmarkStorageGrowth(b *testing.B) {
	const keys = 10_000
	total := 1_000_000
	if v := os.Getenv("MENTORMESH_GROWTH_UPDATES"); v != "" {
		if _, err := fmt.Sscan(v, &total); err != nil {
			b.Fatal(err)
		}
	}
	for range b.N {
		dir := b.TempDir()
		s := openGrowth(b, dir)
		authors := growthAuthors(keys)
		applied := 0
		write := func(version uint64) {
			for start := 0; start < keys; start += 1000 {
				recs := signGrowth(b, authors[start:start+1000], version)
				if _, err := s.ApplyBatch(context.Background(), recs); err != nil {
					b.Fatal(err)
				}
				applied += len(recs)
			}
		}
		write(1)
		s = reopenGrowth(b, s, dir)
		first := diskUsage(b, dir)
		b.Logf("after %d records: %.1f MiB", applied, mib(first))
		var peak int64
		for v := uint64(2); applied < total; v++ {
			write(v)
			if v%10 != 0 {
				continue
			}
			// What the node's GC timer does every 10 minutes.
			if _, err := s.CollectGarbage(context.Background()); err != nil {
				b.Fatal(err)
			}
			du := diskUsage(b, dir)
			peak = max(peak, du)
			if v%20 == 0 {
				b.Logf("after %d records (version %d of each key): %.1f MiB open", applied, v, mib(du))
			}
		}
		if _, err := s.CollectGarbage(context.Background()); err != nil {
			b.Fatal(err)
		}
		s = reopenGrowth(b, s, dir)
		last := diskUsage(b, dir)
		rep, err := s.Check(context.Background(), CheckOptions{})
		if err != nil || rep.Records != keys {
			b.Fatalf("Check after the updates = %+v, %v; want %d records", rep, err, keys)
		}
		s.Close()
		b.Logf("after %d records: %.1f MiB closed (peak while open %.1f MiB); ratio %.2f", applied, mib(last), mib(peak), float64(last)/float64(first))
		b.ReportMetric(mib(first), "MiB-first-10k")
		b.ReportMetric(mib(last), "MiB-after-all")
		b.ReportMetric(mib(peak), "MiB-peak-open")
		b.ReportMetric(float64(last)/float64(first), "growth-ratio")
	}
}

func openGrowth(b *testing.B, dir string) *Badger {
	b.Helper()
	s, err := OpenBadger(dir, BadgerOptions{Logger: quiet, GCInterval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func reopenGrowth(b *testing.B, s *Badger, dir string) *Badger {
	b.Helper()
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	return openGrowth(b, dir)
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// diskUsage is what du reports for dir: allocated blocks, not apparent
// sizes (Badger's files are preallocated and sparse).
func diskUsage(b *testing.B, dir string) int64 {
	b.Helper()
	var total int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			total += st.Blocks * 512
		} else {
			total += fi.Size()
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return total
}

type growthAuthor struct {
	key    ed25519.PrivateKey
	author record.Author
}

func growthAuthors(n int) []growthAuthor {
	out := make([]growthAuthor, n)
	for i := range out {
		seed := make([]byte, ed25519.SeedSize)
		copy(seed, fmt.Sprintf("growth %d", i))
		out[i].key = ed25519.NewKeyFromSeed(seed)
		copy(out[i].author[:], out[i].key.Public().(ed25519.PublicKey))
	}
	return out
}

// signGrowth signs version of each author's profile-sized record (about
// 600 bytes signed, a payload of random words that compresses about as
// well as text), on every core.
func signGrowth(b *testing.B, authors []growthAuthor, version uint64) []*record.Record {
	recs := make([]*record.Record, len(authors))
	errs := make([]error, len(authors))
	ts := record.Now()
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(authors); i += workers {
				a := authors[i]
				payload := make([]byte, 480)
				for j := range payload {
					payload[j] = "etaoinshrdlu      cmfwypvbgkqjxz"[rand.IntN(32)]
				}
				recs[i], errs[i] = record.Sign(a.key, record.Body{Community: "sociocracy", Author: a.author,
					Kind: "profile", Version: version, Timestamp: ts, Payload: payload})
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	return recs
}
