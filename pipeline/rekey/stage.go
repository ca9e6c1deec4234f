package rekey

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"

	"github.com/awumeter/awumeter/internal/backoff"
	"github.com/awumeter/awumeter/pipeline/deadletter"
	"github.com/awumeter/awumeter/pipeline/decode"
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/event"
	"github.com/awumeter/awumeter/pipeline/source"
)

// Headers on every repartition record: where its event was read. They are
// provenance for people reading the topic or a dead letter of it; the
// engines do not use them.
const (
	HeaderSourceTopic     = "awumeter.rekey.source.topic"
	HeaderSourcePartition = "awumeter.rekey.source.partition"
	HeaderSourceOffset    = "awumeter.rekey.source.offset"
)

// Settings is what code, not the user, provides to a Stage.
type Settings struct {
	// Logger defaults to a no-op logger.
	Logger *zap.Logger
	// Observer receives the stage's counts (the service's metrics); nil
	// discards them.
	Observer Observer
	// Now is the decoders' clock for time bounds; nil means time.Now.
	Now func() time.Time
	// BeforeEnd, if set, is called after a transaction's records are
	// flushed to the brokers and before it is committed, with the
	// transaction's number (from 1). The command uses it to inject a crash
	// in tests.
	BeforeEnd func(n int)
	// ClientOpts are appended to the Kafka client's options (tests).
	ClientOpts []kgo.Opt
}

// binarySizeHint is the capacity a repartition value starts with, enough
// for most events' encoding.
const binarySizeHint = 160

// pollWait bounds one poll, so that shutdown is noticed when nothing arrives.
const pollWait = 250 * time.Millisecond

// Stage is a running member of the re-key group. Create it with New, run it
// with Run, and stop it with Close after Run has returned.
type Stage struct {
	kcfg source.Config
	cfg  Config
	set  Settings
	log  *zap.Logger
	obs  Observer
	// awaitRetry spaces awaitTopic's listings (internal/backoff), with
	// jitter drawn from jitter.
	awaitRetry backoff.Policy
	jitter     *backoff.Rand
	sess       *kgo.GroupTransactSession
	topic      string // the repartition topic
	id         string // the transactional id

	decoders map[string]topicDecoder
	// bg outlives Run's context: a transaction begun is always ended.
	bg     context.Context
	cancel context.CancelFunc

	txns   int
	evs    []event.Event // one record's events, reused
	warned map[decode.Reason]bool
}

type topicDecoder struct {
	format string
	dec    decode.Decoder
}

