package decode

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// Span builders over the official OTLP types.

func kv(key string, v any) *commonpb.KeyValue {
	a := &commonpb.AnyValue{}
	switch v := v.(type) {
	case string:
		a.Value = &commonpb.AnyValue_StringValue{StringValue: v}
	case int:
		a.Value = &commonpb.AnyValue_IntValue{IntValue: int64(v)}
	case float64:
		a.Value = &commonpb.AnyValue_DoubleValue{DoubleValue: v}
	case bool:
		a.Value = &commonpb.AnyValue_BoolValue{BoolValue: v}
	case []string:
		var vs []*commonpb.AnyValue
		for _, s := range v {
			vs = append(vs, &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: s}})
		}
		a.Value = &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: vs}}
	}
	return &commonpb.KeyValue{Key: key, Value: a}
}

func attrList(kvs ...any) []*commonpb.KeyValue {
	var out []*commonpb.KeyValue
	for i := 0; i+1 < len(kvs); i += 2 {
		out = append(out, kv(kvs[i].(string), kvs[i+1]))
	}
	return out
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// base time of the fixtures: one minute before fixedNow's previous day.
var traceStart = time.Date(2026, 3, 1, 9, 15, 0, 0, time.UTC)

type spanSpec struct {
	id, parent string
	name       string
	kind       tracepb.Span_SpanKind
	startMs    int
	endMs      int
	status     tracepb.Status_StatusCode
	attrs      []any
}

func (s spanSpec) build(trace string) *tracepb.Span {
	sp := &tracepb.Span{
		TraceId:           mustHex(trace),
		SpanId:            mustHex(s.id),
		Name:              s.name,
		Kind:              s.kind,
		StartTimeUnixNano: uint64(traceStart.Add(time.Duration(s.startMs) * time.Millisecond).UnixNano()),
		EndTimeUnixNano:   uint64(traceStart.Add(time.Duration(s.endMs) * time.Millisecond).UnixNano()),
		Attributes:        attrList(s.attrs...),
	}
	if s.parent != "" {
		sp.ParentSpanId = mustHex(s.parent)
	}
	if s.status != tracepb.Status_STATUS_CODE_UNSET {
		sp.Status = &tracepb.Status{Code: s.status, Message: "upstream error"}
	}
	return sp
}

func request(resource []any, scope string, trace string, spans ...spanSpec) *tracepb.TracesData {
	ss := &tracepb.ScopeSpans{Scope: &commonpb.InstrumentationScope{Name: scope, Version: "1.4.0"}}
	for _, s := range spans {
		ss.Spans = append(ss.Spans, s.build(trace))
	}
	return &tracepb.TracesData{ResourceSpans: []*tracepb.ResourceSpans{{
		Resource:   &resourcepb.Resource{Attributes: attrList(resource...)},
		ScopeSpans: []*tracepb.ScopeSpans{ss},
		SchemaUrl:  "https://opentelemetry.io/schemas/1.37.0",
	}}}
}

const agentTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"

// agentTrace is one support-agent turn as an instrumented agent framework
// emits it: an invoke_agent span around model calls (one rate-limited and
// retried, one on a deprecated semantic-convention version) and tool calls
// (one timing out and retried), plus an HTTP client span and an embeddings
// call that are not metered.
func agentTrace() *tracepb.TracesData {
	const agent = "a1b2c3d4e5f60718"
	return request(
		[]any{"service.name", "support-agent", "tenant.id", "acme", "deployment.environment.name", "prod"},
		"openinference.instrumentation.agents", agentTraceID,
		spanSpec{id: agent, name: "invoke_agent support-bot", kind: tracepb.Span_SPAN_KIND_INTERNAL, endMs: 9000, attrs: []any{
			"gen_ai.operation.name", "invoke_agent", "gen_ai.agent.id", "asst_5j66UpCpwteGg4YSxUnt7lPY", "gen_ai.agent.name", "support-bot",
			"gen_ai.conversation.id", "conv-5521", "gen_ai.usage.input_tokens", 7900, "gen_ai.usage.output_tokens", 910,
		}},
		spanSpec{id: "00f067aa0ba902b7", parent: agent, name: "chat gpt-4o", kind: tracepb.Span_SPAN_KIND_CLIENT, startMs: 10, endMs: 1400, attrs: []any{
			"gen_ai.operation.name", "chat", "gen_ai.provider.name", "openai", "gen_ai.request.model", "gpt-4o",
			"gen_ai.response.model", "gpt-4o-2024-08-06", "gen_ai.conversation.id", "conv-5521", "gen_ai.agent.name", "support-bot",
			"gen_ai.usage.input_tokens", 1200, "gen_ai.usage.output_tokens", 310, "gen_ai.usage.cache_read.input_tokens", 1024,
			"gen_ai.response.finish_reasons", []string{"tool_calls"}, "server.address", "api.openai.com",
		}},
		spanSpec{id: "1111111111111111", parent: agent, name: "execute_tool lookup_order", kind: tracepb.Span_SPAN_KIND_INTERNAL, startMs: 1410, endMs: 1600, attrs: []any{
			"gen_ai.operation.name", "execute_tool", "gen_ai.tool.name", "lookup_order", "gen_ai.tool.call.id", "call_VSPygqKTWdrhaFErNvMV18Yl",
			"gen_ai.tool.type", "function", "gen_ai.conversation.id", "conv-5521",
		}},
		spanSpec{id: "2222222222222222", parent: agent, name: "execute_tool issue_refund", kind: tracepb.Span_SPAN_KIND_INTERNAL, startMs: 1610, endMs: 6610,
			status: tracepb.Status_STATUS_CODE_ERROR, attrs: []any{
				"gen_ai.operation.name", "execute_tool", "gen_ai.tool.name", "issue_refund", "gen_ai.tool.call.id", "call_Qq1ZFeUnBCBgKO3WBuKHeWJr",
				"error.type", "timeout", "gen_ai.conversation.id", "conv-5521",
			}},
		spanSpec{id: "2222222222222223", parent: agent, name: "execute_tool issue_refund", kind: tracepb.Span_SPAN_KIND_INTERNAL, startMs: 6620, endMs: 7100, attrs: []any{
			"gen_ai.operation.name", "execute_tool", "gen_ai.tool.name", "issue_refund", "gen_ai.tool.call.id", "call_Qq1ZFeUnBCBgKO3WBuKHeWJr",
			"awu.attempt", 2, "gen_ai.conversation.id", "conv-5521",
		}},
		spanSpec{id: "3333333333333333", parent: agent, name: "chat claude-sonnet-4-5", kind: tracepb.Span_SPAN_KIND_CLIENT, startMs: 7110, endMs: 7300,
			status: tracepb.Status_STATUS_CODE_ERROR, attrs: []any{
				"gen_ai.operation.name", "chat", "gen_ai.provider.name", "anthropic", "gen_ai.request.model", "claude-sonnet-4-5",
				"error.type", "429", "http.response.status_code", 429, "gen_ai.conversation.id", "conv-5521",
			}},
		spanSpec{id: "3333333333333334", parent: agent, name: "chat claude-sonnet-4-5", kind: tracepb.Span_SPAN_KIND_CLIENT, startMs: 7800, endMs: 8900, attrs: []any{
			"gen_ai.operation.name", "chat", "gen_ai.system", "anthropic", "gen_ai.request.model", "claude-sonnet-4-5",
			"gen_ai.usage.prompt_tokens", 6700, "gen_ai.usage.completion_tokens", 600,
			"gen_ai.usage.cache_creation.input_tokens", 2048, "gen_ai.usage.reasoning.output_tokens", 250.0,
			"gen_ai.conversation.id", "conv-5521", "gen_ai.agent.id", "asst_5j66UpCpwteGg4YSxUnt7lPY", "awu.id", "refund-summary",
		}},
		spanSpec{id: "4444444444444444", parent: "1111111111111111", name: "GET /orders/{id}", kind: tracepb.Span_SPAN_KIND_CLIENT, startMs: 1420, endMs: 1590, attrs: []any{
			"http.request.method", "GET", "url.full", "https://orders.internal/orders/8812", "http.response.status_code", 200,
		}},
		spanSpec{id: "5555555555555555", parent: agent, name: "embeddings text-embedding-3-small", kind: tracepb.Span_SPAN_KIND_CLIENT, startMs: 5, endMs: 8, attrs: []any{
			"gen_ai.operation.name", "embeddings", "gen_ai.provider.name", "openai", "gen_ai.request.model", "text-embedding-3-small",
			"gen_ai.usage.input_tokens", 42,
		}},
	)
}

// badSpans mixes one good span with spans that break each OTLP rule; the
// good one still becomes an event.
func badSpans() *tracepb.TracesData {
	const trace = "0af7651916cd43dd8448eb211c80319c"
	chat := func(id string, extra ...any) spanSpec {
		attrs := append([]any{"gen_ai.operation.name", "chat", "gen_ai.request.model", "gpt-4o-mini", "tenant.id", "globex"}, extra...)
		return spanSpec{id: id, name: "chat gpt-4o-mini", kind: tracepb.Span_SPAN_KIND_CLIENT, endMs: 100, attrs: attrs}
	}
	td := request([]any{"service.name", "billing-agent", "awu.workcycle.id", "wc-77"}, "my.agent.framework", trace,
		chat("a000000000000001", "gen_ai.usage.input_tokens", 10, "gen_ai.usage.output_tokens", 5),
		chat("a000000000000002", "gen_ai.usage.input_tokens", 10, "gen_ai.usage.output_tokens", 5, "gen_ai.usage.cache_read.input_tokens", 11),
		chat("a000000000000003", "gen_ai.usage.output_tokens", 5),
		chat("a000000000000004", "gen_ai.usage.input_tokens", -1, "gen_ai.usage.output_tokens", 5),
		chat("a000000000000005", "gen_ai.usage.input_tokens", "many", "gen_ai.usage.output_tokens", 5),
		chat("a000000000000006", "gen_ai.usage.input_tokens", 10, "gen_ai.usage.output_tokens", 5, "awu.attempt", 0),
		spanSpec{id: "a000000000000007", endMs: 100, attrs: []any{"gen_ai.operation.name", "execute_tool", "tenant.id", "globex"}},
		spanSpec{id: "a000000000000008", endMs: 100, attrs: []any{"gen_ai.operation.name", "execute_tool", "gen_ai.tool.name", "x"}},
		spanSpec{id: "a000000000000009", endMs: -2 * 400 * 24 * 3600 * 1000, attrs: []any{"gen_ai.operation.name", "execute_tool", "gen_ai.tool.name", "x", "tenant.id", "globex"}},
	)
	// A span without an id.
	td.ResourceSpans[0].ScopeSpans[0].Spans = append(td.ResourceSpans[0].ScopeSpans[0].Spans,
		&tracepb.Span{TraceId: mustHex(trace), EndTimeUnixNano: uint64(traceStart.UnixNano()), Attributes: attrList("gen_ai.operation.name", "chat")})
	return td
}

var otlpFixtures = map[string]func() *tracepb.TracesData{
	"agent_trace": agentTrace,
	"bad_spans":   badSpans,
}

// otlpJSON renders td as the collector's otlp_json encoding writes it:
// protojson with hex trace and span ids and numeric enums.
func otlpJSON(t testing.TB, td *tracepb.TracesData) []byte {
	b, err := protojson.MarshalOptions{UseEnumNumbers: true}.Marshal(td)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && (k == "traceId" || k == "spanId" || k == "parentSpanId") {
					raw, err := base64.StdEncoding.DecodeString(s)
					if err != nil {
						t.Fatal(err)
					}
					v[k] = hex.EncodeToString(raw)
					continue
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestOTLPFixturesAreCurrent regenerates testdata/decode/otlp with -update
// and otherwise checks the committed files still match the builders.
func TestOTLPFixturesAreCurrent(t *testing.T) {
	for name, build := range otlpFixtures {
		td := build()
		pbPath := filepath.Join(testdataDir, "otlp", name+".binpb")
		jsonPath := filepath.Join(testdataDir, "otlp", name+".json")
		if *update {
			pb, err := proto.MarshalOptions{Deterministic: true}.Marshal(td)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(pbPath, pb, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(jsonPath, otlpJSON(t, td), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		var got tracepb.TracesData
		if err := proto.Unmarshal(readFile(t, pbPath), &got); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(&got, td) {
			t.Errorf("%s is stale; run go test -update", pbPath)
		}
	}
}

func TestOTLPGolden(t *testing.T) {
	for name := range otlpFixtures {
		t.Run(name, func(t *testing.T) {
			var results []goldenResult
			for _, f := range []struct{ format, ext string }{{FormatOTLPProto, ".binpb"}, {FormatOTLPJSON, ".json"}} {
				rec := &Record{Topic: "otlp_spans", Partition: 1, Offset: 7, Value: readFile(t, filepath.Join(testdataDir, "otlp", name+f.ext))}
				evs, res := newDecoder(t, f.format).Decode(rec, nil)
				for _, e := range evs {
					if e.Source.Topic != "otlp_spans" || e.Source.Offset != 7 {
						t.Errorf("%s: source not set: %+v", f.format, e.Source)
					}
				}
				results = append(results, toGoldenResult(evs, res))
			}
			if !reflect.DeepEqual(results[0], results[1]) {
				t.Errorf("otlp_proto and otlp_json disagree:\n%+v\n%+v", results[0], results[1])
			}
			checkGolden(t, "otlp_"+name+".golden.json", results[0])
		})
	}
}

func TestOTLPJSONAcceptsBase64IDsAndEnumNames(t *testing.T) {
	b, err := protojson.Marshal(agentTrace()) // base64 ids, enum names, int64 as strings
	if err != nil {
		t.Fatal(err)
	}
	got, gotRes := newDecoder(t, FormatOTLPJSON).Decode(&Record{Value: b}, nil)
	pb, _ := proto.Marshal(agentTrace())
	want, wantRes := newDecoder(t, FormatOTLPProto).Decode(&Record{Value: pb}, nil)
	if !reflect.DeepEqual(toGoldenResult(got, gotRes), toGoldenResult(want, wantRes)) {
		t.Errorf("protojson input decoded differently:\n%+v\n%+v", toGoldenResult(got, gotRes), toGoldenResult(want, wantRes))
	}
}

// TestOTLPJSONUnpaddedBase64IDs: ids of the length of padded base64 but
// without padding decode to more bytes than an id has; they are bad ids,
// not a panic (found by FuzzOTLPJSON).
func TestOTLPJSONUnpaddedBase64IDs(t *testing.T) {
	for _, ids := range []string{
		`"traceId":"000000000000000000000000","spanId":"00f067aa0ba902b7"`,
		`"traceId":"` + agentTraceID + `","spanId":"000000000000"`,
	} {
		in := strings.Replace(otlpJSONChat(`,{"key":"gen_ai.usage.input_tokens","value":{"intValue":1}},{"key":"gen_ai.usage.output_tokens","value":{"intValue":1}}`),
			`"traceId":"`+agentTraceID+`","spanId":"00f067aa0ba902b7"`, ids, 1)
		evs, res := newDecoder(t, FormatOTLPJSON).Decode(&Record{Value: []byte(in)}, nil)
		if len(evs) != 0 || len(res.Rejections) != 1 || res.Rejections[0].Reason != ReasonBadID {
			t.Errorf("%s: got %d events, %v; want one bad_id", ids, len(evs), res.Rejections)
		}
	}
}

func TestOTLPIdentityConfiguration(t *testing.T) {
	td := request([]any{"org", "initech"}, "s", agentTraceID, spanSpec{id: "00f067aa0ba902b7", endMs: 1, attrs: []any{
		"gen_ai.operation.name", "execute_tool", "gen_ai.tool.name", "fax", "job", "wc-9", "task", "t-1", "try", "3", "awu.channel", "voice",
	}})
	pb, _ := proto.Marshal(td)
	cfg := DefaultConfig()
	cfg.OTLP = OTLPConfig{TenantAttribute: "org", WorkcycleAttribute: "job", AWUAttribute: "task", AttemptAttribute: "try"}
	d, err := New(FormatOTLPProto, cfg, testSettings())
	if err != nil {
		t.Fatal(err)
	}
	evs, res := d.Decode(&Record{Value: pb}, nil)
	if len(evs) != 1 {
		t.Fatalf("got %d events, %v", len(evs), res.Rejections)
	}
	e := evs[0]
	if e.TenantID != "initech" || e.WorkcycleID != "wc-9" || e.AWUID != "t-1" || e.Attempt != 3 || e.Channel.String() != "voice" ||
		e.EventID != agentTraceID+"-00f067aa0ba902b7" || !e.Time.Equal(traceStart.Add(time.Millisecond)) {
		t.Errorf("got %+v", e)
	}

	// Without any tenant attribute, the configured default applies.
	cfg.OTLP.TenantAttribute = "absent"
	cfg.OTLP.DefaultTenantID = "single-tenant"
	d, _ = New(FormatOTLPProto, cfg, testSettings())
	if evs, _ := d.Decode(&Record{Value: pb}, nil); len(evs) != 1 || evs[0].TenantID != "single-tenant" {
		t.Errorf("default tenant not used: %+v", evs)
	}
}

func TestOTLPRecordRejections(t *testing.T) {
	for _, tc := range []struct {
		name, format, in string
		reason           Reason
	}{
		{"garbage protobuf", FormatOTLPProto, "\x0a\xff\xff\xff\xff\x0f", ReasonNotOTLP},
		{"JSON sent to the proto topic", FormatOTLPProto, `{"resourceSpans":[]}`, ReasonNotOTLP},
		{"not JSON", FormatOTLPJSON, `{"resourceSpans":[`, ReasonNotJSON},
		{"resourceSpans not an array", FormatOTLPJSON, `{"resourceSpans":{}}`, ReasonNotOTLP},
		{"span not an object", FormatOTLPJSON, `{"resourceSpans":[{"scopeSpans":[{"spans":[1]}]}]}`, ReasonNotOTLP},
		{"bad end time", FormatOTLPJSON, `{"resourceSpans":[{"scopeSpans":[{"spans":[{"endTimeUnixNano":"soon"}]}]}]}`, ReasonNotOTLP},
		{"top-level array", FormatOTLPJSON, `[]`, ReasonNotObject},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, res := newDecoder(t, tc.format).Decode(&Record{Value: []byte(tc.in)}, nil)
			if len(evs) != 0 || len(res.Rejections) != 1 || res.Rejections[0].Reason != tc.reason {
				t.Errorf("got %d events, %v; want one %s", len(evs), res.Rejections, tc.reason)
			}
			if len(res.Rejections) > 0 && !strings.Contains(res.Rejections[0].Error(), string(tc.reason)) {
				t.Errorf("Error() = %q", res.Rejections[0].Error())
			}
		})
	}
	// An empty request is valid and yields nothing.
	for _, f := range []string{FormatOTLPProto, FormatOTLPJSON} {
		in := "{}"
		if f == FormatOTLPProto {
			in = ""
		}
		evs, res := newDecoder(t, f).Decode(&Record{Value: []byte(in)}, nil)
		if len(evs) != 0 || len(res.Rejections) != 0 {
			t.Errorf("%s: empty request gave %d events, %v", f, len(evs), res.Rejections)
		}
	}
}
