package reconcile_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/mentormesh/mentormesh/internal/syncstore"
	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/ingest"
	"github.com/mentormesh/mentormesh/sync/reconcile"
	"github.com/mentormesh/mentormesh/sync/record"
)

// Shared parts of the catch-up benchmarks (bench_test.go): a pool of
// 100,000 signed profile records, Badger stores holding them, and peers
// made of the real pieces a node runs (a libp2p host on 127.0.0.1, a Badger
// store, the ingest pipeline and the reconcile service).

const (
	benchCommunity = "bench-community"
	// benchN is the size of the sets: one profile each from benchN authors.
	benchN = 100_000
	// benchChanged is the 1% that differs between two sets.
	benchChanged = benchN / 100
	// benchStride spreads the changed records evenly over the set:
	// record i is changed if i%benchStride == 0.
	benchStride = benchN / benchChanged
)

// benchBase is the timestamp of the first record; record i is stamped
// i*37 s later (so the set spans about six weeks), and the newer versions
// come after all of them.
var benchBase = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// benchRecordSet is the benchmarks' data, made once per test binary.
type benchRecordSet struct {
	// v1[i] is author i's profile, version 1.
	v1 []*record.Record
	// v2[j] is version 2 of v1[j*benchStride]: a later timestamp, so the
	// updates sit at the recent end of the set's order, while the versions
	// they replace are spread over the whole set.
	v2 []*record.Record
	// raws are the signed bytes of v1, as a peer would send them.
	raws [][]byte
	// fullBytes is the sum of the sizes of v1: what transferring the whole
	// set costs at the least.
	fullBytes int64
}

var benchRecordsOnce = sync.OnceValues(makeBenchRecords)

// benchRecords returns the shared records, making them on first use (a few
// seconds: 101,000 signatures). Call it before the timed part.
func benchRecords(b *testing.B) *benchRecordSet {
	b.Helper()
	rs, err := benchRecordsOnce()
	if err != nil {
		b.Fatal(err)
	}
	return rs
}