// New validates the configuration and creates the transactional client for
// the topics of kcfg not declared keyed by workcycle; it joins the group on
// the first poll. It is an error to call it when every topic is keyed.
func New(kcfg source.Config, cfg Config, set Settings) (*Stage, error) {
	if err := errors.Join(kcfg.Validate(), cfg.Validate()); err != nil {
		return nil, err
	}
	inputs := kcfg.Unkeyed()
	if len(inputs) == 0 {
		return nil, errors.New("rekey: every topic is declared keyed_by_workcycle; there is nothing to re-key")
	}
	if set.Logger == nil {
		set.Logger = zap.NewNop()
	}
	if set.Observer == nil {
		set.Observer = NopObserver{}
	}
	if set.Now == nil {
		set.Now = time.Now
	}
	s := &Stage{
		kcfg: kcfg, cfg: cfg, set: set, log: set.Logger, obs: set.Observer,
		awaitRetry: backoff.Policy{Initial: 50 * time.Millisecond, Max: time.Second, Multiplier: 2},
		jitter:     backoff.NewRandom(),
		topic:      source.RepartitionTopic(kcfg.Group),
		id:         cfg.TransactionalID,
		decoders:   map[string]topicDecoder{},
		warned:     map[decode.Reason]bool{},
	}
	if s.id == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "localhost"
		}
		s.id = source.RekeyGroup(kcfg.Group) + "-" + host + "-" + strconv.Itoa(os.Getpid())
	}
	var topics []string
	for i, t := range inputs {
		dec, err := decode.New(t.Format, t.Decode, decode.Settings{Now: set.Now})
		if err != nil {
			return nil, fmt.Errorf("kafka.topics[%d]: %w", i, err)
		}
		s.decoders[t.Name] = topicDecoder{format: t.Format, dec: dec}
		topics = append(topics, t.Name)
	}
	opts, err := kcfg.ClientOpts()
	if err != nil {
		return nil, err
	}
	reset := kgo.NewOffset().AtStart()
	if kcfg.AutoOffsetReset == "latest" {
		reset = kgo.NewOffset().AtEnd()
	}
	opts = append(opts,
		kgo.ConsumerGroup(source.RekeyGroup(kcfg.Group)),
		kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(reset),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.RequireStableFetchOffsets(),
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.SessionTimeout(kcfg.SessionTimeout),
		kgo.RebalanceTimeout(kcfg.RebalanceTimeout),
		kgo.TransactionalID(s.id),
		kgo.TransactionTimeout(cfg.TransactionTimeout),
		// murmur2 of the key, Kafka's default partitioner: one workcycle,
		// one partition, whatever client reads the topic.
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)),
		kgo.AllowAutoTopicCreation(), // a missing dead-letter topic, as the source does
		// A partition that moves to another instance leaves its lag there.
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) { s.forget(ps) }),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) { s.forget(ps) }),
		kgo.WithLogger(source.KgoLogger(s.log.Named("kgo"))),
	)
	opts = append(opts, set.ClientOpts...)
	sess, err := kgo.NewGroupTransactSession(opts...)
	if err != nil {
		return nil, fmt.Errorf("cannot create the re-key stage's Kafka client: %w", err)
	}
	s.sess = sess
	s.bg, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// Topic is the repartition topic the stage produces to.
func (s *Stage) Topic() string { return s.topic }

// TransactionalID is the stage's transactional id.
func (s *Stage) TransactionalID() string { return s.id }

// Client is the underlying Kafka client, for admin calls. It must not be
// used to produce or manage transactions.
func (s *Stage) Client() *kgo.Client { return s.sess.Client() }

// Run re-keys until ctx ends (it then returns nil, after ending the
// transaction in progress) or a transaction cannot be ended, which franz-go
// reports only for errors no retry cures; the caller should then stop and
// restart, resuming from the last committed transaction. Call Close
// afterwards in both cases.
func (s *Stage) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		pctx, cancel := context.WithTimeout(ctx, pollWait)
		fetches := s.sess.PollRecords(pctx, s.kcfg.MaxPollRecords)
		cancel()
		if fetches.IsClientClosed() {
			return nil
		}
		s.logFetchErrors(fetches)
		if fetches.NumRecords() == 0 {
			continue
		}
		if err := s.transact(ctx, fetches); err != nil {
			return err
		}
	}
	return nil
}

func (s *Stage) logFetchErrors(fetches kgo.Fetches) {
	fetches.EachError(func(topic string, p int32, err error) {
		if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			s.log.Warn("fetch error", zap.String("topic", topic), zap.Int32("partition", p), zap.Error(err))
		}
	})
}

// A transaction takes more polls while records are waiting, up to
// txnMaxPolls polls or txnMaxDuration: ending one costs a few round trips
// to the brokers (flush, offsets, markers), which a larger transaction
// shares among more records. Both bound how long the engines wait to see a
// record (they read read_committed) and what the stage holds in memory
// (txnMaxPolls × kafka.max_poll_records records).
const (
	txnMaxPolls    = 4
	txnMaxDuration = 200 * time.Millisecond
)

