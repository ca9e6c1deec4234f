package decode

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/awumeter/awumeter/pipeline/event"
)

// Inputs a hostile or careless producer sends (issue 11): counts and ids of
// any size, repeated keys, integers that are not quite integers, control
// characters in CloudEvents headers, and OTLP records built to be slow.

// nativeTokenUsage is a valid native token_usage event with extra members
// appended (a later member overrides an earlier one of the same name).
func nativeTokenUsage(extra string) string {
	return `{"event_id":"e","type":"token_usage","time":"2026-03-01T12:00:00Z","tenant_id":"acme","workcycle_id":"wc",` +
		`"awu_id":"a","model":"m","input_tokens":10,"output_tokens":5` + extra + `}`
}

// otlpJSONChat is an OTLP/JSON record with one chat span of tenant acme;
// attrs is the JSON text of its extra attributes, without brackets.
func otlpJSONChat(attrs string) string {
	end := strconv.FormatInt(traceStart.UnixNano(), 10)
	return `{"resourceSpans":[{"resource":{"attributes":[{"key":"tenant.id","value":{"stringValue":"acme"}}]},"scopeSpans":[{"spans":[{` +
		`"traceId":"` + agentTraceID + `","spanId":"00f067aa0ba902b7","endTimeUnixNano":"` + end + `","attributes":[` +
		`{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},{"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o"}}` +
		attrs + `]}]}]}]}`
}

