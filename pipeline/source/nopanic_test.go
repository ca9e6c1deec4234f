package source_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/awumeter/awumeter/internal/metrics"
	"github.com/awumeter/awumeter/pipeline/deadletter"
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/event"
	"github.com/awumeter/awumeter/pipeline/sink"
	"github.com/awumeter/awumeter/pipeline/source"
)

// rowSink acknowledges every transaction at once, keeps its events as a
// ledger for History, and remembers which record offsets reached a
// transaction and every row emitted.
type rowSink struct {
	mu      sync.Mutex
	ledger  *engine.MemoryHistory
	offsets map[int64]bool
	wcs     []engine.WorkcycleRow
	awus    []engine.AWURow
	models  []sink.AWUModelRow
}

func (r *rowSink) Add(_ context.Context, b sink.Batch, ack sink.AckFunc) error {
	r.mu.Lock()
	for i := range b.Events {
		r.ledger.Add(&b.Events[i])
		r.offsets[b.Events[i].Source.Offset] = true
	}
	r.wcs = append(r.wcs, b.Workcycles...)
	r.awus = append(r.awus, b.AWUs...)
	r.models = append(r.models, b.AWUModels...)
	r.mu.Unlock()
	ack(nil)
	return nil
}

func (r *rowSink) Flush(context.Context) error { return nil }

func (r *rowSink) Events(tenant, wc string) ([]event.Event, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	evs, err := r.ledger.Events(tenant, wc)
	return append([]event.Event(nil), evs...), err
}

// hostileCase is one or more records of hostile input, in order.
type hostileCase struct {
	name    string
	records []string
}

// hostileCases are the extreme inputs of issue 11, as native JSON records.
// Every case uses workcycles of its own. when is a time well inside every
// decoder bound.
func hostileCases(when time.Time) []hostileCase {
	ts := when.Format(time.RFC3339Nano)
	tok := func(wc, id, model, in, out string) string {
		// Event ids are unique per tenant: a second "e1" would be a conflict.
		return fmt.Sprintf(`{"event_id":%q,"time":%q,"tenant_id":"t","workcycle_id":%q,"type":"token_usage","awu_id":"u","model":%q,"input_tokens":%s,"output_tokens":%s}`,
			wc+"/"+id, ts, wc, model, in, out)
	}
	started := func(tenant, wc, agent string) string {
		return fmt.Sprintf(`{"event_id":%q,"time":%q,"tenant_id":%q,"workcycle_id":%q,"type":"workcycle","phase":"started","agent_id":%q}`,
			"s/"+wc, ts, tenant, wc, agent)
	}
	long := strings.Repeat("x", 100_000)
	return []hostileCase{
		{"an unknown model with token counts of the largest int64", []string{
			tok("wc-max", "e1", "no-such-model", "9223372036854775807", "9223372036854775807")}},
		{"two events of one AWU whose input tokens sum past the largest int64", []string{
			tok("wc-sum", "e1", "gemini-3-flash", "5000000000000000000", "1"),
			tok("wc-sum", "e2", "gemini-3-flash", "5000000000000000000", "1")}},
		{"ten events of one AWU of 10^18 input tokens each, whose sum passes the largest int64", func() []string {
			var out []string
			for i := range 10 {
				out = append(out, tok("wc-ten", fmt.Sprintf("e%d", i), "gemini-3-flash", "1000000000000000000", "1"))
			}
			return out
		}()},
		{"an unknown model with token counts of 10^18", []string{
			tok("wc-unknown", "e1", "no-such-model", "1000000000000000000", "1000000000000000000")}},
		{"a token count past the largest int64", []string{
			tok("wc-over", "e1", "gemini-3-flash", "9223372036854775808", "1")}},
		{"a token count of 1e400", []string{tok("wc-e400", "e1", "gemini-3-flash", "1e400", "1")}},
		{"a token count of 1e-400", []string{tok("wc-e-400", "e1", "gemini-3-flash", "1e-400", "1")}},
		{"a token count of 1.0000000000000001", []string{tok("wc-frac", "e1", "gemini-3-flash", "1.0000000000000001", "1")}},
		{"a token count of 4611686018427387905.0", []string{tok("wc-half", "e1", "gemini-3-flash", "4611686018427387905.0", "1")}},
		{"a negative token count", []string{tok("wc-neg", "e1", "gemini-3-flash", "-1", "1")}},
		{"a token count of NaN", []string{tok("wc-nan", "e1", "gemini-3-flash", "NaN", "1")}},
		{"a token count of a hundred digits", []string{tok("wc-digits", "e1", "gemini-3-flash", strings.Repeat("9", 100), "1")}},
		{"a workcycle id of 100 KB", []string{started("t", "wc-"+long, "a")}},
		{"a tenant id of 100 KB", []string{started("t-"+long, "wc-long-tenant", "a")}},
		{"an agent id of 100 KB", []string{started("t", "wc-long-agent", "a-"+long)}},
		{"a model name of 100 KB", []string{tok("wc-long-model", "e1", "m-"+long, "1", "1")}},
		{"duplicate keys", []string{
			fmt.Sprintf(`{"event_id":"wc-dup/e1","time":%q,"tenant_id":"t","workcycle_id":"wc-dup","workcycle_id":"wc-dup2","type":"token_usage","awu_id":"u","model":"gemini-3-flash","input_tokens":1,"input_tokens":2,"output_tokens":1}`, ts)}},
		{"control characters and ANSI escapes in ids", []string{
			started("t\\u0000\\u001b[31m", "wc-ctl\\nTotal     USD 0.00", "a\\u0007")}},
		{"invalid UTF-8 in an id", []string{started("t", "wc-\xff\xfe", "a")}},
		{"a record that is not JSON", []string{`{"event_id":`}},
		{"an empty record", []string{``}},
	}
}

