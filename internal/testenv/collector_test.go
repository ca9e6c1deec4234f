package testenv_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/awumeter/awumeter/internal/testenv"
	"github.com/awumeter/awumeter/pipeline/decode"
	"github.com/awumeter/awumeter/pipeline/event"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Spans sent with the OpenTelemetry Go SDK over OTLP/HTTP to the real
// Collector reach Kafka as the contrib Kafka exporter writes them, and the
// repo's OTLP decoders turn them into the expected events. With
// partition_traces_by_id every record holds one trace, keyed by its trace id
// in hex, and the traces spread over the topic's partitions; without it the
// exporter writes unkeyed records.
func TestCollectorToKafka(t *testing.T) {
	for _, tc := range []struct {
		name     string
		encoding string
		byID     bool
	}{
		{"proto_by_trace_id", decode.FormatOTLPProto, true},
		{"json_by_trace_id", decode.FormatOTLPJSON, true},
		{"proto_unkeyed", decode.FormatOTLPProto, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k := testenv.NewKafka(t)
			topic := k.Topic(t, 4)
			col := testenv.Collector(t, testenv.CollectorConfig{
				Topic:               topic,
				Encoding:            tc.encoding,
				PartitionTracesByID: tc.byID,
			})
			ctx := testenv.Context(t, 2*time.Minute)

			const traces = 24
			want := sendTraces(ctx, t, col.HTTPAddr, traces)

			dec, err := decode.New(tc.encoding, decode.DefaultConfig(), decode.Settings{})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]event.Event{}      // by event id
			tracePartition := map[string]int32{} // trace id -> partition
			partitions := map[int32]int{}
			records := 0
			for _, r := range consumeUntil(ctx, t, k.Brokers, topic, func(rs []*kgo.Record) bool {
				n := 0
				for _, r := range rs {
					evs, _ := dec.Decode(&decode.Record{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Value: r.Value}, nil)
					n += len(evs)
				}
				return n >= len(want)
			}) {
				records++
				partitions[r.Partition]++
				if tc.encoding == decode.FormatOTLPJSON && (len(r.Value) == 0 || r.Value[0] != '{') {
					t.Fatalf("otlp_json record starts with %q", r.Value[:min(len(r.Value), 16)])
				}
				evs, res := dec.Decode(&decode.Record{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Key: r.Key, Value: r.Value}, nil)
				if len(res.Rejections) > 0 {
					t.Fatalf("record %d/%d rejected: %+v", r.Partition, r.Offset, res.Rejections)
				}
				recordTraces := map[string]bool{}
				for _, ev := range evs {
					if _, dup := got[ev.EventID]; dup {
						t.Fatalf("event %s delivered twice", ev.EventID)
					}
					got[ev.EventID] = ev
					traceID := ev.WorkcycleID // the trace id: the spans carry no workcycle attribute
					recordTraces[traceID] = true
					if p, ok := tracePartition[traceID]; ok && p != r.Partition {
						t.Fatalf("trace %s on partitions %d and %d", traceID, p, r.Partition)
					}
					tracePartition[traceID] = r.Partition
				}
				if tc.byID {
					if len(recordTraces) != 1 || !recordTraces[string(r.Key)] {
						t.Fatalf("record %d/%d keyed %q holds traces %v; want exactly the key's trace", r.Partition, r.Offset, r.Key, recordTraces)
					}
				} else if r.Key != nil {
					t.Fatalf("record %d/%d keyed %q without partition_traces_by_id", r.Partition, r.Offset, r.Key)
				}
			}
			if len(got) != len(want) {
				t.Fatalf("decoded %d events, want %d", len(got), len(want))
			}
			for id, w := range want {
				g, ok := got[id]
				if !ok {
					t.Fatalf("event %s (%s) never arrived", id, w.Type)
				}
				if g.Type != w.Type || g.TenantID != "acme" || g.InputTokens != w.InputTokens || g.OutputTokens != w.OutputTokens || g.Model != w.Model || g.Tool != w.Tool {
					t.Fatalf("event %s = %+v, want %+v", id, g, w)
				}
			}
			t.Logf("%s: %d spans in %d records over partitions %v", tc.name, len(got), records, partitions)
			if tc.byID {
				if records != traces {
					t.Fatalf("%d records, want one per trace (%d)", records, traces)
				}
				if len(partitions) < 2 {
					t.Fatalf("all %d traces on partitions %v; keyed by trace id they should spread", traces, partitions)
				}
			}
		})
	}
}

