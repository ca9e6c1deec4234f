package gen

import (
	"encoding/binary"
	"encoding/hex"
	"hash/fnv"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/awumeter/awumeter/pipeline/event"
)

// OTLP span kinds used by gen-ai instrumentation.
const (
	spanKindInternal = int32(tracepb.Span_SPAN_KIND_INTERNAL)
	spanKindClient   = int32(tracepb.Span_SPAN_KIND_CLIENT)
)

// scopeName names the instrumentation scope of generated spans.
const scopeName = "awumeter-gen"

// kv is one OTLP attribute: a string, or an integer when isInt.
type kv struct {
	key   string
	s     string
	i     int64
	isInt bool
}

func str(key, v string) kv       { return kv{key: key, s: v} }
func num(key string, v int64) kv { return kv{key: key, i: v, isInt: true} }

// span is one OTLP span with its resource, independent of the encoding.
type span struct {
	traceID    [16]byte
	spanID     [8]byte
	name       string
	kind       int32
	start, end uint64
	res, attrs []kv
	failed     bool
}

// spanOf maps a model call or a tool call to the gen-ai span an
// instrumented agent would export, with the awu.* attributes that carry the
// v1 identity. The trace id is derived from the workcycle and the span id
// from the event id, so that a re-sent event keeps its ids.
func spanOf(ev *event.Event) span {
	s := span{
		end:  uint64(ev.Time.UnixNano()),
		res:  []kv{str("service.name", "support-agent"), str("tenant.id", ev.TenantID)},
		kind: spanKindClient,
	}
	h := fnv.New128a()
	h.Write([]byte(ev.TenantID + "\x00" + ev.WorkcycleID))
	copy(s.traceID[:], h.Sum(nil))
	s.traceID[15] |= 1 // never all zero
	h64 := fnv.New64a()
	h64.Write([]byte(ev.TenantID + "\x00" + ev.EventID))
	binary.BigEndian.PutUint64(s.spanID[:], h64.Sum64()|1)

	if ev.Type == event.TypeToolInvocation {
		s.name, s.kind = "execute_tool "+ev.Tool, spanKindInternal
		s.start = s.end - uint64(300*time.Millisecond)
		s.attrs = append(s.attrs, str("gen_ai.operation.name", "execute_tool"), str("gen_ai.tool.name", ev.Tool),
			str("awu.channel", ev.Channel.String()))
		if ev.Status == event.StatusFailed {
			s.failed = true
			s.attrs = append(s.attrs, str("error.type", "tool_error"))
		}
	} else {
		s.name = "chat " + ev.Model
		s.start = s.end - uint64(2*time.Second)
		s.attrs = append(s.attrs, str("gen_ai.operation.name", "chat"))
		if ev.Provider != "" {
			s.attrs = append(s.attrs, str("gen_ai.provider.name", ev.Provider))
		}
		s.attrs = append(s.attrs, str("gen_ai.request.model", ev.Model), str("gen_ai.response.model", ev.Model),
			num("gen_ai.usage.input_tokens", ev.InputTokens), num("gen_ai.usage.output_tokens", ev.OutputTokens))
		for _, c := range []kv{
			num("gen_ai.usage.cache_read.input_tokens", ev.CacheReadInputTokens),
			num("gen_ai.usage.cache_creation.input_tokens", ev.CacheCreationInputTokens),
			num("gen_ai.usage.reasoning.output_tokens", ev.ReasoningTokens),
		} {
			if c.i != 0 {
				s.attrs = append(s.attrs, c)
			}
		}
	}
	s.attrs = append(s.attrs, str("awu.workcycle.id", ev.WorkcycleID), str("awu.id", ev.AWUID), num("awu.attempt", int64(ev.Attempt)))
	if ev.AgentID != "" {
		s.attrs = append(s.attrs, str("gen_ai.agent.id", ev.AgentID))
	}
	if ev.ConversationID != "" {
		s.attrs = append(s.attrs, str("gen_ai.conversation.id", ev.ConversationID))
	}
	return s
}

// proto encodes the span as an ExportTraceServiceRequest, which is
// wire-identical to TracesData.
func (s span) proto() []byte {
	sp := &tracepb.Span{
		TraceId:           s.traceID[:],
		SpanId:            s.spanID[:],
		Name:              s.name,
		Kind:              tracepb.Span_SpanKind(s.kind),
		StartTimeUnixNano: s.start,
		EndTimeUnixNano:   s.end,
		Attributes:        protoKVs(s.attrs),
	}
	if s.failed {
		sp.Status = &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR}
	}
	td := &tracepb.TracesData{ResourceSpans: []*tracepb.ResourceSpans{{
		Resource:   &resourcepb.Resource{Attributes: protoKVs(s.res)},
		ScopeSpans: []*tracepb.ScopeSpans{{Scope: &commonpb.InstrumentationScope{Name: scopeName}, Spans: []*tracepb.Span{sp}}},
	}}}
	b, err := proto.Marshal(td)
	if err != nil {
		panic("gen: cannot encode an OTLP span: " + err.Error())
	}
	return b
}

