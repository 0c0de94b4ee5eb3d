package ingest

import (
	"context"
	"runtime"
	"sync"

	"github.com/mentormesh/mentormesh/sync/record"
)

// BatchStore is a Store that can apply many records in few transactions.
// IngestBatch uses it when the store provides it.
type BatchStore interface {
	Store
	// ApplyRemoteBatch applies verified records as ApplyRemote would, in
	// order, and reports for each whether it became current.
	ApplyRemoteBatch(ctx context.Context, recs []*record.Record) ([]bool, error)
}

// IngestBatch runs many records through the pipeline: the checks before
// the signature and then the signatures, each in parallel on every core,
// then one batched store write. It is the path for catch-up, where records
// arrive by the thousand. Outcomes are in the order of raws and carry the
// same verdicts Ingest would give.
func (p *Pipeline) IngestBatch(ctx context.Context, raws [][]byte, src Source) []Outcome {
	outs := make([]Outcome, len(raws))
	ok := make([]bool, len(raws))
	onEveryCore(len(raws), func(i int) { outs[i], ok[i] = p.precheck(ctx, raws[i], src) })
	// A record repeated in the batch is checked once: the first copy is
	// the candidate, the others are duplicates.
	var cand []int
	inBatch := make(map[record.ID]bool, len(raws))
	for i := range raws {
		if !ok[i] {
			continue
		}
		if inBatch[outs[i].Record.ID] {
			outs[i].Verdict, outs[i].Err = Ignore, ErrDuplicate
			continue
		}
		inBatch[outs[i].Record.ID] = true
		cand = append(cand, i)
	}
	verified := p.verifyAll(outs, cand)
	if src.Live && p.opts.Limiter != nil {
		verified = p.takeTokens(outs, verified)
	}

	recs := make([]*record.Record, len(verified))
	for j, i := range verified {
		recs[j] = outs[i].Record
	}
	var applied []bool
	var err error
	// failed is the index of the first record the store error applies to:
	// a failed batch write covers them all, but one by one the records
	// before the failure are stored and must be reported (and forwarded)
	// as such.
	failed := 0
	if bs, ok := p.store.(BatchStore); ok && len(recs) > 0 {
		applied, err = bs.ApplyRemoteBatch(ctx, recs)
	} else {
		applied = make([]bool, len(recs))
		for j, rec := range recs {
			if applied[j], err = p.store.ApplyRemote(ctx, rec); err != nil {
				failed = j
				break
			}
		}
	}
	for j, i := range verified {
		if err != nil && j >= failed {
			outs[i] = p.finish(outs[i].Record, false, err)
			continue
		}
		outs[i] = p.finish(outs[i].Record, applied[j], nil)
	}
	for _, o := range outs {
		p.count(o.Verdict)
	}
	return outs
}

// verifyAll checks the signatures of outs[cand] on all cores, marks the
// failures as Reject, and returns the indexes that verified, in order.
func (p *Pipeline) verifyAll(outs []Outcome, cand []int) []int {
	ok := make([]bool, len(cand))
	onEveryCore(len(cand), func(j int) { ok[j] = outs[cand[j]].Record.Verify() == nil })
	var verified []int
	for j, i := range cand {
		if ok[j] {
			verified = append(verified, i)
			continue
		}
		p.seen.put(outs[i].Record.ID, seenRejected)
		outs[i].Verdict, outs[i].Err = Reject, record.ErrBadSignature
	}
	return verified
}

// takeTokens takes a token for each verified record, in order, marks the
// records whose author has none left as Ignore, and returns the others.
func (p *Pipeline) takeTokens(outs []Outcome, verified []int) []int {
	kept := verified[:0]
	for _, i := range verified {
		if p.opts.Limiter.Allow(outs[i].Record.Author) {
			kept = append(kept, i)
			continue
		}
		p.stats.RateLimited.Add(1)
		outs[i].Verdict, outs[i].Err = Ignore, ErrRateLimited
	}
	return kept
}

// onEveryCore runs fn(0..n-1) spread over GOMAXPROCS goroutines, the
// calling one included, and returns when all are done.
func onEveryCore(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				fn(i)
			}
		}()
	}
	for i := 0; i < n; i += workers {
		fn(i)
	}
	wg.Wait()
}
