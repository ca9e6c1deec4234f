package service_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/awumeter/awumeter/internal/service"
	"github.com/awumeter/awumeter/internal/service/servicetest"
	"github.com/awumeter/awumeter/internal/testenv"
	"github.com/awumeter/awumeter/pipeline/decode"
	"github.com/awumeter/awumeter/pipeline/source"
)

// collectorRow is what the Collector test checks of a workcycle's FINAL row.
type collectorRow struct {
	awus, attempts, retries, actions int64
	input, output                    int64
	credits                          int64
	tokenCost, listCost              string
	version                          uint64
}

// Spans of two conversations, sent with the OpenTelemetry Go SDK over
// OTLP/HTTP to a real Collector (OTLP receiver, batch processor, contrib
// Kafka exporter), reach awumeter through Kafka in otlp_proto and
// otlp_json. Every model call and tool call is a trace of its own, so with
// partition_traces_by_id one conversation is spread over the topic's
// partitions, and without it the records carry no key. The topics are
// not declared keyed, so the re-key stage brings each conversation to one
// engine, and the FINAL rows hold every span. Expected values are worked
// out by hand from the spans and the default price book (gemini-3-flash:
// $0.50 input and $3.00 output per 1M tokens; 20 credits per action at
// $0.005 each).
func TestCollectorSpansAcrossTracesAndPartitionsAreMeteredExactly(t *testing.T) {
	for _, tc := range []struct {
		name     string
		encoding string
		byID     bool
	}{
		{"otlp_proto_by_trace_id", decode.FormatOTLPProto, true},
		{"otlp_json_by_trace_id", decode.FormatOTLPJSON, true},
		{"otlp_proto_unkeyed", decode.FormatOTLPProto, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k := testenv.NewKafka(t)
			ch := testenv.NewClickHouse(t)
			servicetest.Migrate(t, ch)
			topic, dlq, group := k.Topic(t, 4), k.Topic(t, 1), k.Group(t)
			servicetest.CleanupRepartition(t, k, group)
			col := testenv.Collector(t, testenv.CollectorConfig{Topic: topic, Encoding: tc.encoding, PartitionTracesByID: tc.byID})
			ctx := testenv.Context(t, 2*time.Minute)

			cfg := servicetest.Config(k, ch, topic, group, dlq)
			cfg.Kafka.Topics[0].Format = tc.encoding // keyed_by_workcycle unset: false for OTLP
			// OTLP producers send no completed event: rows are written
			// once a workcycle is idle, here after 2s.
			cfg.Engine.IdleTimeout = 2 * time.Second
			cfg.Engine.AllowedLateness = time.Second
			cfg.Engine.SettleDelay = time.Second
			cfg.Engine.ClosedRetention = time.Minute
			svc, err := service.New(cfg, service.Settings{Version: "test"})
			if err != nil {
				t.Fatal(err)
			}
			if err := svc.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer svc.Shutdown(context.Background())

			sendConversations(ctx, t, col.HTTPAddr)
			want := map[string]collectorRow{
				// 4 model calls: 100,000 input tokens ($0.05) and 10,000
				// output tokens ($0.03); refund succeeded once; lookup
				// failed, then succeeded on attempt 2: 2 actions.
				"conv-a": {awus: 6, attempts: 7, retries: 1, actions: 2, input: 100_000, output: 10_000,
					credits: 40, tokenCost: "0.08", listCost: "0.2", version: 7},
				// One model call: 5,000 input ($0.0025), 500 output ($0.0015).
				"conv-b": {awus: 1, attempts: 1, input: 5_000, output: 500, tokenCost: "0.004", listCost: "0", version: 1},
			}
			var got map[string]collectorRow
			for ctx.Err() == nil {
				if got, err = collectorRows(ctx, ch); err == nil && len(got) == len(want) && got["conv-a"].version == 7 {
					break
				}
				time.Sleep(200 * time.Millisecond)
			}
			if err != nil {
				t.Fatalf("reading the workcycles: %v", err)
			}
			for id, w := range want {
				if g := got[id]; fmt.Sprint(g) != fmt.Sprint(w) {
					t.Errorf("workcycle %s: got %+v, want %+v", id, g, w)
				}
			}
			if len(got) != len(want) {
				t.Fatalf("workcycles %v, want %d; metrics:\n%s", got, len(want),
					grepLines(get(t, "http://"+svc.Addr().String()+"/metrics"), "awumeter_"))
			}
			if err := svc.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			if letters := servicetest.CommittedDeadLetters(t, k, dlq); len(letters) != 0 {
				t.Fatalf("dead letters: %v", letters)
			}
			servicetest.RequireCommittedAtEnd(t, k, source.RekeyGroup(group), topic)
		})
	}
}

