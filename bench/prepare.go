package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/mentormesh/mentormesh/node"
	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/record"
)

// preparer makes data directories that hold n records, once each: the
// footprint workload's loaded nodes and the catch-up workload's online
// replicas are the same directories.
type preparer struct {
	root string
	data *dataset
	dirs map[string]prepared
	prog *progress
}

// prepared is a data directory holding records.
type prepared struct {
	dir string
	// writeS is how long writing the records took (go-ds-crdt: Puts into a
	// running replica; mentormesh: straight into its store).
	writeS float64
}

func newPreparer(root string, data *dataset, prog *progress) *preparer {
	return &preparer{root: root, data: data, dirs: map[string]prepared{}, prog: prog}
}

// get returns a directory of sys holding the first n records of the data
// set; for go-ds-crdt, written one Put per key or in batches.
func (p *preparer) get(ctx context.Context, sys string, batched bool, n int) (prepared, error) {
	name := fmt.Sprintf("%s-%d", sys, n)
	if sys == sysCRDT {
		name = fmt.Sprintf("%s-%s-%d", sys, crdtTag(batched), n)
	}
	if d, ok := p.dirs[name]; ok {
		return d, nil
	}
	recs, err := p.data.first(n)
	if err != nil {
		return prepared{}, err
	}
	d := prepared{dir: filepath.Join(p.root, name)}
	p.prog.logf("writing %d records into a %s data directory", n, sys)
	t0 := time.Now()
	if sys == sysMM {
		err = mmStoreDir(ctx, d.dir, recs)
	} else {
		err = crdtStoreDir(ctx, d.dir, recs, batched, p.prog)
	}
	if err != nil {
		return prepared{}, err
	}
	d.writeS = time.Since(t0).Seconds()
	p.dirs[name] = d
	return d, nil
}

func crdtTag(batched bool) string {
	if batched {
		return "batched"
	}
	return "perkey"
}

// mmStoreDir makes a mentormesh data directory holding recs, written
// straight into its store as if they had arrived from peers earlier. How
// records reached a node does not change what catch-up or start-up do.
func mmStoreDir(ctx context.Context, dir string, recs []*record.Record) error {
	paths, err := node.NewPaths(dir)
	if err != nil {
		return err
	}
	if _, err := node.Init(paths); err != nil {
		return err
	}
	st, err := store.OpenBadger(paths.StoreDir(), store.BadgerOptions{Logger: nodeLogger})
	if err != nil {
		return err
	}
	for batch := range slices.Chunk(recs, 1000) {
		if _, err := st.ApplyBatch(ctx, batch); err != nil {
			st.Close()
			return fmt.Errorf("filling store: %w", err)
		}
	}
	return st.Close()
}

// crdtStoreDir writes recs into a go-ds-crdt replica in dir, which is
// online but has no peers: one Put per key, or in batches.
func crdtStoreDir(ctx context.Context, dir string, recs []*record.Record, batched bool, prog *progress) error {
	n, err := startCRDT(dir, crdtConfig{})
	if err != nil {
		return err
	}
	defer n.close()
	return crdtWrite(ctx, n, recs, batched, prog)
}
