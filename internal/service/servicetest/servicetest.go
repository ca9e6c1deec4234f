// Package servicetest holds what the integration tests of `awumeter run`
// share: generated telemetry, producers, the offline result the service
// must reproduce, and readers of the FINAL rows in ClickHouse.
package servicetest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/shopspring/decimal"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/awumeter/awumeter/internal/config"
	"github.com/awumeter/awumeter/internal/gen"
	"github.com/awumeter/awumeter/internal/testenv"
	"github.com/awumeter/awumeter/pipeline/decode"
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/event"
	"github.com/awumeter/awumeter/pipeline/migrate"
	"github.com/awumeter/awumeter/pipeline/offline"
	"github.com/awumeter/awumeter/pipeline/price"
	"github.com/awumeter/awumeter/pipeline/source"
)

// Telemetry generates n workcycles with duplicates, retries, late events,
// reordering, conflicts and malformed records.
func Telemetry(t testing.TB, n int, seed int64) *gen.Stream {
	t.Helper()
	return telemetry(t, n, seed, 0.01)
}

// TelemetryForAnyOrder is Telemetry without conflicts (an event id re-sent
// with different content), whose outcome is the order of delivery: the
// first copy stands (docs/engine.md). Records produced without a key reach
// the engines in an order no producer chose, so only a stream without
// conflicts has one right answer whatever the partitioning.
func TelemetryForAnyOrder(t testing.TB, n int, seed int64) *gen.Stream {
	t.Helper()
	return telemetry(t, n, seed, 0)
}

func telemetry(t testing.TB, n int, seed int64, conflicts float64) *gen.Stream {
	t.Helper()
	cfg := gen.DefaultConfig()
	cfg.Seed = seed
	cfg.Workcycles = n
	cfg.Start = time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Hour) // well inside every time bound
	cfg.Span = 30 * time.Minute
	cfg.DuplicateRate = 0.08
	cfg.ConflictRate = conflicts
	cfg.LateRate = 0.03
	cfg.LateDelay = 20 * time.Minute
	cfg.MalformedRate = 0.01
	s, err := gen.Generate(cfg)
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	return s
}

// Key is the Kafka key of a record: its workcycle, so that every event of a
// workcycle lands in one partition.
func Key(r gen.Record) []byte {
	if r.Event == nil {
		return nil
	}
	return []byte(r.Event.TenantID + "/" + r.Event.WorkcycleID)
}