func protoKVs(kvs []kv) []*commonpb.KeyValue {
	out := make([]*commonpb.KeyValue, len(kvs))
	for i, a := range kvs {
		v := &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: a.s}}
		if a.isInt {
			v = &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: a.i}}
		}
		out[i] = &commonpb.KeyValue{Key: a.key, Value: v}
	}
	return out
}

// The OTLP/JSON encoding as the collector's Kafka exporter writes it:
// proto3 JSON field names, hex trace and span ids, 64-bit integers as
// decimal strings.
type (
	jsonTraces struct {
		ResourceSpans []jsonResourceSpans `json:"resourceSpans"`
	}
	jsonResourceSpans struct {
		Resource   jsonResource     `json:"resource"`
		ScopeSpans []jsonScopeSpans `json:"scopeSpans"`
	}
	jsonResource struct {
		Attributes []jsonKV `json:"attributes"`
	}
	jsonScopeSpans struct {
		Scope jsonScope  `json:"scope"`
		Spans []jsonSpan `json:"spans"`
	}
	jsonScope struct {
		Name string `json:"name"`
	}
	jsonSpan struct {
		TraceID           string      `json:"traceId"`
		SpanID            string      `json:"spanId"`
		Name              string      `json:"name"`
		Kind              int32       `json:"kind"`
		StartTimeUnixNano string      `json:"startTimeUnixNano"`
		EndTimeUnixNano   string      `json:"endTimeUnixNano"`
		Attributes        []jsonKV    `json:"attributes"`
		Status            *jsonStatus `json:"status,omitempty"`
	}
	jsonStatus struct {
		Code int32 `json:"code"`
	}
	jsonKV struct {
		Key   string   `json:"key"`
		Value jsonAnyV `json:"value"`
	}
	jsonAnyV struct {
		StringValue *string `json:"stringValue,omitempty"`
		IntValue    *string `json:"intValue,omitempty"`
	}
)

// json encodes the span as an OTLP/JSON ExportTraceServiceRequest.
func (s span) json() []byte {
	sp := jsonSpan{
		TraceID:           hex.EncodeToString(s.traceID[:]),
		SpanID:            hex.EncodeToString(s.spanID[:]),
		Name:              s.name,
		Kind:              s.kind,
		StartTimeUnixNano: strconv.FormatUint(s.start, 10),
		EndTimeUnixNano:   strconv.FormatUint(s.end, 10),
		Attributes:        jsonKVs(s.attrs),
	}
	if s.failed {
		sp.Status = &jsonStatus{Code: int32(tracepb.Status_STATUS_CODE_ERROR)}
	}
	return marshal(jsonTraces{ResourceSpans: []jsonResourceSpans{{
		Resource:   jsonResource{Attributes: jsonKVs(s.res)},
		ScopeSpans: []jsonScopeSpans{{Scope: jsonScope{Name: scopeName}, Spans: []jsonSpan{sp}}},
	}}}, "an OTLP span")
}

func jsonKVs(kvs []kv) []jsonKV {
	out := make([]jsonKV, len(kvs))
	for i, a := range kvs {
		v := a.s
		out[i] = jsonKV{Key: a.key, Value: jsonAnyV{StringValue: &v}}
		if a.isInt {
			n := strconv.FormatInt(a.i, 10)
			out[i].Value = jsonAnyV{IntValue: &n}
		}
	}
	return out
}

// malformedOTLP returns a record that the OTLP decoders reject, one of six
// defects chosen by the line's hash: bytes that are not OTLP, a negative
// token count, no tenant, a tool span without a tool name, more cache
// tokens than input tokens, or an all-zero trace id.
func malformedOTLP(format string, line []byte) []byte {
	variant := hash32(line) % 6
	if variant == 0 {
		if format == FormatOTLPProto {
			return []byte{0x0a, 0xff, 0x01, 0x0a} // resource_spans claims 255 bytes; 1 follows
		}
		return []byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[`)
	}
	ev := event.Event{
		Type: event.TypeTokenUsage, EventID: "bad-" + strconv.FormatUint(uint64(hash32(line)), 16),
		Time:     time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC),
		TenantID: "tenant-01", WorkcycleID: "wc-x", AWUID: "a", Attempt: 1,
		Model: "gemini-3-flash", InputTokens: 10, OutputTokens: 5,
	}
	switch variant {
	case 3:
		ev.Type, ev.Tool, ev.Status = event.TypeToolInvocation, "", event.StatusSucceeded
	case 4:
		ev.CacheReadInputTokens = 20
	}
	s := spanOf(&ev)
	switch variant {
	case 1:
		for i := range s.attrs {
			if s.attrs[i].key == "gen_ai.usage.input_tokens" {
				s.attrs[i].i = -10
			}
		}
	case 2:
		s.res = s.res[:1] // service.name only
	case 3:
		for i := range s.attrs {
			if s.attrs[i].key == "gen_ai.tool.name" {
				s.attrs = append(s.attrs[:i], s.attrs[i+1:]...)
				break
			}
		}
	case 5:
		s.traceID = [16]byte{}
	}
	if format == FormatOTLPProto {
		return s.proto()
	}
	return s.json()
}