// otlpChatProto is the protobuf record of one chat span of tenant acme with
// the given extra attributes.
func otlpChatProto(t *testing.T, attrs ...any) []byte {
	t.Helper()
	td := request([]any{"tenant.id", "acme"}, "s", agentTraceID, spanSpec{id: "00f067aa0ba902b7", endMs: 0,
		attrs: append([]any{"gen_ai.operation.name", "chat", "gen_ai.request.model", "gpt-4o"}, attrs...)})
	b, err := proto.Marshal(td)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decodeAll decodes one record and returns its events and rejections.
func decodeAll(t *testing.T, cfg Config, format string, rec *Record) ([]event.Event, []Rejection) {
	t.Helper()
	d, err := New(format, cfg, testSettings())
	if err != nil {
		t.Fatal(err)
	}
	evs, res := d.Decode(rec, nil)
	return evs, res.Rejections
}

// wantRejection checks that exactly one rejection with reason and every
// detail substring came out, and no event.
func wantRejection(t *testing.T, evs []event.Event, rejs []Rejection, reason Reason, details ...string) {
	t.Helper()
	if len(evs) != 0 || len(rejs) != 1 {
		t.Fatalf("got %d events and rejections %v, want one %s", len(evs), rejs, reason)
	}
	if rejs[0].Reason != reason {
		t.Fatalf("got %v, want %s", rejs[0], reason)
	}
	for _, d := range details {
		if !strings.Contains(rejs[0].Detail, d) {
			t.Errorf("detail %q does not contain %q", rejs[0].Detail, d)
		}
	}
}

// decodeOneEvent decodes one record that must yield one event and nothing else.
func decodeOneEvent(t *testing.T, cfg Config, format string, rec *Record) event.Event {
	t.Helper()
	evs, rejs := decodeAll(t, cfg, format, rec)
	if len(evs) != 1 || len(rejs) != 0 {
		t.Fatalf("got %d events and rejections %v, want one event", len(evs), rejs)
	}
	return evs[0]
}

func TestTokenCountsAboveTheBoundAreRejected(t *testing.T) {
	cfg := DefaultConfig()
	for _, f := range []string{"input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens", "reasoning_tokens"} {
		for _, v := range []string{"1000000001", "5000000000000000000", "9223372036854775807", "1e10"} {
			t.Run("native "+f+" of "+v, func(t *testing.T) {
				// input and output are at the bound, so that parts above it
				// break no other rule first.
				in := nativeTokenUsage(`,"input_tokens":1000000000,"output_tokens":1000000000,"` + f + `":` + v)
				evs, rejs := decodeAll(t, cfg, FormatJSON, &Record{Value: []byte(in)})
				want := v
				if v == "1e10" {
					want = "10000000000"
				}
				wantRejection(t, evs, rejs, ReasonTokensBound, "field "+f+" is "+want, "max_tokens_per_event 1000000000")
			})
		}
	}
	t.Run("native counts at the bound are accepted", func(t *testing.T) {
		in := nativeTokenUsage(`,"input_tokens":1000000000,"output_tokens":1000000000,"cache_read_input_tokens":600000000,"cache_creation_input_tokens":400000000,"reasoning_tokens":1000000000`)
		ev := decodeOneEvent(t, cfg, FormatJSON, &Record{Value: []byte(in)})
		if ev.InputTokens != 1000000000 || ev.OutputTokens != 1000000000 || ev.CacheReadInputTokens != 600000000 ||
			ev.CacheCreationInputTokens != 400000000 || ev.ReasoningTokens != 1000000000 {
			t.Errorf("got %+v", ev)
		}
	})
	t.Run("a configured bound overrides the default", func(t *testing.T) {
		small := DefaultConfig()
		small.MaxTokensPerEvent = 10
		evs, rejs := decodeAll(t, small, FormatJSON, &Record{Value: []byte(nativeTokenUsage(`,"output_tokens":11`))})
		wantRejection(t, evs, rejs, ReasonTokensBound, "field output_tokens is 11, more than max_tokens_per_event 10")
	})
	t.Run("two events of the issue whose input tokens would wrap when added are each rejected", func(t *testing.T) {
		evs, rejs := decodeAll(t, cfg, FormatJSON, &Record{Value: []byte(nativeTokenUsage(`,"input_tokens":5000000000000000000`))})
		wantRejection(t, evs, rejs, ReasonTokensBound, "input_tokens is 5000000000000000000")
	})
	t.Run("cloudevents structured data", func(t *testing.T) {
		v := `{"specversion":"1.0","id":"1","source":"/s","type":"io.awumeter.token_usage.v1","data":` + nativeTokenUsage(`,"output_tokens":9223372036854775807`) + `}`
		evs, rejs := decodeAll(t, cfg, FormatCloudEvents, &Record{Value: []byte(v)})
		wantRejection(t, evs, rejs, ReasonTokensBound, "output_tokens is 9223372036854775807")
	})
	t.Run("cloudevents binary data", func(t *testing.T) {
		rec := binaryRecord(nativeTokenUsage(`,"input_tokens":1000000001`), "ce_specversion", "1.0", "ce_id", "1", "ce_source", "/s", "ce_type", "io.awumeter.token_usage.v1")
		evs, rejs := decodeAll(t, cfg, FormatCloudEvents, rec)
		wantRejection(t, evs, rejs, ReasonTokensBound, "input_tokens is 1000000001")
	})

	// OTLP: every attribute that carries a count, deprecated names
	// included, as an int, a double and a decimal string.
	for _, key := range []string{attrInputTokens, attrOutputTokens, attrPromptTokens, attrCompletionToks, attrCacheRead, attrCacheCreation, attrReasoning} {
		base := []any{attrInputTokens, 1000000000, attrOutputTokens, 1000000000}
		switch key {
		case attrInputTokens, attrPromptTokens:
			base = []any{attrOutputTokens, 5}
		case attrOutputTokens, attrCompletionToks:
			base = []any{attrInputTokens, 10}
		}
		for _, v := range []any{1000000001, 9223372036854775807, 5e9, "1000000001"} {
			t.Run(fmt.Sprintf("otlp_proto %s of %v", key, v), func(t *testing.T) {
				pb := otlpChatProto(t, append(append([]any{}, base...), key, v)...)
				evs, rejs := decodeAll(t, cfg, FormatOTLPProto, &Record{Value: pb})
				want := fmt.Sprint(v)
				if f, ok := v.(float64); ok {
					want = strconv.FormatFloat(f, 'f', 0, 64)
				}
				wantRejection(t, evs, rejs, ReasonTokensBound, "attribute "+key+" is "+want, "max_tokens_per_event 1000000000")
			})
		}
		t.Run("otlp_json "+key+" as an intValue string", func(t *testing.T) {
			attrs := `,{"key":"` + key + `","value":{"intValue":"1000000001"}}`
			switch key {
			case attrInputTokens, attrPromptTokens:
				attrs += `,{"key":"gen_ai.usage.output_tokens","value":{"intValue":"5"}}`
			case attrOutputTokens, attrCompletionToks:
				attrs += `,{"key":"gen_ai.usage.input_tokens","value":{"intValue":"10"}}`
			default:
				attrs += `,{"key":"gen_ai.usage.input_tokens","value":{"intValue":1000000000}},{"key":"gen_ai.usage.output_tokens","value":{"intValue":1000000000}}`
			}
			evs, rejs := decodeAll(t, cfg, FormatOTLPJSON, &Record{Value: []byte(otlpJSONChat(attrs))})
			wantRejection(t, evs, rejs, ReasonTokensBound, "attribute "+key+" is 1000000001")
		})
	}
	t.Run("otlp_json doubleValue above the bound", func(t *testing.T) {
		attrs := `,{"key":"gen_ai.usage.input_tokens","value":{"doubleValue":5e18}},{"key":"gen_ai.usage.output_tokens","value":{"intValue":"5"}}`
		evs, rejs := decodeAll(t, cfg, FormatOTLPJSON, &Record{Value: []byte(otlpJSONChat(attrs))})
		wantRejection(t, evs, rejs, ReasonTokensBound, "attribute gen_ai.usage.input_tokens is 5000000000000000000")
	})
}

func TestLongIDsAndLabelsAreRejected(t *testing.T) {
	cfg := DefaultConfig()
	ids := []string{"event_id", "tenant_id", "workcycle_id", "agent_id", "conversation_id", "awu_id"}
	labels := []string{"model", "provider"}
	for _, f := range append(append([]string{}, ids...), labels...) {
		max, reason, key := 512, ReasonIDTooLong, "max_id_bytes"
		if f == "model" || f == "provider" {
			max, reason, key = 256, ReasonFieldTooLong, "max_label_bytes"
		}
		t.Run(f+" at its limit is accepted", func(t *testing.T) {
			v := strings.Repeat("é", max/2) // two bytes each: the limit counts bytes
			decodeOneEvent(t, cfg, FormatJSON, &Record{Value: []byte(nativeTokenUsage(`,"` + f + `":"` + v + `"`))})
		})
		t.Run(f+" one byte over its limit is rejected", func(t *testing.T) {
			v := strings.Repeat("é", max/2) + "x"
			evs, rejs := decodeAll(t, cfg, FormatJSON, &Record{Value: []byte(nativeTokenUsage(`,"` + f + `":"` + v + `"`))})
			wantRejection(t, evs, rejs, reason, fmt.Sprintf("field %s is %d bytes, more than %s %d", f, max+1, key, max))
		})
	}
	for _, f := range []string{"tool", "outcome", "outcome_type"} {
		t.Run(f+" one byte over its limit is rejected", func(t *testing.T) {
			v := strings.Repeat("x", 257)
			in := `{"event_id":"e","type":"tool_invocation","time":"2026-03-01T12:00:00Z","tenant_id":"t","workcycle_id":"w","awu_id":"a","status":"failed","tool":"` + v + `"}`
			if f != "tool" {
				in = `{"event_id":"e","type":"workcycle","time":"2026-03-01T12:00:00Z","tenant_id":"t","workcycle_id":"w","phase":"completed","outcome":"ok","` + f + `":"` + v + `"}`
			}
			evs, rejs := decodeAll(t, cfg, FormatJSON, &Record{Value: []byte(in)})
			wantRejection(t, evs, rejs, ReasonFieldTooLong, "field "+f+" is 257 bytes, more than max_label_bytes 256")
		})
	}
	t.Run("a 100 KB agent id is rejected with a short detail", func(t *testing.T) {
		v := strings.Repeat("A", 100<<10)
		evs, rejs := decodeAll(t, cfg, FormatJSON, &Record{Value: []byte(nativeTokenUsage(`,"agent_id":"` + v + `"`))})
		wantRejection(t, evs, rejs, ReasonIDTooLong, "field agent_id is 102400 bytes, more than max_id_bytes 512")
		if len(rejs[0].Detail) > 200 {
			t.Errorf("detail is %d bytes long: %.300q", len(rejs[0].Detail), rejs[0].Detail)
		}
	})
	t.Run("a 300 KB workcycle id is rejected", func(t *testing.T) {
		v := strings.Repeat("w", 300<<10)
		in := `{"event_id":"e","type":"workcycle","time":"2026-03-01T12:00:00Z","tenant_id":"t","workcycle_id":"` + v + `"}`
		evs, rejs := decodeAll(t, cfg, FormatJSON, &Record{Value: []byte(in)})
		wantRejection(t, evs, rejs, ReasonIDTooLong, "field workcycle_id is 307200 bytes")
	})
	t.Run("configured limits override the defaults", func(t *testing.T) {
		small := DefaultConfig()
		small.MaxIDBytes, small.MaxLabelBytes = 4, 1
		evs, rejs := decodeAll(t, small, FormatJSON, &Record{Value: []byte(nativeTokenUsage(`,"tenant_id":"acme5"`))})
		wantRejection(t, evs, rejs, ReasonIDTooLong, "field tenant_id is 5 bytes, more than max_id_bytes 4")
		evs, rejs = decodeAll(t, small, FormatJSON, &Record{Value: []byte(nativeTokenUsage(`,"tenant_id":"acme","event_id":"e","awu_id":"a","workcycle_id":"w","model":"mm"`))})
		wantRejection(t, evs, rejs, ReasonFieldTooLong, "field model is 2 bytes, more than max_label_bytes 1")
	})
	t.Run("cloudevents event_id counts source, space and id", func(t *testing.T) {
		src := "/" + strings.Repeat("s", 300)
		rec := binaryRecord(ceData, "ce_specversion", "1.0", "ce_id", strings.Repeat("i", 211), "ce_source", src, "ce_type", "io.awumeter.tool_invocation.v1", "ce_time", "2026-03-01T12:00:00Z")
		evs, rejs := decodeAll(t, cfg, FormatCloudEvents, rec)
		wantRejection(t, evs, rejs, ReasonIDTooLong, "field event_id is 513 bytes")
		rec.Headers[1].Value = rec.Headers[1].Value[1:]
		decodeOneEvent(t, cfg, FormatCloudEvents, rec)
	})
	for _, format := range []string{FormatOTLPProto, FormatOTLPJSON} {
		for _, tc := range []struct {
			attr, field string
			reason      Reason
		}{
			{"gen_ai.agent.id", "agent_id", ReasonIDTooLong},
			{"gen_ai.conversation.id", "conversation_id", ReasonIDTooLong},
			{"awu.workcycle.id", "workcycle_id", ReasonIDTooLong},
			{"awu.id", "awu_id", ReasonIDTooLong},
			{"tenant.id", "tenant_id", ReasonIDTooLong},
			{"gen_ai.response.model", "model", ReasonFieldTooLong},
			{"gen_ai.system", "provider", ReasonFieldTooLong},
		} {
			t.Run(format+" "+tc.attr+" of 100 KB", func(t *testing.T) {
				v := strings.Repeat("x", 100<<10)
				td := request([]any{"tenant.id", "acme"}, "s", agentTraceID, spanSpec{id: "00f067aa0ba902b7", attrs: []any{
					"gen_ai.operation.name", "chat", "gen_ai.request.model", "gpt-4o", "awu.workcycle.id", "wc", attrInputTokens, 10, attrOutputTokens, 5, tc.attr, v}})
				var b []byte
				if format == FormatOTLPProto {
					b, _ = proto.Marshal(td)
				} else {
					b = otlpJSON(t, td)
				}
				evs, rejs := decodeAll(t, cfg, format, &Record{Value: b})
				wantRejection(t, evs, rejs, tc.reason, "span 00f067aa0ba902b7: field "+tc.field+" is 102400 bytes")
				if len(rejs[0].Detail) > 200 {
					t.Errorf("detail is %d bytes long", len(rejs[0].Detail))
				}
			})
		}
		t.Run(format+" tool name of 257 bytes", func(t *testing.T) {
			td := request([]any{"tenant.id", "acme"}, "s", agentTraceID, spanSpec{id: "00f067aa0ba902b7", attrs: []any{
				"gen_ai.operation.name", "execute_tool", "gen_ai.tool.name", strings.Repeat("t", 257)}})
			b, _ := proto.Marshal(td)
			if format == FormatOTLPJSON {
				b = otlpJSON(t, td)
			}
			evs, rejs := decodeAll(t, cfg, format, &Record{Value: b})
			wantRejection(t, evs, rejs, ReasonFieldTooLong, "field tool is 257 bytes, more than max_label_bytes 256")
		})
	}
}

func TestRepeatedJSONKeysLastWins(t *testing.T) {
	t.Run("native json", func(t *testing.T) {
		in := nativeTokenUsage(`,"tenant_id":"second","input_tokens":7`)
		ev := decodeOneEvent(t, DefaultConfig(), FormatJSON, &Record{Value: []byte(in)})
		if ev.TenantID != "second" || ev.InputTokens != 7 {
			t.Errorf("got tenant %q, input %d; want second, 7", ev.TenantID, ev.InputTokens)
		}
	})
	t.Run("cloudevents structured envelope and data", func(t *testing.T) {
		v := `{"specversion":"1.0","id":"first","source":"/s","type":"io.awumeter.workcycle.v1","id":"second","time":"2026-03-01T12:00:00Z",` +
			`"data":{"tenant_id":"t1"},"data":` + ceData + `}`
		ev := decodeOneEvent(t, DefaultConfig(), FormatCloudEvents, &Record{Value: []byte(v)})
		if ev.EventID != "/s second" || ev.Type != event.TypeWorkcycle || ev.TenantID != "acme" {
			t.Errorf("got %+v", ev)
		}
	})
	t.Run("cloudevents binary headers", func(t *testing.T) {
		rec := binaryRecord(ceData, "ce_specversion", "1.0", "ce_id", "first", "ce_source", "/s", "ce_type", "io.awumeter.tool_invocation.v1", "ce_time", "2026-03-01T12:00:00Z", "ce_id", "second")
		ev := decodeOneEvent(t, DefaultConfig(), FormatCloudEvents, rec)
		if ev.EventID != "/s second" {
			t.Errorf("got event_id %q, want %q", ev.EventID, "/s second")
		}
	})
	end := strconv.FormatInt(traceStart.UnixNano(), 10)
	span := func(members string) string {
		return `{"resourceSpans":[{"resource":{"attributes":[{"key":"tenant.id","value":{"stringValue":"acme"}}]},"scopeSpans":[{"spans":[{` + members + `}]}]}]}`
	}
	chatAttrs := `[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},{"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o"}},` +
		`{"key":"gen_ai.usage.input_tokens","value":{"intValue":"10"}},{"key":"gen_ai.usage.output_tokens","value":{"intValue":"5"}}]`
	ids := `"traceId":"` + agentTraceID + `","spanId":"00f067aa0ba902b7","endTimeUnixNano":"` + end + `"`
	for _, tc := range []struct {
		name, in string
		check    func(event.Event) bool
	}{
		{"otlp_json span ids", span(`"traceId":"00000000000000000000000000000000","spanId":"0000000000000000",` + ids + `,"attributes":` + chatAttrs),
			func(e event.Event) bool { return e.EventID == agentTraceID+"-00f067aa0ba902b7" }},
		{"otlp_json attributes array", span(ids + `,"attributes":[],"attributes":` + chatAttrs),
			func(e event.Event) bool { return e.InputTokens == 10 }},
		{"otlp_json attribute key", span(ids + `,"attributes":[{"key":"app.unrelated","key":"gen_ai.agent.id","value":{"stringValue":"bot"}},` + chatAttrs[1:]),
			func(e event.Event) bool { return e.AgentID == "bot" }},
		{"otlp_json attribute value", span(ids + `,"attributes":[{"key":"gen_ai.agent.id","value":{"stringValue":"first"},"value":{"stringValue":"second"}},` + chatAttrs[1:]),
			func(e event.Event) bool { return e.AgentID == "second" }},
		{"otlp_json value member", span(ids + `,"attributes":[{"key":"gen_ai.usage.input_tokens","value":{"intValue":"1","intValue":"10"}},` + chatAttrs[1:]),
			func(e event.Event) bool { return e.InputTokens == 10 }},
		{"otlp_json end time", span(`"endTimeUnixNano":"1",` + ids + `,"attributes":` + chatAttrs),
			func(e event.Event) bool { return e.Time.Equal(traceStart) }},
		{"otlp_json status", span(ids + `,"status":{"code":2,"code":0},"attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"execute_tool"}},{"key":"gen_ai.tool.name","value":{"stringValue":"t"}}]`),
			func(e event.Event) bool { return e.Status == event.StatusSucceeded }},
		{"otlp_json resource attributes", strings.Replace(span(ids+`,"attributes":`+chatAttrs), `"resource":{`, `"resource":{"attributes":[{"key":"tenant.id","value":{"stringValue":"first"}}],`, 1),
			func(e event.Event) bool { return e.TenantID == "acme" }},
		{"otlp_json resource", strings.Replace(span(ids+`,"attributes":`+chatAttrs), `"resource":{`, `"resource":{"attributes":[]},"resource":{`, 1),
			func(e event.Event) bool { return e.TenantID == "acme" }},
		{"otlp_json scope spans", strings.Replace(span(ids+`,"attributes":`+chatAttrs), `"scopeSpans":[`, `"scopeSpans":[],"scopeSpans":[`, 1),
			func(e event.Event) bool { return e.InputTokens == 10 }},
		{"otlp_json spans", strings.Replace(span(ids+`,"attributes":`+chatAttrs), `{"spans":[`, `{"spans":[],"spans":[`, 1),
			func(e event.Event) bool { return e.InputTokens == 10 }},
		{"otlp_json resource spans", `{"resourceSpans":[],` + span(ids + `,"attributes":` + chatAttrs)[1:],
			func(e event.Event) bool { return e.InputTokens == 10 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := decodeOneEvent(t, DefaultConfig(), FormatOTLPJSON, &Record{Value: []byte(tc.in)})
			if !tc.check(ev) {
				t.Errorf("the first of a repeated key won: %+v", ev)
			}
		})
	}
}

func TestParseIntIsExact(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		st   intStatus
	}{
		{"5", 5, intOK},
		{"5.0", 5, intOK},
		{"5e3", 5000, intOK},
		{"5E+3", 5000, intOK},
		{"1.5e1", 15, intOK},
		{"1500e-2", 15, intOK},
		{"-0", 0, intOK},
		{"0e-400", 0, intOK},
		{"0.000", 0, intOK},
		{"+7", 7, intOK},
		{"007", 7, intOK},
		{"123456789012345678", 123456789012345678, intOK},
		{"4611686018427387905.0", 4611686018427387905, intOK},
		{"4611686018427387905", 4611686018427387905, intOK},
		{"46116860184273879.05e2", 4611686018427387905, intOK},
		{"9223372036854775807", 9223372036854775807, intOK},
		{"9223372036854775807.000", 9223372036854775807, intOK},
		{"-9223372036854775808", -9223372036854775808, intOK},
		{"1.0000000000000001", 0, intFraction},
		{"1e-400", 0, intFraction},
		{"1.5", 0, intFraction},
		{"4611686018427387905.5", 0, intFraction},
		{"1e-99999999999999999999999", 0, intFraction},
		{"9223372036854775808", 0, intRange},
		{"-9223372036854775809", 0, intRange},
		{"1e19", 0, intRange},
		{"1e99999999999999999999999", 0, intRange},
		{"100000000000000000000000000e-7", 0, intRange},
		{"", 0, intSyntax},
		{"-", 0, intSyntax},
		{"many", 0, intSyntax},
		{"1.", 0, intSyntax},
		{".5", 0, intSyntax},
		{"1e", 0, intSyntax},
		{"0x10", 0, intSyntax},
		{"1 ", 0, intSyntax},
		{"NaN", 0, intSyntax},
	} {
		n, st := parseInt([]byte(tc.in))
		if n != tc.want || st != tc.st {
			t.Errorf("parseInt(%q) = %d, %d; want %d, %d", tc.in, n, st, tc.want, tc.st)
		}
	}
}

