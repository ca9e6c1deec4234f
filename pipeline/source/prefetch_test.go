package source

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/awumeter/awumeter/internal/gen"
	"github.com/awumeter/awumeter/pipeline/decode"
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/event"
	"github.com/awumeter/awumeter/pipeline/offline"
	"github.com/awumeter/awumeter/pipeline/sink"
)

// ledgerSink acknowledges every transaction at once and keeps its events in
// a ledger that it serves as a BatchHistory, counting the reads.
type ledgerSink struct {
	ledger  *engine.MemoryHistory
	rows    map[string]engine.WorkcycleRow // last version of each workcycle
	singles int                            // Events calls
	batches [][]sink.WorkcycleKey          // the keys of each EventsOf call
}

func newLedgerSink() *ledgerSink {
	return &ledgerSink{ledger: engine.NewMemoryHistory(), rows: map[string]engine.WorkcycleRow{}}
}

func (l *ledgerSink) Add(_ context.Context, b sink.Batch, ack sink.AckFunc) error {
	for i := range b.Events {
		l.ledger.Add(&b.Events[i])
	}
	for _, r := range b.Workcycles {
		l.rows[r.TenantID+"/"+r.WorkcycleID] = r
	}
	ack(nil)
	return nil
}

func (l *ledgerSink) Flush(context.Context) error { return nil }

// keyedLedger is a ledgerSink that also stores workcycle keys, so the
// source reads the ledger only for workcycles whose key it has stored.
type keyedLedger struct {
	*ledgerSink
	keys  []uint64
	loads int // StoredKeys calls
}

func (k *keyedLedger) Add(ctx context.Context, b sink.Batch, ack sink.AckFunc) error {
	for _, r := range b.Keys {
		if r.Topic != "telemetry" || r.Partition != 0 {
			return fmt.Errorf("key row for %s/%d, want telemetry/0", r.Topic, r.Partition)
		}
		k.keys = append(k.keys, r.Hash)
	}
	return k.ledgerSink.Add(ctx, b, ack)
}

func (k *keyedLedger) StoredKeys(_ context.Context, topic string, partition int32) ([]uint64, error) {
	k.loads++
	if topic != "telemetry" || partition != 0 {
		return nil, nil
	}
	return append([]uint64(nil), k.keys...), nil
}

func (l *ledgerSink) Events(tenant, wc string) ([]event.Event, error) {
	l.singles++
	return l.ledger.Events(tenant, wc)
}

func (l *ledgerSink) EventsOf(_ context.Context, keys []sink.WorkcycleKey) (map[sink.WorkcycleKey][]event.Event, error) {
	l.batches = append(l.batches, append([]sink.WorkcycleKey(nil), keys...))
	out := map[sink.WorkcycleKey][]event.Event{}
	for _, k := range keys {
		if evs, _ := l.ledger.Events(k.TenantID, k.WorkcycleID); len(evs) > 0 {
			out[k] = evs
		}
	}
	return out, nil
}

