package sim

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/mentormesh/mentormesh/internal/syncstore"
	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/gossip"
	"github.com/mentormesh/mentormesh/sync/ingest"
	"github.com/mentormesh/mentormesh/sync/reconcile"
	"github.com/mentormesh/mentormesh/sync/record"
)

// simNode is one simulated mentormesh node: the production gossip layer,
// ingest pipeline and catch-up service over an in-memory store.
type simNode struct {
	idx    int
	h      *gatedHost
	key    ed25519.PrivateKey
	author record.Author
	st     *store.Memory
	pipe   *ingest.Pipeline
	g      *gossip.Gossip
	svc    *reconcile.Service
	cu     *catchUp

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	taskMu  sync.Mutex
	closing bool
}

// spawn runs f in a goroutine the node waits for on close, unless the node
// is closing (gossip reports peers joining until it stops).
func (n *simNode) spawn(f func()) {
	n.taskMu.Lock()
	defer n.taskMu.Unlock()
	if n.closing {
		return
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f()
	}()
}

// startNode wires a node on h, as node.Node.start and node.startNet do.
func startNode(idx int, h *gatedHost, key ed25519.PrivateKey, cfg *Config, obs *observer) (*simNode, error) {
	author, err := record.AuthorFromPubKey(h.Peerstore().PubKey(h.ID()))
	if err != nil {
		return nil, fmt.Errorf("node %d: %w", idx, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &simNode{idx: idx, h: h, key: key, author: author, st: store.NewMemory(), ctx: ctx, cancel: cancel}
	joined := func(c string) bool { return c == cfg.Community }
	n.pipe = ingest.New(observedStore{s: n.st, node: idx, obs: obs}, mentorship.Kinds{}, ingest.Options{
		Joined:        joined,
		IsUnknownKind: mentorship.IsUnknownKind,
	})
	log := cfg.Logger.With("node", idx)
	// Catch-up is registered before the topic is joined, as in the node:
	// joining reports the topic's peers at once.
	n.cu = newCatchUp(n, cfg)
	syncer := reconcile.New(syncstore.New(n.st), n.pipe, reconcile.Options{Logger: log, Joined: joined})
	n.svc = reconcile.NewService(h, syncer, reconcile.ServiceOptions{
		Logger: log,
		Done: func(p peer.ID, initiated bool, st reconcile.Stats, err error) {
			obs.session(initiated, st, err)
			n.cu.done(p, st)
		},
	})
	n.g, err = gossip.New(context.Background(), h, n.pipe, gossip.Options{
		Logger:             log,
		PubSubLogger:       log,
		OnPeerJoin:         n.cu.peerJoined,
		ExtraPubSubOptions: []pubsub.Option{pubsub.WithRawTracer(&tracer{node: idx, self: h.ID(), obs: obs})},
	})
	if err != nil {
		n.svc.Close()
		cancel()
		return nil, fmt.Errorf("node %d: %w", idx, err)
	}
	if err := n.g.Join(cfg.Community); err != nil {
		_ = n.close()
		return nil, fmt.Errorf("node %d: %w", idx, err)
	}
	if cfg.CatchUpInterval > 0 {
		n.spawn(func() { n.cu.loop(cfg.CatchUpInterval) })
	}
	return n, nil
}

// write signs a new record (a resource, 363 bytes signed), stores it and
// publishes it, as node.Local and the node's publisher do. It calls
// registered with the record once it is stored and before it is published,
// so the observer knows it before any peer can store it.
func (n *simNode) write(ctx context.Context, community string, seq int, registered func(*record.Record)) error {
	res := mentorship.Resource{
		Type:        mentorship.ResourceArticle,
		Title:       fmt.Sprintf("Simulated resource %d", seq),
		URL:         fmt.Sprintf("https://example.org/sim/%d", seq),
		Description: "A record written by the simulation: about the size of a short resource with a description and two tags.",
		Tags:        []string{"simulation", "consent decision-making"},
		Language:    "en",
	}.Normalize()
	payload, err := res.Encode()
	if err != nil {
		return err
	}
	rec, err := record.Sign(n.key, record.Body{
		Community: community,
		Author:    n.author,
		Kind:      mentorship.KindResource,
		Key:       mentorship.NewResourceID(),
		Version:   1,
		Timestamp: record.Now(),
		Payload:   payload,
	})
	if err != nil {
		return err
	}
	if _, err := n.st.Apply(ctx, rec, store.ApplyOptions{Local: true}); err != nil {
		return err
	}
	registered(rec)
	if err := n.g.Publish(ctx, rec); err != nil && !errors.Is(err, gossip.ErrNoPeers) {
		return err
	}
	// The node would keep a record nobody listened to (a node cut off
	// from its side of a partition) in its outbox, and publish it when a
	// peer joins; the simulation leaves it to catch-up, so that no gossip
	// follows the heal.
	return n.st.RemoveFromOutbox(ctx, rec.ID)
}

func (n *simNode) close() error {
	n.svc.Close()
	n.taskMu.Lock()
	n.closing = true
	n.taskMu.Unlock()
	n.cancel()
	n.wg.Wait()
	var errs []error
	if n.g != nil {
		errs = append(errs, n.g.Close())
	}
	errs = append(errs, n.h.Close(), n.st.Close())
	return errors.Join(errs...)
}

// observedStore gives the ingest pipeline the view it declares over the
// store, as node.storeAdapter does, and reports every record it stores.
type observedStore struct {
	s    store.Store
	node int
	obs  *observer
}

func (a observedStore) CurrentMeta(ctx context.Context, addr record.Addr) (record.Meta, bool, error) {
	return a.s.CurrentMeta(ctx, addr)
}

func (a observedStore) ApplyRemote(ctx context.Context, rec *record.Record) (bool, error) {
	res, err := a.s.Apply(ctx, rec, store.ApplyOptions{})
	if res.Applied && err == nil {
		a.obs.stored(a.node, rec, viaGossip)
	}
	return res.Applied, err
}

func (a observedStore) ApplyRemoteBatch(ctx context.Context, recs []*record.Record) ([]bool, error) {
	applied, err := a.s.ApplyBatch(ctx, recs)
	if err == nil {
		for i, ok := range applied {
			if ok {
				a.obs.stored(a.node, recs[i], viaCatchUp)
			}
		}
	}
	return applied, err
}

var _ ingest.BatchStore = observedStore{}
