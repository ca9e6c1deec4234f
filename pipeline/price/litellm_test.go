package price

import (
	"regexp"
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
