package price

import (
	"strings"
	"testing"
)

// threeTiers has a base price and long-context tiers above 1,000 and 5,000
// input tokens, in the list form.
const threeTiers = `
models:
  - id: m
    prices:
      - effective_from: 2025-01-01
        input: 1.00
        output: 10.00
        long_context:
          - above_input_tokens: 1000
            input: 2.00
            output: 20.00
            cache_read: 0.20
          - above_input_tokens: 5000
            input: 4.00
            output: 40.00
`

func TestLongContextTiersList(t *testing.T) {
	b, err := Parse([]byte(threeTiers))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		u     Usage
		above int64 // -1: the base tier
		want  string
	}{
		// 1,000 × $1 + 100 × $10
		{"at the first threshold: base", Usage{InputTokens: 1000, OutputTokens: 100}, -1, "0.002"},
		// 1,001 × $2 + 100 × $20
		{"one above the first threshold: first tier", Usage{InputTokens: 1001, OutputTokens: 100}, 1000, "0.004002"},
		// 5,000 × $2 + 100 × $20
		{"at the second threshold: first tier", Usage{InputTokens: 5000, OutputTokens: 100}, 1000, "0.012"},
		// 5,001 × $4 + 100 × $40
		{"one above the second threshold: second tier", Usage{InputTokens: 5001, OutputTokens: 100}, 5000, "0.024004"},
		// 1,000 × $2 + 2,000 cache reads × $0.20 + 100 × $20
		{"first tier's own cache read price", Usage{InputTokens: 3000, OutputTokens: 100, CacheReadInputTokens: 2000}, 1000, "0.0044"},
		// The second tier sets no cache_read: it defaults to its own input,
		// not to the first tier's. 10,000 × $4 + 100 × $40
		{"second tier's cache read defaults to its input", Usage{InputTokens: 10000, OutputTokens: 100, CacheReadInputTokens: 2000}, 5000, "0.044"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRate(t, b, "m", jan2026, tc.u.InputTokens)
			above, long := r.AboveInputTokens()
			if long != (tc.above >= 0) || long != r.LongContext() || (long && above != tc.above) {
				t.Errorf("tier: AboveInputTokens() = %d, %v; LongContext() = %v; want the tier above %d", above, long, r.LongContext(), tc.above)
			}
			if got := r.Cost(tc.u); got.String() != tc.want {
				t.Errorf("cost %s, want %s", got, tc.want)
			}
		})
	}
	// Each tier is its own stable *Rate.
	base, first, second := mustRate(t, b, "m", jan2026, 0), mustRate(t, b, "m", jan2026, 2000), mustRate(t, b, "m", jan2026, 6000)
	if base == first || first == second || base == second {
		t.Error("the tiers share a *Rate")
	}
	if mustRate(t, b, "m", jan2026, 4999) != first || mustRate(t, b, "m", jan2026, 1<<40) != second {
		t.Error("the same tier returned different *Rate values")
	}
}

func TestLongContextMappingFormIsOneTier(t *testing.T) {
	b := parseFixture(t, "good/long_context.yaml")
	r := mustRate(t, b, "acme-long", jan2026, 1001)
	if above, ok := r.AboveInputTokens(); !ok || above != 1000 {
		t.Errorf("AboveInputTokens() = %d, %v; want 1000, true", above, ok)
	}
	if _, ok := mustRate(t, b, "acme-long", jan2026, 1000).AboveInputTokens(); ok {
		t.Error("the base tier reports a threshold")
	}
	// A list of one tier is the same book.
	list, err := Parse([]byte(`
models:
  - id: acme-long
    prices:
      - effective_from: 2025-01-01
        input: 1.00
        output: 10.00
        cache_read: 0.10
        long_context:
          - {above_input_tokens: 1000, input: 2.00, output: 20.00}
`))
	if err != nil {
		t.Fatal(err)
	}
	// 1,000 × $2 + 1,000 cache reads × $2 + 1,000 × $20 (the tier's cache
	// read defaults to its own input)
	u := Usage{InputTokens: 2000, OutputTokens: 1000, CacheReadInputTokens: 1000}
	for _, bk := range []*Book{b, list} {
		if got := mustRate(t, bk, "acme-long", jan2026, u.InputTokens).Cost(u); got.String() != "0.024" {
			t.Errorf("cost %s, want 0.024", got)
		}
	}
}

