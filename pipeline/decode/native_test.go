package decode

import (
	"strings"
	"testing"
	"time"

	"github.com/awumeter/awumeter/pipeline/event"
)

func decodeOne(t *testing.T, d Decoder, rec *Record) (event.Event, []Rejection) {
	t.Helper()
	evs, res := d.Decode(rec, nil)
	if len(evs)+len(res.Rejections) != 1 {
		t.Fatalf("got %d events and %d rejections, want exactly one of either", len(evs), len(res.Rejections))
	}
	if len(evs) == 1 {
		return evs[0], nil
	}
	return event.Event{}, res.Rejections
}

func TestJSONDecodesEveryType(t *testing.T) {
	d := newDecoder(t, FormatJSON)
	for _, tc := range []struct {
		name, in string
		want     event.Event
	}{
		{
			name: "token usage with every field",
			in:   typicalEvent,
			want: event.Event{
				EventID: "evt-01HZX3T7Q9", Type: event.TypeTokenUsage, Time: time.Date(2026, 3, 1, 12, 0, 0, 250e6, time.UTC),
				TenantID: "acme", WorkcycleID: "wc-8841", AgentID: "support-bot", AWUID: "awu-3", Attempt: 1,
				Model: "gpt-4o-2024-08-06", Provider: "openai", InputTokens: 1200, OutputTokens: 310, CacheReadInputTokens: 1000,
			},
		},
		{
			name: "tool invocation defaults attempt and channel, and converts the offset to UTC",
			in:   `{"event_id":"e2","type":"tool_invocation","time":"2026-03-01T14:00:00+02:00","tenant_id":"acme","workcycle_id":"wc","awu_id":"call_1","tool":"refund","status":"rolled_back"}`,
			want: event.Event{
				EventID: "e2", Type: event.TypeToolInvocation, Time: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
				TenantID: "acme", WorkcycleID: "wc", AWUID: "call_1", Attempt: 1, Tool: "refund",
				Channel: event.ChannelText, Status: event.StatusRolledBack,
			},
		},
		{
			name: "voice tool retry",
			in:   `{"event_id":"e3","type":"tool_invocation","time":"2026-03-01T12:00:00Z","tenant_id":"acme","workcycle_id":"wc","awu_id":"call_1","attempt":3,"tool":"call_customer","channel":"voice","status":"failed"}`,
			want: event.Event{
				EventID: "e3", Type: event.TypeToolInvocation, Time: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
				TenantID: "acme", WorkcycleID: "wc", AWUID: "call_1", Attempt: 3, Tool: "call_customer",
				Channel: event.ChannelVoice, Status: event.StatusFailed,
			},
		},
		{
			name: "completed workcycle with outcome, unknown fields ignored, nulls as absent, time kept to the millisecond",
			in:   `{"event_id":"e4","type":"workcycle","time":"2026-03-01t12:00:00.123456789123z","tenant_id":"acme","workcycle_id":"wc","agent_id":null,"phase":"completed","outcome":"resolved","outcome_type":"case","extra":{"nested":[1,2,{"x":null}]},"input_tokens":-5}`,
			want: event.Event{
				EventID: "e4", Type: event.TypeWorkcycle, Time: time.Date(2026, 3, 1, 12, 0, 0, 123000000, time.UTC),
				TenantID: "acme", WorkcycleID: "wc", Phase: event.PhaseCompleted, Outcome: "resolved", OutcomeType: "case",
			},
		},
		{
			name: "escaped strings, integral floats and a repeated key",
			in:   `{"event_id":"e\u00e9\ud83d\ude00\n","type":"token_usage","time":"2026-03-01T12:00:00Z","tenant_id":"a\"b","tenant_id":"acme","workcycle_id":"w\/c","awu_id":"a","model":"m","input_tokens":1e3,"output_tokens":20.0}`,
			want: event.Event{
				EventID: "eé😀\n", Type: event.TypeTokenUsage, Time: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
				TenantID: "acme", WorkcycleID: "w/c", AWUID: "a", Attempt: 1, Model: "m", InputTokens: 1000, OutputTokens: 20,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &Record{Topic: "events", Partition: 3, Offset: 42, Value: []byte(tc.in)}
			got, rejs := decodeOne(t, d, rec)
			if rejs != nil {
				t.Fatalf("rejected: %v", rejs[0])
			}
			tc.want.Source = event.Position{Topic: "events", Partition: 3, Offset: 42}
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestJSONRejections(t *testing.T) {
	const head = `"event_id":"e","time":"2026-03-01T12:00:00Z","tenant_id":"acme","workcycle_id":"wc"`
	tu := func(rest string) string {
		return `{` + head + `,"type":"token_usage","awu_id":"a","model":"m"` + rest + `}`
	}
	tool := func(rest string) string {
		return `{` + head + `,"type":"tool_invocation","awu_id":"a","tool":"t"` + rest + `}`
	}
	for _, tc := range []struct {
		name   string
		in     string
		reason Reason
		detail string
	}{
		{"empty value", ``, ReasonNotJSON, "record value is empty"},
		{"truncated JSON", `{"event_id":"e"`, ReasonNotJSON, "not JSON"},
		{"trailing garbage", tu(`,"input_tokens":1,"output_tokens":1`) + `x`, ReasonNotJSON, "after the top-level value"},
		{"NaN is not JSON", tu(`,"input_tokens":NaN,"output_tokens":1`), ReasonNotJSON, "not JSON"},
		{"bad escape", `{"event_id":"\x"}`, ReasonNotJSON, "invalid escape"},
		{"raw control character", "{\"event_id\":\"a\tb\"}", ReasonNotJSON, "control character"},
		{"leading zero", tu(`,"input_tokens":01,"output_tokens":1`), ReasonNotJSON, "not JSON"},
		{"array", `[1,2]`, ReasonNotObject, "got array"},
		{"invalid UTF-8", "{\"event_id\":\"\xff\"}", ReasonInvalidUTF8, "not valid UTF-8"},
		{"missing type", `{` + head + `}`, ReasonMissingField, "missing field type"},
		{"unknown type", `{` + head + `,"type":"llm_call"}`, ReasonUnknownType, `unknown type "llm_call"`},
		{"type not a string", `{` + head + `,"type":7}`, ReasonWrongType, "field type must be a string, got number"},
		{"missing event_id", `{"type":"workcycle","time":"2026-03-01T12:00:00Z","tenant_id":"acme","workcycle_id":"wc"}`, ReasonMissingField, "missing field event_id"},
		{"empty tenant", `{"event_id":"e","type":"workcycle","time":"2026-03-01T12:00:00Z","tenant_id":"","workcycle_id":"wc"}`, ReasonMissingField, "field tenant_id is empty"},
		{"null workcycle", `{"event_id":"e","type":"workcycle","time":"2026-03-01T12:00:00Z","tenant_id":"t","workcycle_id":null}`, ReasonMissingField, "missing field workcycle_id"},
		{"time without zone", `{"event_id":"e","type":"workcycle","time":"2026-03-01T12:00:00","tenant_id":"t","workcycle_id":"w"}`, ReasonBadTime, "not an RFC 3339"},
		{"impossible date", `{"event_id":"e","type":"workcycle","time":"2026-02-30T12:00:00Z","tenant_id":"t","workcycle_id":"w"}`, ReasonBadTime, "not an RFC 3339"},
		{"too old", `{"event_id":"e","type":"workcycle","time":"2025-01-24T00:00:00Z","tenant_id":"t","workcycle_id":"w"}`, ReasonTimeBounds, "before now"},
		{"too far ahead", `{"event_id":"e","type":"workcycle","time":"2026-03-03T00:00:01Z","tenant_id":"t","workcycle_id":"w"}`, ReasonTimeBounds, "after now"},
		{"missing input tokens", tu(`,"output_tokens":1`), ReasonMissingField, "missing field input_tokens"},
		{"tokens as string", tu(`,"input_tokens":"5","output_tokens":1`), ReasonWrongType, "input_tokens must be an integer, got string"},
		{"fractional tokens", tu(`,"input_tokens":1.5,"output_tokens":1`), ReasonBadInteger, "got 1.5"},
		{"tokens beyond int64", tu(`,"input_tokens":9223372036854775808,"output_tokens":1`), ReasonBadInteger, "input_tokens"},
		{"negative tokens", tu(`,"input_tokens":10,"output_tokens":-1`), ReasonNegative, "output_tokens is negative: -1"},
		{"cache above input", tu(`,"input_tokens":10,"output_tokens":1,"cache_read_input_tokens":6,"cache_creation_input_tokens":5`), ReasonCacheInput, "exceed input_tokens (10)"},
		{"cache sum at the token bound", tu(`,"input_tokens":10,"output_tokens":1,"cache_read_input_tokens":1000000000,"cache_creation_input_tokens":1000000000`), ReasonCacheInput, "exceed"},
		{"reasoning above output", tu(`,"input_tokens":10,"output_tokens":1,"reasoning_tokens":2`), ReasonReasoningOut, "reasoning_tokens (2) exceed output_tokens (1)"},
		{"attempt zero", tu(`,"attempt":0,"input_tokens":1,"output_tokens":1`), ReasonBadAttempt, "got 0"},
		{"attempt as string", tool(`,"attempt":"2","status":"failed"`), ReasonBadAttempt, "got a string"},
		{"attempt beyond int32", tool(`,"attempt":2147483648,"status":"failed"`), ReasonBadAttempt, "2147483648"},
		{"missing model", `{` + head + `,"type":"token_usage","awu_id":"a","input_tokens":1,"output_tokens":1}`, ReasonMissingField, "missing field model"},
		{"missing awu", `{` + head + `,"type":"tool_invocation","tool":"t","status":"failed"}`, ReasonMissingField, "missing field awu_id"},
		{"missing status", tool(``), ReasonMissingField, "missing field status"},
		{"unknown status", tool(`,"status":"ok"`), ReasonBadStatus, `status "ok"`},
		{"unknown channel", tool(`,"status":"failed","channel":"sms"`), ReasonBadChannel, `channel "sms"`},
		{"unknown phase", `{` + head + `,"type":"workcycle","phase":"paused"}`, ReasonBadPhase, `phase "paused"`},
		{"completed without outcome", `{` + head + `,"type":"workcycle","phase":"completed"}`, ReasonMissingField, "missing field outcome (required when phase is completed)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, rejs := decodeOne(t, newDecoder(t, FormatJSON), &Record{Value: []byte(tc.in)})
			if rejs == nil {
				t.Fatal("accepted, want a rejection")
			}
			if rejs[0].Reason != tc.reason || !strings.Contains(rejs[0].Detail, tc.detail) {
				t.Errorf("got %v, want %s with detail containing %q", rejs[0], tc.reason, tc.detail)
			}
		})
	}
}

func TestJSONRecordTooLarge(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxRecordBytes = 100
	d, err := New(FormatJSON, cfg, testSettings())
	if err != nil {
		t.Fatal(err)
	}
	_, res := d.Decode(&Record{Value: []byte(typicalEvent)}, nil)
	if len(res.Rejections) != 1 || res.Rejections[0].Reason != ReasonRecordTooLarge {
		t.Fatalf("got %v, want record_too_large", res.Rejections)
	}
}

func TestDecodedStringsDoNotAliasTheRecord(t *testing.T) {
	for _, format := range []string{FormatJSON, FormatCloudEvents} {
		t.Run(format, func(t *testing.T) {
			in := []byte(typicalEvent)
			if format == FormatCloudEvents {
				in = []byte(`{"specversion":"1.0","id":"1","source":"/s","type":"io.awumeter.token_usage.v1","data":` + typicalEvent + `}`)
			}
			d := newDecoder(t, format)
			evs, _ := d.Decode(&Record{Value: in}, nil)
			if len(evs) != 1 {
				t.Fatal("not decoded")
			}
			before := evs[0]
			for i := range in {
				in[i] = 'x'
			}
			// Decode other input so that pooled buffers are reused.
			d.Decode(&Record{Value: []byte(strings.ReplaceAll(typicalEvent, "acme", "zzzz"))}, nil)
			if evs[0] != before || evs[0].TenantID != "acme" || evs[0].Model != "gpt-4o-2024-08-06" {
				t.Errorf("event changed after its record was overwritten: %+v", evs[0])
			}
		})
	}
}

func TestDecodeAppendsToDst(t *testing.T) {
	d := newDecoder(t, FormatJSON)
	dst := make([]event.Event, 1, 4)
	dst[0].EventID = "earlier"
	evs, _ := d.Decode(&Record{Value: []byte(typicalEvent)}, dst)
	if len(evs) != 2 || evs[0].EventID != "earlier" || evs[1].EventID != "evt-01HZX3T7Q9" {
		t.Errorf("got %+v", evs)
	}
	evs, res := d.Decode(&Record{Value: []byte(`{}`)}, evs)
	if len(evs) != 2 || len(res.Rejections) != 1 {
		t.Errorf("a rejected record changed dst or was not reported: %d events, %v", len(evs), res.Rejections)
	}
}

func TestDecodeIsSafeForConcurrentUse(t *testing.T) {
	d := newDecoder(t, FormatJSON)
	done := make(chan bool)
	for g := 0; g < 4; g++ {
		go func() {
			ok := true
			for i := 0; i < 500; i++ {
				in := strings.ReplaceAll(typicalEvent, "acme", []string{"t0", "t1", "t2", "t3"}[g])
				evs, _ := d.Decode(&Record{Value: []byte(in)}, nil)
				ok = ok && len(evs) == 1 && evs[0].TenantID == []string{"t0", "t1", "t2", "t3"}[g]
			}
			done <- ok
		}()
	}
	for g := 0; g < 4; g++ {
		if !<-done {
			t.Error("a goroutine saw another's data")
		}
	}
}