func makeBenchRecords() (*benchRecordSet, error) {
	rs := &benchRecordSet{v1: make([]*record.Record, benchN), v2: make([]*record.Record, benchChanged)}
	workers := runtime.GOMAXPROCS(0)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < benchN && errs[w] == nil; i += workers {
				key := benchKey(i)
				rs.v1[i], errs[w] = benchProfile(key, i, 1, benchBase.Add(time.Duration(i)*37*time.Second))
				if errs[w] == nil && i%benchStride == 0 {
					ts := benchBase.Add(50*24*time.Hour + time.Duration(i)*time.Second)
					rs.v2[i/benchStride], errs[w] = benchProfile(key, i, 2, ts)
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	rs.raws = make([][]byte, benchN)
	for i, r := range rs.v1 {
		rs.raws[i] = r.Raw
		rs.fullBytes += int64(len(r.Raw))
	}
	return rs, nil
}

func benchKey(i int) ed25519.PrivateKey {
	var seed [ed25519.SeedSize]byte
	copy(seed[:], "mentormesh bench author")
	binary.BigEndian.PutUint64(seed[24:], uint64(i))
	return ed25519.NewKeyFromSeed(seed[:])
}

// benchBio is a ~420-character bio, different for every author and version.
var benchBio = strings.Repeat("Backend engineer with ten years of Go; happy to pair on tests, reviews, "+
	"profiling and the design of small distributed systems. ", 4)

// benchProfile signs author i's profile: name, a ~420-character bio and a
// few skills, about 700 bytes signed.
func benchProfile(key ed25519.PrivateKey, i int, version uint64, ts time.Time) (*record.Record, error) {
	bio := fmt.Sprintf("Mentor %d, profile version %d. %s", i, version, benchBio)[:420]
	payload, err := mentorship.Profile{
		Name: fmt.Sprintf("Mentor %d", i),
		Bio:  bio,
		Skills: []string{"go", "distributed systems", "code review", "testing", "databases", "mentoring",
			"performance", "postgres", "kubernetes", "observability"},
	}.Encode()
	if err != nil {
		return nil, err
	}
	var a record.Author
	copy(a[:], key.Public().(ed25519.PublicKey))
	return record.Sign(key, record.Body{Community: benchCommunity, Author: a, Kind: mentorship.KindProfile,
		Version: version, Timestamp: ts, Payload: payload})
}

// benchIngestStore adapts store.Store to ingest.BatchStore, as node/node.go's
// storeAdapter does.
type benchIngestStore struct{ s store.Store }

func (a benchIngestStore) CurrentMeta(ctx context.Context, addr record.Addr) (record.Meta, bool, error) {
	return a.s.CurrentMeta(ctx, addr)
}

func (a benchIngestStore) ApplyRemote(ctx context.Context, rec *record.Record) (bool, error) {
	res, err := a.s.Apply(ctx, rec, store.ApplyOptions{})
	return res.Applied, err
}

func (a benchIngestStore) ApplyRemoteBatch(ctx context.Context, recs []*record.Record) ([]bool, error) {
	return a.s.ApplyBatch(ctx, recs)
}

var _ ingest.BatchStore = benchIngestStore{}

// benchPipeline is the node's ingest pipeline over st.
func benchPipeline(st store.Store) *ingest.Pipeline {
	return ingest.New(benchIngestStore{st}, mentorship.Kinds{}, ingest.Options{
		IsUnknownKind: func(err error) bool { return errors.Is(err, mentorship.ErrUnknownKind) },
	})
}

// benchOpen opens the Badger store in dir, closed when the benchmark ends
// (closing it earlier is fine).
func benchOpen(b *testing.B, dir string) *store.Badger {
	b.Helper()
	st, err := store.OpenBadger(dir, store.BadgerOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// benchFill stores recs in st without verifying them again.
func benchFill(b *testing.B, st store.Store, recs []*record.Record) {
	b.Helper()
	const chunk = 10_000
	ctx := context.Background()
	for start := 0; start < len(recs); start += chunk {
		batch := recs[start:min(start+chunk, len(recs))]
		applied, err := st.ApplyBatch(ctx, batch)
		if err != nil {
			b.Fatal(err)
		}
		for i, ok := range applied {
			if !ok {
				b.Fatalf("record %s not applied", batch[i].ID)
			}
		}
	}
}

// benchTemplate stores recs in a new Badger directory, closes it and
// returns the directory, for benchClone. Closing flushes the memtables, so
// a clone opens as a peer that has been running a while would be, with no
// flush or compaction of the load still under way.
func benchTemplate(b *testing.B, recs ...[]*record.Record) string {
	b.Helper()
	dir := b.TempDir()
	st := benchOpen(b, dir)
	for _, rs := range recs {
		benchFill(b, st, rs)
	}
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	return dir
}

// benchClone opens a copy of the closed store in dir.
func benchClone(b *testing.B, dir string) *store.Badger {
	b.Helper()
	dst := b.TempDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || e.Name() == "LOCK" {
			continue
		}
		if err := benchCopyFile(filepath.Join(dst, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			b.Fatal(err)
		}
	}
	return benchOpen(b, dst)
}

func benchCopyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// benchDigest returns the size and a digest of st's reconciliation set of
// the benchmark community.
func benchDigest(b *testing.B, st store.Store) (int, [32]byte) {
	b.Helper()
	snap, err := st.SyncSnapshot(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer snap.Close()
	h := sha256.New()
	n := 0
	err = snap.Items(store.SyncScope{Community: benchCommunity}, store.SyncItem{}, func(it store.SyncItem) bool {
		var ts [8]byte
		binary.BigEndian.PutUint64(ts[:], it.Timestamp)
		h.Write(ts[:])
		h.Write(it.ID[:])
		n++
		return true
	})
	if err != nil {
		b.Fatal(err)
	}
	var d [32]byte
	h.Sum(d[:0])
	return n, d
}

// benchPeer is a node's catch-up stack: a libp2p host, and a store with its
// ingest pipeline and reconcile service (replaced by use).
type benchPeer struct {
	h       host.Host
	st      *store.Badger
	svc     *reconcile.Service
	inbound chan benchSession // sessions served, from ServiceOptions.Done
}

type benchSession struct {
	st  reconcile.Stats
	err error
}

// newBenchPeer starts a libp2p host listening on 127.0.0.1.
func newBenchPeer(b *testing.B) *benchPeer {
	b.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close() })
	return &benchPeer{h: h, inbound: make(chan benchSession, 8)}
}

// newBenchPeers starts two connected peers.
func newBenchPeers(b *testing.B) (*benchPeer, *benchPeer) {
	b.Helper()
	x, y := newBenchPeer(b), newBenchPeer(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := x.h.Connect(ctx, peer.AddrInfo{ID: y.h.ID(), Addrs: y.h.Addrs()}); err != nil {
		b.Fatal(err)
	}
	return x, y
}

// use makes st the peer's store: a new ingest pipeline (with an empty
// cache of seen records) and a new reconcile service over it.
func (p *benchPeer) use(st *store.Badger) {
	if p.svc != nil {
		p.svc.Close()
	}
	p.st = st
	syncer := reconcile.New(syncstore.New(st), benchPipeline(st), reconcile.Options{})
	p.svc = reconcile.NewService(p.h, syncer, reconcile.ServiceOptions{
		Done: func(_ peer.ID, initiated bool, st reconcile.Stats, err error) {
			if !initiated {
				p.inbound <- benchSession{st, err}
			}
		},
	})
}

// benchResult is one session as both sides saw it.
type benchResult struct {
	initiator, responder reconcile.Stats
	// elapsed is the initiator's wall time, from opening the stream to
	// the end of the session.
	elapsed time.Duration
}

// bytes is what the session carried, as the initiator counted it: every
// frame both ways, length prefixes included.
func (r benchResult) bytes() int64 { return r.initiator.BytesSent + r.initiator.BytesReceived }

// records is the number of records carried either way.
func (r benchResult) records() int { return r.initiator.RecordsSent + r.initiator.RecordsReceived }

// sync runs one session of the benchmark community from p with q. It
// fails the benchmark if either side failed.
func (p *benchPeer) sync(b *testing.B, q *benchPeer) benchResult {
	b.Helper()
	start := time.Now()
	ist, err := p.svc.Sync(context.Background(), q.h.ID(), reconcile.Scope{Community: benchCommunity})
	elapsed := time.Since(start)
	if err != nil {
		b.Fatalf("Sync: %v (stats %+v)", err, ist)
	}
	select {
	case in := <-q.inbound:
		if in.err != nil {
			b.Fatalf("responder: %v (stats %+v)", in.err, in.st)
		}
		return benchResult{initiator: ist, responder: in.st, elapsed: elapsed}
	case <-time.After(time.Minute):
		b.Fatal("the responder did not report the end of the session")
		return benchResult{}
	}
}

// benchIngest runs raws through pipe in batches of 256, as catch-up does,
// and fails the benchmark unless every record is accepted.
func benchIngest(b *testing.B, pipe *ingest.Pipeline, raws [][]byte) {
	b.Helper()
	const batch = 256
	ctx := context.Background()
	for start := 0; start < len(raws); start += batch {
		for _, out := range pipe.IngestBatch(ctx, raws[start:min(start+batch, len(raws))], ingest.Source{Community: benchCommunity}) {
			if out.Verdict != ingest.Accept {
				b.Fatalf("IngestBatch: %v %v, want accept", out.Verdict, out.Err)
			}
		}
	}
}