// The whole service path (decode → engine → sink → metrics) through a Kafka
// consumer on kfake survives every hostile input of issue 11: it does not
// panic or stop, every record yields rows or a dead letter, no emitted row
// holds a negative count or cost, and the committed offset moves past
// every record. With the largest per-event token bound, sums of valid
// counts pass the largest int64 in the engine and the metrics too.
func TestHostileRecordsNeitherPanicNorStallTheService(t *testing.T) {
	// Every token count of an unknown model is refused by the default
	// bound; at 10^18, the 2 × 10^18 tokens of one such event are counted.
	t.Run("with the default limits", func(t *testing.T) { testHostile(t, func(*source.TopicConfig) {}, 0) })
	t.Run("with max_tokens_per_event at its largest, 10^18", func(t *testing.T) {
		testHostile(t, func(tc *source.TopicConfig) { tc.Decode.MaxTokensPerEvent = 1_000_000_000_000_000_000 }, 2e18)
	})
}

func testHostile(t *testing.T, tune func(*source.TopicConfig), unpriced float64) {
	c, cl := newKfake(t, 1, kgo.ProducerBatchMaxBytes(4<<20))
	cases := hostileCases(time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond))
	offsets := map[string][]int64{}
	var recs []*kgo.Record
	for _, hc := range cases {
		for _, v := range hc.records {
			offsets[hc.name] = append(offsets[hc.name], int64(len(recs)))
			recs = append(recs, &kgo.Record{Key: []byte(hc.name), Value: []byte(v)})
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	cfg := kfakeConfig(c, tune)
	m := metrics.New("test")
	rs := &rowSink{ledger: engine.NewMemoryHistory(), offsets: map[int64]bool{}}
	_, stopped, stop := runSource(t, cfg, source.Settings{Sink: rs, History: rs, Observer: m.Observer()})

	// The committed offset moves past every record: workcycles close when
	// the idle partition's watermark moves to the wall clock.
	committed := waitCommitted(t, kadm.NewClient(cl), source.DefaultGroup, int64(len(recs)), stopped, 20*time.Second)
	stop()

	// The dead letters, by source offset.
	letters := map[int64]string{}
	rd, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics("dlq"))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	hw, err := kadm.NewClient(rd).ListEndOffsets(ctx, "dlq")
	if err != nil {
		t.Fatal(err)
	}
	end, _ := hw.Lookup("dlq", 0)
	for n := int64(0); n < end.Offset && ctx.Err() == nil; {
		rd.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			n++
			var off int64 = -1
			var reason string
			for _, h := range r.Headers {
				switch h.Key {
				case deadletter.HeaderSourceOffset:
					off, _ = strconv.ParseInt(string(h.Value), 10, 64)
				case deadletter.HeaderReason:
					reason = string(h.Value)
				}
			}
			if string(r.Value) != string(recs[off].Value) {
				t.Errorf("the dead letter of offset %d does not hold the record's bytes", off)
			}
			letters[off] = reason
		})
	}

	rs.mu.Lock()
	defer rs.mu.Unlock()
	for _, hc := range cases {
		t.Run(hc.name, func(t *testing.T) {
			for _, off := range offsets[hc.name] {
				if off >= committed {
					t.Errorf("record %d is not committed past (committed offset %d)", off, committed)
				}
				reason, lettered := letters[off]
				switch {
				case lettered && rs.offsets[off]:
					t.Errorf("record %d both reached the sink and was dead-lettered (%s)", off, reason)
				case lettered:
					t.Logf("record %d: dead letter %s", off, reason)
				case rs.offsets[off]:
					t.Logf("record %d: accepted", off)
				default:
					t.Errorf("record %d yielded neither rows nor a dead letter", off)
				}
			}
		})
	}
	t.Run("no row holds a negative count or cost", func(t *testing.T) {
		neg := func(what string, tc engine.TokenCounts, unpriced int64, cost ...interface{ IsNegative() bool }) {
			if tc.InputTokens < 0 || tc.OutputTokens < 0 || tc.CacheReadInputTokens < 0 || tc.CacheCreationInputTokens < 0 ||
				tc.ReasoningTokens < 0 || unpriced < 0 {
				t.Errorf("%s: negative tokens %+v, unpriced %d", what, tc, unpriced)
			}
			for _, c := range cost {
				if c.IsNegative() {
					t.Errorf("%s: negative cost", what)
				}
			}
		}
		for _, r := range rs.wcs {
			neg("workcycle "+r.WorkcycleID, r.TokenCounts, r.UnpricedTokens, r.TokenCost, r.ListCost)
		}
		for _, r := range rs.awus {
			neg("AWU "+r.WorkcycleID+"/"+r.AWUID, r.TokenCounts, r.UnpricedTokens, r.TokenCost, r.ListCost)
		}
		for _, r := range rs.models {
			neg("AWU model "+r.WorkcycleID+"/"+r.Model, r.TokenCounts, r.UnpricedTokens, r.TokenCost)
		}
	})
	t.Run("the metrics count every record and every unpriced token", func(t *testing.T) {
		if got := metricValue(t, m, `awumeter_records_total{topic="telemetry"}`); got != float64(len(recs)) {
			t.Errorf("records_total %v, want %d", got, len(recs))
		}
		if got := metricValue(t, m, "awumeter_unpriced_tokens_total"); got != unpriced {
			t.Errorf("unpriced_tokens_total %v, want %v", got, unpriced)
		}
	})
}
