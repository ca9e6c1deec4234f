package price

import (
	"math"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

var jan2026 = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

func mustRate(t testing.TB, b *Book, model string, at time.Time, input int64) *Rate {
	t.Helper()
	r, ok := b.Rate(model, at, input)
	if !ok {
		t.Fatalf("Rate(%q, %s, %d): no rate", model, at, input)
	}
	return r
}

// The golden values are the published prices worked by hand.
func TestCostGoldenDefaultBook(t *testing.T) {
	for _, tc := range []struct {
		model         string
		input, output int64
		want          string
	}{
		{"gemini-3-flash", 4000, 800, "0.0044"},
		{"gemini-3-pro", 4000, 800, "0.0176"},
		{"claude-sonnet-4.6", 4000, 800, "0.024"},
		{"gemini-3-flash", 12000, 2000, "0.012"},
		{"gemini-3-pro", 12000, 2000, "0.048"},
		{"claude-sonnet-4.6", 12000, 2000, "0.066"},
	} {
		t.Run(tc.model, func(t *testing.T) {
			r := mustRate(t, Default(), tc.model, jan2026, tc.input)
			got := r.Cost(Usage{InputTokens: tc.input, OutputTokens: tc.output})
			if got.String() != tc.want {
				t.Errorf("%d in / %d out: cost %s, want %s", tc.input, tc.output, got, tc.want)
			}
		})
	}
}

func TestCostFormula(t *testing.T) {
	b := Default()
	for _, tc := range []struct {
		name  string
		model string
		u     Usage
		want  string
	}{
		{
			// 1,000 uncached × $3 + 3,000 cache reads × $0.30 + 800 × $15
			name:  "cached input is priced at the lower cache read price",
			model: "claude-sonnet-4.6",
			u:     Usage{InputTokens: 4000, OutputTokens: 800, CacheReadInputTokens: 3000},
			want:  "0.0159",
		},
		{
			// 2,000 × $3 + 2,000 cache writes × $3.75 + 800 × $15
			name:  "cache creation is priced at the cache write price",
			model: "claude-sonnet-4.6",
			u:     Usage{InputTokens: 4000, OutputTokens: 800, CacheCreationInputTokens: 2000},
			want:  "0.0255",
		},
		{
			// gemini-3-pro has no cache_creation price: it defaults to input,
			// so cache writes cost the same as plain input.
			name:  "cache creation defaults to the input price",
			model: "gemini-3-pro",
			u:     Usage{InputTokens: 4000, OutputTokens: 800, CacheCreationInputTokens: 4000},
			want:  "0.0176",
		},
		{
			// Reasoning defaults to the output price: same as 4,000/800.
			name:  "reasoning defaults to the output price",
			model: "gemini-3-flash",
			u:     Usage{InputTokens: 4000, OutputTokens: 800, ReasoningTokens: 600},
			want:  "0.0044",
		},
		{
			name:  "no tokens cost nothing",
			model: "gemini-3-pro",
			u:     Usage{},
			want:  "0",
		},
		{
			// 1 token × $0.50 / 1M: every digit is kept.
			name:  "one input token is exact",
			model: "gemini-3-flash",
			u:     Usage{InputTokens: 1},
			want:  "0.0000005",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := mustRate(t, b, tc.model, jan2026, tc.u.InputTokens).Cost(tc.u)
			if got.String() != tc.want {
				t.Errorf("Cost(%+v) = %s, want %s", tc.u, got, tc.want)
			}
		})
	}
}

func TestCostReasoningPrice(t *testing.T) {
	b := parseFixture(t, "good/long_context.yaml")
	// Above the 1,000-token threshold the tier sets only input and output,
	// so reasoning defaults to the tier's output price ($20), and cache
	// reads to the tier's input price ($2).
	u := Usage{InputTokens: 2000, OutputTokens: 1000, CacheReadInputTokens: 1000, ReasoningTokens: 500}
	got := mustRate(t, b, "acme-long", jan2026, u.InputTokens).Cost(u)
	// 1,000×2 + 1,000×2 + 500×20 + 500×20 = 24,000 per 1M
	if want := "0.024"; got.String() != want {
		t.Errorf("cost %s, want %s", got, want)
	}
}

func TestLongContextTierSwitchesAboveThreshold(t *testing.T) {
	b := Default()
	for _, tc := range []struct {
		name  string
		input int64
		long  bool
		want  string
	}{
		// 200,000 × $2 + 1,000 × $12 = $0.412
		{"exactly at the threshold is the base tier", 200000, false, "0.412"},
		// 200,001 × $4 + 1,000 × $18 = $0.818004
		{"one token above the threshold reprices the whole request", 200001, true, "0.818004"},
		{"well below the threshold is the base tier", 199999, false, "0.411998"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRate(t, b, "gemini-3-pro", jan2026, tc.input)
			if r.LongContext() != tc.long {
				t.Errorf("LongContext() = %v, want %v", r.LongContext(), tc.long)
			}
			if got := r.Cost(Usage{InputTokens: tc.input, OutputTokens: 1000}); got.String() != tc.want {
				t.Errorf("cost %s, want %s", got, tc.want)
			}
		})
	}
	t.Run("claude long context prices", func(t *testing.T) {
		// 300,000 × $6 + 10,000 × $22.50 = $2.025
		r := mustRate(t, b, "claude-sonnet-4.6", jan2026, 300000)
		if got := r.Cost(Usage{InputTokens: 300000, OutputTokens: 10000}); got.String() != "2.025" {
			t.Errorf("cost %s, want 2.025", got)
		}
	})
	t.Run("a model without a tier never switches", func(t *testing.T) {
		r := mustRate(t, b, "gemini-3-flash", jan2026, 1000000)
		if r.LongContext() || r != mustRate(t, b, "gemini-3-flash", jan2026, 1) {
			t.Error("gemini-3-flash has no long-context tier")
		}
	})
}

