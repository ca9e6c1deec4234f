package decode

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/awumeter/awumeter/pipeline/event"
)

// Fuzz targets: go test -fuzz=FuzzJSON ./pipeline/decode (and likewise for
// the others). Plain go test runs only the seeds from testdata/decode.

func addSeeds(f *testing.F, pattern string, extra ...any) {
	files, err := filepath.Glob(filepath.Join(testdataDir, pattern))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds match %s: %v", pattern, err)
	}
	for _, file := range files {
		f.Add(append([]any{readFile(f, file)}, extra...)...)
	}
}

// checkInvariants holds for every decoder and every input.
func checkInvariants(t *testing.T, evs []event.Event, res Result) {
	known := map[Reason]bool{}
	for _, r := range Reasons() {
		known[r] = r != ReasonInvalidEvent // the service's, never a decoder's
	}
	for _, r := range res.Rejections {
		if !known[r.Reason] || r.Detail == "" {
			t.Fatalf("rejection without a known reason and a detail: %+v", r)
		}
	}
	for _, e := range evs {
		if e.EventID == "" || e.TenantID == "" || e.WorkcycleID == "" || e.Type == event.TypeUnknown || e.Time.IsZero() {
			t.Fatalf("event missing identity: %+v", e)
		}
		if e.InputTokens < 0 || e.OutputTokens < 0 || e.CacheReadInputTokens < 0 || e.CacheCreationInputTokens < 0 || e.ReasoningTokens < 0 {
			t.Fatalf("negative tokens: %+v", e)
		}
		if e.CacheReadInputTokens+e.CacheCreationInputTokens > e.InputTokens || e.ReasoningTokens > e.OutputTokens {
			t.Fatalf("token parts exceed totals: %+v", e)
		}
		if e.Type != event.TypeWorkcycle && (e.Attempt < 1 || e.AWUID == "") {
			t.Fatalf("bad attempt or awu: %+v", e)
		}
		if e.Time.Before(fixedNow.Add(-DefaultPast)) || e.Time.After(fixedNow.Add(DefaultFuture)) {
			t.Fatalf("time out of bounds: %+v", e)
		}
		for _, n := range []int64{e.InputTokens, e.OutputTokens, e.CacheReadInputTokens, e.CacheCreationInputTokens, e.ReasoningTokens} {
			if n > DefaultMaxTokensPerEvent {
				t.Fatalf("token count above max_tokens_per_event: %+v", e)
			}
		}
		for _, id := range []string{e.EventID, e.TenantID, e.WorkcycleID, e.AgentID, e.ConversationID, e.AWUID} {
			if len(id) > DefaultMaxIDBytes {
				t.Fatalf("id longer than max_id_bytes: %d bytes", len(id))
			}
		}
		for _, l := range []string{e.Model, e.Provider, e.Tool, e.Outcome, e.OutcomeType} {
			if len(l) > DefaultMaxLabelBytes {
				t.Fatalf("label longer than max_label_bytes: %d bytes", len(l))
			}
		}
	}
}

func FuzzJSON(f *testing.F) {
	addSeeds(f, "json/*.json")
	f.Add([]byte(typicalEvent))
	// Hostile inputs: counts at and beyond the bound, integers that are not
	// quite integers, long ids, repeated keys.
	for _, extra := range []string{
		`,"input_tokens":1000000000`, `,"input_tokens":1000000001`, `,"input_tokens":5000000000000000000`,
		`,"output_tokens":9223372036854775807`, `,"input_tokens":1.0000000000000001`, `,"input_tokens":1e-400`,
		`,"input_tokens":4611686018427387905.0`, `,"input_tokens":1.5e1,"output_tokens":5e3`, `,"attempt":1.0000000000000001`,
		`,"agent_id":"` + strings.Repeat("a", 513) + `"`, `,"model":"` + strings.Repeat("m", 257) + `"`,
		`,"tenant_id":"first","tenant_id":"second"`,
	} {
		f.Add([]byte(typicalEvent[:len(typicalEvent)-1] + extra + `}`))
	}
	// The outcome fields of contract v1, hostile numbers included.
	const completed = `{"event_id":"e","time":"2026-03-01T12:00:00Z","tenant_id":"t","workcycle_id":"w","type":"workcycle","phase":"completed","outcome":"resolved"`
	for _, extra := range []string{
		`,"human_minutes":12.5,"csat":4,"resolved_by":"human"}`, `,"human_minutes":1e-2000000000}`, `,"human_minutes":9e999999999}`,
		`,"csat":5.0000000000000001}`, `,"resolved_by":""}`,
	} {
		f.Add([]byte(completed + extra))
	}
	d := newDecoder(f, FormatJSON)
	f.Fuzz(func(t *testing.T, in []byte) {
		evs, res := d.Decode(&Record{Value: in}, nil)
		if len(evs)+len(res.Rejections) != 1 {
			t.Fatalf("%d events and %d rejections", len(evs), len(res.Rejections))
		}
		checkInvariants(t, evs, res)
		// The scanner agrees with encoding/json on what is JSON.
		if utf8.Valid(in) && len(in) > 0 && len(in) <= DefaultMaxRecordBytes && strings.Count(string(in), "[")+strings.Count(string(in), "{") < maxDepth {
			notJSON := len(res.Rejections) == 1 && res.Rejections[0].Reason == ReasonNotJSON
			if notJSON == json.Valid(in) {
				t.Fatalf("scanner says not_json=%v, encoding/json says valid=%v: %v", notJSON, json.Valid(in), res.Rejections)
			}
		}
	})
}

