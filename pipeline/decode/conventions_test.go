package decode

import (
	"fmt"
	"strings"
	"testing"

	"github.com/awumeter/awumeter/internal/strictyaml"
	"github.com/awumeter/awumeter/pipeline/event"
)

// tokens is the part of an event the token attributes decide.
type tokenCounts struct {
	model                               string
	in, out, cacheRead, cacheWrite, rsn int64
}

func tokensOf(e event.Event) tokenCounts {
	return tokenCounts{e.Model, e.InputTokens, e.OutputTokens, e.CacheReadInputTokens, e.CacheCreationInputTokens, e.ReasoningTokens}
}

// Each convention's attributes land in the right fields; the expected
// counts are the attributes' values (and their sums, where the convention
// counts cache apart).
func TestConventionAttributes(t *testing.T) {
	for _, c := range []struct {
		name  string
		cfg   func(*Config)
		attrs []any
		want  tokenCounts
	}{
		{"otel-genai current names", nil, []any{"gen_ai.operation.name", "chat", "gen_ai.request.model", "gpt-4o", "gen_ai.response.model", "gpt-4o-2024-08-06",
			"gen_ai.usage.input_tokens", 1200, "gen_ai.usage.output_tokens", 85, "gen_ai.usage.cache_read.input_tokens", 1024,
			"gen_ai.usage.cache_creation.input_tokens", 100, "gen_ai.usage.reasoning.output_tokens", 40},
			tokenCounts{"gpt-4o-2024-08-06", 1200, 85, 1024, 100, 40}},
		{"cache read as gen_ai.usage.cache_read_input_tokens", nil, []any{"gen_ai.operation.name", "chat", "gen_ai.request.model", "m",
			"gen_ai.usage.input_tokens", 1200, "gen_ai.usage.output_tokens", 85, "gen_ai.usage.cache_read_input_tokens", 1000},
			tokenCounts{"m", 1200, 85, 1000, 0, 0}},
		{"cache read as gen_ai.usage.input_tokens.cached", nil, []any{"gen_ai.operation.name", "chat", "gen_ai.request.model", "m",
			"gen_ai.usage.input_tokens", 1200, "gen_ai.usage.output_tokens", 85, "gen_ai.usage.input_tokens.cached", 999},
			tokenCounts{"m", 1200, 85, 999, 0, 0}},
		{"reasoning as gen_ai.usage.reasoning_tokens", nil, []any{"gen_ai.operation.name", "chat", "gen_ai.request.model", "m",
			"gen_ai.usage.input_tokens", 10, "gen_ai.usage.output_tokens", 85, "gen_ai.usage.reasoning_tokens", 40},
			tokenCounts{"m", 10, 85, 0, 0, 40}},
		{"the current name wins over a variant", nil, []any{"gen_ai.operation.name", "chat", "gen_ai.request.model", "m",
			"gen_ai.usage.input_tokens", 1200, "gen_ai.usage.output_tokens", 85, "gen_ai.usage.cache_read_input_tokens", 7,
			"gen_ai.usage.cache_read.input_tokens", 1000},
			tokenCounts{"m", 1200, 85, 1000, 0, 0}},
		{"otel-genai counting cache apart", func(c *Config) {
			no := false
			c.OTLP.Conventions = []Convention{{Name: ConventionOTelGenAI, InputIncludesCache: &no}}
		}, []any{"gen_ai.operation.name", "chat", "gen_ai.request.model", "claude-sonnet-4-6",
			"gen_ai.usage.input_tokens", 1607, "gen_ai.usage.output_tokens", 100, "gen_ai.usage.cache_creation_input_tokens", 9800,
			"gen_ai.usage.cache_read_input_tokens", 500},
			tokenCounts{"claude-sonnet-4-6", 1607 + 9800 + 500, 100, 500, 9800, 0}},
		{"openinference LLM", nil, []any{"openinference.span.kind", "LLM", "llm.model_name", "claude-sonnet-4-6", "llm.provider", "anthropic",
			"llm.token_count.prompt", 11407, "llm.token_count.completion", 100, "llm.token_count.prompt_details.cache_write", 9800,
			"llm.token_count.prompt_details.cache_read", 7, "llm.token_count.completion_details.reasoning", 3},
			tokenCounts{"claude-sonnet-4-6", 11407, 100, 7, 9800, 3}},
		{"openinference EMBEDDING with a total only", nil, []any{"openinference.span.kind", "EMBEDDING", "embedding.model_name", "text-embedding-3-small",
			"llm.token_count.total", 42},
			tokenCounts{"text-embedding-3-small", 42, 0, 0, 0, 0}},
		{"openllmetry chat", nil, []any{"llm.request.type", "chat", "gen_ai.system", "OpenAI", "gen_ai.request.model", "gpt-4o-mini",
			"gen_ai.usage.prompt_tokens", 1200, "gen_ai.usage.completion_tokens", 85, "llm.usage.total_tokens", 1285},
			tokenCounts{"gpt-4o-mini", 1200, 85, 0, 0, 0}},
		{"openllmetry chat with prompt and total only", nil, []any{"llm.request.type", "chat", "gen_ai.request.model", "gpt-4o-mini",
			"gen_ai.usage.prompt_tokens", 1200, "llm.usage.total_tokens", 1285},
			tokenCounts{"gpt-4o-mini", 1200, 85, 0, 0, 0}},
		{"openllmetry embedding", nil, []any{"llm.request.type", "embedding", "gen_ai.request.model", "text-embedding-3-small",
			"gen_ai.usage.prompt_tokens", 42, "llm.usage.total_tokens", 42},
			tokenCounts{"text-embedding-3-small", 42, 0, 0, 0, 0}},
		{"otel-genai embeddings", nil, []any{"gen_ai.operation.name", "embeddings", "gen_ai.request.model", "text-embedding-3-large",
			"gen_ai.usage.input_tokens", 8191},
			tokenCounts{"text-embedding-3-large", 8191, 0, 0, 0, 0}},
		{"no operation, usage and a model", nil, []any{"gen_ai.request.model", "llama-3-70b", "gen_ai.usage.input_tokens", 300,
			"gen_ai.usage.output_tokens", 20},
			tokenCounts{"llama-3-70b", 300, 20, 0, 0, 0}},
		{"an unknown operation, usage and a model", nil, []any{"gen_ai.operation.name", "summarize", "gen_ai.response.model", "m",
			"gen_ai.usage.input_tokens", 300},
			tokenCounts{"m", 300, 0, 0, 0, 0}},
		{"an unknown otel-genai operation with OpenInference counts", nil, []any{"gen_ai.operation.name", "workflow", "llm.model_name", "claude-sonnet-4-6",
			"llm.token_count.prompt", 1000, "llm.token_count.completion", 10},
			tokenCounts{"claude-sonnet-4-6", 1000, 10, 0, 0, 0}},
		{"chat and LLM with OpenInference counts only", nil, []any{"gen_ai.operation.name", "chat", "openinference.span.kind", "LLM",
			"llm.model_name", "m", "llm.token_count.prompt", 700, "llm.token_count.completion", 7},
			tokenCounts{"m", 700, 7, 0, 0, 0}},
		{"cache reads alone, counted apart from the input", func(c *Config) {
			no := false
			c.OTLP.Conventions = []Convention{{Name: ConventionOTelGenAI, InputIncludesCache: &no}}
		}, []any{"gen_ai.operation.name", "foo", "gen_ai.request.model", "m", "gen_ai.usage.cache_read_input_tokens", 900},
			tokenCounts{"m", 900, 0, 900, 0, 0}},
		{"a defined non-paid operation with usage and a model", nil, []any{"openinference.span.kind", "RERANKER", "llm.model_name", "rerank-v3",
			"llm.token_count.prompt", 1000},
			tokenCounts{"rerank-v3", 1000, 0, 0, 0, 0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if c.cfg != nil {
				c.cfg(&cfg)
			}
			evs, res := decodeSpan(t, cfg, c.attrs...)
			if len(evs) != 1 || len(res.Rejections) > 0 {
				t.Fatalf("events %+v, result %+v", evs, res)
			}
			if got := tokensOf(evs[0]); got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestSpansThatAreNotPricedAreSaidSo(t *testing.T) {
	for _, c := range []struct {
		name    string
		attrs   []any
		ignored Ignored
		reason  Reason
		detail  string
	}{
		{name: "usage without an operation or a model", attrs: []any{"gen_ai.usage.input_tokens", 300, "gen_ai.usage.output_tokens", 20},
			reason: ReasonUsageWithoutOperation, detail: "token counts (otel-genai convention) with no operation attribute gen_ai.operation.name and no model"},
		{name: "usage under an unknown operation without a model", attrs: []any{"gen_ai.operation.name", "summarize", "gen_ai.usage.input_tokens", 300},
			reason: ReasonUsageWithoutOperation, detail: `with operation gen_ai.operation.name "summarize" and no model`},
		{name: "an OpenInference total without a model", attrs: []any{"llm.token_count.total", 300},
			reason: ReasonUsageWithoutOperation, detail: "(openinference convention) with no operation attribute openinference.span.kind"},
		{name: "an HTTP span", attrs: []any{"http.request.method", "GET"}, ignored: Ignored{NotGenAI: 1}},
		{name: "create_agent without usage", attrs: []any{"gen_ai.operation.name", "create_agent", "gen_ai.request.model", "m"}, ignored: Ignored{OtherOperation: 1}},
		{name: "an unknown operation without usage", attrs: []any{"gen_ai.operation.name", "summarize"}, ignored: Ignored{OtherOperation: 1}},
		{name: "invoke_agent with its children's totals", attrs: []any{"gen_ai.operation.name", "invoke_agent", "gen_ai.request.model", "m",
			"gen_ai.usage.input_tokens", 7900, "gen_ai.usage.output_tokens", 910}, ignored: Ignored{InvokeAgent: 1}},
		{name: "an OpenInference AGENT span", attrs: []any{"openinference.span.kind", "AGENT", "llm.model_name", "m", "llm.token_count.prompt", 7900},
			ignored: Ignored{InvokeAgent: 1}},
		{name: "an OpenInference CHAIN span", attrs: []any{"openinference.span.kind", "CHAIN", "llm.token_count.total", 7900}, ignored: Ignored{InvokeAgent: 1}},
		{name: "a total below the output", attrs: []any{"gen_ai.operation.name", "chat", "gen_ai.request.model", "m",
			"gen_ai.usage.output_tokens", 500, "gen_ai.usage.total_tokens", 100},
			reason: ReasonMissingField, detail: "the total 100 (gen_ai.usage.total_tokens) is less than the output 500, so the input cannot be derived"},
		{name: "an embeddings call without usage", attrs: []any{"gen_ai.operation.name", "embeddings", "gen_ai.request.model", "m"},
			reason: ReasonMissingField, detail: "missing attribute gen_ai.usage.input_tokens or gen_ai.usage.prompt_tokens"},
	} {
		t.Run(c.name, func(t *testing.T) {
			evs, res := decodeSpan(t, DefaultConfig(), c.attrs...)
			if len(evs) != 0 {
				t.Fatalf("priced: %+v", evs)
			}
			if res.Ignored != c.ignored {
				t.Errorf("ignored %+v, want %+v", res.Ignored, c.ignored)
			}
			switch {
			case c.reason == "" && len(res.Rejections) > 0:
				t.Errorf("rejected %+v", res.Rejections)
			case c.reason != "" && (len(res.Rejections) != 1 || res.Rejections[0].Reason != c.reason || !strings.Contains(res.Rejections[0].Detail, c.detail)):
				t.Errorf("rejections %+v, want %s with %q", res.Rejections, c.reason, c.detail)
			}
		})
	}
}

// An OpenInference TOOL span is a tool invocation, and session.id is its
// conversation (and so its workcycle).
func TestOpenInferenceToolSpan(t *testing.T) {
	evs, res := decodeSpan(t, DefaultConfig(), "openinference.span.kind", "TOOL", "tool.name", "lookup_order",
		"tool_call.id", "call_1", "session.id", "sess-9")
	if len(evs) != 1 {
		t.Fatalf("%+v", res)
	}
	e := evs[0]
	if e.Type != event.TypeToolInvocation || e.Tool != "lookup_order" || e.AWUID != "call_1" || e.ConversationID != "sess-9" ||
		e.WorkcycleID != "sess-9" || e.Status != event.StatusSucceeded {
		t.Errorf("%+v", e)
	}
}

// The configured conventions and their order decide how a span is read:
// with OpenLLMetry alone, an OpenInference span is not gen-ai.
func TestConventionsAreTheConfiguredOnes(t *testing.T) {
	cfg := DefaultConfig()
	cfg.OTLP.Conventions = []Convention{{Name: ConventionOpenLLMetry}}
	evs, res := decodeSpan(t, cfg, "openinference.span.kind", "LLM", "llm.model_name", "m", "llm.token_count.prompt", 1, "llm.token_count.completion", 1)
	if len(evs) != 0 || res.Ignored.NotGenAI != 1 {
		t.Errorf("%+v %+v", evs, res)
	}
	// A cache apart from the input past max_tokens_per_event is refused, not wrapped.
	no := false
	cfg.OTLP.Conventions = []Convention{{Name: ConventionOTelGenAI, InputIncludesCache: &no}}
	cfg.MaxTokensPerEvent = 1000
	_, res = decodeSpan(t, cfg, "gen_ai.operation.name", "chat", "gen_ai.request.model", "m",
		"gen_ai.usage.input_tokens", 600, "gen_ai.usage.output_tokens", 1, "gen_ai.usage.cache_read.input_tokens", 600)
	if len(res.Rejections) != 1 || res.Rejections[0].Reason != ReasonTokensBound {
		t.Errorf("%+v", res.Rejections)
	}
}

func TestConventionsConfiguration(t *testing.T) {
	var c struct {
		Conventions []Convention `yaml:"conventions"`
	}
	err := strictyaml.Decode([]byte("conventions:\n  - openllmetry\n  - convention: otel-genai\n    input_includes_cache: false\n"), &c)
	if err != nil || len(c.Conventions) != 2 || c.Conventions[0].Name != "openllmetry" || c.Conventions[1].Name != "otel-genai" ||
		c.Conventions[1].InputIncludesCache == nil || *c.Conventions[1].InputIncludesCache {
		t.Fatalf("%v %+v", err, c)
	}
	err = strictyaml.Decode([]byte("conventions:\n  - convention: otel-genai\n    input_includes_cach: false\n"), &c)
	if err == nil || !strings.Contains(err.Error(), "input_includes_cach not found") {
		t.Errorf("a misspelt key: %v", err)
	}
	cfg := DefaultConfig()
	cfg.OTLP.Conventions = []Convention{{Name: "otel"}, {Name: "openinference"}, {Name: "openinference"}}
	err = cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), `otlp.conventions[0]: unknown convention "otel"; known: otel-genai, openinference, openllmetry`) ||
		!strings.Contains(err.Error(), "otlp.conventions[2]: openinference is listed twice") {
		t.Errorf("%v", err)
	}
}

// docs/contract.md shows each convention as a table: every attribute of
// its spec is in the table that follows its heading, and every operation
// value in the operations table.
func TestContractShowsEveryProfile(t *testing.T) {
	doc := string(readFile(t, "../../docs/contract.md"))
	for _, sp := range profileSpecs {
		head := "**`" + sp.name + "`**"
		i := strings.Index(doc, head)
		if i < 0 {
			t.Errorf("docs/contract.md has no table headed %s", head)
			continue
		}
		table := doc[i:]
		if end := strings.Index(table[len(head):], "**`"); end >= 0 {
			table = table[:len(head)+end]
		}
		fields := [][]string{sp.model, sp.provider, sp.input, sp.output, sp.total, sp.cacheRead, sp.cacheCreation, sp.reasoning, sp.tool, sp.toolCallID, sp.conversation}
		for _, names := range fields {
			if len(names) == 0 {
				continue
			}
			quoted := make([]string, len(names))
			for j, n := range names {
				quoted[j] = "`" + n + "`"
			}
			if row := strings.Join(quoted, ", ") + " |"; !strings.Contains(table, row) {
				t.Errorf("the %s table lacks the row ending %q", sp.name, row)
			}
		}
		if want := fmt.Sprintf("`input_includes_cache: %v`", sp.inputIncludesCache); !strings.Contains(table, want) {
			t.Errorf("the %s table does not say %s", sp.name, want)
		}
		for op := range sp.operations {
			if !strings.Contains(strings.ToLower(doc), "`"+op+"`") {
				t.Errorf("operation %q of %s is not in docs/contract.md", op, sp.name)
			}
		}
	}
}
