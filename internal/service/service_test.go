package service_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/awumeter/awumeter/internal/gen"
	"github.com/awumeter/awumeter/internal/service"
	"github.com/awumeter/awumeter/internal/service/servicetest"
	"github.com/awumeter/awumeter/internal/testenv"
	"github.com/awumeter/awumeter/pipeline/deadletter"
)

// Generated telemetry with duplicates, retries, conflicts, late events and
// malformed records, produced with kafka-go's Hash balancer, goes through
// the service; the FINAL rows equal the offline engine's exactly, the
// rollups count nothing twice, and every malformed record is in the
// dead-letter topic with its bytes untouched.
func TestServiceMatchesOfflineResult(t *testing.T) {
	k := testenv.NewKafka(t)
	ch := testenv.NewClickHouse(t)
	servicetest.Migrate(t, ch)
	topic, dlq, group := k.Topic(t, 3), k.Topic(t, 1), k.Group(t)
	stream := servicetest.Telemetry(t, 120, 7)
	servicetest.ProduceKafkaGo(t, k.Brokers, topic, stream.Records)

	cfg := servicetest.Config(k, ch, topic, group, dlq)
	svc, ctx := start(t, cfg)

	want := servicetest.Offline(t, stream.Records, servicetest.EngineConfig())
	if len(want.AWUModels) < len(want.AWUs)/2 {
		t.Fatalf("offline result has %d AWU model rows for %d AWUs; the comparison would prove little", len(want.AWUModels), len(want.AWUs))
	}
	if diff := servicetest.WaitFinal(t, ch, want, 60*time.Second); diff != "" {
		t.Fatalf("FINAL rows differ from the offline result:\n%s", diff)
	}
	servicetest.RequireRollupTotals(t, ctx, ch, stream.Records)

	body := get(t, "http://"+svc.Addr().String()+"/readyz")
	if !strings.HasPrefix(body, "ok") {
		t.Fatalf("/readyz = %q while consuming", body)
	}
	metrics := get(t, "http://"+svc.Addr().String()+"/metrics")
	for _, m := range []string{"awumeter_events_total{", "awumeter_event_outcomes_total{outcome=\"duplicate\"}", "awumeter_flush_duration_seconds_bucket", "awumeter_consumer_lag{", "awumeter_rebalances_total{kind=\"assigned\"}"} {
		if !strings.Contains(metrics, m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}

	if err := svc.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	checkDeadLetters(t, k, dlq, stream)
	servicetest.RequireCommittedAtEnd(t, k, group, topic)
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// checkDeadLetters reads the dead-letter topic: one letter per malformed
// record, value untouched, with a reason header.
func checkDeadLetters(t *testing.T, k *testenv.Kafka, dlq string, stream *gen.Stream) {
	t.Helper()
	want := map[string]int{}
	n := 0
	for _, r := range stream.Records {
		if r.Kind == gen.KindMalformed {
			want[string(r.Line)]++
			n++
		}
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...), kgo.ConsumeTopics(dlq), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := testenv.Context(t, 20*time.Second)
	got := 0
	for got < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			break
		}
		fs.EachRecord(func(r *kgo.Record) {
			got++
			if want[string(r.Value)] == 0 {
				t.Errorf("unexpected dead letter %q", r.Value)
			}
			want[string(r.Value)]--
			reason := ""
			for _, h := range r.Headers {
				if h.Key == deadletter.HeaderReason {
					reason = string(h.Value)
				}
			}
			if reason == "" {
				t.Errorf("dead letter %q has no %s header", r.Value, deadletter.HeaderReason)
			}
		})
	}
	if got < n {
		t.Fatalf("%d dead letters, want at least %d (one per malformed record)", got, n)
	}
}

// With auto-creation off (as on the test stack), a dead-letter topic that
// does not exist stops the start with its key, before anything is consumed.
func TestStartRefusesAMissingDeadLetterTopic(t *testing.T) {
	k := testenv.NewKafka(t)
	ch := testenv.NewClickHouse(t)
	servicetest.Migrate(t, ch)
	topic, group := k.Topic(t, 1), k.Group(t)
	dlq := testenv.UniqueName(t, "missing")
	svc, err := service.New(servicetest.Config(k, ch, topic, group, dlq), service.Settings{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	err = svc.Start(testenv.Context(t, time.Minute))
	want := `kafka.dead_letter_topic: topic "` + dlq + `" does not exist; create it`
	if err == nil {
		svc.Shutdown(context.Background())
		t.Fatalf("started without its dead-letter topic; want %q", want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not say %q", err, want)
	}
}
