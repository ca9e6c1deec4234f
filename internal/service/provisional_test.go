package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/awumeter/awumeter/internal/config"
	"github.com/awumeter/awumeter/internal/service"
	"github.com/awumeter/awumeter/internal/service/servicetest"
	"github.com/awumeter/awumeter/internal/testenv"
	"github.com/awumeter/awumeter/pipeline/guard"
)

// jsonEvent is one v1 event in the json format.
func jsonEvent(fields map[string]any) []byte {
	b, err := json.Marshal(fields)
	if err != nil {
		panic(err)
	}
	return b
}

func produce(t *testing.T, k *testenv.Kafka, topic string, values ...[]byte) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	recs := make([]*kgo.Record, len(values))
	for i, v := range values {
		var e struct {
			Tenant    string `json:"tenant_id"`
			Workcycle string `json:"workcycle_id"`
		}
		_ = json.Unmarshal(v, &e)
		recs[i] = &kgo.Record{Topic: topic, Key: []byte(e.Tenant + "/" + e.Workcycle), Value: v}
	}
	if err := cl.ProduceSync(testenv.Context(t, 30*time.Second), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// workcycleState polls the workcycle's FINAL row until it has the version
// and state wanted, and returns how long that took.
func waitWorkcycle(t *testing.T, ch *testenv.ClickHouse, tenant, workcycle, state string, version uint64, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	var gotState string
	var gotVersion uint64
	for time.Since(start) < within {
		row := ch.Conn.QueryRow(context.Background(), `SELECT state, version FROM `+ch.Database+`.workcycles FINAL WHERE tenant_id = ? AND workcycle_id = ?`, tenant, workcycle)
		if err := row.Scan(&gotState, &gotVersion); err == nil && gotState == state && gotVersion == version {
			return time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("workcycle %s/%s: state %q version %d after %s, want %q version %d", tenant, workcycle, gotState, gotVersion, within, state, version)
	return 0
}

// A workcycle with no completed event, as OTLP producers send them, is
// visible within engine.emit_interval plus a flush, with state open. The
// committed offset moves past its events while it is open, and an instance
// that takes the partition over restores it from its state row and closes
// it: without the restore no replay would bring it back, and it would stay
// open for good.
func TestOpenWorkcycleIsVisibleWithinTheEmitInterval(t *testing.T) {
	k := testenv.NewKafka(t)
	ch := testenv.NewClickHouse(t)
	servicetest.Migrate(t, ch)
	topic, dlq, group := k.Topic(t, 1), k.Topic(t, 1), k.Group(t)
	cfg := servicetest.Config(k, ch, topic, group, dlq)
	const emitInterval = time.Second
	cfg.Engine.EmitInterval = emitInterval
	cfg.Kafka.IdleAdvance = time.Hour // nothing closes by the clock in the first instance

	svc, ctx := start(t, cfg)
	time.Sleep(2 * time.Second) // joined and idle

	// Ten minutes ago, so that the second instance's clock closes it at once.
	at := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Millisecond)
	var evs [][]byte
	for i := range 6 {
		evs = append(evs, jsonEvent(map[string]any{
			"event_id": fmt.Sprintf("e%d", i), "time": at.Add(time.Duration(i) * time.Second).Format(time.RFC3339Nano),
			"tenant_id": "acme", "workcycle_id": "otlp-1", "type": "token_usage", "awu_id": fmt.Sprintf("call-%d", i),
			"model": "gemini-3-flash", "input_tokens": 1000, "output_tokens": 100,
		}))
	}
	produced := time.Now()
	produce(t, k, topic, evs...)
	waited := waitWorkcycle(t, ch, "acme", "otlp-1", "open", 6, 30*time.Second)
	visible := time.Since(produced)
	bound := emitInterval + cfg.ClickHouse.Batch.FlushInterval + 2*time.Second // slack for a busy machine
	t.Logf("provisional row visible %s after the produce (polled %s); bound %s", visible, waited, bound)
	if visible > bound {
		t.Fatalf("provisional row visible after %s, want within emit_interval %s plus a flush (bound %s)", visible, emitInterval, bound)
	}

	if n := metricValue(t, svc, "awumeter_provisional_rows_total"); n < 1 {
		t.Fatalf("awumeter_provisional_rows_total = %v", n)
	}
	// The offsets move past the open workcycle, once its rows and its
	// state row are acknowledged.
	waitCommitted(t, k, group, topic, 6, 20*time.Second)
	if err := svc.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	// The next owner restores it and its clock closes it (idle timeout).
	cfg.Kafka.IdleAdvance = time.Second
	next, _ := start(t, cfg)
	waitWorkcycle(t, ch, "acme", "otlp-1", "closed", 6, 30*time.Second)
	if restored := metricValue(t, next, "awumeter_restored_workcycles_total"); restored != 1 {
		t.Fatalf("awumeter_restored_workcycles_total = %v, want 1", restored)
	}
}

// A runaway workcycle (61 attempts, $120.50 of tokens) crosses four rules:
// each raises exactly one alert, with the id that names its rule and
// subject, on the alerts topic and in the alerts table, although the
// workcycle's provisional rows are emitted again after every change. A
// full replay by a second consumer group raises the same ids again and
// leaves one row per alert in the table. Rules not crossed raise nothing.
func TestRunawayWorkcycleRaisesOneAlertPerRule(t *testing.T) {
	k := testenv.NewKafka(t)
	ch := testenv.NewClickHouse(t)
	servicetest.Migrate(t, ch)
	topic, dlq, alerts := k.Topic(t, 2), k.Topic(t, 1), k.Topic(t, 1)
	cfg := servicetest.Config(k, ch, topic, k.Group(t), dlq)
	cfg.Engine.EmitInterval = 500 * time.Millisecond
	rule := func(name, on, metric, above string) guard.Rule {
		return guard.Rule{Name: name, On: on, Metric: metric, Above: decimal.RequireFromString(above)}
	}
	cfg.Guards.Topic = alerts
	cfg.Guards.Rules = []guard.Rule{
		rule("workcycle-over-5-usd", guard.OnWorkcycle, guard.MetricTokenCost, "5"),
		rule("workcycle-over-50-attempts", guard.OnWorkcycle, guard.MetricAttempts, "50"),
		rule("awu-over-10-attempts", guard.OnAWU, guard.MetricAttempts, "10"),
		rule("tenant-over-100-usd-an-hour", guard.OnTenantHour, guard.MetricTokenCost, "100"),
		rule("tenant-over-1000-usd-a-day", guard.OnTenantDay, guard.MetricTokenCost, "1000"),
		rule("workcycle-over-1000-awus", guard.OnWorkcycle, guard.MetricAWUs, "1000"),
	}

	at := time.Now().UTC().Add(-5 * time.Minute).Truncate(time.Second)
	ev := func(id string, s int, fields map[string]any) []byte {
		fields["event_id"], fields["time"], fields["tenant_id"] = id, at.Add(time.Duration(s)*time.Millisecond).Format(time.RFC3339Nano), "runaway-co"
		return jsonEvent(fields)
	}
	// wc-loop: one expensive prompt ($0.50 + $120), then 60 failed
	// attempts of one tool call; wc-ok: one cheap prompt.
	evs := [][]byte{ev("p1", 0, map[string]any{"workcycle_id": "wc-loop", "type": "token_usage", "awu_id": "prompt-1",
		"model": "gemini-3-flash", "input_tokens": 1_000_000, "output_tokens": 40_000_000})}
	for i := 1; i <= 60; i++ {
		evs = append(evs, ev(fmt.Sprintf("t%d", i), i, map[string]any{"workcycle_id": "wc-loop", "type": "tool_invocation",
			"awu_id": "crm-update", "tool": "crm.update", "status": "failed", "attempt": i}))
	}
	evs = append(evs, ev("ok1", 0, map[string]any{"workcycle_id": "wc-ok", "type": "token_usage", "awu_id": "prompt-1",
		"model": "gemini-3-flash", "input_tokens": 1000, "output_tokens": 100}))
	// Three batches, so the rules are crossed on provisional rows that the
	// next changes emit again.
	want := map[string]string{
		guard.AlertID("workcycle-over-5-usd", guard.OnWorkcycle, "runaway-co", "wc-loop", "", time.Time{}):             "workcycle-over-5-usd",
		guard.AlertID("workcycle-over-50-attempts", guard.OnWorkcycle, "runaway-co", "wc-loop", "", time.Time{}):       "workcycle-over-50-attempts",
		guard.AlertID("awu-over-10-attempts", guard.OnAWU, "runaway-co", "wc-loop", "crm-update", time.Time{}):         "awu-over-10-attempts",
		guard.AlertID("tenant-over-100-usd-an-hour", guard.OnTenantHour, "runaway-co", "", "", at.Truncate(time.Hour)): "tenant-over-100-usd-an-hour",
	}

	run := func(name string, cfg config.Config, produceAll bool) {
		svc, ctx := start(t, cfg)
		if produceAll {
			for _, part := range [][][]byte{evs[:20], evs[20:45], evs[45:]} {
				produce(t, k, topic, part...)
				time.Sleep(time.Second)
			}
		}
		waitAlertsTable(t, ch, len(want), 60*time.Second)
		time.Sleep(3 * time.Second) // any extra alert would land by now
		var counted float64
		for _, line := range strings.Split(get(t, "http://"+svc.Addr().String()+"/metrics"), "\n") {
			if strings.HasPrefix(line, "awumeter_alerts_total{") {
				var v float64
				fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &v)
				counted += v
			}
		}
		if produceAll && counted != float64(len(want)) {
			t.Errorf("%s: awumeter_alerts_total sums to %v, want %d", name, counted, len(want))
		}
		if err := svc.Shutdown(ctx); err != nil {
			t.Fatalf("%s: shutdown: %v", name, err)
		}
	}
	run("first run", cfg, true)
	records := readAlerts(t, k, alerts)
	if len(records) != len(want) {
		t.Errorf("first run: %d alert records, want one per rule crossed (%d): %v", len(records), len(want), records)
	}
	checkAlerts(t, "first run", records, want)

	replay := cfg
	replay.Kafka.Group = k.Group(t) // reads the topic again from its start
	run("replay", replay, false)
	first := map[string]any{}
	for _, r := range records {
		first[r.key] = r.body["value"]
	}
	records = readAlerts(t, k, alerts)
	checkAlerts(t, "after a full replay", records, want)
	if n := alertsTableCount(t, ch); n != len(want) {
		t.Fatalf("after a full replay: %d rows in alerts FINAL, want %d", n, len(want))
	}
	// The table keeps each alert's first copy; the tenant window, seeded
	// from the table at start, is not raised again.
	windowID := guard.AlertID("tenant-over-100-usd-an-hour", guard.OnTenantHour, "runaway-co", "", "", at.Truncate(time.Hour))
	copies := 0
	for _, r := range records {
		if r.key == windowID {
			copies++
		}
	}
	if copies != 1 {
		t.Errorf("the tenant window alert was produced %d times, want once", copies)
	}
	rows, err := ch.Conn.Query(context.Background(), `SELECT alert_id, toString(value) FROM `+ch.Database+`.alerts FINAL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, value string
		if err := rows.Scan(&id, &value); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(first[id]) != strings.TrimRight(strings.TrimRight(value, "0"), ".") {
			t.Errorf("alerts FINAL holds value %s for %s, the first copy said %v", value, want[id], first[id])
		}
	}
}

// metricValue is the value of an unlabelled series on /metrics; 0 if absent.
func metricValue(t *testing.T, svc *service.Service, name string) float64 {
	t.Helper()
	var v float64
	for _, line := range strings.Split(get(t, "http://"+svc.Addr().String()+"/metrics"), "\n") {
		if strings.HasPrefix(line, name+" ") {
			fmt.Sscan(strings.TrimPrefix(line, name+" "), &v)
		}
	}
	return v
}

// waitCommitted waits until the group's committed offset of partition 0
// of topic is end.
func waitCommitted(t *testing.T, k *testenv.Kafka, group, topic string, end int64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	var at int64 = -1
	for time.Now().Before(deadline) {
		committed, err := k.Admin.FetchOffsets(testenv.Context(t, 5*time.Second), group)
		if err != nil {
			t.Fatal(err)
		}
		if c, ok := committed.Lookup(topic, 0); ok {
			if at = c.At; at == end {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("committed offset %d after %s, want %d", at, within, end)
}

type alertRecord struct {
	key  string
	body map[string]any
}

// readAlerts reads every record of the alerts topic.
func readAlerts(t *testing.T, k *testenv.Kafka, topic string) []alertRecord {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []alertRecord
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		fs := cl.PollFetches(ctx)
		cancel()
		fs.EachRecord(func(r *kgo.Record) {
			var body map[string]any
			if err := json.Unmarshal(r.Value, &body); err != nil {
				t.Errorf("alert %q is not JSON: %v", r.Value, err)
			}
			out = append(out, alertRecord{key: string(r.Key), body: body})
		})
	}
	return out
}

// checkAlerts: every record is an alert wanted, keyed and identified by its
// id, and every alert wanted is there.
func checkAlerts(t *testing.T, what string, recs []alertRecord, want map[string]string) {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range recs {
		rule, ok := want[r.key]
		if !ok {
			t.Errorf("%s: unexpected alert %s: %v", what, r.key, r.body)
			continue
		}
		if r.body["id"] != r.key || r.body["rule"] != rule || r.body["tenant_id"] != "runaway-co" {
			t.Errorf("%s: alert %s has body %v", what, r.key, r.body)
		}
		seen[r.key] = true
	}
	for id, rule := range want {
		if !seen[id] {
			t.Errorf("%s: no alert of rule %s (id %s)", what, rule, id)
		}
	}
}

func alertsTableCount(t *testing.T, ch *testenv.ClickHouse) int {
	t.Helper()
	var n uint64
	if err := ch.Conn.QueryRow(context.Background(), `SELECT count() FROM `+ch.Database+`.alerts FINAL`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return int(n)
}

func waitAlertsTable(t *testing.T, ch *testenv.ClickHouse, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if alertsTableCount(t, ch) >= n {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%d rows in alerts after %s, want %d", alertsTableCount(t, ch), within, n)
}