// sendConversations sends, for tenant acme, conversation conv-a as six
// traces (four model calls, a tool call, and a tool call that fails and is
// retried) and conv-b as one model call, and flushes the SDK.
func sendConversations(ctx context.Context, t *testing.T, addr string) {
	t.Helper()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(addr), otlptracehttp.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(100*time.Millisecond), sdktrace.WithMaxExportBatchSize(3)),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "support-agent"), attribute.String("tenant.id", "acme"))),
	)
	tr := tp.Tracer("awumeter-collector-test")
	chat := func(conv string, in, out int) {
		tctx, root := tr.Start(ctx, "invoke_agent support", trace.WithAttributes(
			attribute.String("gen_ai.operation.name", "invoke_agent"), attribute.String("gen_ai.conversation.id", conv)))
		_, s := tr.Start(tctx, "chat gemini-3-flash", trace.WithAttributes(
			attribute.String("gen_ai.operation.name", "chat"),
			attribute.String("gen_ai.conversation.id", conv),
			attribute.String("gen_ai.provider.name", "gcp.gemini"),
			attribute.String("gen_ai.request.model", "gemini-3-flash"),
			attribute.Int("gen_ai.usage.input_tokens", in),
			attribute.Int("gen_ai.usage.output_tokens", out),
		))
		s.End()
		root.End()
	}
	tool := func(conv, name, call string, attempt int, failed bool) {
		_, s := tr.Start(ctx, "execute_tool "+name, trace.WithAttributes(
			attribute.String("gen_ai.operation.name", "execute_tool"),
			attribute.String("gen_ai.conversation.id", conv),
			attribute.String("gen_ai.tool.name", name),
			attribute.String("gen_ai.tool.call.id", call),
			attribute.Int("awu.attempt", attempt),
		))
		if failed {
			s.SetStatus(codes.Error, "upstream timeout")
		}
		s.End()
	}
	chat("conv-a", 10_000, 1_000)
	tool("conv-a", "refund", "call-1", 1, false)
	chat("conv-a", 20_000, 2_000)
	tool("conv-a", "lookup", "call-2", 1, true)
	chat("conv-b", 5_000, 500)
	chat("conv-a", 30_000, 3_000)
	tool("conv-a", "lookup", "call-2", 2, false)
	chat("conv-a", 40_000, 4_000)
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := tp.Shutdown(sctx); err != nil {
		t.Fatalf("flushing the SDK to the Collector: %v", err)
	}
}

func collectorRows(ctx context.Context, ch *testenv.ClickHouse) (map[string]collectorRow, error) {
	rows, err := ch.Conn.Query(ctx, `SELECT workcycle_id, awus, attempts, retries, actions, input_tokens, output_tokens,
		credits, token_cost, list_cost, version FROM `+ch.Database+`.workcycles FINAL WHERE tenant_id = 'acme'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]collectorRow{}
	for rows.Next() {
		var id string
		var r collectorRow
		var tokenCost, listCost decimal.Decimal
		if err := rows.Scan(&id, &r.awus, &r.attempts, &r.retries, &r.actions, &r.input, &r.output,
			&r.credits, &tokenCost, &listCost, &r.version); err != nil {
			return nil, err
		}
		r.tokenCost, r.listCost = tokenCost.String(), listCost.String()
		out[id] = r
	}
	return out, rows.Err()
}
