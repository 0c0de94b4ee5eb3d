// Package gossip carries new records to the other nodes of a community over
// libp2p GossipSub, one topic per community.
//
// Every message is one signed record, exactly as its author signed it. The
// topic validator hands it to the ingest pipeline, which verifies and stores
// it before GossipSub may forward it; forged or malformed records are
// rejected, which lowers the sending peer's score until it is graylisted.
//
// Gossip is the fast path only: GossipSub drops messages silently when
// queues fill and never reaches peers that are offline. Catch-up between
// peers provides correctness.
package gossip

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/mentormesh/mentormesh/internal/ratelimit"
	"github.com/mentormesh/mentormesh/sync/ingest"
	"github.com/mentormesh/mentormesh/sync/record"
)

// TopicPrefix is prepended to a community name to form its topic.
const TopicPrefix = "/mentormesh/community/1/"

// MaxMessageSize bounds a GossipSub RPC. A record is at most
// record.MaxRecordSize; the rest is framing and control messages.
const MaxMessageSize = 4 * record.MaxRecordSize

// Topic returns the GossipSub topic of a community.
func Topic(community string) string { return TopicPrefix + community }

// MessageID is the GossipSub message ID of a payload: its SHA-256, which is
// also the record ID. Content IDs make a record that arrives twice (from two
// peers, or by gossip and catch-up) the same message.
func MessageID(data []byte) string {
	h := sha256.Sum256(data)
	return string(h[:])
}

// Ingester is the pipeline the validator runs.
type Ingester interface {
	Ingest(ctx context.Context, raw []byte, src ingest.Source) ingest.Outcome
}

// ErrNoPeers is returned by Publish when no peer is subscribed to the
// community's topic: the message would reach nobody, and GossipSub would
// remember it as delivered, so the caller should keep it and retry when a
// peer joins.
var ErrNoPeers = errors.New("no peers in the community's topic yet")

// Options configure Gossip.
type Options struct {
	Logger *slog.Logger
	// PubSubLogger receives go-libp2p-pubsub's own logs (default: Logger).
	PubSubLogger *slog.Logger
	// OnPeerJoin is called (from a goroutine owned by Gossip) when a peer
	// has subscribed to a community's topic and can be sent messages.
	OnPeerJoin func(community string, p peer.ID)
	// OnBadPeer, if set, is called when a peer's score falls below
	// GraylistThreshold (it sent records that fail verification; once per
	// fall) or when it sends far more messages than its budget
	// (PeerMessageRate; at most once a minute), from a goroutine of
	// GossipSub's that it must not block.
	OnBadPeer func(p peer.ID, why string)
	// PeerMessageRate caps the messages each peer may hand to validation
	// (default DefaultPeerMessageRate), AddrMessageRate those of all the
	// peers of one address (default DefaultAddrMessageRate).
	PeerMessageRate, AddrMessageRate ratelimit.Rate
	// ExtraPubSubOptions are appended to the defaults (tests use them).
	ExtraPubSubOptions []pubsub.Option
}

// Gossip owns the PubSub instance and the joined topics.
type Gossip struct {
	h    host.Host
	ps   *pubsub.PubSub
	ing  Ingester
	opts Options
	log  *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	topics map[string]*joined

	scoreMu sync.Mutex
	scores  map[peer.ID]float64 // the last inspection's

	stats Stats
	// slots orders validations, established peers' first; newFor is how
	// long a peer counts as new (priority.go).
	slots    *validationSlots
	newFor   time.Duration
	invalid  *ratelimit.Limiter[peer.ID] // invalid records tolerated per peer
	reported *ratelimit.Limiter[peer.ID] // reports to OnBadPeer, once a minute per peer
	badMu    sync.Mutex
	bad      map[peer.ID]time.Time // reported peers, until when their messages are dropped
}

type joined struct {
	topic  *pubsub.Topic
	sub    *pubsub.Subscription
	events *pubsub.TopicEventHandler
	cancel context.CancelFunc
}