func TestIntegersMustBeExact(t *testing.T) {
	cfg := DefaultConfig()
	for _, tc := range []struct {
		name, extra string
		reason      Reason
		detail      string
	}{
		{"a fraction beyond float64's precision", `,"input_tokens":1.0000000000000001`, ReasonBadInteger, "field input_tokens must be an exact integer, got 1.0000000000000001"},
		{"a fraction below float64's range", `,"output_tokens":1e-400`, ReasonBadInteger, "field output_tokens must be an exact integer, got 1e-400"},
		{"an integer written as a fraction keeps every digit", `,"input_tokens":4611686018427387905.0`, ReasonTokensBound, "field input_tokens is 4611686018427387905,"},
		{"an integer beyond int64", `,"input_tokens":1e400`, ReasonBadInteger, "field input_tokens must be an integer between -2^63 and 2^63-1, got 1e400"},
		{"an attempt beyond float64's precision", `,"attempt":1.0000000000000001`, ReasonBadAttempt, "got 1.0000000000000001"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, rejs := decodeAll(t, cfg, FormatJSON, &Record{Value: []byte(nativeTokenUsage(tc.extra))})
			wantRejection(t, evs, rejs, tc.reason, tc.detail)
		})
	}
	t.Run("integral decimal text is accepted exactly", func(t *testing.T) {
		ev := decodeOneEvent(t, cfg, FormatJSON, &Record{Value: []byte(nativeTokenUsage(`,"input_tokens":5e3,"output_tokens":1.5e1,"cache_read_input_tokens":5.0,"attempt":2.0`))})
		if ev.InputTokens != 5000 || ev.OutputTokens != 15 || ev.CacheReadInputTokens != 5 || ev.Attempt != 2 {
			t.Errorf("got %+v", ev)
		}
	})
	for _, tc := range []struct {
		name, value string
		reason      Reason
		detail      string
	}{
		{"otlp_json intValue number beyond float64's precision", `{"intValue":1.0000000000000001}`, ReasonBadInteger, "must be an exact integer"},
		{"otlp_json intValue string beyond float64's precision", `{"intValue":"1.0000000000000001"}`, ReasonBadInteger, "must be an exact integer"},
		{"otlp_json doubleValue below float64's range", `{"doubleValue":1e-400}`, ReasonBadInteger, "must be an exact integer"},
		{"otlp_json doubleValue beyond float64's precision", `{"doubleValue":1.0000000000000001}`, ReasonBadInteger, "must be an exact integer"},
		{"otlp_json stringValue beyond float64's precision", `{"stringValue":"1.0000000000000001"}`, ReasonBadInteger, `got "1.0000000000000001"`},
		{"otlp_json intValue written as a fraction keeps every digit", `{"intValue":"4611686018427387905.0"}`, ReasonTokensBound, "is 4611686018427387905,"},
		{"otlp_json doubleValue written as a fraction keeps every digit", `{"doubleValue":4611686018427387905.0}`, ReasonTokensBound, "is 4611686018427387905,"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			attrs := `,{"key":"gen_ai.usage.input_tokens","value":` + tc.value + `},{"key":"gen_ai.usage.output_tokens","value":{"intValue":"5"}}`
			evs, rejs := decodeAll(t, cfg, FormatOTLPJSON, &Record{Value: []byte(otlpJSONChat(attrs))})
			wantRejection(t, evs, rejs, tc.reason, "attribute gen_ai.usage.input_tokens", tc.detail)
		})
	}
	t.Run("otlp_json integral text is accepted exactly", func(t *testing.T) {
		attrs := `,{"key":"gen_ai.usage.input_tokens","value":{"intValue":"5e3"}},{"key":"gen_ai.usage.output_tokens","value":{"doubleValue":1.5e1}},` +
			`{"key":"gen_ai.usage.cache_read.input_tokens","value":{"intValue":5.0}},{"key":"awu.attempt","value":{"stringValue":"2.0"}}`
		ev := decodeOneEvent(t, cfg, FormatOTLPJSON, &Record{Value: []byte(otlpJSONChat(attrs))})
		if ev.InputTokens != 5000 || ev.OutputTokens != 15 || ev.CacheReadInputTokens != 5 || ev.Attempt != 2 {
			t.Errorf("got %+v", ev)
		}
	})
}

