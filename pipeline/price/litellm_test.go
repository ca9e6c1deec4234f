package price

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestImportLiteLLM(t *testing.T) {
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	out, report, err := ImportLiteLLM(readFixture(t, "litellm/model_prices.json"), LiteLLMOptions{EffectiveFrom: from})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse(out)
	if err != nil {
		t.Fatalf("the import does not parse: %v\n%s", err, out)
	}
	if got, want := strings.Join(b.Models(), ","), "ACME/Reasoner-1,claude-sonnet-4-6,gemini/gemini-3-flash-preview,vertex_ai/gemini-3-pro-preview"; got != want {
		t.Errorf("models %s, want %s", got, want)
	}
	if report.Imported != 4 {
		t.Errorf("imported %d, want 4", report.Imported)
	}
	skipped := map[string]string{}
	for _, s := range report.Skipped {
		skipped[s.Name] = s.Reason
	}
	for name, reason := range map[string]string{
		"acme/negative":          "input_cost_per_token: -1e-06 is negative",
		"acme/no-output-price":   "needs both input_cost_per_token and output_cost_per_token",
		"acme/reasoner-1":        `same name as "ACME/Reasoner-1"`,
		"text-embedding-3-small": `mode "embedding"`,
	} {
		if !strings.Contains(skipped[name], reason) {
			t.Errorf("%s: skipped for %q, want %q", name, skipped[name], reason)
		}
	}
	if len(skipped) != 4 {
		t.Errorf("skipped %v", skipped)
	}
	if len(report.Warnings) != 0 {
		t.Errorf("warnings %q, want none", report.Warnings)
	}

	for _, line := range []string{
		`  - id: "claude-sonnet-4-6"`,
		"      - effective_from: 2026-11-01",
		"        cache_read: 0.3",
		"        cache_creation: 3.75",
		"          above_input_tokens: 200000",
		"          output: 22.5",
		"        cache_read: 0.05",
	} {
		if !strings.Contains(string(out), line+"\n") {
			t.Errorf("the output lacks the line %q:\n%s", line, out)
		}
	}

	at := from.Add(time.Hour)
	for _, tc := range []struct {
		name  string
		model string
		u     Usage
		want  string
	}{
		{"per-token prices become per-million prices", "claude-sonnet-4-6", Usage{InputTokens: 4000, OutputTokens: 800}, "0.024"},
		{"names match case-insensitively", "vertex_ai/Gemini-3-Pro-Preview", Usage{InputTokens: 12000, OutputTokens: 2000}, "0.048"},
		{"cache read price", "gemini/gemini-3-flash-preview", Usage{InputTokens: 4000, OutputTokens: 800, CacheReadInputTokens: 4000}, "0.0026"},
		// 300,000 × $6 + 3,000 × $22.50
		{"above_200k prices become the long-context tier", "claude-sonnet-4-6", Usage{InputTokens: 300000, OutputTokens: 3000}, "1.8675"},
		// 1,000 × $1 + 1,000 × $4; reasoning is absent, so it defaults to output.
		{"the case-insensitive duplicate kept the first name", "acme/reasoner-1", Usage{InputTokens: 1000, OutputTokens: 1000, ReasoningTokens: 500}, "0.005"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := mustRate(t, b, tc.model, at, tc.u.InputTokens).Cost(tc.u); got.String() != tc.want {
				t.Errorf("cost %s, want %s", got, tc.want)
			}
		})
	}
	if _, ok := b.Rate("claude-sonnet-4-6", from.Add(-time.Nanosecond), 0); ok {
		t.Error("an imported price is in force before its effective_from")
	}
}

func TestImportLiteLLMReasoningPrice(t *testing.T) {
	data := []byte(`{"acme/reasoner-1": {"input_cost_per_token": 0.0000011, "output_cost_per_token": 0.0000044,
		"output_cost_per_reasoning_token": 0.0000088, "mode": "responses"}}`)
	out, _, err := ImportLiteLLM(data, LiteLLMOptions{EffectiveFrom: jan2026})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	// 1,000 × $1.10 + 500 × $4.40 + 500 × $8.80
	u := Usage{InputTokens: 1000, OutputTokens: 1000, ReasoningTokens: 500}
	if got := mustRate(t, b, "acme/reasoner-1", jan2026, 0).Cost(u); got.String() != "0.0077" {
		t.Errorf("cost %s, want 0.0077", got)
	}
}

