package decode

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"

	"github.com/awumeter/awumeter/pipeline/event"
	"github.com/awumeter/awumeter/pipeline/price"
)

// captured is what a record captured from a real instrumentation library
// (testdata/capture, made by capture.sh) must decode to.
type captured struct {
	events  []capturedEvent
	ignored Ignored
}

// capturedEvent is the part of an event the conventions decide.
type capturedEvent struct {
	model, provider                     string
	in, out, cacheRead, cacheWrite, rsn int64
}

// The fake server of capture.py bills a chat completion 1,200 prompt
// tokens (1,024 of them cached) and 85 completion tokens (40 of them
// reasoning), an embedding 42 tokens, rate-limits a third call, and bills
// a Claude message 1,607 input tokens, 9,800 cache-write tokens and 100
// output tokens (Anthropic's usage, which counts cache apart). Each
// expectation below is what the library reported of that, read from its
// attributes (capture.py prints them):
//   - opentelemetry-instrumentation-openai-v2 2.3b0 reports no cached or
//     reasoning tokens, and no anthropic instrumentation exists;
//   - OpenInference and current OpenLLMetry report the Claude input as
//     1,607 + 9,800 = 11,407, cache included;
//   - OpenLLMetry 0.38 writes the provider as "OpenAI" and no cache counts.
//
// The rate-limited call bills nothing and is ignored in each.
var capturedWant = map[string]captured{
	"otel-genai": {events: []capturedEvent{
		{model: "gpt-4o-mini-2024-07-18", provider: "openai", in: 1200, out: 85},
		{model: "text-embedding-3-small", provider: "openai", in: 42},
	}, ignored: Ignored{FailedModelCall: 1}},
	"openinference": {events: []capturedEvent{
		{model: "gpt-4o-mini-2024-07-18", provider: "openai", in: 1200, out: 85, cacheRead: 1024, rsn: 40},
		{model: "text-embedding-3-small", provider: "openai", in: 42},
		{model: "claude-sonnet-4-6", provider: "anthropic", in: 11407, out: 100, cacheWrite: 9800},
	}, ignored: Ignored{FailedModelCall: 1}},
	"openllmetry": {events: []capturedEvent{
		{model: "gpt-4o-mini-2024-07-18", provider: "openai", in: 1200, out: 85, cacheRead: 1024, rsn: 40},
		{model: "text-embedding-3-small", provider: "openai", in: 42},
		{model: "claude-sonnet-4-6", provider: "anthropic", in: 11407, out: 100, cacheWrite: 9800},
	}, ignored: Ignored{FailedModelCall: 1}},
	"openllmetry-0.38": {events: []capturedEvent{
		{model: "gpt-4o-mini-2024-07-18", provider: "OpenAI", in: 1200, out: 85},
		{model: "text-embedding-3-small", provider: "OpenAI", in: 42},
	}, ignored: Ignored{FailedModelCall: 1}},
}

// captureClock is within the time bounds of the captured spans' times.
var captureClock = Settings{Now: func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }}

func readCapture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "capture", name+".b64"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("%s.b64: %v", name, err)
	}
	return raw
}

// Every captured record decodes, in both OTLP encodings and with the
// default conventions, to the events its library reported.
func TestCapturedRecordsOfRealInstrumentations(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "capture", "*.b64"))
	if len(files) != len(capturedWant) {
		t.Errorf("%d captures in testdata/capture, %d expectations", len(files), len(capturedWant))
	}
	for name, want := range capturedWant {
		t.Run(name, func(t *testing.T) {
			raw := readCapture(t, name)
			var req coltrace.ExportTraceServiceRequest
			if err := proto.Unmarshal(raw, &req); err != nil {
				t.Fatal(err)
			}
			js, err := protojson.Marshal(&req)
			if err != nil {
				t.Fatal(err)
			}
			var results []captured
			for _, in := range []struct {
				format string
				value  []byte
			}{{FormatOTLPProto, raw}, {FormatOTLPJSON, js}} {
				d, err := New(in.format, DefaultConfig(), captureClock)
				if err != nil {
					t.Fatal(err)
				}
				evs, res := d.Decode(&Record{Value: in.value}, nil)
				if len(res.Rejections) > 0 {
					t.Errorf("%s: rejected %+v", in.format, res.Rejections)
				}
				got := captured{ignored: res.Ignored}
				for _, e := range evs {
					if e.Type != event.TypeTokenUsage || e.TenantID != "capture" {
						t.Errorf("%s: event %+v", in.format, e)
					}
					got.events = append(got.events, capturedEvent{model: e.Model, provider: e.Provider, in: e.InputTokens, out: e.OutputTokens,
						cacheRead: e.CacheReadInputTokens, cacheWrite: e.CacheCreationInputTokens, rsn: e.ReasoningTokens})
				}
				results = append(results, got)
			}
			for i, got := range results {
				if !reflect.DeepEqual(got, want) {
					t.Errorf("decoded (%d)\n got %+v\nwant %+v", i, got, want)
				}
			}
		})
	}
}

// The Claude call with 9,800 cache-write tokens costs what Anthropic
// bills: 1,607 input tokens at $3/M, 9,800 cache writes at $3.75/M and
// 100 output tokens at $15/M = $0.004821 + $0.036750 + $0.001500 =
// $0.043071, in the capture of each library that reports it, and when the
// cache write comes under any of its variant names.
func TestCacheWritesArePricedAsCacheWrites(t *testing.T) {
	book := price.Default()
	priceOf := func(e event.Event) string {
		r, ok := book.Rate(e.Model, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), e.InputTokens)
		if !ok {
			t.Fatalf("no price for %s", e.Model)
		}
		return r.Cost(price.Usage{InputTokens: e.InputTokens, OutputTokens: e.OutputTokens,
			CacheReadInputTokens: e.CacheReadInputTokens, CacheCreationInputTokens: e.CacheCreationInputTokens}).String()
	}
	for _, name := range []string{"openinference", "openllmetry"} {
		d, _ := New(FormatOTLPProto, DefaultConfig(), captureClock)
		evs, _ := d.Decode(&Record{Value: readCapture(t, name)}, nil)
		if got := priceOf(evs[2]); got != "0.043071" {
			t.Errorf("%s: the Claude call costs %s", name, got)
		}
	}
	for _, attr := range []string{"gen_ai.usage.cache_creation.input_tokens", "gen_ai.usage.cache_write.input_tokens",
		"gen_ai.usage.cache_creation_input_tokens", "gen_ai.usage.input_tokens.cache_write"} {
		evs, res := decodeSpan(t, DefaultConfig(), "gen_ai.operation.name", "chat", "gen_ai.response.model", "claude-sonnet-4-6",
			"gen_ai.usage.input_tokens", 11407, "gen_ai.usage.output_tokens", 100, attr, 9800)
		if len(evs) != 1 {
			t.Fatalf("%s: %+v", attr, res)
		}
		if got := priceOf(evs[0]); got != "0.043071" {
			t.Errorf("%s: costs %s, want 0.043071", attr, got)
		}
	}
}

// decodeSpan decodes one span with attrs (name, value pairs) of tenant
// acme, as otlp_proto with cfg.
func decodeSpan(t *testing.T, cfg Config, attrs ...any) ([]event.Event, Result) {
	t.Helper()
	b, err := proto.Marshal(request([]any{"tenant.id", "acme"}, "test", agentTraceID,
		spanSpec{id: "5555555555555556", name: "span", endMs: 100, attrs: attrs}))
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(FormatOTLPProto, cfg, testSettings())
	if err != nil {
		t.Fatal(err)
	}
	return d.Decode(&Record{Value: b}, nil)
}