func TestCloudEventsHeaderAttributesAreValidated(t *testing.T) {
	good := []string{"ce_specversion", "1.0", "ce_id", "a1", "ce_source", "/s", "ce_type", "io.awumeter.tool_invocation.v1", "ce_time", "2026-03-01T12:00:00Z"}
	with := func(key, value string) *Record {
		h := append([]string{}, good...)
		replaced := false
		for i := 0; i < len(h); i += 2 {
			if h[i] == key {
				h[i+1], replaced = value, true
			}
		}
		if !replaced {
			h = append(h, key, value)
		}
		return binaryRecord(ceData, h...)
	}
	decodeOneEvent(t, DefaultConfig(), FormatCloudEvents, with("ce_id", "a1"))
	for _, tc := range []struct {
		name, key, value, detail string
	}{
		{"ce_id with invalid UTF-8", "ce_id", "a\xff1", "header ce_id is not valid UTF-8"},
		{"ce_source with invalid UTF-8", "ce_source", "/s\xc3", "header ce_source is not valid UTF-8"},
		{"ce_id with a newline", "ce_id", "a\n1", "header ce_id contains the control character U+000A"},
		{"ce_source with an escape sequence", "ce_source", "/s\x1b[31m", "header ce_source contains the control character U+001B"},
		{"ce_id with a C1 control character", "ce_id", "a\u00851", "header ce_id contains the control character U+0085"},
		{"ce_id with a delete character", "ce_id", "a\x7f", "header ce_id contains the control character U+007F"},
		{"ce_type with a NUL", "ce_type", "io.awumeter.tool_invocation.v1\x00", "header ce_type contains the control character U+0000"},
		{"ce_specversion with a tab", "ce_specversion", "1.0\t", "header ce_specversion contains the control character U+0009"},
		{"an extension header with a carriage return", "ce_subject", "x\ry", "header ce_subject contains the control character U+000D"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, rejs := decodeAll(t, DefaultConfig(), FormatCloudEvents, with(tc.key, tc.value))
			wantRejection(t, evs, rejs, ReasonBadCloudEvent, tc.detail)
		})
	}
	// Structured mode holds its attributes to the same rule.
	for _, tc := range []struct {
		name, attrs, detail string
	}{
		{"structured id with an escaped newline", `"id":"a\n1","source":"/s"`, `context attribute id contains the control character U+000A`},
		{"structured source with an escaped C1 control", `"id":"a1","source":"/s\u0085"`, `context attribute source contains the control character U+0085`},
		{"structured extension with an escaped escape", `"id":"a1","source":"/s","subject":"\u001b[2J"`, `context attribute subject contains the control character U+001B`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := `{"specversion":"1.0",` + tc.attrs + `,"type":"io.awumeter.tool_invocation.v1","data":` + ceData + `}`
			evs, rejs := decodeAll(t, DefaultConfig(), FormatCloudEvents, &Record{Value: []byte(v)})
			wantRejection(t, evs, rejs, ReasonBadCloudEvent, tc.detail)
		})
	}
	t.Run("structured data may hold escaped control characters", func(t *testing.T) {
		v := `{"specversion":"1.0","id":"a1","source":"/s","type":"io.awumeter.workcycle.v1","time":"2026-03-01T12:00:00Z","data":{"tenant_id":"t","workcycle_id":"w","outcome":"a\nb"}}`
		decodeOneEvent(t, DefaultConfig(), FormatCloudEvents, &Record{Value: []byte(v)})
	})
}

