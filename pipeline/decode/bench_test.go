package decode

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/awumeter/awumeter/pipeline/event"
)

// typicalEvent is a 300-byte token_usage event, the size the throughput
// target (1,000,000 events/s on one core) is stated for.
const typicalEvent = `{"event_id":"evt-01HZX3T7Q9","type":"token_usage","time":"2026-03-01T12:00:00.250Z","tenant_id":"acme","workcycle_id":"wc-8841","agent_id":"support-bot","awu_id":"awu-3","attempt":1,"model":"gpt-4o-2024-08-06","provider":"openai","input_tokens":1200,"output_tokens":310,"cache_read_input_tokens":1000}`

func benchDecode(b *testing.B, d Decoder, rec *Record) {
	b.Helper()
	dst := make([]event.Event, 0, 64)
	var n int
	b.SetBytes(int64(len(rec.Value)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		evs, res := d.Decode(rec, dst[:0])
		if len(res.Rejections) > 0 {
			b.Fatal(res.Rejections[0])
		}
		n += len(evs)
	}
	b.StopTimer()
	if n == 0 {
		b.Fatal("no events decoded")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/event")
	b.ReportMetric(float64(testing.AllocsPerRun(100, func() { d.Decode(rec, dst[:0]) }))*float64(b.N)/float64(n), "allocs/event")
}

func BenchmarkDecodeJSON(b *testing.B) {
	benchDecode(b, newDecoder(b, FormatJSON), &Record{Topic: "events", Value: []byte(typicalEvent)})
}

func BenchmarkDecodeCloudEventsStructured(b *testing.B) {
	v := `{"specversion":"1.0","id":"0c4f0f1e-7b5e","source":"urn:awumeter:agent:support-bot","type":"io.awumeter.token_usage.v1","time":"2026-03-01T12:00:00.250Z","data":` + typicalEvent + `}`
	benchDecode(b, newDecoder(b, FormatCloudEvents), &Record{Value: []byte(v), Headers: []Header{{"content-type", []byte("application/cloudevents+json")}}})
}

func BenchmarkDecodeCloudEventsBinary(b *testing.B) {
	rec := &Record{Value: []byte(typicalEvent), Headers: []Header{
		{"ce_specversion", []byte("1.0")}, {"ce_id", []byte("0c4f0f1e-7b5e")}, {"ce_source", []byte("urn:awumeter:agent:support-bot")},
		{"ce_type", []byte("io.awumeter.token_usage.v1")}, {"ce_time", []byte("2026-03-01T12:00:00.250Z")}, {"content-type", []byte("application/json")},
	}}
	benchDecode(b, newDecoder(b, FormatCloudEvents), rec)
}

// The OTLP benchmarks decode the agent trace fixture: 9 spans, 5 events.
func BenchmarkDecodeOTLPProto(b *testing.B) {
	benchDecode(b, newDecoder(b, FormatOTLPProto), &Record{Value: readFile(b, testdataDir+"/otlp/agent_trace.binpb")})
}

func BenchmarkDecodeOTLPJSON(b *testing.B) {
	benchDecode(b, newDecoder(b, FormatOTLPJSON), &Record{Value: readFile(b, testdataDir+"/otlp/agent_trace.json")})
}

// BenchmarkDecodeOTLPProtoReflect decodes the agent trace with the
// reflection-based reference decoder (proto.Unmarshal) the walker replaced,
// for a before-and-after comparison within one run.
func BenchmarkDecodeOTLPProtoReflect(b *testing.B) {
	benchDecode(b, newRefOTLPProtoDecoder(DefaultConfig(), testSettings()), &Record{Value: readFile(b, testdataDir+"/otlp/agent_trace.binpb")})
}

// typicalSpan is typicalEvent as an OTLP/proto record: one chat span with
// the same tenant, workcycle, agent, AWU, model, provider and token counts,
// in a request as the collector writes it (resource, scope, schema URL,
// span name, kind and start time). The agent trace carries 9 spans and
// 3 KB for 5 events, so its cost per event is not comparable with
// BenchmarkDecodeJSON's; this record's is.
func typicalSpan(tb testing.TB) *Record {
	td := request([]any{"service.name", "support-agent", "tenant.id", "acme"}, "openinference.instrumentation.agents", agentTraceID,
		spanSpec{id: "00f067aa0ba902b7", name: "chat gpt-4o", kind: 3, startMs: 10, endMs: 250, attrs: []any{
			attrOperationName, "chat", attrProviderName, "openai", attrResponseModel, "gpt-4o-2024-08-06",
			attrAgentID, "support-bot", "awu.workcycle.id", "wc-8841", "awu.id", "awu-3", "awu.attempt", 1,
			attrInputTokens, 1200, attrOutputTokens, 310, attrCacheRead, 1000,
		}})
	v, err := proto.Marshal(td)
	if err != nil {
		tb.Fatal(err)
	}
	return &Record{Topic: "otlp", Value: v}
}

func BenchmarkDecodeOTLPProtoTypicalSpan(b *testing.B) {
	benchDecode(b, newDecoder(b, FormatOTLPProto), typicalSpan(b))
}

func BenchmarkDecodeOTLPProtoReflectTypicalSpan(b *testing.B) {
	benchDecode(b, newRefOTLPProtoDecoder(DefaultConfig(), testSettings()), typicalSpan(b))
}

// BenchmarkDecodeJSONRejected measures the dead-letter path: a record
// failing on its last rule.
func BenchmarkDecodeJSONRejected(b *testing.B) {
	d := newDecoder(b, FormatJSON)
	rec := &Record{Value: []byte(typicalEvent[:len(typicalEvent)-1] + `,"reasoning_tokens":999}`)}
	b.ReportAllocs()
	for b.Loop() {
		if _, res := d.Decode(rec, nil); len(res.Rejections) != 1 {
			b.Fatal("not rejected")
		}
	}
}
