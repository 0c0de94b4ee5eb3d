package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	ipfslite "github.com/hsanjuan/ipfs-lite"
	ds "github.com/ipfs/go-datastore"
	badger4 "github.com/ipfs/go-ds-badger4"
	crdt "github.com/ipfs/go-ds-crdt"
	logging "github.com/ipfs/go-log/v2"
	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	routinghelpers "github.com/libp2p/go-libp2p-routing-helpers"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
)

// crdtTopic is the pubsub topic the go-ds-crdt replicas broadcast heads on.
const crdtTopic = "mentormesh-bench-crdt"

// crdtNode is a go-ds-crdt replica set up as IPFS Cluster and go-ds-crdt's
// globaldb example do: a libp2p host, GossipSub with the PubSubBroadcaster,
// an ipfs-lite peer (bitswap) as the DAG service, and one Badger datastore
// (go-ds-badger4) holding both the blocks and the CRDT state.
type crdtNode struct {
	h       host.Host
	bw      *counter
	ps      *pubsub.PubSub
	ds      *badger4.Datastore
	store   *crdt.Datastore
	cancel  context.CancelFunc // stops the broadcaster and ipfs-lite
	bcast   *timedBroadcaster
	drops   dropTracer
	closing atomic.Bool
}

type crdtConfig struct {
	// rebroadcast is how often a replica re-announces its heads (go-ds-crdt
	// default: 1 minute).
	rebroadcast time.Duration
	// putHook is called for every key added, locally or from a peer.
	putHook func(k ds.Key, v []byte)
}

func init() {
	// go-ds-crdt, bitswap and ipfs-lite log through go-log; keep errors.
	logging.SetAllLoggers(logging.LevelError)
}

// crdtLogger is go-ds-crdt's logger without the errors it logs for work
// that Close cancels.
type crdtLogger struct {
	*logging.ZapEventLogger
	closing *atomic.Bool
}

func (l crdtLogger) Error(args ...any) {
	if !l.closing.Load() && !strings.Contains(fmt.Sprint(args...), context.Canceled.Error()) {
		l.ZapEventLogger.Error(args...)
	}
}

func (l crdtLogger) Errorf(format string, args ...any) {
	if !l.closing.Load() && !strings.Contains(fmt.Sprintf(format, args...), context.Canceled.Error()) {
		l.ZapEventLogger.Errorf(format, args...)
	}
}

// timedBroadcaster notes when the first broadcast from a peer arrived: for
// a replica that catches up, when it learnt of the heads it lacks.
type timedBroadcaster struct {
	crdt.Broadcaster
	first atomic.Int64 // unix ns
}

func (b *timedBroadcaster) Next(ctx context.Context) ([]byte, error) {
	v, err := b.Broadcaster.Next(ctx)
	if err == nil {
		b.first.CompareAndSwap(0, time.Now().UnixNano())
	}
	return v, err
}

// badgerForCRDT gives go-ds-crdt's Badger the same laptop tuning mentormesh
// uses (store/badger_open.go), so the comparison is of the replication
// designs, not of Badger settings. Badger's defaults would cost go-ds-crdt
// several hundred MB of memory.
func badgerForCRDT() *badger4.Options {
	o := badger4.DefaultOptions
	o.Options = badger.DefaultOptions("").
		WithMemTableSize(8 << 20).
		WithNumMemtables(2).
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(8).
		WithBlockCacheSize(16 << 20).
		WithIndexCacheSize(8 << 20).
		WithValueLogFileSize(64 << 20).
		WithNumCompactors(2).
		WithSyncWrites(false).
		WithCompactL0OnClose(true)
	return &o
}

