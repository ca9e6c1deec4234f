package service_test

import (
	"context"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/awumeter/awumeter/internal/service"
	"github.com/awumeter/awumeter/internal/service/servicetest"
	"github.com/awumeter/awumeter/internal/testenv"
	"github.com/awumeter/awumeter/pipeline/source"
)

// The same telemetry produced keyed by workcycle to a topic declared keyed,
// and produced round robin without keys to a topic that is not, gives the
// same FINAL rows: the offline engine's. The unkeyed topic goes through the
// re-key stage, which dead-letters each malformed record exactly once.
func TestUnkeyedProductionGivesTheKeyedRows(t *testing.T) {
	k := testenv.NewKafka(t)
	keyedCH, unkeyedCH := testenv.NewClickHouse(t), testenv.NewClickHouse(t)
	servicetest.Migrate(t, keyedCH)
	servicetest.Migrate(t, unkeyedCH)
	stream := servicetest.TelemetryForAnyOrder(t, 150, 31)
	want := servicetest.Offline(t, stream.Records, servicetest.EngineConfig())

	keyed, keyedDLQ := k.Topic(t, 3), k.Topic(t, 1)
	servicetest.ProduceFranz(t, k.Brokers, keyed, stream.Records)
	unkeyed, unkeyedDLQ := k.Topic(t, 3), k.Topic(t, 1)
	servicetest.ProduceUnkeyed(t, k.Brokers, unkeyed, stream.Records)

	ctx := testenv.Context(t, 3*time.Minute)
	run := func(topic, dlq string, ch *testenv.ClickHouse, rekeyed bool) (*service.Service, string) {
		group := k.Group(t)
		servicetest.CleanupRepartition(t, k, group)
		cfg := servicetest.Config(k, ch, topic, group, dlq)
		if rekeyed {
			cfg = servicetest.Unkeyed(cfg)
			cfg.Rekey.TransactionalID = group + "-txn"
		}
		svc, err := service.New(cfg, service.Settings{Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { svc.Shutdown(context.Background()) })
		return svc, group
	}
	keyedSvc, _ := run(keyed, keyedDLQ, keyedCH, false)
	unkeyedSvc, group := run(unkeyed, unkeyedDLQ, unkeyedCH, true)

	if diff := servicetest.WaitFinal(t, keyedCH, want, 60*time.Second); diff != "" {
		t.Fatalf("keyed production: FINAL rows differ from the offline result:\n%s", diff)
	}
	if diff := servicetest.WaitFinal(t, unkeyedCH, want, 60*time.Second); diff != "" {
		t.Fatalf("unkeyed production through the re-key stage: FINAL rows differ from the offline result:\n%s", diff)
	}
	body := get(t, "http://"+unkeyedSvc.Addr().String()+"/metrics")
	for _, m := range []string{`awumeter_rekey_transactions_total{result="committed"}`, "awumeter_rekeyed_events_total ",
		`awumeter_records_total{topic="` + source.RepartitionTopic(group) + `"}`, `awumeter_records_total{topic="` + unkeyed + `"}`,
		`awumeter_rekey_lag{partition="0",topic="` + unkeyed + `"} 0`} {
		if !strings.Contains(body, m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
	if strings.Contains(body, "awumeter_split_workcycles_total{") {
		t.Errorf("the repartition topic reports split workcycles:\n%s", grepLines(body, "split_workcycles"))
	}
	waitReady(t, unkeyedSvc, 200, 10*time.Second)
	for _, svc := range []*service.Service{keyedSvc, unkeyedSvc} {
		if err := svc.Shutdown(ctx); err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	}
	if got, want := servicetest.CommittedDeadLetters(t, k, unkeyedDLQ), servicetest.MalformedLines(stream.Records); !maps.Equal(got, want) {
		t.Fatalf("re-key stage dead letters: %d distinct, want %d, each once:\n got %v\nwant %v", len(got), len(want), got, want)
	}
	servicetest.RequireCommittedAtEnd(t, k, source.RekeyGroup(group), unkeyed)
}

// The same unkeyed production on a topic wrongly declared keyed by
// workcycle: the rows are wrong, and the split workcycles are counted.
// This is what the re-key stage prevents, and what detection reports.
func TestWrongKeyDeclarationIsDetected(t *testing.T) {
	k := testenv.NewKafka(t)
	ch := testenv.NewClickHouse(t)
	servicetest.Migrate(t, ch)
	stream := servicetest.Telemetry(t, 150, 31)
	topic, dlq, group := k.Topic(t, 3), k.Topic(t, 1), k.Group(t)
	servicetest.ProduceUnkeyed(t, k.Brokers, topic, stream.Records)

	cfg := servicetest.Config(k, ch, topic, group, dlq) // json: keyed by default
	svc, ctx := start(t, cfg)
	for ctx.Err() == nil {
		if body := get(t, "http://"+svc.Addr().String()+"/metrics"); strings.Contains(body, `awumeter_split_workcycles_total{topic="`+topic+`"}`) {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("no split workcycle counted for an unkeyed production on a topic declared keyed")
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
