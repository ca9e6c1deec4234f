package price

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// LiteLLM's model_prices_and_context_window.json is the de-facto public price
// map. Each top-level key is a model name; its object holds per-token USD
// prices as JSON numbers. ImportLiteLLM maps these keys into a price book
// (prices become USD per 1M tokens):
//
//	input_cost_per_token                  -> input
//	output_cost_per_token                 -> output
//	cache_read_input_token_cost           -> cache_read
//	cache_creation_input_token_cost       -> cache_creation
//	output_cost_per_reasoning_token       -> reasoning
//	<any of the five>_above_<N>k_tokens   -> that price of the long-context tier above N×1,000 input tokens
//	<any of the five>_above_<N>m_tokens   -> the same, above N×1,000,000 input tokens
//	<any of the five>_above_<N>_tokens    -> the same, above N input tokens
//
// e.g. input_cost_per_token_above_272k_tokens is the input price of the tier
// with above_input_tokens: 272000. A model gets one tier per distinct
// threshold. A tier price LiteLLM does not give is the same price of the next
// lower tier, else the base price: output_cost_per_token_above_128k_tokens
// still applies above 512k when there is no _above_512k_ output price.
//
// Every other key naming a cost or a price (per second, per image, per
// character, batch and priority prices, 1-hour cache writes, ...) cannot be
// represented by the book; each one of an imported model is reported as a
// [LiteLLMWarning].
//
// Sources: LiteLLM's model_prices_and_context_window.json and its cost
// calculator (litellm/litellm_core_utils/llm_cost_calc/utils.py), which
// compares a request's prompt tokens with the threshold strictly (>), as
// the price book does.

// litellmFields are the LiteLLM keys of the five prices of a tier, in the
// order of the price book keys they map to.
var litellmFields = [5]struct{ key, litellm string }{
	{"input", "input_cost_per_token"},
	{"output", "output_cost_per_token"},
	{"cache_read", "cache_read_input_token_cost"},
	{"cache_creation", "cache_creation_input_token_cost"},
	{"reasoning", "output_cost_per_reasoning_token"},
}

// litellmField returns the index in litellmFields of a LiteLLM base key.
func litellmField(key string) (int, bool) {
	for i, f := range litellmFields {
		if f.litellm == key {
			return i, true
		}
	}
	return 0, false
}

// litellmTierKey splits a long-context key <field>_above_<threshold>_tokens.
// The field is the longest prefix, so the 1-hour cache write key
// cache_creation_input_token_cost_above_1hr_above_200k_tokens has the field
// cache_creation_input_token_cost_above_1hr.
var litellmTierKey = regexp.MustCompile(`^(.+)_above_([^_]+)_tokens$`)

// litellmThreshold matches a threshold: N, Nk (N×1,000) or Nm (N×1,000,000).
var litellmThreshold = regexp.MustCompile(`^([0-9]{1,18})([km]?)$`)

// parseLiteLLMThreshold reads the threshold of a long-context key, in tokens.
func parseLiteLLMThreshold(s string) (int64, bool) {
	m := litellmThreshold.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, false
	}
	mult := int64(1)
	switch m[2] {
	case "k":
		mult = 1000
	case "m":
		mult = 1000000
	}
	if n > math.MaxInt64/mult {
		return 0, false
	}
	return n * mult, true
}

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
	// Warnings list the fields of imported models that the price book cannot
	// represent and that were left out, by model name, then field.
	Warnings []LiteLLMWarning
}

// SkippedModel is a LiteLLM entry that was not imported.
type SkippedModel struct {
	Name   string
	Reason string
}

// LiteLLMWarning is a field of an imported LiteLLM entry that the price book
// cannot represent: the model was imported without it.
type LiteLLMWarning struct {
	// Name is the model's name (its key in the LiteLLM file).
	Name string
	// Field is the LiteLLM key left out, e.g. input_cost_per_second.
	Field string
	// Reason says why the book cannot represent it.
	Reason string
}

// litellmTextModes are the modes whose entries price text tokens; other
// modes (embedding, image_generation, audio_transcription, ...) are skipped.
var litellmTextModes = map[string]bool{"": true, "chat": true, "completion": true, "responses": true}

