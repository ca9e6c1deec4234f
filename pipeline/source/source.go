package source

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"

	"github.com/awumeter/awumeter/internal/backoff"
	"github.com/awumeter/awumeter/pipeline/decode"
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/guard"
	"github.com/awumeter/awumeter/pipeline/price"
	"github.com/awumeter/awumeter/pipeline/sink"
)

// Sink takes one transaction's rows and calls ack once ClickHouse has
// acknowledged them; *sink.Buffer is the implementation. Add may block while
// the sink's queue is full, which is what pauses consumption.
type Sink interface {
	Add(ctx context.Context, rows sink.Batch, ack sink.AckFunc) error
	Flush(ctx context.Context) error
}

// Settings is what code, not the user, provides to a Source.
type Settings struct {
	// Sink receives the rows; required.
	Sink Sink
	// Engine configures the per-partition engines.
	Engine engine.Config
	// Prices prices tokens; nil means price.Default().
	Prices *price.Book
	// History is the events ledger for workcycles not held in memory; nil
	// means none, which is right only for tests that read a topic once
	// from its beginning. A BatchHistory is asked once per poll and
	// partition for all the workcycles the poll needs.
	History engine.History
	// Guards are the alert rules; the rules on workcycle and AWU rows are
	// checked here, on every emission, and their alerts produced to
	// Guards.Topic. Nil means none.
	Guards *guard.Config
	// Logger defaults to a no-op logger.
	Logger *zap.Logger
	// Observer receives the source's counts and gauges (the service's
	// metrics); nil discards them.
	Observer Observer
	// Now is the wall clock for idle partitions, readiness and the
	// decoders' time bounds; nil means time.Now.
	Now func() time.Time
	// ClientOpts are appended to the Kafka client's options (tests).
	ClientOpts []kgo.Opt
}

// pollWait bounds one poll, so that commits and idle partitions are looked
// at even when no record arrives.
const pollWait = 250 * time.Millisecond

// Source is a running consumer group member. Create it with New, run it with
// Run, and stop it with Close after Run has returned.
type Source struct {
	cfg Config
	set Settings
	log *zap.Logger
	obs Observer
	// The backoff of the retry loops (internal/backoff: doubling, capped,
	// with equal jitter drawn from jitter): ledgerRetry spaces the reads
	// of the events ledger and the engine's History calls, produceRetry
	// the produce attempts of a dead letter or an alert.
	ledgerRetry, produceRetry backoff.Policy
	jitter                    *backoff.Rand
	cl                        *kgo.Client
	decoders                  map[string]topicDecoder
	// repartition is the re-key stage's topic this member reads, or ""
	// when every topic is keyed by workcycle.
	repartition string
	workers     int // partitions processed at once
	unknown     price.UnknownModels
	inflight    *inflight
	// letters bounds the dead letters awaiting the broker, in bytes.
	letters *byteBudget
	// warned holds the dead-letter reasons already logged as a warning;
	// later letters of a reason are logged at debug level.
	warned sync.Map

	// bg lives until Close: dead-letter retries and revocation flushes
	// must outlive Run's context.
	bg     context.Context
	cancel context.CancelFunc

	mu         sync.Mutex // guards parts; held while processing and in rebalance callbacks
	parts      map[topicPartition]*partition
	lastCommit time.Time

	failMu sync.Mutex
	failed error

	// splitWarned is when a split workcycle of each topic was last logged.
	splitWarned map[string]time.Time

	statusMu sync.Mutex
	status   map[topicPartition]PartitionStatus
	blocked  time.Time // when the oldest sink.Add in progress started, or zero
	adding   int       // sink.Add calls in progress
}

// topicDecoder makes a topic's decoders: one per assigned partition, since
// a decoder's scratch state belongs to one goroutine.
type topicDecoder struct {
	format string // the metrics' format label; "" for the repartition topic
	new    func() (decode.Decoder, error)
}

type topicPartition struct {
	topic     string
	partition int32
}