// sendTraces sends n traces, each a chat span and an execute_tool span of
// tenant acme, through the SDK's OTLP/HTTP exporter, and returns the events
// they should decode to, by event id.
func sendTraces(ctx context.Context, t *testing.T, addr string, n int) map[string]event.Event {
	t.Helper()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(addr), otlptracehttp.WithInsecure())
	if err != nil {
		t.Fatalf("otlptracehttp: %v", err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(100*time.Millisecond)),
		sdktrace.WithResource(resource.NewSchemaless(
			attribute.String("service.name", "testenv-collector"),
			attribute.String("tenant.id", "acme"),
		)),
	)
	tr := tp.Tracer("testenv")
	want := map[string]event.Event{}
	id := func(sc trace.SpanContext) string { return sc.TraceID().String() + "-" + sc.SpanID().String() }
	for i := 0; i < n; i++ {
		tctx, root := tr.Start(ctx, "invoke_agent support", trace.WithAttributes(attribute.String("gen_ai.operation.name", "invoke_agent")))
		_, chat := tr.Start(tctx, "chat claude", trace.WithAttributes(
			attribute.String("gen_ai.operation.name", "chat"),
			attribute.String("gen_ai.provider.name", "anthropic"),
			attribute.String("gen_ai.request.model", "claude-sonnet-4.6"),
			attribute.Int("gen_ai.usage.input_tokens", 1000+i),
			attribute.Int("gen_ai.usage.output_tokens", 100+i),
		))
		chat.End()
		want[id(chat.SpanContext())] = event.Event{Type: event.TypeTokenUsage, InputTokens: int64(1000 + i), OutputTokens: int64(100 + i), Model: "claude-sonnet-4.6"}
		_, tool := tr.Start(tctx, "execute_tool refund", trace.WithAttributes(
			attribute.String("gen_ai.operation.name", "execute_tool"),
			attribute.String("gen_ai.tool.name", "refund"),
		))
		tool.End()
		want[id(tool.SpanContext())] = event.Event{Type: event.TypeToolInvocation, Tool: "refund"}
		root.End()
	}
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := tp.Shutdown(sctx); err != nil {
		t.Fatalf("tracer provider shutdown (flushes to the collector): %v", err)
	}
	return want
}

// consumeUntil reads topic from the start until done says the records read
// so far are enough, and returns them.
func consumeUntil(ctx context.Context, t *testing.T, brokers []string, topic string, done func([]*kgo.Record) bool) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(brokers...),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(200*time.Millisecond),
	)
	if err != nil {
		t.Fatalf("kafka client: %v", err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for !done(recs) {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("%d records after %v, not all spans arrived: %v", len(recs), ctx.Err(), fetchErr(fetches))
		}
		if err := fetchErr(fetches); err != nil {
			t.Fatalf("fetch: %v", err)
		}
		recs = append(recs, fetches.Records()...)
	}
	return recs
}

func fetchErr(f kgo.Fetches) error {
	var errs []error
	for _, e := range f.Errors() {
		if !errors.Is(e.Err, context.DeadlineExceeded) && !errors.Is(e.Err, context.Canceled) {
			errs = append(errs, fmt.Errorf("%s/%d: %w", e.Topic, e.Partition, e.Err))
		}
	}
	return errors.Join(errs...)
}