// ImportLiteLLM converts a LiteLLM price map into price book YAML, one model
// per entry with the entry's name as id, sorted by name. The result is
// checked with Parse before it is returned. Entries without both an input
// and an output price, of a non-text mode, with a malformed price, with two
// different prices for the same tier and field, or whose name differs from
// an earlier one only in case, are skipped and reported. Fields of imported
// entries that the book cannot represent are reported as warnings.
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
		m, err := readLiteLLMEntry(raw[name])
		if err != nil {
			skip("%v", err)
			continue
		}
		seen[strings.ToLower(name)] = name
		report.Imported++
		for _, w := range m.warnings {
			w.Name = name
			report.Warnings = append(report.Warnings, w)
		}
		fmt.Fprintf(&out, "  - id: %s\n    prices:\n      - effective_from: %s\n", strconv.Quote(name), from)
		for i, v := range m.base {
			if v != "" {
				fmt.Fprintf(&out, "        %s: %s\n", litellmFields[i].key, v)
			}
		}
		switch len(m.tiers) {
		case 0:
		case 1:
			// The mapping form, as books written before several tiers.
			fmt.Fprintf(&out, "        long_context:\n          above_input_tokens: %d\n", m.tiers[0].above)
			for i, v := range m.tiers[0].prices {
				if v != "" {
					fmt.Fprintf(&out, "          %s: %s\n", litellmFields[i].key, v)
				}
			}
		default:
			fmt.Fprintf(&out, "        long_context:\n")
			for _, t := range m.tiers {
				fmt.Fprintf(&out, "          - above_input_tokens: %d\n", t.above)
				for i, v := range t.prices {
					if v != "" {
						fmt.Fprintf(&out, "            %s: %s\n", litellmFields[i].key, v)
					}
				}
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

// litellmModel is an entry converted for the book: the prices per 1M
// tokens as decimal text ("" when not set), in the order of litellmFields.
type litellmModel struct {
	base     [5]string
	tiers    []litellmTier // ascending threshold
	warnings []LiteLLMWarning
}

type litellmTier struct {
	above  int64
	prices [5]string
}

// readLiteLLMEntry converts one entry. An error is the reason to skip it.
func readLiteLLMEntry(data json.RawMessage) (*litellmModel, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil || fields == nil {
		return nil, fmt.Errorf("not a model object")
	}
	if mode, ok := fields["mode"]; ok && !isJSONNull(mode) {
		var s string
		if err := json.Unmarshal(mode, &s); err != nil {
			return nil, fmt.Errorf("mode: not a string")
		}
		if !litellmTextModes[s] {
			return nil, fmt.Errorf("mode %q does not price text tokens", s)
		}
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)

	m := &litellmModel{}
	type tierPrice struct {
		value   string
		litellm string // the key it was read from
	}
	tiers := map[int64]*[5]tierPrice{}
	var errs []string
	for _, k := range keys {
		v := fields[k]
		if isJSONNull(v) {
			continue
		}
		if i, ok := litellmField(k); ok {
			d, err := litellmPrice(k, v)
			if err != nil {
				errs = append(errs, err.Error())
				continue
			}
			m.base[i] = d
			continue
		}
		if sm := litellmTierKey.FindStringSubmatch(k); sm != nil {
			i, known := litellmField(sm[1])
			above, okThreshold := parseLiteLLMThreshold(sm[2])
			switch {
			case !known:
				m.warn(k, v, "")
			case !okThreshold:
				m.warn(k, v, fmt.Sprintf("the threshold %q is not a whole number of tokens (N, Nk or Nm), so it cannot become a long-context tier", sm[2]))
			default:
				d, err := litellmPrice(k, v)
				if err != nil {
					errs = append(errs, err.Error())
					continue
				}
				t := tiers[above]
				if t == nil {
					t = new([5]tierPrice)
					tiers[above] = t
				}
				if prev := t[i]; prev.litellm != "" && prev.value != d {
					errs = append(errs, fmt.Sprintf("%s and %s are both the %s price above %d input tokens, with different values", prev.litellm, k, litellmFields[i].key, above))
					continue
				}
				t[i] = tierPrice{d, k}
			}
			continue
		}
		if isLiteLLMPriceKey(k) {
			m.warn(k, v, "")
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	if m.base[0] == "" || m.base[1] == "" {
		return nil, fmt.Errorf("needs both input_cost_per_token and output_cost_per_token")
	}

	thresholds := make([]int64, 0, len(tiers))
	for above := range tiers {
		thresholds = append(thresholds, above)
	}
	slices.Sort(thresholds)
	cur := m.base // each field inherits from the next lower tier, else the base
	for _, above := range thresholds {
		for i, tp := range tiers[above] {
			if tp.litellm != "" {
				cur[i] = tp.value
			}
		}
		m.tiers = append(m.tiers, litellmTier{above: above, prices: cur})
	}
	return m, nil
}

// warn records a field the book cannot represent; reason "" picks the
// reason from the key.
func (m *litellmModel) warn(key string, v json.RawMessage, reason string) {
	if reason == "" {
		reason = litellmUnmappedReason(key, v)
	}
	m.warnings = append(m.warnings, LiteLLMWarning{Field: key, Reason: reason})
}

// isLiteLLMPriceKey reports whether a LiteLLM key holds a cost or a price,
// as opposed to a limit (max_tokens), a flag (supports_vision) or metadata.
func isLiteLLMPriceKey(key string) bool {
	k := strings.ToLower(key)
	return strings.Contains(k, "cost") || strings.Contains(k, "pric")
}

// litellmUnmappedReason explains why a LiteLLM price key cannot be
// represented by the book.
func litellmUnmappedReason(key string, v json.RawMessage) string {
	k := strings.ToLower(key)
	if t := bytes.TrimSpace(v); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		return "a structured price (an object or a list); the book has per-token prices only"
	}
	for _, r := range []struct{ substr, reason string }{
		{"above_1hr", "a 1-hour cache write price; the book has one cache_creation price (the 5-minute one, cache_creation_input_token_cost)"},
		{"image_token", "an image token price; the book has no separate image token price"},
		{"per_second", "a per-second price; the book prices tokens only"},
		{"per_image", "a per-image price; the book prices tokens only"},
		{"per_pixel", "a per-pixel price; the book prices tokens only"},
		{"per_character", "a per-character price; the book prices tokens only"},
		{"per_query", "a per-query price; the book prices tokens only"},
		{"per_request", "a per-request price; the book prices tokens only"},
		{"per_page", "a per-page price; the book prices tokens only"},
		{"per_call", "a per-call price; the book prices tokens only"},
		{"per_1k_calls", "a per-call price; the book prices tokens only"},
		{"per_session", "a per-session price; the book prices tokens only"},
		{"batches", "a batch API price; the book has one price per kind of token"},
		{"priority", "a service-tier (priority) price; the book has one price per kind of token"},
		{"flex", "a service-tier (flex) price; the book has one price per kind of token"},
		{"audio", "an audio price; the book has no separate audio token price"},
		{"video", "a video price; the book has no separate video token price"},
		{"image", "an image price; the book has no separate image token price"},
	} {
		if strings.Contains(k, r.substr) {
			return r.reason
		}
	}
	if sm := litellmTierKey.FindStringSubmatch(k); sm != nil {
		return fmt.Sprintf("a price above %s tokens of %s, which is not one of the five token prices of the book", sm[2], sm[1])
	}
	return "not one of the five token prices of the book (input, output, cache_read, cache_creation, reasoning)"
}

func isJSONNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

// litellmPrice converts a per-token price to per-million text. LiteLLM's
// prices are binary floats written as JSON numbers, so a price of $0.15 per
// 1M can read 1.4999999999999999e-07; rounding each per-token price to
// MoneyPlaces removes that noise and keeps it storable. A number written as
// a JSON string is accepted, as encoding/json accepts it for json.Number.
func litellmPrice(key string, v json.RawMessage) (string, error) {
	text := string(bytes.TrimSpace(v))
	if strings.HasPrefix(text, `"`) {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", fmt.Errorf("%s: %s is not a number", key, text)
		}
		text = s
	}
	d, err := decimal.NewFromString(text)
	if err != nil {
		return "", fmt.Errorf("%s: %q is not a number", key, text)
	}
	if d.IsNegative() {
		return "", fmt.Errorf("%s: %s is negative", key, text)
	}
	perMillion := d.Round(MoneyPlaces).Shift(6)
	if perMillion.GreaterThan(maxMoney()) {
		return "", fmt.Errorf("%s: %s is $%s per 1M tokens, more than the price book's bound of %d", key, text, perMillion, MaxMoney)
	}
	if perMillion.IsZero() && !d.IsZero() {
		return "", fmt.Errorf("%s: %s rounds to $0 per token at %d decimal places; the price book cannot hold it", key, text, MoneyPlaces)
	}
	return perMillion.String(), nil
}

// formatEffective writes a date when t is midnight UTC, else RFC 3339.
func formatEffective(t time.Time) string {
	t = t.UTC()
	if t.Equal(t.Truncate(24 * time.Hour)) {
		return t.Format("2006-01-02")
	}
	return t.Format(time.RFC3339Nano)
}