// New validates cfg and creates the Kafka client; it joins the group on the
// first poll.
func New(cfg Config, set Settings) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if set.Sink == nil {
		return nil, errors.New("source: Settings.Sink is required")
	}
	if err := set.Engine.Validate(); err != nil {
		return nil, err
	}
	if set.Guards != nil {
		if err := set.Guards.Validate(); err != nil {
			return nil, err
		}
	}
	if set.Logger == nil {
		set.Logger = zap.NewNop()
	}
	if set.Observer == nil {
		set.Observer = NopObserver{}
	}
	if set.Prices == nil {
		set.Prices = price.Default()
	}
	if set.Now == nil {
		set.Now = time.Now
	}
	s := &Source{
		cfg: cfg, set: set, log: set.Logger, obs: set.Observer,
		ledgerRetry:  backoff.Policy{Initial: 100 * time.Millisecond, Max: 5 * time.Second, Multiplier: 2},
		produceRetry: backoff.Policy{Initial: 100 * time.Millisecond, Max: 10 * time.Second, Multiplier: 2},
		jitter:       backoff.NewRandom(),
		decoders:     map[string]topicDecoder{},
		parts:        map[topicPartition]*partition{},
		status:       map[topicPartition]PartitionStatus{},

		splitWarned: map[string]time.Time{},
		inflight:    newInflight(),
		workers:     cfg.PartitionWorkers,
		letters:     newByteBudget(cfg.DeadLetterMaxBufferedBytes),
	}
	if s.workers == 0 {
		s.workers = runtime.GOMAXPROCS(0)
	}
	// The engines consume the topics declared keyed by workcycle and, when
	// any is not, the repartition topic the re-key stage fills with theirs.
	var topics []string
	for i, t := range cfg.Topics {
		if _, err := decode.New(t.Format, t.Decode, decode.Settings{Now: set.Now}); err != nil {
			return nil, fmt.Errorf("kafka.topics[%d]: %w", i, err)
		}
		if !t.Keyed() {
			continue
		}
		s.decoders[t.Name] = topicDecoder{format: t.Format, new: func() (decode.Decoder, error) {
			return decode.New(t.Format, t.Decode, decode.Settings{Now: set.Now})
		}}
		topics = append(topics, t.Name)
	}
	if len(cfg.Unkeyed()) > 0 {
		s.repartition = RepartitionTopic(cfg.Group)
		s.decoders[s.repartition] = topicDecoder{new: func() (decode.Decoder, error) { return RepartitionDecoder{}, nil }}
		topics = append(topics, s.repartition)
	}
	opts, err := cfg.ClientOpts()
	if err != nil {
		return nil, err
	}
	reset := kgo.NewOffset().AtStart()
	if cfg.AutoOffsetReset == "latest" {
		reset = kgo.NewOffset().AtEnd()
	}
	opts = append(opts,
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(reset),
		// The repartition topic is written in transactions: records of
		// aborted ones must never reach an engine.
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.DisableAutoCommit(),
		// Where the brokers create topics on first use, let them create a
		// missing dead-letter topic (see CheckTopics).
		kgo.AllowAutoTopicCreation(),
		kgo.BlockRebalanceOnPoll(),
		kgo.SessionTimeout(cfg.SessionTimeout),
		kgo.RebalanceTimeout(cfg.RebalanceTimeout),
		kgo.OnPartitionsAssigned(s.onAssigned),
		kgo.OnPartitionsRevoked(s.onRevoked),
		kgo.OnPartitionsLost(s.onLost),
		kgo.OnPartitionsCallbackBlocked(func(context.Context, *kgo.Client) {
			s.log.Info("a rebalance is waiting for the current poll to be processed")
		}),
		kgo.WithLogger(kgoLogger{s.log.Named("kgo").Sugar()}),
	)
	opts = append(opts, set.ClientOpts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("cannot create the Kafka client: %w", err)
	}
	s.cl = cl
	s.bg, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// Client is the underlying Kafka client, for tests and admin calls.
func (s *Source) Client() *kgo.Client { return s.cl }

// fail records the first fatal error; Run returns it.
func (s *Source) fail(err error) {
	s.failMu.Lock()
	defer s.failMu.Unlock()
	if s.failed == nil {
		s.failed = err
	}
}

// Err returns the fatal error that stopped or will stop Run, if any.
func (s *Source) Err() error {
	s.failMu.Lock()
	defer s.failMu.Unlock()
	return s.failed
}