// New starts GossipSub on h. Close stops it.
func New(ctx context.Context, h host.Host, ing Ingester, opts Options) (*Gossip, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.PubSubLogger == nil {
		opts.PubSubLogger = opts.Logger
	}
	if !opts.PeerMessageRate.Valid() {
		opts.PeerMessageRate = DefaultPeerMessageRate
	}
	if !opts.AddrMessageRate.Valid() {
		opts.AddrMessageRate = DefaultAddrMessageRate
	}
	ctx, cancel := context.WithCancel(ctx)
	g := &Gossip{h: h, ing: ing, opts: opts, log: opts.Logger, ctx: ctx, cancel: cancel, topics: map[string]*joined{},
		invalid:  ratelimit.New[peer.ID](ratelimit.Rate{Burst: invalidTolerance, Every: invalidRefill}, maxBudgetPeers, nil),
		reported: ratelimit.New[peer.ID](ratelimit.Rate{Burst: 1, Every: time.Minute}, maxBudgetPeers, nil),
		bad:      map[peer.ID]time.Time{},
	}
	g.slots, g.newFor = slotsFor(runtime.GOMAXPROCS(0)), newPeerPeriod(opts.PeerMessageRate)
	adm := newAdmission(opts.PeerMessageRate, opts.AddrMessageRate, func(p peer.ID) string { return addrKey(h, p) }, g.flooding, &g.stats)
	psOpts := []pubsub.Option{
		pubsub.WithMessageIdFn(func(m *pb.Message) string { return MessageID(m.Data) }),
		// Records carry their authors' signatures; a second, per-peer
		// signature would only cost CPU.
		pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
		// Send our own records to every topic peer, not only the mesh, so a
		// write made right after joining is not lost before the mesh forms.
		pubsub.WithFloodPublish(true),
		pubsub.WithPeerOutboundQueueSize(256),
		pubsub.WithValidateQueueSize(1024),
		pubsub.WithMaxMessageSize(MaxMessageSize),
		pubsub.WithPeerScore(peerScoreParams(), peerScoreThresholds()),
		pubsub.WithPeerScoreInspect(pubsub.PeerScoreInspectFn(g.inspect), scoreInspectPeriod),
		pubsub.WithAppSpecificRpcInspector(adm.inspect),
		pubsub.WithRawTracer(dropTracer{&g.stats}),
		pubsub.WithLogger(opts.PubSubLogger),
	}
	psOpts = append(psOpts, opts.ExtraPubSubOptions...)
	ps, err := pubsub.NewGossipSub(ctx, h, psOpts...)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("starting gossipsub: %w", err)
	}
	g.ps = ps
	return g, nil
}

// Join subscribes to a community's topic. Joining twice is a no-op.
func (g *Gossip) Join(community string) error {
	if err := record.CheckCommunity(community); err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.topics[community]; ok {
		return nil
	}
	name := Topic(community)
	// Not inline: each message is validated in a goroutine of its own
	// (at most 1024 at a time), which waits for a validation slot, so
	// that established peers' messages can be run before new peers'
	// (priority.go).
	if err := g.ps.RegisterTopicValidator(name, g.validator(community), pubsub.WithValidatorConcurrency(maxValidations)); err != nil {
		return fmt.Errorf("registering validator for %s: %w", name, err)
	}
	t, err := g.ps.Join(name)
	if err != nil {
		_ = g.ps.UnregisterTopicValidator(name)
		return fmt.Errorf("joining topic %s: %w", name, err)
	}
	if err := t.SetScoreParams(topicScoreParams()); err != nil {
		_ = t.Close()
		_ = g.ps.UnregisterTopicValidator(name)
		return fmt.Errorf("scoring topic %s: %w", name, err)
	}
	ev, err := t.EventHandler()
	if err != nil {
		_ = t.Close()
		_ = g.ps.UnregisterTopicValidator(name)
		return fmt.Errorf("watching topic %s: %w", name, err)
	}
	sub, err := t.Subscribe(pubsub.WithBufferSize(1024))
	if err != nil {
		ev.Cancel()
		_ = t.Close()
		_ = g.ps.UnregisterTopicValidator(name)
		return fmt.Errorf("subscribing to %s: %w", name, err)
	}
	ctx, cancel := context.WithCancel(g.ctx)
	j := &joined{topic: t, sub: sub, events: ev, cancel: cancel}
	g.topics[community] = j
	g.wg.Add(2)
	go g.drain(ctx, sub)
	go g.watch(ctx, community, t, ev)
	g.log.Info("joined community", "community", community, "topic", name)
	return nil
}