func startCRDT(dir string, cfg crdtConfig) (n *crdtNode, err error) {
	n = &crdtNode{bw: newCounter()}
	defer func() {
		if err != nil {
			n.close()
		}
	}()
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return nil, err
	}
	cm, err := connmgr.NewConnManager(32, 96, connmgr.WithGracePeriod(time.Minute))
	if err != nil {
		return nil, err
	}
	// The same transports, security and connection limits as a mentormesh
	// node (node/net.go).
	if n.h, err = libp2p.New(
		libp2p.Identity(key),
		libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Security(libp2ptls.ID, libp2ptls.New),
		libp2p.ConnectionManager(cm),
		libp2p.BandwidthReporter(n.bw),
	); err != nil {
		return nil, fmt.Errorf("starting libp2p host: %w", err)
	}
	if n.ds, err = badger4.NewDatastore(dir, badgerForCRDT()); err != nil {
		return nil, fmt.Errorf("opening badger datastore: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	// No DHT: every replica is connected to its neighbours, and bitswap asks
	// connected peers first. Reproviding is off for the same reason.
	lite, err := ipfslite.New(ctx, n.ds, nil, n.h, routinghelpers.Null{}, &ipfslite.Config{ReprovideInterval: -1})
	if err != nil {
		return nil, fmt.Errorf("starting ipfs-lite: %w", err)
	}
	// Default GossipSub options, plus a tracer that only counts.
	if n.ps, err = pubsub.NewGossipSub(ctx, n.h, pubsub.WithRawTracer(&n.drops)); err != nil {
		return nil, fmt.Errorf("starting gossipsub: %w", err)
	}
	bc, err := crdt.NewPubSubBroadcaster(ctx, n.ps, crdtTopic)
	if err != nil {
		return nil, fmt.Errorf("starting broadcaster: %w", err)
	}
	n.bcast = &timedBroadcaster{Broadcaster: bc}
	opts := crdt.DefaultOptions()
	if cfg.rebroadcast > 0 {
		opts.RebroadcastInterval = cfg.rebroadcast
	}
	opts.PutHook = cfg.putHook
	opts.Logger = crdtLogger{logging.Logger("crdt"), &n.closing}
	if n.store, err = crdt.New(n.ds, ds.NewKey("crdt"), lite, n.bcast, opts); err != nil {
		return nil, fmt.Errorf("starting go-ds-crdt: %w", err)
	}
	return n, nil
}

func (n *crdtNode) addrInfo() peer.AddrInfo { return peer.AddrInfo{ID: n.h.ID(), Addrs: n.h.Addrs()} }

func (n *crdtNode) connect(ctx context.Context, to *crdtNode) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	return n.h.Connect(ctx, to.addrInfo())
}

// close stops the replica in the order go-ds-crdt asks for: broadcaster
// first, then the CRDT store, then the host and the datastore.
func (n *crdtNode) close() {
	n.closing.Store(true)
	if n.cancel != nil {
		n.cancel()
	}
	if n.store != nil {
		_ = n.store.Close()
	}
	if n.h != nil {
		_ = n.h.Close()
	}
	if n.ds != nil {
		_ = n.ds.Close()
	}
}

// dropTracer counts the broadcasts GossipSub could not hand to go-ds-crdt
// because its subscription's queue was full ("subscriber too slow"): those
// heads are learnt only at the next rebroadcast.
type dropTracer struct{ dropped atomic.Int64 }

var _ pubsub.RawTracer = (*dropTracer)(nil)

func (t *dropTracer) UndeliverableMessage(*pubsub.Message) { t.dropped.Add(1) }

func (t *dropTracer) OnNewOutboundStream(peer.ID, protocol.ID)             {}
func (t *dropTracer) OnClosedOutboundStream(peer.ID)                       {}
func (t *dropTracer) Join(string)                                          {}
func (t *dropTracer) Leave(string)                                         {}
func (t *dropTracer) Graft(peer.ID, string)                                {}
func (t *dropTracer) Prune(peer.ID, string)                                {}
func (t *dropTracer) ValidateMessage(*pubsub.Message)                      {}
func (t *dropTracer) DeliverMessage(*pubsub.Message)                       {}
func (t *dropTracer) RejectMessage(*pubsub.Message, string)                {}
func (t *dropTracer) DuplicateMessage(*pubsub.Message)                     {}
func (t *dropTracer) ThrottlePeer(peer.ID)                                 {}
func (t *dropTracer) RecvRPC(*pubsub.RPC)                                  {}
func (t *dropTracer) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (t *dropTracer) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
func (t *dropTracer) DropRPC(*pubsub.RPC, peer.ID)                         {}
