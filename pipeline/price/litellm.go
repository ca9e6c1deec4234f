package price

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// LiteLLM's model_prices_and_context_window.json is the de-facto public price
// map. Each top-level key is a model name; its object holds per-token USD
// prices as JSON numbers. ImportLiteLLM maps these keys into a price book:
//
//	input_cost_per_token                               -> input
//	output_cost_per_token                              -> output
//	cache_read_input_token_cost                        -> cache_read
//	cache_creation_input_token_cost                    -> cache_creation
//	output_cost_per_reasoning_token                    -> reasoning
//	input_cost_per_token_above_200k_tokens             -> long_context.input (above_input_tokens: 200000)
//	output_cost_per_token_above_200k_tokens            -> long_context.output
//	cache_read_input_token_cost_above_200k_tokens      -> long_context.cache_read
//	cache_creation_input_token_cost_above_200k_tokens  -> long_context.cache_creation
//
// Per-token prices are multiplied by 10^6 exactly, from the JSON number text.

// litellmLongContextThreshold is the threshold of the *_above_200k_tokens keys.
const litellmLongContextThreshold = 200000

// LiteLLMOptions controls ImportLiteLLM.
type LiteLLMOptions struct {
	// EffectiveFrom is the effective_from of every imported price. Required:
	// an import is reproducible only if the date is chosen, not the clock's.
	EffectiveFrom time.Time
	// Include, when set, keeps only the model names it matches.
	Include *regexp.Regexp
}

// LiteLLMReport says what an import did.
type LiteLLMReport struct {
	// Imported is the number of models written.
	Imported int
	// Skipped lists the models left out, each with the reason.
	Skipped []SkippedModel
}

// SkippedModel is a LiteLLM entry that was not imported.
type SkippedModel struct {
	Name   string
	Reason string
}

// litellmEntry is the part of a LiteLLM entry that is imported.
type litellmEntry struct {
	Mode                        string      `json:"mode"`
	InputCostPerToken           json.Number `json:"input_cost_per_token"`
	OutputCostPerToken          json.Number `json:"output_cost_per_token"`
	CacheReadInputTokenCost     json.Number `json:"cache_read_input_token_cost"`
	CacheCreationInputTokenCost json.Number `json:"cache_creation_input_token_cost"`
	OutputCostPerReasoningToken json.Number `json:"output_cost_per_reasoning_token"`
	InputAbove200k              json.Number `json:"input_cost_per_token_above_200k_tokens"`
	OutputAbove200k             json.Number `json:"output_cost_per_token_above_200k_tokens"`
	CacheReadAbove200k          json.Number `json:"cache_read_input_token_cost_above_200k_tokens"`
	CacheCreationAbove200k      json.Number `json:"cache_creation_input_token_cost_above_200k_tokens"`
}

// litellmTextModes are the modes whose entries price text tokens; other
// modes (embedding, image_generation, audio_transcription, ...) are skipped.
var litellmTextModes = map[string]bool{"": true, "chat": true, "completion": true, "responses": true}

