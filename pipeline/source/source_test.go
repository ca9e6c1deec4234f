package source_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/awumeter/awumeter/internal/gen"
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/event"
	"github.com/awumeter/awumeter/pipeline/sink"
	"github.com/awumeter/awumeter/pipeline/source"
)

// memSink is a ClickHouse stand-in: it keeps the last version of every row
// and a ledger for History, and acknowledges at once or when released.
type memSink struct {
	mu      sync.Mutex
	async   sync.WaitGroup
	slow    bool // acknowledge, and add to the ledger, 20ms later, like a real buffer
	hold    bool
	held    []sink.AckFunc
	ledger  *engine.MemoryHistory
	wcs     map[string]engine.WorkcycleRow
	awus    map[string]engine.AWURow
	batches int
	// ledger reads: per workcycle (Events) and per poll (EventsOf)
	singleReads, batchReads int
	keys                    map[string][]uint64 // topic/partition → workcycle key hashes written
}

func newMemSink() *memSink {
	return &memSink{ledger: engine.NewMemoryHistory(), wcs: map[string]engine.WorkcycleRow{}, awus: map[string]engine.AWURow{}}
}

func (m *memSink) Add(_ context.Context, b sink.Batch, ack sink.AckFunc) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.batches++
	if m.slow {
		m.async.Add(1)
		go func() {
			defer m.async.Done()
			time.Sleep(20 * time.Millisecond)
			m.mu.Lock()
			for i := range b.Events {
				m.ledger.Add(&b.Events[i])
			}
			m.storeKeys(b.Keys)
			m.mu.Unlock()
			ack(nil)
		}()
	} else {
		for i := range b.Events {
			m.ledger.Add(&b.Events[i])
		}
		m.storeKeys(b.Keys)
	}
	for _, r := range b.Workcycles {
		k := r.TenantID + "/" + r.WorkcycleID
		if old, ok := m.wcs[k]; !ok || r.Version >= old.Version {
			m.wcs[k] = r
		}
	}
	for _, r := range b.AWUs {
		k := r.TenantID + "/" + r.WorkcycleID + "/" + r.AWUID
		if old, ok := m.awus[k]; !ok || r.Version >= old.Version {
			m.awus[k] = r
		}
	}
	switch {
	case m.slow:
	case m.hold:
		m.held = append(m.held, ack)
	default:
		ack(nil)
	}
	return nil
}