// transact re-keys one poll, and the polls that follow it at once (see
// txnMaxPolls), in one transaction. Its counts reach the metrics only if it
// commits: an aborted transaction's records are read and counted again.
func (s *Stage) transact(ctx context.Context, fetches kgo.Fetches) error {
	if err := s.sess.Begin(); err != nil {
		return fmt.Errorf("cannot begin a re-key transaction: %w", err)
	}
	s.txns++
	began := time.Now()
	var (
		mu     sync.Mutex
		failed error
		c      counts
	)
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			mu.Lock()
			if failed == nil {
				failed = err
			}
			mu.Unlock()
		}
	}
	each := func(fp kgo.FetchTopicPartition) {
		td, ok := s.decoders[fp.Topic]
		if !ok {
			return
		}
		c.add(&c.records, fp.Topic, len(fp.Records))
		if n := len(fp.Records); n > 0 {
			c.lag = append(c.lag, partitionLag{fp.Topic, fp.Partition, fp.HighWatermark - fp.Records[n-1].Offset - 1})
		}
		for _, r := range fp.Records {
			rec := decode.Record{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset,
				Key: r.Key, Value: r.Value, Timestamp: r.Timestamp}
			for _, h := range r.Headers {
				rec.Headers = append(rec.Headers, decode.Header{Key: h.Key, Value: h.Value})
			}
			var res decode.Result
			s.evs, res = td.dec.Decode(&rec, s.evs[:0])
			c.ignored = addIgnored(c.ignored, res.Ignored)
			rejs := res.Rejections
			for i := range s.evs {
				ev := &s.evs[i]
				if c.events == nil {
					c.events = map[eventKind]int{}
				}
				c.events[eventKind{td.format, ev.Type}]++
				if o := engine.Check(ev); o != 0 {
					if rej, refused := deadletter.Refusal(o, ev); refused {
						rejs = append(rejs, rej)
					}
					c.add(&c.outcomes, o.String(), 1)
					continue
				}
				s.produce(ev, r, promise)
				c.produced++
			}
			if len(rejs) > 0 {
				c.add(&c.letters, string(rejs[0].Reason), 1)
				s.deadLetter(&rec, rejs, promise)
			}
		}
	}
	fetches.EachPartition(each)
	for polls := 1; polls < txnMaxPolls && ctx.Err() == nil; polls++ {
		left := txnMaxDuration - time.Since(began)
		if left <= 0 {
			break
		}
		pctx, cancel := context.WithTimeout(ctx, min(left, 10*time.Millisecond))
		more := s.sess.PollRecords(pctx, s.kcfg.MaxPollRecords)
		cancel()
		if more.IsClientClosed() {
			break
		}
		s.logFetchErrors(more)
		if more.NumRecords() == 0 {
			break
		}
		more.EachPartition(each)
	}
	// Flushing first lets the crash hook run with every record at the
	// brokers but nothing committed.
	produced := time.Now()
	if err := s.sess.Client().Flush(s.bg); err != nil {
		return fmt.Errorf("cannot flush a re-key transaction: %w", err)
	}
	flushed := time.Now()
	if s.set.BeforeEnd != nil {
		s.set.BeforeEnd(s.txns)
	}
	mu.Lock()
	commit := failed == nil
	mu.Unlock()
	if !commit {
		s.log.Warn("a re-key produce failed; aborting the transaction, its records are read again", zap.Error(failed))
	}
	committed, err := s.sess.End(s.bg, kgo.TransactionEndTry(commit))
	if ce := s.log.Check(zap.DebugLevel, "re-key transaction ended"); ce != nil {
		ce.Write(zap.Int("events", c.produced), zap.Bool("committed", committed),
			zap.Duration("produce", produced.Sub(began)), zap.Duration("flush", flushed.Sub(produced)),
			zap.Duration("end", time.Since(flushed)))
	}
	if err != nil {
		s.obs.RekeyTransaction("aborted")
		return fmt.Errorf("cannot end a re-key transaction (the next start resumes from the last committed one): %w", err)
	}
	if !committed {
		s.obs.RekeyTransaction("aborted")
		s.log.Info("re-key transaction aborted (a rebalance or a failed produce); its records are read again")
		return nil
	}
	s.obs.RekeyTransaction("committed")
	c.publish(s.obs)
	return nil
}

// counts are one transaction's contributions to the metrics.
type counts struct {
	records, outcomes, letters map[string]int
	events                     map[eventKind]int
	ignored                    decode.Ignored
	produced                   int
	lag                        []partitionLag
}

// eventKind labels awumeter_events_total.
type eventKind struct {
	format string
	typ    event.Type
}