// Run polls, processes and commits until ctx ends (it then returns nil) or a
// fatal error occurs: the sink failed for good, or a bug broke an invariant.
// Call Close afterwards in both cases.
func (s *Source) Run(ctx context.Context) error {
	for {
		if err := s.Err(); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		pctx, cancel := context.WithTimeout(ctx, pollWait)
		fetches := s.cl.PollRecords(pctx, s.cfg.MaxPollRecords)
		cancel()
		if fetches.IsClientClosed() {
			return s.Err()
		}
		err := s.handle(ctx, fetches)
		if err == nil && s.set.Now().Sub(s.lastCommit) >= s.cfg.CommitInterval {
			s.mu.Lock()
			s.commit(ctx, nil)
			s.mu.Unlock()
			s.lastCommit = s.set.Now()
		}
		s.cl.AllowRebalance()
		if err != nil {
			s.fail(err)
			return err
		}
	}
}

// handle processes one poll. Rebalance callbacks cannot run meanwhile.
// Partitions are processed in parallel, at most kafka.partition_workers at
// once; each partition's records stay in offset order on one goroutine.
func (s *Source) handle(ctx context.Context, fetches kgo.Fetches) error {
	now := s.set.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	fetches.EachError(func(topic string, p int32, err error) {
		if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			s.log.Warn("fetch error", zap.String("topic", topic), zap.Int32("partition", p), zap.Error(err))
		}
	})
	type work struct {
		st   *partition
		recs []*kgo.Record
	}
	var todo []work
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		st := s.parts[topicPartition{fp.Topic, fp.Partition}]
		if st == nil {
			return
		}
		if fp.HighWatermark > st.hw {
			st.hw, st.hwGrew = fp.HighWatermark, now
		}
		// A partition in a fetch without records has nothing left to
		// deliver: franz-go buffers one fetch per broker and fetches
		// again only once it is polled.
		st.drained = len(fp.Records) == 0 && fp.Err == nil
		if len(fp.Records) > 0 {
			todo = append(todo, work{st, fp.Records})
		}
	})
	errs := make([]error, len(todo))
	if len(todo) == 1 || s.workers == 1 {
		for i, w := range todo {
			if errs[i] = s.process(ctx, w.st, w.recs, now); errs[i] != nil {
				break
			}
		}
	} else {
		var wg sync.WaitGroup
		sem := make(chan struct{}, s.workers)
		for i, w := range todo {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				errs[i] = s.process(ctx, w.st, w.recs, now)
			})
		}
		wg.Wait()
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, w := range todo {
		s.detectSplits(w.st, now)
	}
	for _, st := range s.parts {
		// A partition without records yet restores its open workcycles
		// now: they must close even if no record ever comes.
		if err := s.restore(ctx, st); err != nil {
			return err
		}
		if err := s.advanceIdle(ctx, st, now); err != nil {
			return err
		}
		if st.provisional && now.Sub(st.openEmitted) >= s.set.Engine.EmitInterval {
			if err := s.emit(ctx, st, sink.Batch{}, now); err != nil {
				return err
			}
		}
		s.publish(st)
	}
	return nil
}

// Close stops the member within ctx: it flushes the sink, waits for dead
// letters, commits, leaves the group (so its partitions move at once) and
// closes the client. Call it after Run returned.
func (s *Source) Close(ctx context.Context) error {
	defer s.cancel()
	var errs []error
	s.mu.Lock()
	if err := s.drain(ctx, nil); err != nil {
		errs = append(errs, err)
	}
	s.commit(ctx, nil)
	s.mu.Unlock()
	s.cl.AllowRebalance()
	if err := s.cl.LeaveGroupContext(ctx); err != nil {
		errs = append(errs, fmt.Errorf("cannot leave the consumer group: %w", err))
	}
	s.cl.Close()
	return errors.Join(errs...)
}

// drain waits until the sink has acknowledged everything added so far and
// every dead letter of the given partitions (all, if nil) is produced.
func (s *Source) drain(ctx context.Context, only map[string][]int32) error {
	if err := s.set.Sink.Flush(ctx); err != nil {
		return fmt.Errorf("cannot flush the sink: %w", err)
	}
	for k, st := range s.parts {
		if only != nil && !contains(only[k.topic], k.partition) {
			continue
		}
		if err := st.track.Wait(ctx); err != nil {
			return fmt.Errorf("dead letters of %s/%d are not acknowledged: %w", k.topic, k.partition, err)
		}
	}
	return nil
}

func contains(ps []int32, p int32) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}