func TestPriceChangeOnDate(t *testing.T) {
	b := parseFixture(t, "good/price_change.yaml")
	u := Usage{InputTokens: 1000000, OutputTokens: 1000000}
	change := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		at   time.Time
		want string // "" is no price in force
	}{
		{"before the first price", time.Date(2024, 12, 31, 23, 59, 59, 0, time.UTC), ""},
		{"first instant of the first price", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), "3"},
		{"last instant before the change", change.Add(-time.Nanosecond), "3"},
		{"the instant of the change", change, "2.25"},
		{"after the change", change.Add(24 * time.Hour), "2.25"},
		{"the change seen from another time zone", change.In(time.FixedZone("UTC-8", -8*3600)), "2.25"},
		{"in the gap after a closed period", time.Date(2026, 5, 15, 0, 0, 0, 0, time.UTC), ""},
		{"in the open-ended last period", time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), "1.5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, ok := b.Rate("acme-1", tc.at, u.InputTokens)
			if tc.want == "" {
				if ok {
					t.Fatalf("got a rate from %s, want none", r.EffectiveFrom())
				}
				return
			}
			if !ok {
				t.Fatal("no rate, want one")
			}
			if got := r.Cost(u); got.String() != tc.want {
				t.Errorf("cost %s, want %s", got, tc.want)
			}
		})
	}
}

func TestRatePointerIsStable(t *testing.T) {
	b := Default()
	a := mustRate(t, b, "claude-sonnet-4.6", jan2026, 10)
	for _, name := range []string{"claude-sonnet-4-6", "anthropic/claude-sonnet-4.6", "Claude-Sonnet-4.6", "bedrock/us.anthropic.claude-sonnet-4-6-v1:0"} {
		if r := mustRate(t, b, name, jan2026.Add(time.Hour), 5000); r != a {
			t.Errorf("%q: a different *Rate for the same entry, period and tier", name)
		}
	}
	if r := mustRate(t, b, "claude-sonnet-4.6", jan2026, 300000); r == a {
		t.Error("the long-context tier must be a different *Rate")
	}
}

func TestCostIsLinear(t *testing.T) {
	r := mustRate(t, Default(), "claude-sonnet-4.6", jan2026, 0)
	a := Usage{InputTokens: 1234, OutputTokens: 567, CacheReadInputTokens: 1000, ReasoningTokens: 100}
	b := Usage{InputTokens: 999, OutputTokens: 1, CacheCreationInputTokens: 500}
	ab, err := a.Add(b)
	if err != nil {
		t.Fatal(err)
	}
	if sum, whole := r.Cost(a).Add(r.Cost(b)), r.Cost(ab); !sum.Equal(whole) {
		t.Errorf("Cost(a)+Cost(b) = %s, Cost(a+b) = %s", sum, whole)
	}
}

func TestCostIntegerAndDecimalPathsAgree(t *testing.T) {
	r := mustRate(t, Default(), "claude-sonnet-4.6", jan2026, 0)
	for _, u := range []Usage{
		{InputTokens: 4000, OutputTokens: 800, CacheReadInputTokens: 1000, CacheCreationInputTokens: 7, ReasoningTokens: 9},
		{InputTokens: math.MaxInt64 / 2, OutputTokens: math.MaxInt64 / 3}, // overflows int64
	} {
		fast := r.Cost(u)
		slow := r.slowCost([5]int64{
			u.InputTokens - u.CacheReadInputTokens - u.CacheCreationInputTokens,
			u.CacheReadInputTokens, u.CacheCreationInputTokens,
			u.OutputTokens - u.ReasoningTokens, u.ReasoningTokens,
		})
		if !fast.Equal(slow) {
			t.Errorf("%+v: Cost %s, decimal path %s", u, fast, slow)
		}
	}
	// MaxInt64/2 × $3/1M + MaxInt64/3 × $15/1M, worked out independently
	// with arbitrary-precision decimals.
	huge := Usage{InputTokens: math.MaxInt64 / 2, OutputTokens: math.MaxInt64 / 3}
	want := decimal.RequireFromString("59951918239556.042739")
	if got := r.Cost(huge); !got.Equal(want) {
		t.Errorf("overflowing usage: cost %s, want %s", got, want)
	}
}

func TestUsageValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		u    Usage
		want string
	}{
		{"consistent usage is valid", Usage{InputTokens: 10, OutputTokens: 5, CacheReadInputTokens: 4, CacheCreationInputTokens: 6, ReasoningTokens: 5}, ""},
		{"negative count", Usage{InputTokens: -1}, "input_tokens is -1, must be >= 0"},
		{"cache larger than input", Usage{InputTokens: 10, CacheReadInputTokens: 8, CacheCreationInputTokens: 3}, "more than input_tokens 10"},
		{"reasoning larger than output", Usage{OutputTokens: 1, ReasoningTokens: 2}, "reasoning_tokens is 2, more than output_tokens 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.u.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