// partitionLag is an input partition's lag once the transaction commits.
type partitionLag struct {
	topic     string
	partition int32
	records   int64
}

func (c *counts) add(m *map[string]int, key string, n int) {
	if *m == nil {
		*m = map[string]int{}
	}
	(*m)[key] += n
}

func addIgnored(a, b decode.Ignored) decode.Ignored {
	a.NotGenAI += b.NotGenAI
	a.InvokeAgent += b.InvokeAgent
	a.OtherOperation += b.OtherOperation
	a.FailedModelCall += b.FailedModelCall
	return a
}

func (c *counts) publish(o Observer) {
	for t, n := range c.records {
		o.RecordsRead(t, n)
	}
	for k, n := range c.events {
		o.EventsDecoded(k.format, k.typ.String(), n)
	}
	for oc, n := range c.outcomes {
		o.EventOutcomes(oc, n)
	}
	for r, n := range c.letters {
		o.DeadLetters(r, n)
	}
	o.SpansIgnored(c.ignored)
	o.EventsRekeyed(c.produced)
	for _, l := range c.lag {
		o.RekeyLag(l.topic, l.partition, max(l.records, 0))
	}
}

// forget removes the lag series of partitions no longer owned.
func (s *Stage) forget(ps map[string][]int32) {
	for topic, ids := range ps {
		for _, p := range ids {
			s.obs.RekeyLagForgotten(topic, p)
		}
	}
}

// produce writes ev to the repartition topic, keyed by its workcycle. The
// record's value is a fresh slice: franz-go holds it until the promise.
func (s *Stage) produce(ev *event.Event, src *kgo.Record, promise func(*kgo.Record, error)) {
	value, _ := ev.AppendBinary(make([]byte, 0, binarySizeHint))
	r := &kgo.Record{
		Topic: s.topic,
		Key:   source.RepartitionKey(nil, ev.TenantID, ev.WorkcycleID),
		Value: value,
		Headers: []kgo.RecordHeader{
			{Key: HeaderSourceTopic, Value: []byte(src.Topic)},
			{Key: HeaderSourcePartition, Value: strconv.AppendInt(nil, int64(src.Partition), 10)},
			{Key: HeaderSourceOffset, Value: strconv.AppendInt(nil, src.Offset, 10)},
		},
	}
	s.sess.Produce(s.bg, r, promise)
}

// deadLetter produces the record with its original key, value and headers
// to the dead-letter topic, in the transaction; without one it is logged
// and counted.
func (s *Stage) deadLetter(rec *decode.Record, rejs []decode.Rejection, promise func(*kgo.Record, error)) {
	letter, ok := deadletter.New(rec, rejs)
	if !ok {
		return
	}
	fields := []zap.Field{zap.String("reason", string(letter.Reason)), zap.String("detail", letter.Detail),
		zap.String("topic", rec.Topic), zap.Int32("partition", rec.Partition), zap.Int64("offset", rec.Offset)}
	if !s.warned[letter.Reason] {
		s.warned[letter.Reason] = true
		s.log.Warn("record rejected by the re-key stage (further rejections for this reason are logged at debug level)", fields...)
	} else {
		s.log.Debug("record rejected by the re-key stage", fields...)
	}
	if s.kcfg.DeadLetterTopic == "" {
		return
	}
	hs := letter.KafkaHeaders()
	kr := &kgo.Record{Topic: s.kcfg.DeadLetterTopic,
		Key: letter.Key, Value: letter.Value, Headers: make([]kgo.RecordHeader, len(hs))}
	for i, h := range hs {
		kr.Headers[i] = kgo.RecordHeader{Key: h.Key, Value: h.Value}
	}
	s.sess.Produce(s.bg, kr, promise)
}

// Close leaves the group and closes the client within ctx; call it after
// Run returned. A transaction left open by a failed End is aborted by the
// brokers after rekey.transaction_timeout.
func (s *Stage) Close(ctx context.Context) error {
	defer s.cancel()
	done := make(chan struct{})
	go func() {
		s.sess.Close()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.cancel()
		return fmt.Errorf("the re-key stage did not leave its group in time: %w", ctx.Err())
	}
}