// ImportLiteLLM converts a LiteLLM price map into price book YAML, one model
// per entry with the entry's name as id, sorted by name. The result is
// checked with Parse before it is returned. Entries without both an input
// and an output price, of a non-text mode, with a malformed price, or whose
// name differs from an earlier one only in case, are skipped and reported.
func ImportLiteLLM(data []byte, opts LiteLLMOptions) ([]byte, LiteLLMReport, error) {
	var report LiteLLMReport
	if opts.EffectiveFrom.IsZero() {
		return nil, report, fmt.Errorf("cannot import LiteLLM prices: the effective_from date is required")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, report, fmt.Errorf("cannot import LiteLLM prices: not a JSON object of models: %w", err)
	}
	names := make([]string, 0, len(raw))
	for name := range raw {
		names = append(names, name)
	}
	slices.Sort(names)

	var out bytes.Buffer
	fmt.Fprintf(&out, "# Imported from a LiteLLM model_prices_and_context_window.json.\n")
	fmt.Fprintf(&out, "# Prices are USD per 1M tokens. Plans are not part of the import: the\n")
	fmt.Fprintf(&out, "# built-in defaults apply (docs/pricebook.md).\n")
	fmt.Fprintf(&out, "currency: USD\n\nmodels:\n")
	from := formatEffective(opts.EffectiveFrom)
	seen := map[string]string{}
	for _, name := range names {
		skip := func(format string, args ...any) {
			report.Skipped = append(report.Skipped, SkippedModel{Name: name, Reason: fmt.Sprintf(format, args...)})
		}
		if name == "sample_spec" {
			continue // the documentation entry of the file
		}
		if opts.Include != nil && !opts.Include.MatchString(name) {
			continue
		}
		if strings.TrimSpace(name) == "" {
			skip("empty model name")
			continue
		}
		if prev, dup := seen[strings.ToLower(name)]; dup {
			skip("same name as %q when compared case-insensitively", prev)
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(raw[name]))
		dec.UseNumber()
		var e litellmEntry
		if err := dec.Decode(&e); err != nil {
			skip("not a model object: %v", err)
			continue
		}
		if !litellmTextModes[e.Mode] {
			skip("mode %q does not price text tokens", e.Mode)
			continue
		}
		if e.InputCostPerToken == "" || e.OutputCostPerToken == "" {
			skip("needs both input_cost_per_token and output_cost_per_token")
			continue
		}
		base, err := litellmPrices([5]keyNumber{
			{"input", "input_cost_per_token", e.InputCostPerToken},
			{"output", "output_cost_per_token", e.OutputCostPerToken},
			{"cache_read", "cache_read_input_token_cost", e.CacheReadInputTokenCost},
			{"cache_creation", "cache_creation_input_token_cost", e.CacheCreationInputTokenCost},
			{"reasoning", "output_cost_per_reasoning_token", e.OutputCostPerReasoningToken},
		})
		if err != nil {
			skip("%v", err)
			continue
		}
		var long []keyValue
		if e.InputAbove200k != "" || e.OutputAbove200k != "" {
			in, out := e.InputAbove200k, e.OutputAbove200k
			if in == "" {
				in = e.InputCostPerToken
			}
			if out == "" {
				out = e.OutputCostPerToken
			}
			long, err = litellmPrices([5]keyNumber{
				{"input", "input_cost_per_token_above_200k_tokens", in},
				{"output", "output_cost_per_token_above_200k_tokens", out},
				{"cache_read", "cache_read_input_token_cost_above_200k_tokens", e.CacheReadAbove200k},
				{"cache_creation", "cache_creation_input_token_cost_above_200k_tokens", e.CacheCreationAbove200k},
				{"reasoning", "", ""},
			})
			if err != nil {
				skip("%v", err)
				continue
			}
		}
		seen[strings.ToLower(name)] = name
		report.Imported++
		fmt.Fprintf(&out, "  - id: %s\n    prices:\n      - effective_from: %s\n", strconv.Quote(name), from)
		for _, kv := range base {
			fmt.Fprintf(&out, "        %s: %s\n", kv.key, kv.value)
		}
		if long != nil {
			fmt.Fprintf(&out, "        long_context:\n          above_input_tokens: %d\n", litellmLongContextThreshold)
			for _, kv := range long {
				fmt.Fprintf(&out, "          %s: %s\n", kv.key, kv.value)
			}
		}
	}
	if report.Imported == 0 {
		return nil, report, fmt.Errorf("cannot import LiteLLM prices: no model has both an input and an output price")
	}
	if _, err := Parse(out.Bytes()); err != nil {
		return nil, report, fmt.Errorf("the imported price book is invalid: %w", err)
	}
	return out.Bytes(), report, nil
}

type keyNumber struct {
	key, litellmKey string
	n               json.Number
}

type keyValue struct{ key, value string }

// litellmPrices converts the set per-token prices to per-million text.
// LiteLLM's prices are binary floats written as JSON numbers, so a price of
// $0.15 per 1M can read 1.4999999999999999e-07; rounding each per-token
// price to MoneyPlaces removes that noise and keeps it storable.
func litellmPrices(in [5]keyNumber) ([]keyValue, error) {
	var out []keyValue
	for _, kn := range in {
		if kn.n == "" {
			continue
		}
		d, err := decimal.NewFromString(kn.n.String())
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a number", kn.litellmKey, kn.n)
		}
		if d.IsNegative() {
			return nil, fmt.Errorf("%s: %s is negative", kn.litellmKey, kn.n)
		}
		out = append(out, keyValue{kn.key, d.Round(MoneyPlaces).Shift(6).String()})
	}
	return out, nil
}

// formatEffective writes a date when t is midnight UTC, else RFC 3339.
func formatEffective(t time.Time) string {
	t = t.UTC()
	if t.Equal(t.Truncate(24 * time.Hour)) {
		return t.Format("2006-01-02")
	}
	return t.Format(time.RFC3339Nano)
}