func FuzzCloudEvents(f *testing.F) {
	addSeeds(f, "cloudevents/*.json", "")
	f.Add([]byte(ceData), "ce_specversion=1.0;ce_id=1;ce_source=/s;ce_type=io.awumeter.tool_invocation.v1;ce_time=2026-03-01T12:00:00Z;content-type=application/json")
	f.Add([]byte(ceData), "ce_specversion=1.0;ce_id=a\xff;ce_source=/s\n;ce_type=io.awumeter.tool_invocation.v1;ce_time=2026-03-01T12:00:00Z")
	f.Add([]byte(ceData), "ce_specversion=1.0;ce_id=a\x1b[31m;ce_source=/s;ce_type=io.awumeter.tool_invocation.v1;ce_id=b;ce_time=2026-03-01T12:00:00Z")
	f.Add([]byte(`{"specversion":"1.0","id":"a\u0085","source":"/s","type":"io.awumeter.tool_invocation.v1","time":"2026-03-01T12:00:00Z","data":`+ceData+`}`), "")
	d := newDecoder(f, FormatCloudEvents)
	f.Fuzz(func(t *testing.T, in []byte, headers string) {
		rec := &Record{Value: in}
		for _, h := range strings.Split(headers, ";") {
			if k, v, ok := strings.Cut(h, "="); ok {
				rec.Headers = append(rec.Headers, Header{Key: k, Value: []byte(v)})
			}
		}
		evs, res := d.Decode(rec, nil)
		if len(evs)+len(res.Rejections) != 1 {
			t.Fatalf("%d events and %d rejections", len(evs), len(res.Rejections))
		}
		checkInvariants(t, evs, res)
	})
}

// addOTLPProtoSeeds adds the protobuf fixtures and hostile attribute values.
func addOTLPProtoSeeds(f *testing.F) {
	addSeeds(f, "otlp/*.binpb")
	for _, attrs := range [][]any{
		{attrInputTokens, 1000000001, attrOutputTokens, 5},
		{attrPromptTokens, 10, attrCompletionToks, 9223372036854775807},
		{attrInputTokens, 5e9, attrOutputTokens, 1.5},
		{attrInputTokens, "4611686018427387905.0", attrOutputTokens, "1.0000000000000001"},
		{attrInputTokens, 10, attrOutputTokens, 5, attrAgentID, strings.Repeat("a", 513)},
	} {
		td := request([]any{"tenant.id", "acme"}, "s", agentTraceID, spanSpec{id: "00f067aa0ba902b7",
			attrs: append([]any{"gen_ai.operation.name", "chat", "gen_ai.request.model", "gpt-4o"}, attrs...)})
		b, err := proto.Marshal(td)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzOTLPProto(f *testing.F) {
	addOTLPProtoSeeds(f)
	d := newDecoder(f, FormatOTLPProto)
	f.Fuzz(func(t *testing.T, in []byte) {
		evs, res := d.Decode(&Record{Value: in}, nil)
		checkInvariants(t, evs, res)
	})
}

func FuzzOTLPJSON(f *testing.F) {
	addSeeds(f, "otlp/*.json")
	for _, attrs := range []string{
		`,{"key":"gen_ai.usage.input_tokens","value":{"intValue":"1000000001"}},{"key":"gen_ai.usage.output_tokens","value":{"intValue":5}}`,
		`,{"key":"gen_ai.usage.input_tokens","value":{"intValue":1.0000000000000001}},{"key":"gen_ai.usage.output_tokens","value":{"doubleValue":1e-400}}`,
		`,{"key":"gen_ai.usage.input_tokens","value":{"intValue":"4611686018427387905.0"}},{"key":"gen_ai.usage.output_tokens","value":{"doubleValue":1.5e1}}`,
		`,{"key":"gen_ai.usage.input_tokens","key":"gen_ai.usage.output_tokens","value":{"intValue":"1","intValue":"7"}},{"key":"gen_ai.usage.input_tokens","value":{"intValue":9}}`,
	} {
		f.Add([]byte(otlpJSONChat(attrs)))
	}
	d := newDecoder(f, FormatOTLPJSON)
	f.Fuzz(func(t *testing.T, in []byte) {
		evs, res := d.Decode(&Record{Value: in}, nil)
		checkInvariants(t, evs, res)
	})
}