func (m *memSink) Flush(ctx context.Context) error {
	m.async.Wait()
	for {
		m.mu.Lock()
		n := len(m.held)
		m.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func (m *memSink) release() {
	m.mu.Lock()
	held := m.held
	m.held, m.hold = nil, false
	m.mu.Unlock()
	for _, ack := range held {
		ack(nil)
	}
}

// Events implements engine.History over the acknowledged ledger.
func (m *memSink) Events(tenant, wc string) ([]event.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.singleReads++
	evs, _ := m.ledger.Events(tenant, wc)
	return append([]event.Event(nil), evs...), nil
}

// EventsOf implements source.BatchHistory over the acknowledged ledger.
func (m *memSink) EventsOf(_ context.Context, keys []sink.WorkcycleKey) (map[sink.WorkcycleKey][]event.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.batchReads++
	out := map[sink.WorkcycleKey][]event.Event{}
	for _, k := range keys {
		if evs, _ := m.ledger.Events(k.TenantID, k.WorkcycleID); len(evs) > 0 {
			out[k] = append([]event.Event(nil), evs...)
		}
	}
	return out, nil
}

func (m *memSink) storeKeys(ks []sink.KeyRow) {
	if m.keys == nil {
		m.keys = map[string][]uint64{}
	}
	for _, k := range ks {
		p := fmt.Sprintf("%s/%d", k.Topic, k.Partition)
		m.keys[p] = append(m.keys[p], k.Hash)
	}
}

// StoredKeys implements source.KeyedHistory over the written keys.
func (m *memSink) StoredKeys(_ context.Context, topic string, partition int32) ([]uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.keys[fmt.Sprintf("%s/%d", topic, partition)]), nil
}

// perWorkcycle hides the sink's batch read: the source then asks the ledger
// once per workcycle.
func perWorkcycle(ms *memSink) engine.History { return engine.HistoryFunc(ms.Events) }

func engineConfig() engine.Config {
	c := engine.DefaultConfig()
	c.SettleDelay = 10 * time.Second
	c.AllowedLateness = 30 * time.Second
	c.IdleTimeout = 5 * time.Minute
	c.ClosedRetention = 2 * time.Minute
	return c
}

func telemetry(t *testing.T, n int) *gen.Stream {
	cfg := gen.DefaultConfig()
	cfg.Workcycles = n
	cfg.Start = time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Hour) // well inside every time bound
	cfg.Span = 20 * time.Minute
	cfg.LateDelay = 15 * time.Minute
	cfg.LateRate = 0.05
	cfg.DuplicateRate = 0.1
	cfg.MalformedRate = 0.02
	s, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type fixture struct {
	cluster *kfake.Cluster
	adm     *kadm.Client
	stream  *gen.Stream
}

func newFixture(t *testing.T, workcycles int) *fixture {
	t.Helper()
	c, cl := newKfake(t, 3)
	s := telemetry(t, workcycles)
	var recs []*kgo.Record
	for _, r := range s.Records {
		var key []byte
		if r.Event != nil {
			key = []byte(r.Event.TenantID + "/" + r.Event.WorkcycleID)
		}
		recs = append(recs, &kgo.Record{Key: key, Value: r.Line})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	return &fixture{cluster: c, adm: kadm.NewClient(cl), stream: s}
}

func (f *fixture) config() source.Config {
	cfg := kfakeConfig(f.cluster)
	cfg.MaxPollRecords = 100
	return cfg
}

func start(t *testing.T, cfg source.Config, ms *memSink) (*source.Source, func()) {
	t.Helper()
	return startWith(t, cfg, ms, ms)
}

func startWith(t *testing.T, cfg source.Config, ms *memSink, history engine.History) (*source.Source, func()) {
	t.Helper()
	src, _, stop := runSource(t, cfg, source.Settings{Sink: ms, History: history})
	return src, stop
}

// caughtUp waits until every partition of the source has processed its end.
func caughtUp(t *testing.T, src *source.Source, partitions int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		st := src.Status()
		done := len(st.Partitions) == partitions
		for _, p := range st.Partitions {
			if p.HighWatermark == 0 || p.Next < p.HighWatermark {
				done = false
			}
		}
		if done {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("not caught up: %+v", src.Status())
}

func committed(t *testing.T, f *fixture, group string) map[int32]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	os, err := f.adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	os.Each(func(o kadm.OffsetResponse) {
		if o.Topic == "telemetry" {
			out[o.Partition] = o.At
		}
	})
	return out
}

func TestNothingIsCommittedBeforeTheSinkAcknowledges(t *testing.T) {
	f := newFixture(t, 60)
	ms := newMemSink()
	ms.hold = true
	src, stop := start(t, f.config(), ms)
	caughtUp(t, src, 3)
	time.Sleep(300 * time.Millisecond) // several commit intervals
	for p, off := range committed(t, f, source.DefaultGroup) {
		// Only records with no rows at all (dead letters, duplicates of
		// nothing) could be committed; the first record of every
		// partition starts a workcycle, so nothing may be.
		if off > 0 {
			t.Fatalf("partition %d committed at %d while every ClickHouse ack is held", p, off)
		}
	}
	ms.release()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := committed(t, f, source.DefaultGroup)
		moved := len(c) == 3
		for _, off := range c {
			moved = moved && off > 0
		}
		if moved {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("offsets did not move after the acks: %v", c)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
}

// Every record is processed once per ownership and a restart replays from
// the resume offset: the rows kept by version equal the offline result,
// and after a clean stop the committed offsets are the end offsets. The
// sink acknowledges late, so workcycles are evicted and rebuilt from the
// ledger while their latest events are still in flight.
func TestRestartFromCommittedOffsetsRebuildsIdenticalRows(t *testing.T) {
	t.Run("read per poll", func(t *testing.T) { testRestart(t, func(ms *memSink) engine.History { return ms }) })
	t.Run("read per workcycle", func(t *testing.T) { testRestart(t, perWorkcycle) })
}

func testRestart(t *testing.T, history func(*memSink) engine.History) {
	f := newFixture(t, 120)
	ms := newMemSink()
	ms.slow = true
	cfg := f.config()

	src, stop := startWith(t, cfg, ms, history(ms))
	// Stop in the middle: wait for some progress only.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ms.mu.Lock()
		n := ms.batches
		ms.mu.Unlock()
		if n >= 3 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	_ = src

	src, stop = startWith(t, cfg, ms, history(ms))
	caughtUp(t, src, 3)
	// Idle partitions advance their watermark; wait for the last rows.
	want := runOffline(t, f.stream, engineConfig())
	deadline = time.Now().Add(10 * time.Second)
	for {
		ms.mu.Lock()
		diff := diffRows(want, ms)
		ms.mu.Unlock()
		if diff == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rows differ from the offline result: %s", diff)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	if _, batch := history(ms).(source.BatchHistory); batch {
		ms.mu.Lock()
		singles, batches := ms.singleReads, ms.batchReads
		ms.mu.Unlock()
		if singles != 0 || batches == 0 {
			t.Errorf("%d ledger reads per workcycle and %d per poll; want none and some", singles, batches)
		}
	}
	ends, err := f.adm.ListEndOffsets(context.Background(), "telemetry")
	if err != nil {
		t.Fatal(err)
	}
	c := committed(t, f, source.DefaultGroup)
	ends.Each(func(o kadm.ListedOffset) {
		if c[o.Partition] != o.Offset {
			t.Errorf("partition %d committed at %d, end offset %d", o.Partition, c[o.Partition], o.Offset)
		}
	})
}

// Malformed records go to the dead-letter topic once each, bytes intact,
// and are committed past once produced.
func TestMalformedRecordsAreDeadLettered(t *testing.T) {
	f := newFixture(t, 40)
	ms := newMemSink()
	src, stop := start(t, f.config(), ms)
	caughtUp(t, src, 3)
	stop()
	want := map[string]int{}
	n := 0
	for _, r := range f.stream.Records {
		if r.Kind == gen.KindMalformed {
			want[string(r.Line)]++
			n++
		}
	}
	if n == 0 {
		t.Fatal("the stream has no malformed record")
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.cluster.ListenAddrs()...), kgo.ConsumeTopics("dlq"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got := 0
	for got < n && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			got++
			want[string(r.Value)]--
		})
	}
	for v, c := range want {
		if c != 0 {
			t.Errorf("record %q dead-lettered %d times too few", v, c)
		}
	}
}

// A missing input or dead-letter topic fails the start, named by its key,
// instead of a produce that retries forever once a record is rejected.
func TestCheckTopicsNamesTheMissingTopicByItsKey(t *testing.T) {
	f := newFixture(t, 1)
	check := func(change func(*source.Config)) error {
		cfg := f.config()
		change(&cfg)
		src, err := source.New(cfg, source.Settings{Sink: newMemSink(), Engine: engineConfig()})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Client().Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return src.CheckTopics(ctx)
	}
	if err := check(func(*source.Config) {}); err != nil {
		t.Fatalf("every topic exists: %v", err)
	}
	err := check(func(c *source.Config) { c.DeadLetterTopic = "dlq-missing" })
	want := `kafka.dead_letter_topic: topic "dlq-missing" does not exist; create it (e.g. with the same partition count as the input) or set auto-creation`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("missing dead-letter topic: %v\nwant %q", err, want)
	}
	err = check(func(c *source.Config) {
		tc := source.DefaultTopicConfig()
		tc.Name = "spans"
		c.Topics = append(c.Topics, tc)
	})
	if want := `kafka.topics[1].name: topic "spans" does not exist; create it or set auto-creation`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("missing input topic: %v\nwant %q", err, want)
	}
	if err := check(func(c *source.Config) { c.DeadLetterTopic = "" }); err != nil {
		t.Errorf("no dead-letter topic configured: %v", err)
	}
}