func TestImportLiteLLMErrors(t *testing.T) {
	fixture := readFixture(t, "litellm/model_prices.json")
	for _, tc := range []struct {
		name string
		data []byte
		opts LiteLLMOptions
		want string
	}{
		{"effective date is required", fixture, LiteLLMOptions{}, "effective_from date is required"},
		{"not JSON", []byte("models:"), LiteLLMOptions{EffectiveFrom: jan2026}, "not a JSON object"},
		{"nothing to import", fixture, LiteLLMOptions{EffectiveFrom: jan2026, Include: regexp.MustCompile("^none$")}, "no model has both"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ImportLiteLLM(tc.data, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestLiteLLMFloatNoiseIsRoundedAway(t *testing.T) {
	in := []byte(`{"m": {"litellm_provider": "x", "mode": "chat",
		"input_cost_per_token": 1.4999999999999999e-07, "output_cost_per_token": 6.000000000000001e-07}}`)
	out, _, err := ImportLiteLLM(in, LiteLLMOptions{EffectiveFrom: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"input: 0.15", "output: 0.6"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("imported book lacks %q:\n%s", want, out)
		}
	}
}

// The fixture testdata/litellm_tiers.json is written by hand in the format of
// LiteLLM's model_prices_and_context_window.json; every expected cost below
// is worked out by hand from its per-token prices.
func TestImportLiteLLMTiers(t *testing.T) {
	data, err := os.ReadFile("testdata/litellm_tiers.json")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	out, report, err := ImportLiteLLM(data, LiteLLMOptions{EffectiveFrom: from})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse(out)
	if err != nil {
		t.Fatalf("the import does not parse: %v\n%s", err, out)
	}
	if got, want := strings.Join(b.Models(), ","),
		"acme/long-272k,acme/million,acme/odd-fields,acme/output-only-tier,acme/plain-threshold,acme/same-tier-two-spellings,acme/two-tiers"; got != want {
		t.Errorf("models %s, want %s", got, want)
	}
	if report.Imported != 7 {
		t.Errorf("imported %d, want 7", report.Imported)
	}
	wantSkipped := []SkippedModel{
		{"acme/conflicting-tiers", "input_cost_per_token_above_200000_tokens and input_cost_per_token_above_200k_tokens are both the input price above 200000 input tokens, with different values"},
		{"acme/image-model", `mode "image_generation" does not price text tokens`},
	}
	if !slices.Equal(report.Skipped, wantSkipped) {
		t.Errorf("skipped %q,\nwant %q", report.Skipped, wantSkipped)
	}

	at := from.Add(time.Hour)
	for _, tc := range []struct {
		name  string
		model string
		u     Usage
		above int64 // the tier's threshold; -1 is the base tier
		want  string
	}{
		// The reported bug: $0.81 (300,000 × $2.50 + 4,000 × $15) before.
		// 300,000 × $5 + 4,000 × $22.50 = $1.50 + $0.09
		{"272k only: 300,000 input tokens at the tier", "acme/long-272k", Usage{InputTokens: 300000, OutputTokens: 4000}, 272000, "1.59"},
		// 272,000 × $2.50 + 4,000 × $15
		{"272k only: exactly at the threshold is the base", "acme/long-272k", Usage{InputTokens: 272000, OutputTokens: 4000}, -1, "0.74"},
		// 272,001 × $5 + 4,000 × $22.50
		{"272k only: one token above", "acme/long-272k", Usage{InputTokens: 272001, OutputTokens: 4000}, 272000, "1.450005"},
		// 200,000 × $5 + 100,000 cache reads × $0.50 + 4,000 × $22.50
		{"272k only: the tier's cache read price", "acme/long-272k", Usage{InputTokens: 300000, OutputTokens: 4000, CacheReadInputTokens: 100000}, 272000, "1.14"},

		// 100,000 × $1 + 1,000 × $4
		{"two tiers: below both", "acme/two-tiers", Usage{InputTokens: 100000, OutputTokens: 1000}, -1, "0.104"},
		// 128,000 × $1 + 1,000 × $4
		{"two tiers: at the lower threshold", "acme/two-tiers", Usage{InputTokens: 128000, OutputTokens: 1000}, -1, "0.132"},
		// 200,000 × $2 + 1,000 × $6
		{"two tiers: between", "acme/two-tiers", Usage{InputTokens: 200000, OutputTokens: 1000}, 128000, "0.406"},
		// 512,000 × $2 + 1,000 × $6
		{"two tiers: at the upper threshold", "acme/two-tiers", Usage{InputTokens: 512000, OutputTokens: 1000}, 128000, "1.03"},
		// 600,000 × $3 + 1,000 × $6 (output is the 128k price: no 512k one)
		{"two tiers: above both", "acme/two-tiers", Usage{InputTokens: 600000, OutputTokens: 1000}, 512000, "1.806"},
		// 400,000 × $3 + 100,000 cache reads × $0.20 (the 128k price)
		// + 100,000 cache writes × $1.25 (the base price) + 1,000 × $6
		{"two tiers: inherited cache prices above both", "acme/two-tiers",
			Usage{InputTokens: 600000, OutputTokens: 1000, CacheReadInputTokens: 100000, CacheCreationInputTokens: 100000}, 512000, "1.351"},

		// 100,000 × $1 + 1,000 × $2
		{"plain threshold: at it", "acme/plain-threshold", Usage{InputTokens: 100000, OutputTokens: 1000}, -1, "0.102"},
		// 100,001 × $3 + 1,000 × $5
		{"plain threshold: above it", "acme/plain-threshold", Usage{InputTokens: 100001, OutputTokens: 1000}, 100000, "0.305003"},

		// 1,000,000 × $1
		{"1m: at it", "acme/million", Usage{InputTokens: 1000000}, -1, "1"},
		// 1,000,001 × $2
		{"1m: above it", "acme/million", Usage{InputTokens: 1000001}, 1000000, "2.000002"},

		// 200,000 × $1 (input inherited from the base) + 500 × $3 + 500 reasoning × $4
		{"output-only tier", "acme/output-only-tier", Usage{InputTokens: 200000, OutputTokens: 1000, ReasoningTokens: 500}, 128000, "0.2035"},
		// 128,000 × $1 + 1,000 × $2 (reasoning defaults to output)
		{"output-only tier: base", "acme/output-only-tier", Usage{InputTokens: 128000, OutputTokens: 1000, ReasoningTokens: 500}, -1, "0.13"},

		// 200,001 × $2
		{"two spellings of one threshold with one price", "acme/same-tier-two-spellings", Usage{InputTokens: 200001}, 200000, "0.400002"},

		// 1,000 × $1 + 1,000 × $2: the fields the book cannot represent are left out.
		{"a model with unrepresentable fields keeps its token prices", "acme/odd-fields", Usage{InputTokens: 1000, OutputTokens: 1000}, -1, "0.003"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRate(t, b, tc.model, at, tc.u.InputTokens)
			if above, ok := r.AboveInputTokens(); ok != (tc.above >= 0) || (ok && above != tc.above) {
				t.Errorf("tier above %d (%v), want %d", above, ok, tc.above)
			}
			if got := r.Cost(tc.u); got.String() != tc.want {
				t.Errorf("cost %s, want %s", got, tc.want)
			}
		})
	}
	if r := mustRate(t, b, "acme/odd-fields", at, 10000000); r.LongContext() {
		t.Error("acme/odd-fields got a tier from keys it cannot map")
	}

	// One tier is written in the mapping form, several as a list.
	for _, block := range []string{`  - id: "acme/long-272k"
    prices:
      - effective_from: 2026-11-01
        input: 2.5
        output: 15
        cache_read: 0.25
        long_context:
          above_input_tokens: 272000
          input: 5
          output: 22.5
          cache_read: 0.5
`, `  - id: "acme/two-tiers"
    prices:
      - effective_from: 2026-11-01
        input: 1
        output: 4
        cache_read: 0.1
        cache_creation: 1.25
        long_context:
          - above_input_tokens: 128000
            input: 2
            output: 6
            cache_read: 0.2
            cache_creation: 1.25
          - above_input_tokens: 512000
            input: 3
            output: 6
            cache_read: 0.2
            cache_creation: 1.25
`} {
		if !strings.Contains(string(out), block) {
			t.Errorf("the output lacks\n%s\nin\n%s", block, out)
		}
	}
}

func TestImportLiteLLMWarnsOfUnrepresentableFields(t *testing.T) {
	data, err := os.ReadFile("testdata/litellm_tiers.json")
	if err != nil {
		t.Fatal(err)
	}
	_, report, err := ImportLiteLLM(data, LiteLLMOptions{EffectiveFrom: jan2026})
	if err != nil {
		t.Fatal(err)
	}
	// In key order; only acme/odd-fields has such fields. acme/image-model
	// has one too, but it is skipped as a whole. Null prices, limits, flags
	// and metadata are not prices and give no warning.
	want := []struct{ field, reason string }{
		{"cache_creation_input_token_cost_above_1hr", "a 1-hour cache write price"},
		{"cache_creation_input_token_cost_above_1hr_above_200k_tokens", "a 1-hour cache write price"},
		{"input_cost_per_audio_token", "an audio price"},
		{"input_cost_per_character_above_128k_tokens", "a per-character price"},
		{"input_cost_per_second", "a per-second price"},
		{"input_cost_per_token_above_1.5k_tokens", `the threshold "1.5k" is not a whole number of tokens`},
		{"input_cost_per_token_batches", "a batch API price"},
		{"input_cost_per_token_priority", "a service-tier (priority) price"},
		{"input_dbu_cost_per_token", "not one of the five token prices of the book"},
		{"output_cost_per_image", "a per-image price"},
		{"search_context_cost_per_query", "a structured price"},
	}
	if len(report.Warnings) != len(want) {
		t.Errorf("%d warnings, want %d: %q", len(report.Warnings), len(want), report.Warnings)
	}
	for i, w := range want {
		if i >= len(report.Warnings) {
			break
		}
		got := report.Warnings[i]
		if got.Name != "acme/odd-fields" || got.Field != w.field || !strings.HasPrefix(got.Reason, w.reason) {
			t.Errorf("warning %d: %q, want acme/odd-fields, %s, %q...", i, got, w.field, w.reason)
		}
	}
}

func TestLiteLLMThresholds(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64 // -1: not a threshold
	}{
		{"200k", 200000},
		{"272k", 272000},
		{"128k", 128000},
		{"1m", 1000000},
		{"100000", 100000},
		{"0", 0},
		{"1.5k", -1},
		{"1hr", -1},
		{"200K", -1},
		{"k", -1},
		{"", -1},
		{"9223372036854776k", -1}, // overflows int64
	} {
		got, ok := parseLiteLLMThreshold(tc.in)
		if ok != (tc.want >= 0) || (ok && got != tc.want) {
			t.Errorf("parseLiteLLMThreshold(%q) = %d, %v; want %d", tc.in, got, ok, tc.want)
		}
	}
}

// A price past MaxMoney, or one so small that it rounds to $0 per token,
// cannot be held: the model is skipped with the reason, and what is
// imported still loads.
func TestImportLiteLLMSkipsPricesTheBookCannotHold(t *testing.T) {
	data := []byte(`{
  "huge": {"mode": "chat", "input_cost_per_token": 1e300, "output_cost_per_token": 1e-6},
  "tiny": {"mode": "chat", "input_cost_per_token": 1e-20, "output_cost_per_token": 1e-6},
  "fine": {"mode": "chat", "input_cost_per_token": 3e-6, "output_cost_per_token": 1.5e-5}
}`)
	out, report, err := ImportLiteLLM(data, LiteLLMOptions{EffectiveFrom: jan2026})
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, s := range report.Skipped {
		reasons[s.Name] = s.Reason
	}
	if !strings.Contains(reasons["huge"], "more than the price book's bound of 1000000000") ||
		!strings.Contains(reasons["tiny"], "rounds to $0 per token") || reasons["fine"] != "" {
		t.Errorf("skipped %+v", report.Skipped)
	}
	b, err := Parse(out)
	if err != nil {
		t.Fatalf("the import does not load: %v\n%s", err, out)
	}
	if _, ok := b.Match("fine"); !ok {
		t.Error("fine was not imported")
	}
}

// Amounts past MaxMoney are refused by key: a cost of such prices would not
// fit Decimal(38, 12).
func TestPricesAreBounded(t *testing.T) {
	_, err := Parse([]byte("models:\n  - id: m\n    prices:\n      - effective_from: 2025-01-01\n        input: 1e32\n        output: 1\n"))
	if err == nil || !strings.Contains(err.Error(), "input: must be at most 1000000000, not 1e32") {
		t.Errorf("err %v", err)
	}
	if _, err := Parse([]byte("models:\n  - id: m\n    prices:\n      - effective_from: 2025-01-01\n        input: 1000000000\n        output: 1\n")); err != nil {
		t.Errorf("the bound itself: %v", err)
	}
}