// Leave unsubscribes from a community's topic.
func (g *Gossip) Leave(community string) error {
	g.mu.Lock()
	j, ok := g.topics[community]
	delete(g.topics, community)
	g.mu.Unlock()
	if !ok {
		return nil
	}
	return g.closeJoined(Topic(community), j)
}

func (g *Gossip) closeJoined(name string, j *joined) error {
	j.cancel()
	j.sub.Cancel()
	j.events.Cancel()
	err := j.topic.Close()
	if uerr := g.ps.UnregisterTopicValidator(name); err == nil {
		err = uerr
	}
	return err
}

// Communities lists the joined communities, sorted.
func (g *Gossip) Communities() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]string, 0, len(g.topics))
	for c := range g.topics {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// Stats returns the counts of messages dropped before validation.
func (g *Gossip) Stats() *Stats { return &g.stats }

// TopicPeers returns the peers subscribed to a community's topic.
func (g *Gossip) TopicPeers(community string) []peer.ID {
	g.mu.Lock()
	j, ok := g.topics[community]
	g.mu.Unlock()
	if !ok {
		return nil
	}
	return j.topic.ListPeers()
}

// Publish sends a stored, verified record to the community's peers. It
// returns ErrNoPeers when nobody would receive it.
func (g *Gossip) Publish(ctx context.Context, rec *record.Record) error {
	g.mu.Lock()
	j, ok := g.topics[rec.Community]
	g.mu.Unlock()
	if !ok {
		return fmt.Errorf("publishing to %q: %w", rec.Community, ingest.ErrNotJoined)
	}
	if len(j.topic.ListPeers()) == 0 {
		return ErrNoPeers
	}
	if err := j.topic.Publish(ctx, rec.Raw); err != nil {
		return fmt.Errorf("publishing record %s: %w", rec.ID, err)
	}
	return nil
}

// Close leaves every topic and stops GossipSub.
func (g *Gossip) Close() error {
	g.mu.Lock()
	topics := g.topics
	g.topics = map[string]*joined{}
	g.mu.Unlock()
	var errs []error
	for c, j := range topics {
		errs = append(errs, g.closeJoined(Topic(c), j))
	}
	g.cancel()
	g.wg.Wait()
	return errors.Join(errs...)
}

func (g *Gossip) validator(community string) func(context.Context, peer.ID, *pubsub.Message) pubsub.ValidationResult {
	self := g.h.ID()
	return func(ctx context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
		if from == self {
			// Our own publication: Publish only sends records that went
			// through the pipeline and the store already.
			return pubsub.ValidationAccept
		}
		if g.isBad(from) {
			// A flooder's backlog: dropped without the pipeline's work.
			return pubsub.ValidationIgnore
		}
		// Established peers' messages first (priority.go).
		release, err := g.slots.acquire(ctx, g.isNew(from))
		if err != nil {
			return pubsub.ValidationIgnore
		}
		defer release()
		if g.isBad(from) {
			return pubsub.ValidationIgnore
		}
		out := g.ing.Ingest(ctx, msg.Data, ingest.Source{Community: community, Live: true})
		switch out.Verdict {
		case ingest.Accept:
			return pubsub.ValidationAccept
		case ingest.Ignore:
			g.log.Debug("ignored record", "community", community, "peer", from, "err", out.Err)
			return pubsub.ValidationIgnore
		default:
			// Debug, not Info: a flooder would otherwise fill the log.
			// Status counts rejections, and graylisting is logged.
			g.log.Debug("rejected record", "community", community, "peer", from, "err", out.Err)
			g.rejected(from)
			return pubsub.ValidationReject
		}
	}
}

// maxValidations bounds the messages of a topic being validated or
// waiting for a validation slot; GossipSub drops the messages beyond it
// (counted as Throttled).
const maxValidations = 1024

// isNew reports whether p connected less than newFor ago (or is no
// longer connected).
func (g *Gossip) isNew(p peer.ID) bool {
	if g.newFor <= 0 {
		return false
	}
	since := connectedSince(g.h, p)
	return since.IsZero() || time.Since(since) < g.newFor
}

// drain consumes the subscription: records were already handled by the
// validator, but an unread subscription would fill and drop.
func (g *Gossip) drain(ctx context.Context, sub *pubsub.Subscription) {
	defer g.wg.Done()
	for {
		if _, err := sub.Next(ctx); err != nil {
			return
		}
	}
}

func (g *Gossip) watch(ctx context.Context, community string, t *pubsub.Topic, ev *pubsub.TopicEventHandler) {
	defer g.wg.Done()
	for {
		e, err := ev.NextPeerEvent(ctx)
		if err != nil {
			return
		}
		if e.Type == pubsub.PeerJoin && g.opts.OnPeerJoin != nil {
			g.wg.Add(1)
			go func() {
				defer g.wg.Done()
				if g.waitSendable(ctx, t, e.Peer) {
					g.opts.OnPeerJoin(community, e.Peer)
				}
			}()
		}
	}
}

// waitSendable waits until GossipSub can send to a peer that just joined a
// topic. GossipSub reports the join as soon as the peer's subscription
// arrives, which can be before it has set up its own send queue to that
// peer; a message published in between reaches nobody, silently.
func (g *Gossip) waitSendable(ctx context.Context, t *pubsub.Topic, p peer.ID) bool {
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for {
		if slices.Contains(t.ListPeers(), p) {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-deadline:
			return false
		case <-tick.C:
		}
	}
}

// Peer scoring. Invalid messages weigh heavily (the penalty grows with the
// square of their count), so a peer that sends a handful of forged records
// falls below the graylist threshold and is ignored: four invalid records
// make -1600, below -1000 even for a peer at the positive cap (+10). The
// count decays to 1 % in an hour: a peer that sent four invalid records
// stays graylisted for about 3 minutes, one that sent a thousand for about
// 75. The score is retained for 10 minutes after a peer disconnects. Mesh-delivery
// penalties stay off: a community topic is quiet most of the time, and those
// penalties would punish honest peers for silence. IP colocation is off too:
// laptops behind one home router share an address.
func peerScoreParams() *pubsub.PeerScoreParams {
	return &pubsub.PeerScoreParams{
		Topics:                    map[string]*pubsub.TopicScoreParams{},
		TopicScoreCap:             10,
		AppSpecificScore:          func(peer.ID) float64 { return 0 },
		AppSpecificWeight:         1,
		BehaviourPenaltyWeight:    -10,
		BehaviourPenaltyThreshold: 6,
		BehaviourPenaltyDecay:     pubsub.ScoreParameterDecay(10 * time.Minute),
		DecayInterval:             time.Second,
		DecayToZero:               0.01,
		RetainScore:               10 * time.Minute,
	}
}

func topicScoreParams() *pubsub.TopicScoreParams {
	return &pubsub.TopicScoreParams{
		TopicWeight:                    1,
		TimeInMeshWeight:               0.0027,
		TimeInMeshQuantum:              time.Second,
		TimeInMeshCap:                  3600,
		FirstMessageDeliveriesWeight:   1,
		FirstMessageDeliveriesDecay:    pubsub.ScoreParameterDecay(time.Hour),
		FirstMessageDeliveriesCap:      100,
		InvalidMessageDeliveriesWeight: -100,
		InvalidMessageDeliveriesDecay:  pubsub.ScoreParameterDecay(time.Hour),
	}
}

func peerScoreThresholds() *pubsub.PeerScoreThresholds {
	return &pubsub.PeerScoreThresholds{
		GossipThreshold:             GossipThreshold,
		PublishThreshold:            PublishThreshold,
		GraylistThreshold:           GraylistThreshold,
		AcceptPXThreshold:           10,
		OpportunisticGraftThreshold: 1,
	}
}
