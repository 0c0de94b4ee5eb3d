package reconcile_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/sync/record"
)

// The catch-up benchmarks run real sessions: two libp2p hosts on 127.0.0.1,
// each with a Badger store on disk, the node's ingest pipeline and the
// reconcile service; the joining or initiating side calls Service.Sync. The
// sets hold 100,000 profile records of about 700 bytes from 100,000
// authors (benchutil_test.go). Setting up a store of 100,000 records takes
// a few seconds and is not timed; run them with -benchtime 1x or 3x:
//
//	go test -run XXX -bench CatchUp -benchtime 1x -timeout 30m ./sync/reconcile/
//
// The targets they check against (see each benchmark):
//   - a fresh node converges with a peer of 100,000 records within 2x the
//     time the node takes to verify and store them (BenchmarkCatchUpVsIngest100k);
//   - with 1% of the records different, a session carries at most 5% of
//     the bytes of the full set (BenchmarkCatchUpOnePercent100k);
//   - identical sets are confirmed in at most 2 KB and 3 round trips
//     (BenchmarkCatchUpIdentical100k).
//
// Bytes are those of the session's frames, length prefixes included, as
// reconcile.Stats counts them (the initiator's count of both directions).
// libp2p's stream negotiation, yamux headers and Noise tags come on top: a
// few hundred bytes per session, and a small fraction of a percent of a
// bulk transfer (one 12-byte yamux header and one 18-byte Noise overhead
// per 64 KiB or less).
//
// Both peers run in this one process, so the serving side's work (reading
// and sending the records) competes for the same cores as the joining
// side's verification; between two machines catch-up runs closer to the
// ingest limit.

const mb = 1e6

// freshJoin gives joiner a new empty store and catches it up with server,
// timing only the session. It fails the benchmark unless the joiner ends up
// with all of server's benchN records.
func freshJoin(b *testing.B, joiner, server *benchPeer) benchResult {
	b.Helper()
	b.StopTimer()
	st := benchOpen(b, b.TempDir())
	joiner.use(st)
	runtime.GC()
	b.StartTimer()
	res := joiner.sync(b, server)
	b.StopTimer()
	if n, _ := benchDigest(b, st); n != benchN || res.initiator.Accepted != benchN {
		b.Fatalf("joiner holds %d records after accepting %d, want %d", n, res.initiator.Accepted, benchN)
	}
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	b.StartTimer()
	return res
}

// BenchmarkCatchUpFresh100k: a node with an empty store joins a peer that
// holds 100,000 records. Metrics: seconds to converge, megabytes carried,
// records stored per second.
func BenchmarkCatchUpFresh100k(b *testing.B) {
	rs := benchRecords(b)
	joiner, server := newBenchPeers(b)
	server.use(benchOpen(b, benchTemplate(b, rs.v1)))
	var secs, bytes float64
	b.ResetTimer()
	for range b.N {
		res := freshJoin(b, joiner, server)
		secs += res.elapsed.Seconds()
		bytes += float64(res.bytes())
	}
	n := float64(b.N)
	b.ReportMetric(secs/n, "s/converge")
	b.ReportMetric(bytes/n/mb, "MB/transfer")
	b.ReportMetric(benchN*n/secs, "records/s")
	b.ReportMetric(float64(rs.fullBytes)/mb, "MB/fullset")
}