func TestLongContextTierErrors(t *testing.T) {
	const head = `
models:
  - id: m
    prices:
      - effective_from: 2025-01-01
        input: 1
        output: 2
        long_context:
`
	for _, tc := range []struct {
		name  string
		tiers string
		want  []string
	}{
		{
			"duplicate thresholds",
			`
          - {above_input_tokens: 200000, input: 2, output: 4}
          - {above_input_tokens: 200000, input: 3, output: 6}`,
			[]string{`models[0] (id "m").prices[0].long_context[1].above_input_tokens: 200000 is also the threshold of long_context[0]; each tier needs its own threshold`},
		},
		{
			"thresholds out of order",
			`
          - {above_input_tokens: 272000, input: 2, output: 4}
          - {above_input_tokens: 128000, input: 3, output: 6}`,
			[]string{`models[0] (id "m").prices[0].long_context[1].above_input_tokens: 128000 is below the threshold of long_context[0] (272000); list tiers in ascending order of above_input_tokens`},
		},
		{
			"a duplicate after a higher one names the highest so far",
			`
          - {above_input_tokens: 100, input: 2, output: 4}
          - {above_input_tokens: 300, input: 3, output: 6}
          - {above_input_tokens: 300, input: 4, output: 8}`,
			[]string{`long_context[2].above_input_tokens: 300 is also the threshold of long_context[1]`},
		},
		{
			"every tier is validated and named by its index",
			`
          - {above_input_tokens: 1000, input: 2, output: 4}
          - {above_input_tokens: 2k, input: 3, cache_read: -1}`,
			[]string{
				`models[0] (id "m").prices[0].long_context[1].above_input_tokens: must be a whole number of tokens >= 0, not "2k"`,
				`models[0] (id "m").prices[0].long_context[1].output: must be set (USD per 1M tokens)`,
				`models[0] (id "m").prices[0].long_context[1].cache_read: must be >= 0, not -1`,
			},
		},
		{
			"missing threshold",
			`
          - {input: 3, output: 6}`,
			[]string{`models[0] (id "m").prices[0].long_context[0].above_input_tokens: must be set`},
		},
		{"an empty list", ` []`, []string{`models[0] (id "m").prices[0].long_context: must list at least one tier, or be left out`}},
		{
			"an unknown key in a tier, with its line",
			`
          - above_input_tokens: 1000
            input: 2
            outptu: 4`,
			[]string{`line 11: unknown key "outptu"`},
		},
		{"a tier that is not a mapping", `
          - 200000`, []string{`line 9: long_context[0] must be a tier`}},
		{"a scalar", ` 200000`, []string{`line 8: long_context must be a tier (a mapping) or a list of tiers`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Parse([]byte(head[:len(head)-1] + tc.tiers + "\n"))
			if err == nil || b != nil {
				t.Fatalf("accepted, want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error:\n%v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

// A problem in a tier does not hide the problems elsewhere in the file.
func TestLongContextDecodeErrorsAreAllReported(t *testing.T) {
	_, err := Parse([]byte(`
models:
  - id: m
    prices:
      - effective_from: 2025-01-01
        input: 1
        output: 2
        long_context:
          above_input_tokens: 1000
          input: 2
          output: 4
          bogus: 1
        inptu: 3
`))
	for _, w := range []string{`line 12: unknown key "bogus"`, `line 13: unknown key "inptu"`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v, want it to contain %q", err, w)
		}
	}
}