// ProduceFranz produces records[from:to] with franz-go, keyed by workcycle.
func ProduceFranz(t testing.TB, brokers []string, topic string, recs []gen.Record) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := testenv.Context(t, time.Minute)
	krs := make([]*kgo.Record, len(recs))
	for i, r := range recs {
		krs[i] = &kgo.Record{Key: Key(r), Value: r.Line}
	}
	if err := cl.ProduceSync(ctx, krs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// ProduceKafkaGo produces records with segmentio/kafka-go's Hash balancer,
// the partitioner many existing producers use.
func ProduceKafkaGo(t testing.TB, brokers []string, topic string, recs []gen.Record) {
	t.Helper()
	// A transport of its own: kafka-go's shared default one caches metadata
	// for 6s and would not see a topic created since.
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: topic, Balancer: &kafka.Hash{},
		Transport: &kafka.Transport{MetadataTopics: []string{topic}},
		BatchSize: 1000, BatchTimeout: 5 * time.Millisecond, RequiredAcks: kafka.RequireAll}
	msgs := make([]kafka.Message, len(recs))
	for i, r := range recs {
		msgs[i] = kafka.Message{Key: Key(r), Value: r.Line}
	}
	if err := w.WriteMessages(testenv.Context(t, time.Minute), msgs...); err != nil {
		t.Fatalf("kafka-go produce: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// Migrate applies the embedded migrations to the test's database.
func Migrate(t testing.TB, ch *testenv.ClickHouse) {
	t.Helper()
	if _, err := migrate.Up(testenv.Context(t, time.Minute), ch.Conn, migrate.Options{Database: ch.Database}); err != nil {
		t.Fatalf("migrate: %v", err)
	}
}

// EngineConfig closes workcycles quickly, so tests need not wait long for
// the last ones; the final rows do not depend on it.
func EngineConfig() engine.Config {
	c := engine.DefaultConfig()
	c.SettleDelay = 10 * time.Second
	c.AllowedLateness = 30 * time.Second
	c.IdleTimeout = 5 * time.Minute
	c.ClosedRetention = 2 * time.Minute
	return c
}

// Config is a service configuration for the test stack.
func Config(k *testenv.Kafka, ch *testenv.ClickHouse, topic, group, dlq string) config.Config {
	c := config.Default()
	c.Kafka.Brokers = k.Brokers
	c.Kafka.Group = group
	tc := source.DefaultTopicConfig()
	tc.Name = topic
	c.Kafka.Topics = []source.TopicConfig{tc}
	c.Kafka.DeadLetterTopic = dlq
	c.Kafka.CommitInterval = 200 * time.Millisecond
	c.Kafka.IdleAdvance = time.Second
	c.Kafka.SessionTimeout = 6 * time.Second
	c.Kafka.RebalanceTimeout = 10 * time.Second
	c.ClickHouse.Addrs = []string{ch.Addr}
	c.ClickHouse.Database = ch.Database
	c.ClickHouse.Batch.FlushInterval = 100 * time.Millisecond
	c.ClickHouse.Retry.MaxBackoff = time.Second
	c.Engine = EngineConfig()
	c.HTTP.Listen = "127.0.0.1:0"
	c.HTTP.StallTimeout = 3 * time.Second
	c.Log.Level = "warn"
	c.ShutdownTimeout = 20 * time.Second
	return c
}

// Rows are final rows rendered as comparable lines, keyed by row identity.
type Rows struct {
	Workcycles map[string]string
	AWUs       map[string]string
	AWUModels  map[string]string
}

func newRows() Rows {
	return Rows{Workcycles: map[string]string{}, AWUs: map[string]string{}, AWUModels: map[string]string{}}
}

func wcLine(r *engine.WorkcycleRow) string {
	return fmt.Sprintf("v%d %s agent=%s outcome=%s/%s human=%d/%d/%s overridden=%d start=%s end=%s awus=%d/%d/%d/%d/%d actions=%d/%d attempts=%d retries=%d tokens=%d/%d/%d/%d/%d cost=%s credits=%d list=%s unpriced=%d",
		r.Version, r.State, r.AgentID, r.Outcome, r.OutcomeType, r.HumanMillis, r.CSAT, r.ResolvedBy, r.AWUsOverridden, r.StartedAt.UTC().Format(time.RFC3339), r.EndedAt.UTC().Format(time.RFC3339),
		r.AWUs, r.AWUsSucceeded, r.AWUsFailed, r.AWUsValidated, r.AWUsRolledBack, r.Actions, r.VoiceActions, r.Attempts, r.Retries,
		r.InputTokens, r.OutputTokens, r.CacheReadInputTokens, r.CacheCreationInputTokens, r.ReasoningTokens,
		r.TokenCost.StringFixed(12), r.Credits, r.ListCost.StringFixed(12), r.UnpricedTokens)
}

func awuLine(r *engine.AWURow) string {
	return fmt.Sprintf("v%d agent=%s %s/%s/%s status=%s validated=%t rolled_back=%t overridden=%t attempts=%d first=%s last=%s tokens=%d/%d/%d/%d/%d cost=%s credits=%d list=%s unpriced=%d",
		r.Version, r.AgentID, r.Kind, r.Tool, r.Channel, r.Status, r.Validated, r.RolledBack, r.Overridden, r.Attempts,
		r.FirstSeen.UTC().Format(time.RFC3339), r.LastSeen.UTC().Format(time.RFC3339),
		r.InputTokens, r.OutputTokens, r.CacheReadInputTokens, r.CacheCreationInputTokens, r.ReasoningTokens,
		r.TokenCost.StringFixed(12), r.Credits, r.ListCost.StringFixed(12), r.UnpricedTokens)
}

func awuModelLine(r *engine.AWUModelRow) string {
	return fmt.Sprintf("v%d provider=%s agent=%s %s/%s first=%s tokens=%d/%d/%d/%d/%d cost=%s unpriced=%d",
		r.Version, r.Provider, r.AgentID, r.Kind, r.Tool, r.FirstSeen.UTC().Format(time.RFC3339),
		r.InputTokens, r.OutputTokens, r.CacheReadInputTokens, r.CacheCreationInputTokens, r.ReasoningTokens,
		r.TokenCost.StringFixed(12), r.UnpricedTokens)
}

// Offline runs the records through one engine in delivery order, as
// `awumeter process` does, and returns the last version of every row.
func Offline(t testing.TB, recs []gen.Record, cfg engine.Config) Rows {
	t.Helper()
	final := offlineFinal(t, recs, cfg)
	out := newRows()
	for i := range final.Workcycles {
		r := &final.Workcycles[i]
		out.Workcycles[r.TenantID+"/"+r.WorkcycleID] = wcLine(r)
	}
	for i := range final.AWUs {
		r := &final.AWUs[i]
		out.AWUs[r.TenantID+"/"+r.WorkcycleID+"/"+r.AWUID] = awuLine(r)
	}
	for i := range final.AWUModels {
		r := &final.AWUModels[i]
		out.AWUModels[r.TenantID+"/"+r.WorkcycleID+"/"+r.AWUID+"/"+r.Model] = awuModelLine(r)
	}
	return out
}

// offlineFinal is the engine over the records in delivery order, with an
// in-memory ledger as History, reduced to the last version of every row.
func offlineFinal(t testing.TB, recs []gen.Record, cfg engine.Config) engine.Rows {
	t.Helper()
	dec, err := decode.New(decode.FormatJSON, decode.DefaultConfig(), decode.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	drecs := make([]decode.Record, len(recs))
	for i, r := range recs {
		drecs[i] = decode.Record{Topic: "offline", Offset: int64(i), Value: r.Line}
	}
	return OfflineRecords(t, dec, drecs, cfg, nil)
}

// OfflineRecords decodes recs with dec and folds them, in order, into one
// engine with an in-memory ledger as History; it returns the last version
// of every row. each, if not nil, is called after each record with its
// index, its events and its rejections, the engine's refusals included.
func OfflineRecords(t testing.TB, dec decode.Decoder, recs []decode.Record, cfg engine.Config,
	each func(i int, evs []event.Event, rejs []decode.Rejection)) engine.Rows {
	t.Helper()
	run, err := offline.New(dec, cfg, price.Default())
	if err != nil {
		t.Fatal(err)
	}
	final := engine.NewFinal()
	for i := range recs {
		res, err := run.Record(&recs[i])
		if err != nil {
			t.Fatal(err)
		}
		final.Add(run.Emit())
		if each != nil {
			each(i, res.Events, res.Rejections)
		}
	}
	final.Add(run.Flush())
	return final.Rows()
}

// Final reads the FINAL rows of the database.
func Final(ctx context.Context, ch *testenv.ClickHouse) (Rows, error) {
	out := newRows()
	rows, err := ch.Conn.Query(ctx, `SELECT tenant_id, workcycle_id, agent_id, outcome, outcome_type, human_millis, csat, resolved_by, awus_overridden, started_at, ended_at,
		awus, awus_succeeded, awus_failed, awus_validated, awus_rolled_back, actions, voice_actions, attempts, retries,
		input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens, reasoning_tokens,
		token_cost, credits, list_cost, unpriced_tokens, state, version FROM `+ch.Database+`.workcycles FINAL`)
	if err != nil {
		return out, err
	}
	for rows.Next() {
		var r engine.WorkcycleRow
		if err := rows.Scan(&r.TenantID, &r.WorkcycleID, &r.AgentID, &r.Outcome, &r.OutcomeType, &r.HumanMillis, &r.CSAT, &r.ResolvedBy, &r.AWUsOverridden, &r.StartedAt, &r.EndedAt,
			&r.AWUs, &r.AWUsSucceeded, &r.AWUsFailed, &r.AWUsValidated, &r.AWUsRolledBack, &r.Actions, &r.VoiceActions, &r.Attempts, &r.Retries,
			&r.InputTokens, &r.OutputTokens, &r.CacheReadInputTokens, &r.CacheCreationInputTokens, &r.ReasoningTokens,
			&r.TokenCost, &r.Credits, &r.ListCost, &r.UnpricedTokens, &r.State, &r.Version); err != nil {
			rows.Close()
			return out, err
		}
		out.Workcycles[r.TenantID+"/"+r.WorkcycleID] = wcLine(&r)
	}
	rows.Close()
	rows, err = ch.Conn.Query(ctx, `SELECT tenant_id, workcycle_id, awu_id, agent_id, kind, tool, channel, status, validated, rolled_back, overridden,
		attempts, first_seen, last_seen, input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens, reasoning_tokens,
		token_cost, credits, list_cost, unpriced_tokens, version FROM `+ch.Database+`.awus FINAL`)
	if err != nil {
		return out, err
	}
	for rows.Next() {
		var r engine.AWURow
		var validated, rolledBack, overridden uint8
		if err := rows.Scan(&r.TenantID, &r.WorkcycleID, &r.AWUID, &r.AgentID, &r.Kind, &r.Tool, &r.Channel, &r.Status, &validated, &rolledBack, &overridden,
			&r.Attempts, &r.FirstSeen, &r.LastSeen, &r.InputTokens, &r.OutputTokens, &r.CacheReadInputTokens, &r.CacheCreationInputTokens, &r.ReasoningTokens,
			&r.TokenCost, &r.Credits, &r.ListCost, &r.UnpricedTokens, &r.Version); err != nil {
			rows.Close()
			return out, err
		}
		r.Validated, r.RolledBack, r.Overridden = validated == 1, rolledBack == 1, overridden == 1
		out.AWUs[r.TenantID+"/"+r.WorkcycleID+"/"+r.AWUID] = awuLine(&r)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return out, err
	}
	rows.Close()
	rows, err = ch.Conn.Query(ctx, `SELECT tenant_id, workcycle_id, awu_id, model, provider, agent_id, kind, tool, first_seen,
		input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens, reasoning_tokens,
		token_cost, unpriced_tokens, version FROM `+ch.Database+`.awu_models FINAL`)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	for rows.Next() {
		var r engine.AWUModelRow
		if err := rows.Scan(&r.TenantID, &r.WorkcycleID, &r.AWUID, &r.Model, &r.Provider, &r.AgentID, &r.Kind, &r.Tool, &r.FirstSeen,
			&r.InputTokens, &r.OutputTokens, &r.CacheReadInputTokens, &r.CacheCreationInputTokens, &r.ReasoningTokens,
			&r.TokenCost, &r.UnpricedTokens, &r.Version); err != nil {
			return out, err
		}
		out.AWUModels[r.TenantID+"/"+r.WorkcycleID+"/"+r.AWUID+"/"+r.Model] = awuModelLine(&r)
	}
	return out, rows.Err()
}

// Diff describes how got differs from want, at most a few lines; "" if equal.
func Diff(want, got Rows) string {
	var lines []string
	cmp := func(table string, w, g map[string]string) {
		keys := map[string]bool{}
		for k := range w {
			keys[k] = true
		}
		for k := range g {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		n := 0
		for _, k := range sorted {
			if w[k] != g[k] {
				n++
				if n <= 3 {
					lines = append(lines, fmt.Sprintf("%s %s:\n  want %q\n  got  %q", table, k, w[k], g[k]))
				}
			}
		}
		if n > 0 {
			lines = append(lines, fmt.Sprintf("%s: %d of %d rows differ (want %d rows, got %d)", table, n, len(sorted), len(w), len(g)))
		}
	}
	cmp("workcycles", want.Workcycles, got.Workcycles)
	cmp("awus", want.AWUs, got.AWUs)
	cmp("awu_models", want.AWUModels, got.AWUModels)
	return strings.Join(lines, "\n")
}

// WaitFinal polls the FINAL rows until they equal want or d passes, and
// returns the last difference ("" when equal).
func WaitFinal(t testing.TB, ch *testenv.ClickHouse, want Rows, d time.Duration) string {
	t.Helper()
	ctx := testenv.Context(t, d+10*time.Second)
	deadline := time.Now().Add(d)
	diff := "no read yet"
	for time.Now().Before(deadline) {
		got, err := Final(ctx, ch)
		if err != nil {
			diff = err.Error()
		} else if diff = Diff(want, got); diff == "" {
			return ""
		}
		time.Sleep(500 * time.Millisecond)
	}
	return diff
}

// RollupTotals sums the monthly rollup: AWUs, input tokens and token cost.
// A double-counted row would show here even where FINAL hides it.
func RollupTotals(ctx context.Context, ch *testenv.ClickHouse) (awus, input int64, cost decimal.Decimal, err error) {
	err = ch.Conn.QueryRow(ctx, `SELECT toInt64(sum(awus)), toInt64(sum(input_tokens)), sum(token_cost) FROM `+ch.Database+`.usage_monthly`).Scan(&awus, &input, &cost)
	return awus, input, cost, err
}

// OfflineTotals are RollupTotals computed from the offline rows.
func OfflineTotals(t testing.TB, recs []gen.Record, cfg engine.Config) (awus, input int64, cost decimal.Decimal) {
	t.Helper()
	cost = decimal.Zero
	for _, r := range offlineFinal(t, recs, cfg).AWUs {
		awus++
		input += r.InputTokens
		cost = cost.Add(r.TokenCost)
	}
	return awus, input, cost
}

// RequireRollupTotals requires the rollups of the database to hold the
// AWUs, input tokens and token cost of the offline result of recs, and
// every row of the four rollup views to equal its sum over the offline
// rows: nothing counted twice by a replay or a re-emission, nothing
// missing. The rollups are refreshed after the rows they sum are written,
// so it waits up to 30 seconds for them.
func RequireRollupTotals(t testing.TB, ctx context.Context, ch *testenv.ClickHouse, recs []gen.Record) {
	t.Helper()
	RequireRollups(t, ctx, ch, offlineFinal(t, recs, EngineConfig()))
	wantAWUs, wantInput, wantCost := OfflineTotals(t, recs, EngineConfig())
	awus, input, cost, err := RollupTotals(ctx, ch)
	if err != nil {
		t.Fatal(err)
	}
	if awus != wantAWUs || input != wantInput || !cost.Equal(wantCost) {
		t.Fatalf("rollups: %d AWUs, %d input tokens, cost %s; want %d, %d, %s", awus, input, cost, wantAWUs, wantInput, wantCost)
	}
}

// RequireRollups requires every row of usage_daily, usage_monthly,
// model_usage_daily and model_usage_monthly to equal the sums of the final
// rows that belong to it, and no other row to exist, within 30 seconds.
func RequireRollups(t testing.TB, ctx context.Context, ch *testenv.ClickHouse, final engine.Rows) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		diff, err := rollupDiff(ctx, ch, final)
		if err != nil {
			t.Fatal(err)
		}
		if diff == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("rollups differ from the sums of the final rows after 30s:\n%s", diff)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func rollupDiff(ctx context.Context, ch *testenv.ClickHouse, final engine.Rows) (string, error) {
	var diffs []string
	for _, monthly := range []bool{false, true} {
		period, view, modelView := "day", "usage_daily", "model_usage_daily"
		bucket := func(t time.Time) string { return t.UTC().Format(time.DateOnly) }
		if monthly {
			period, view, modelView = "month", "usage_monthly", "model_usage_monthly"
			bucket = func(t time.Time) string { return t.UTC().Format("2006-01") + "-01" }
		}
		want := map[string]*rollupSums{}
		for i := range final.AWUs {
			a := &final.AWUs[i]
			k := strings.Join([]string{bucket(a.FirstSeen), a.TenantID, a.AgentID, string(a.Kind), a.Tool, string(a.Channel)}, "|")
			sums(want, k).add(1, b2i(a.Status == "succeeded"), b2i(a.Validated), b2i(a.Kind == "tool" && a.Status == "succeeded"),
				b2i(a.Kind == "tool" && a.Status == "succeeded" && a.Channel == "voice"), a.Attempts, a.InputTokens, a.OutputTokens,
				a.Credits, a.TokenCost, a.ListCost)
		}
		d, err := compareRows(ctx, ch, view, fmt.Sprintf(`SELECT toString(%s), tenant_id, agent_id, kind, tool, channel,
			awus, awus_succeeded, awus_validated, actions, voice_actions, attempts, input_tokens, output_tokens, credits,
			toString(token_cost), toString(list_cost) FROM %s.%s`, period, ch.Database, view), 6, want)
		if err != nil {
			return "", err
		}
		diffs = append(diffs, d...)
		want = map[string]*rollupSums{}
		for i := range final.AWUModels {
			m := &final.AWUModels[i]
			k := strings.Join([]string{bucket(m.FirstSeen), m.TenantID, m.AgentID, m.Model, m.Provider, m.Tool}, "|")
			sums(want, k).add(1, 0, 0, 0, 0, 0, m.InputTokens, m.OutputTokens, 0, m.TokenCost, decimal.Zero)
		}
		d, err = compareRows(ctx, ch, modelView, fmt.Sprintf(`SELECT toString(%s), tenant_id, agent_id, model, provider, tool,
			awus, toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(0), toInt64(0), input_tokens, output_tokens, toInt64(0),
			toString(token_cost), '0' FROM %s.%s`, period, ch.Database, modelView), 6, want)
		if err != nil {
			return "", err
		}
		diffs = append(diffs, d...)
	}
	if len(diffs) > 20 {
		diffs = append(diffs[:20], fmt.Sprintf("and %d more", len(diffs)-20))
	}
	return strings.Join(diffs, "\n"), nil
}

type rollupSums struct {
	awus, succeeded, validated, actions, voice uint64
	attempts, input, output, credits           int64
	cost, list                                 decimal.Decimal
}

func sums(m map[string]*rollupSums, k string) *rollupSums {
	s := m[k]
	if s == nil {
		s = &rollupSums{}
		m[k] = s
	}
	return s
}

func (s *rollupSums) add(awus, succeeded, validated, actions, voice uint64, attempts, input, output, credits int64, cost, list decimal.Decimal) {
	s.awus += awus
	s.succeeded += succeeded
	s.validated += validated
	s.actions += actions
	s.voice += voice
	s.attempts += attempts
	s.input += input
	s.output += output
	s.credits += credits
	s.cost = s.cost.Add(cost)
	s.list = s.list.Add(list)
}

func (s *rollupSums) String() string {
	return fmt.Sprintf("awus=%d succeeded=%d validated=%d actions=%d voice=%d attempts=%d input=%d output=%d credits=%d cost=%s list=%s",
		s.awus, s.succeeded, s.validated, s.actions, s.voice, s.attempts, s.input, s.output, s.credits, s.cost, s.list)
}

func b2i(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// compareRows reads a rollup view, keyed by its first keyCols columns, and
// lists how it differs from want.
func compareRows(ctx context.Context, ch *testenv.ClickHouse, view, sql string, keyCols int, want map[string]*rollupSums) ([]string, error) {
	rows, err := ch.Conn.Query(ctx, sql)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", view, err)
	}
	defer rows.Close()
	var diffs []string
	got := map[string]*rollupSums{}
	for rows.Next() {
		key := make([]string, keyCols)
		var s rollupSums
		var cost, list string
		dest := []any{}
		for i := range key {
			dest = append(dest, &key[i])
		}
		dest = append(dest, &s.awus, &s.succeeded, &s.validated, &s.actions, &s.voice, &s.attempts, &s.input, &s.output, &s.credits, &cost, &list)
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("%s: %w", view, err)
		}
		s.cost, s.list = decimal.RequireFromString(cost), decimal.RequireFromString(list)
		k := strings.Join(key, "|")
		if got[k] != nil {
			diffs = append(diffs, fmt.Sprintf("%s: row %s twice", view, k))
		}
		got[k] = &s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", view, err)
	}
	keys := map[string]bool{}
	for k := range want {
		keys[k] = true
	}
	for k := range got {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		g, w := got[k], want[k]
		switch {
		case w == nil:
			diffs = append(diffs, fmt.Sprintf("%s: row %s (%s) has no final rows", view, k, g))
		case g == nil:
			diffs = append(diffs, fmt.Sprintf("%s: no row %s; want %s", view, k, w))
		case g.String() != w.String():
			diffs = append(diffs, fmt.Sprintf("%s: row %s is %s; want %s", view, k, g, w))
		}
	}
	return diffs, nil
}

// RequireCommittedAtEnd requires every partition's committed offset to be
// its end offset, as after a clean shutdown once caught up: nothing is left
// open and nothing uncommitted. An empty partition needs no commit.
func RequireCommittedAtEnd(t testing.TB, k *testenv.Kafka, group, topic string) {
	t.Helper()
	ctx := testenv.Context(t, 10*time.Second)
	ends, err := k.Admin.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := k.Admin.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(o kadm.ListedOffset) {
		c, ok := committed.Lookup(topic, o.Partition)
		if !ok && o.Offset == 0 {
			return // an empty partition: nothing to commit
		}
		if !ok || c.At != o.Offset {
			t.Errorf("partition %d: committed %d (found %t), end offset %d", o.Partition, c.At, ok, o.Offset)
		}
	})
}

// ProduceUnkeyed produces records with franz-go's round-robin partitioner
// and no key, as kcat, many HTTP gateways and the OpenTelemetry Collector
// without partition_traces_by_id do: a workcycle's records land on every
// partition.
func ProduceUnkeyed(t testing.TB, brokers []string, topic string, recs []gen.Record) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	krs := make([]*kgo.Record, len(recs))
	for i, r := range recs {
		krs[i] = &kgo.Record{Value: r.Line}
	}
	if err := cl.ProduceSync(testenv.Context(t, time.Minute), krs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// Unkeyed returns cfg with every topic declared not keyed by workcycle, so
// that the re-key stage consumes them.
func Unkeyed(cfg config.Config) config.Config {
	no := false
	cfg.Kafka.Topics = append([]source.TopicConfig(nil), cfg.Kafka.Topics...)
	for i := range cfg.Kafka.Topics {
		cfg.Kafka.Topics[i].KeyedByWorkcycle = &no
	}
	return cfg
}

// CleanupRepartition deletes, when the test ends, the repartition topic
// and the re-key group that the re-key stage of group creates.
func CleanupRepartition(t testing.TB, k *testenv.Kafka, group string) {
	t.Cleanup(func() {
		ctx := testenv.Context(t, 30*time.Second)
		k.Admin.DeleteTopics(ctx, source.RepartitionTopic(group))
		k.Admin.DeleteGroups(ctx, source.RekeyGroup(group))
	})
}

// CommittedDeadLetters reads the dead-letter topic read_committed, as a
// consumer that must not see letters of aborted re-key transactions does,
// until a poll finds nothing for 3s, and counts the letters by value. Call
// it once the service has stopped.
func CommittedDeadLetters(t testing.TB, k *testenv.Kafka, dlq string) map[string]int {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...), kgo.ConsumeTopics(dlq),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := testenv.Context(t, time.Minute)
	got := map[string]int{}
	for ctx.Err() == nil {
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		fs := cl.PollFetches(pctx)
		cancel()
		if fs.NumRecords() == 0 {
			break
		}
		fs.EachRecord(func(r *kgo.Record) { got[string(r.Value)]++ })
	}
	return got
}

// MalformedLines counts the malformed records of recs by value: the dead
// letters they must become.
func MalformedLines(recs []gen.Record) map[string]int {
	want := map[string]int{}
	for _, r := range recs {
		if r.Kind == gen.KindMalformed {
			want[string(r.Line)]++
		}
	}
	return want
}