// BenchmarkVerifyStore100k is the physical limit of the ingest path: the
// same 100,000 records, already in memory, run through the pipeline
// (IngestBatch, batches of 256: signatures checked on every core, one
// Badger write per batch) into an empty store.
func BenchmarkVerifyStore100k(b *testing.B) {
	rs := benchRecords(b)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		st := benchOpen(b, b.TempDir())
		pipe := benchPipeline(st)
		runtime.GC()
		b.StartTimer()
		benchIngest(b, pipe, rs.raws)
		b.StopTimer()
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/ingest")
	b.ReportMetric(benchN*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkCatchUpVsIngest100k does both in each iteration, on the same
// machine and with the same records: the ingest baseline into one fresh
// store (BenchmarkVerifyStore100k), then a fresh catch-up from a peer into
// another (BenchmarkCatchUpFresh100k). ratio = catch-up / ingest; the
// target is at most 2.
func BenchmarkCatchUpVsIngest100k(b *testing.B) {
	rs := benchRecords(b)
	joiner, server := newBenchPeers(b)
	server.use(benchOpen(b, benchTemplate(b, rs.v1)))
	var ingestSecs, catchUpSecs, bytes float64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		st := benchOpen(b, b.TempDir())
		pipe := benchPipeline(st)
		runtime.GC()
		b.StartTimer()
		start := time.Now()
		benchIngest(b, pipe, rs.raws)
		ingestSecs += time.Since(start).Seconds()
		b.StopTimer()
		// Closed before the catch-up, so its flush and compactions do not
		// run during it.
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()

		res := freshJoin(b, joiner, server)
		catchUpSecs += res.elapsed.Seconds()
		bytes += float64(res.bytes())
	}
	n := float64(b.N)
	b.ReportMetric(ingestSecs/n, "s/ingest")
	b.ReportMetric(catchUpSecs/n, "s/catchup")
	b.ReportMetric(catchUpSecs/ingestSecs, "ratio")
	b.ReportMetric(bytes/n/mb, "MB/transfer")
	b.ReportMetric(float64(rs.fullBytes)/mb, "MB/fullset")
}

// BenchmarkCatchUpOnePercent100k: two nodes hold 100,000 records each, 1%
// of them different; the target is a session of at most 5% of the bytes of
// the full set. Two kinds of difference:
//
//   - disjoint: 99,000 records in common, plus 500 that only the
//     initiator has and 500 that only the responder has (spread evenly
//     over the set); both end with 100,000.
//   - updated: the same 100,000 addresses, of which the responder has a
//     newer version of 1,000 (the initiator was offline while their
//     authors edited their profiles); the initiator ends with the newer
//     versions. A set of record IDs cannot tell an old version from a
//     missing record, so the responder also asks for the 1,000 stale
//     versions; but the initiator has stored the newer ones by the time it
//     answers, and Store.Records skips IDs that are no longer current, so
//     almost none of them travel (the "records" metric counts those that do).
//
// Each iteration starts from copies of the two stores and fails unless both
// hold the same set afterwards. Metrics: bytes, %full (bytes as a
// percentage of the full set's), round trips, records carried either way.
func BenchmarkCatchUpOnePercent100k(b *testing.B) {
	rs := benchRecords(b)
	var common, onlyA, onlyB []*record.Record
	for i, r := range rs.v1 {
		switch {
		case i%benchStride != 0:
			common = append(common, r)
		case (i/benchStride)%2 == 0:
			onlyA = append(onlyA, r)
		default:
			onlyB = append(onlyB, r)
		}
	}
	a, s := newBenchPeers(b)
	run := func(dirA, dirB string) func(b *testing.B) {
		return func(b *testing.B) {
			var bytes, secs, trips, recs float64
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				stA, stB := benchClone(b, dirA), benchClone(b, dirB)
				a.use(stA)
				s.use(stB)
				runtime.GC()
				b.StartTimer()
				res := a.sync(b, s)
				b.StopTimer()
				nA, dA := benchDigest(b, stA)
				nB, dB := benchDigest(b, stB)
				if nA != benchN || nB != benchN || dA != dB {
					b.Fatalf("after the session: initiator holds %d records, responder %d, same set: %v; want %d each, the same",
						nA, nB, dA == dB, benchN)
				}
				stA.Close()
				stB.Close()
				bytes += float64(res.bytes())
				secs += res.elapsed.Seconds()
				trips += float64(res.initiator.RoundTrips())
				recs += float64(res.records())
				b.StartTimer()
			}
			n := float64(b.N)
			b.ReportMetric(bytes/n, "B/transfer")
			b.ReportMetric(bytes/n/float64(rs.fullBytes)*100, "%full")
			b.ReportMetric(trips/n, "roundtrips")
			b.ReportMetric(recs/n, "records")
			b.ReportMetric(secs/n, "s/session")
		}
	}
	dirA := benchTemplate(b, common, onlyA)
	dirB := benchTemplate(b, common, onlyB)
	b.Run("disjoint", run(dirA, dirB))
	dirA = benchTemplate(b, rs.v1)
	dirB = benchTemplate(b, rs.v1, rs.v2)
	b.Run("updated", run(dirA, dirB))
}

// BenchmarkCatchUpIdentical100k: two nodes with the same 100,000 records.
// Target: the session confirms there is nothing to do in at most 2 KB and
// 3 round trips; it fails if any record is carried.
func BenchmarkCatchUpIdentical100k(b *testing.B) {
	rs := benchRecords(b)
	a, s := newBenchPeers(b)
	dir := benchTemplate(b, rs.v1)
	a.use(benchClone(b, dir))
	s.use(benchClone(b, dir))
	var bytes, secs, trips float64
	b.ResetTimer()
	for range b.N {
		res := a.sync(b, s)
		if res.records() != 0 || res.responder.RecordsSent+res.responder.RecordsReceived != 0 {
			b.Fatalf("identical sets: %d records carried (responder: sent %d, received %d)",
				res.records(), res.responder.RecordsSent, res.responder.RecordsReceived)
		}
		bytes += float64(res.bytes())
		secs += res.elapsed.Seconds()
		trips += float64(res.initiator.RoundTrips())
	}
	n := float64(b.N)
	b.ReportMetric(bytes/n, "B/transfer")
	b.ReportMetric(trips/n, "roundtrips")
	b.ReportMetric(secs/n*1e3, "ms/session")
}