func TestCloudEventsStringRuleMatchesItsDefinition(t *testing.T) {
	// A CloudEvents String is valid UTF-8 without U+0000–U+001F and
	// U+007F–U+009F. Every byte value at every position of a string longer
	// than the eight bytes checked at a time.
	want := func(v []byte) bool {
		if !utf8.Valid(v) {
			return false
		}
		for _, r := range string(v) {
			if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
				return false
			}
		}
		return true
	}
	for b := 0; b < 256; b++ {
		for pos := 0; pos < 19; pos++ {
			v := []byte(strings.Repeat("a", 19))
			v[pos] = byte(b)
			if got := ceStringProblem(v) == ""; got != want(v) {
				t.Fatalf("%q: accepted %v, want %v", v, got, want(v))
			}
		}
	}
	for _, v := range []string{"", "é", "a\u0085", "a\u00a0b", "\u2028", "日本語のid-0123456789", "a\u009f", "\U0001F600"} {
		if got := ceStringProblem([]byte(v)) == ""; got != want([]byte(v)) {
			t.Errorf("%q: accepted %v, want %v", v, got, want([]byte(v)))
		}
	}
}

func TestEveryAttributeSlotNamesItsOwnKey(t *testing.T) {
	for s := attrSlot(0); s < numFixedSlots; s++ {
		if got, ok := fixedSlot(fixedSlotKeys[s]); !ok || got != s {
			t.Errorf("slot %d is named %q, which looks up slot %d", s, fixedSlotKeys[s], got)
		}
	}
}