// assigned returns a source over l with partition 0 of "telemetry" assigned,
// its clock fixed at now; nothing is ever polled.
func assigned(t *testing.T, l interface {
	Sink
	BatchHistory
}, cfg engine.Config, now time.Time) (*Source, *partition) {
	t.Helper()
	scfg := DefaultConfig()
	tc := DefaultTopicConfig()
	tc.Name = "telemetry"
	scfg.Topics = []TopicConfig{tc}
	scfg.Brokers = []string{"127.0.0.1:1"} // never dialled
	s, err := New(scfg, Settings{Sink: l, Engine: cfg, History: l, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.cl.Close)
	s.onAssigned(context.Background(), s.cl, map[string][]int32{"telemetry": {0}})
	st := s.parts[topicPartition{"telemetry", 0}]
	if st == nil || st.hist == nil || st.hist.batch == nil {
		t.Fatal("partition 0 has no batch history")
	}
	return s, st
}

// poll processes lines as one poll, from offset *next on.
func poll(t *testing.T, s *Source, st *partition, next *int64, lines ...[]byte) {
	t.Helper()
	recs := make([]*kgo.Record, len(lines))
	for i, l := range lines {
		recs[i] = &kgo.Record{Topic: "telemetry", Offset: *next, Value: l}
		*next++
	}
	if err := s.process(context.Background(), st, recs, s.set.Now()); err != nil {
		t.Fatal(err)
	}
}

// A poll that starts N new workcycles reads the ledger once, for all N,
// and never per workcycle; a poll of workcycles the engine holds reads
// nothing.
func TestPollReadsTheLedgerOnceForAllItsNewWorkcycles(t *testing.T) {
	now := time.Now().UTC()
	l := newLedgerSink()
	s, st := assigned(t, l, engine.DefaultConfig(), now)
	cfg := gen.DefaultConfig()
	cfg.Workcycles = 500
	cfg.Start = now.Add(-6 * time.Hour)
	cfg.Span = time.Hour
	cfg.MalformedRate, cfg.LateRate = 0, 0
	stream, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Split the stream where a workcycle first appears, so that the second
	// poll has new workcycles as well as ones the engine holds.
	seen := map[string]bool{}
	var first, second [][]byte
	for _, r := range stream.Records {
		k := r.Event.TenantID + "/" + r.Event.WorkcycleID
		if len(seen) < 300 || seen[k] {
			first = append(first, r.Line)
			seen[k] = true
		} else {
			second = append(second, r.Line)
		}
	}

	var next int64
	poll(t, s, st, &next, first...)
	if l.singles != 0 || len(l.batches) != 1 || len(l.batches[0]) != 300 {
		t.Fatalf("after %d new workcycles: %d reads per workcycle, %d per poll (keys %v); want 0, 1 (300)",
			300, l.singles, len(l.batches), batchSizes(l.batches))
	}
	held := 0
	for k := range seen {
		if st.eng.Holds(split(k)) {
			held++
		}
	}
	if held != 300 {
		t.Errorf("the engine holds %d of the 300 workcycles", held)
	}
	poll(t, s, st, &next, second...)
	if l.singles != 0 || len(l.batches) != 2 || len(l.batches[1]) != 200 {
		t.Fatalf("after 200 more: %d reads per workcycle, %d per poll (keys %v); want 0, 2 (300, 200)",
			l.singles, len(l.batches), batchSizes(l.batches))
	}
	var again [][]byte // duplicates of events of held workcycles
	for _, r := range stream.Records {
		if st.eng.Holds(r.Event.TenantID, r.Event.WorkcycleID) && len(again) < 50 {
			again = append(again, r.Line)
		}
	}
	if len(again) == 0 {
		t.Fatal("the engine holds none of the workcycles")
	}
	poll(t, s, st, &next, again...)
	if l.singles != 0 || len(l.batches) != 2 {
		t.Fatalf("held workcycles only: %d reads per workcycle, %d per poll; want 0, 2", l.singles, len(l.batches))
	}
	if len(st.hist.known) != 0 {
		t.Errorf("%d prefetched workcycles kept after the poll", len(st.hist.known))
	}
}

// With the partition's workcycle keys, new workcycles cost no ledger read
// at all. After a restart the keys are loaded once, and the replayed
// workcycles, whose keys were stored, are read from the ledger: they are
// rebuilt with their stored events, and the rows come out unchanged.
func TestNewWorkcyclesNeedNoLedgerReadWithStoredKeys(t *testing.T) {
	now := time.Now().UTC()
	l := &keyedLedger{ledgerSink: newLedgerSink()}
	s, st := assigned(t, l, engine.DefaultConfig(), now)
	cfg := gen.DefaultConfig()
	cfg.Workcycles = 500
	cfg.Start = now.Add(-6 * time.Hour)
	cfg.Span = time.Hour
	cfg.MalformedRate, cfg.LateRate = 0, 0
	stream, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lines := make([][]byte, len(stream.Records))
	wcs := map[string]bool{}
	for i, r := range stream.Records {
		lines[i] = r.Line
		wcs[r.Event.TenantID+"/"+r.Event.WorkcycleID] = true
	}
	var next int64
	for i := 0; i < len(lines); i += 400 {
		poll(t, s, st, &next, lines[i:min(i+400, len(lines))]...)
	}
	st.eng.AdvanceTo(now.Add(time.Hour))
	if err := s.emit(context.Background(), st, sink.Batch{}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if l.singles != 0 || len(l.batches) != 0 || l.loads != 1 {
		t.Fatalf("%d reads per workcycle, %d per poll, %d key loads; want 0, 0, 1", l.singles, len(l.batches), l.loads)
	}
	if len(l.keys) != len(wcs) {
		t.Fatalf("%d keys stored for %d workcycles", len(l.keys), len(wcs))
	}
	first := maps.Clone(l.rows)
	if len(first) != len(wcs) {
		t.Fatalf("%d workcycle rows for %d workcycles", len(first), len(wcs))
	}

	// A restart replays the whole partition: every workcycle is known.
	s2, st2 := assigned(t, l, engine.DefaultConfig(), now)
	next = 0
	for i := 0; i < len(lines); i += 400 {
		poll(t, s2, st2, &next, lines[i:min(i+400, len(lines))]...)
	}
	st2.eng.AdvanceTo(now.Add(time.Hour))
	if err := s2.emit(context.Background(), st2, sink.Batch{}, time.Now()); err != nil {
		t.Fatal(err)
	}
	read := 0
	for _, b := range l.batches {
		read += len(b)
	}
	if l.loads != 2 || read != len(wcs) || len(l.keys) != len(wcs) {
		t.Errorf("after the restart: %d key loads, %d workcycles read, %d keys stored; want 2, %d, %d",
			l.loads, read, len(l.keys), len(wcs), len(wcs))
	}
	if !maps.EqualFunc(first, l.rows, func(a, b engine.WorkcycleRow) bool { return fmt.Sprint(a) == fmt.Sprint(b) }) {
		t.Error("the replay changed workcycle rows")
	}
}

func batchSizes(b [][]sink.WorkcycleKey) []int {
	out := make([]int, len(b))
	for i, keys := range b {
		out[i] = len(keys)
	}
	return out
}

func split(k string) (string, string) {
	for i := range k {
		if k[i] == '/' {
			return k[:i], k[i+1:]
		}
	}
	return k, ""
}

// A late event of a workcycle that was emitted and evicted is answered from
// the poll's read of the ledger: the workcycle is rebuilt with every stored
// event, and its new row equals the offline engine's.
func TestLateEventAfterEvictionIsRebuiltFromThePrefetchedLedger(t *testing.T) {
	day := time.Now().UTC().Add(-24 * time.Hour).Truncate(time.Hour)
	at := func(d time.Duration) string { return day.Add(d).Format(time.RFC3339) }
	ev := func(id, wc string, d time.Duration, rest string) []byte {
		return fmt.Appendf(nil, `{"event_id":%q,"time":%q,"tenant_id":"acme","workcycle_id":%q,"agent_id":"bot",%s}`, id, at(d), wc, rest)
	}
	started, done := `"type":"workcycle","phase":"started"`, `"type":"workcycle","phase":"completed","outcome":"resolved","outcome_type":"case"`
	tokens := `"type":"token_usage","awu_id":"u1","attempt":1,"model":"gemini-3-pro","provider":"google","input_tokens":12000,"output_tokens":2000`
	polls := [][][]byte{
		{ev("a1", "wc-a", 0, started), ev("a2", "wc-a", 5*time.Second, `"type":"tool_invocation","awu_id":"u2","attempt":1,"tool":"crm.lookup","status":"succeeded"`), ev("a3", "wc-a", 10*time.Second, done)},
		{ev("b1", "wc-b", 10*time.Minute, started)}, // closes wc-a
		{ev("c1", "wc-c", 20*time.Minute, started)}, // evicts it (closed_retention 2m)
		{ev("a4", "wc-a", 7*time.Second, tokens)},   // late: wc-a is not held
		{ev("a4", "wc-a", 7*time.Second, tokens)},   // a duplicate of it: wc-a is held again
		{ev("c2", "wc-c", 20*time.Minute+time.Second, done)},
	}
	cfg := engine.DefaultConfig()
	cfg.SettleDelay, cfg.AllowedLateness, cfg.IdleTimeout, cfg.ClosedRetention = 10*time.Second, 30*time.Second, 5*time.Minute, 2*time.Minute

	for _, keyed := range []bool{false, true} {
		t.Run(fmt.Sprintf("keyed=%v", keyed), func(t *testing.T) {
			lateEventAfterEviction(t, cfg, day, polls, keyed)
		})
	}
}

func lateEventAfterEviction(t *testing.T, cfg engine.Config, day time.Time, polls [][][]byte, keyed bool) {
	l := newLedgerSink()
	var s *Source
	var st *partition
	if keyed {
		s, st = assigned(t, &keyedLedger{ledgerSink: l}, cfg, time.Now())
	} else {
		s, st = assigned(t, l, cfg, time.Now())
	}
	var next int64
	for i, p := range polls {
		if i == 3 && st.eng.Holds("acme", "wc-a") {
			t.Fatal("wc-a is still held; the test needs it evicted")
		}
		poll(t, s, st, &next, p...)
	}
	st.eng.AdvanceTo(day.Add(time.Hour))
	if err := s.emit(context.Background(), st, sink.Batch{}, time.Now()); err != nil {
		t.Fatal(err)
	}

	if l.singles != 0 {
		t.Errorf("%d reads per workcycle, want 0", l.singles)
	}
	// Polls 1 to 4 each meet a workcycle the engine does not hold. With
	// the partition's workcycle keys, only the late event of poll 4 needs
	// a read: the others are new.
	if want := map[bool]int{false: 4, true: 1}[keyed]; len(l.batches) != want {
		t.Errorf("%d reads per poll (keys %v), want %d", len(l.batches), batchSizes(l.batches), want)
	}
	if got := st.eng.Stats().HistoryRebuilds; got != 1 {
		t.Errorf("%d workcycles rebuilt from the ledger, want 1", got)
	}

	// Offline: one engine over the same records with a ledger in memory,
	// emitting after each poll as the partition does.
	run, err := offline.New(st.dec, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]engine.WorkcycleRow{}
	keep := func(rows engine.Rows) {
		for _, r := range rows.Workcycles {
			want[r.TenantID+"/"+r.WorkcycleID] = r
		}
	}
	var off int64
	for _, p := range polls {
		for _, line := range p {
			rec := decode.Record{Topic: "telemetry", Offset: off, Value: line}
			off++
			if _, err := run.Record(&rec); err != nil {
				t.Fatal(err)
			}
		}
		keep(run.Emit())
	}
	keep(run.Flush())
	a := l.rows["acme/wc-a"]
	if a.Version != 4 || a.InputTokens != 12000 {
		t.Errorf("wc-a: version %d with %d input tokens, want 4 with 12000", a.Version, a.InputTokens)
	}
	for k, w := range want {
		if g := l.rows[k]; fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("%s:\n got %+v\nwant %+v", k, g, w)
		}
	}
}
