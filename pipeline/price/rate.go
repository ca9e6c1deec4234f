package price

import (
	"math"
	"time"

	"github.com/shopspring/decimal"
)

// Prices are the five token prices of a rate, in USD per one million tokens,
// with the defaults already applied.
type Prices struct {
	Input         decimal.Decimal `json:"input"`
	Output        decimal.Decimal `json:"output"`
	CacheRead     decimal.Decimal `json:"cache_read"`
	CacheCreation decimal.Decimal `json:"cache_creation"`
	Reasoning     decimal.Decimal `json:"reasoning"`
}

// Rate is the price in force for one model entry, one price period and one
// tier. Rates are created when a book is loaded and never change, so a *Rate
// may be used as a map key to aggregate usage before pricing it once.
type Rate struct {
	modelID       string
	effectiveFrom time.Time
	effectiveTo   time.Time // zero: open-ended
	longContext   bool
	above         int64 // the tier's threshold in input tokens; 0 for the base tier
	prices        Prices

	// perToken holds the per-token prices (per-million shifted by -6) in the
	// order of the usage parts in Cost.
	perToken [5]decimal.Decimal
	// coef and exp are the same prices as integers over one common exponent,
	// perToken[i] == coef[i] * 10^exp, when they fit in int64 (fast is true).
	// Cost then needs integer arithmetic only.
	coef [5]int64
	exp  int32
	fast bool
}

// newRate builds the rate of one tier: the base tier when long is false,
// else the long-context tier applying above above input tokens.
func newRate(modelID string, from, to time.Time, long bool, above int64, p Prices) *Rate {
	r := &Rate{modelID: modelID, effectiveFrom: from, effectiveTo: to, longContext: long, above: above, prices: p}
	parts := [5]decimal.Decimal{p.Input, p.CacheRead, p.CacheCreation, p.Output, p.Reasoning}
	minExp := int32(0)
	for i, d := range parts {
		r.perToken[i] = d.Shift(-6)
		if e := r.perToken[i].Exponent(); e < minExp {
			minExp = e
		}
	}
	r.exp, r.fast = minExp, true
	for i, d := range r.perToken {
		c := d.Coefficient() // d == c * 10^d.Exponent()
		for e := d.Exponent(); e > minExp; e-- {
			c.Mul(c, ten)
		}
		if !c.IsInt64() {
			r.fast = false
			break
		}
		r.coef[i] = c.Int64()
	}
	return r
}

// ModelID is the canonical id of the matched model entry.
func (r *Rate) ModelID() string { return r.modelID }

// Prices returns the prices of the rate in USD per one million tokens.
func (r *Rate) Prices() Prices { return r.prices }

// LongContext reports whether the rate is a long-context tier.
func (r *Rate) LongContext() bool { return r.longContext }

// AboveInputTokens is the threshold of a long-context tier, in input
// tokens: the tier applies to requests with more input tokens than this
// (and no higher tier of the same price applies). ok is false for the base
// tier.
func (r *Rate) AboveInputTokens() (threshold int64, ok bool) { return r.above, r.longContext }

// EffectiveFrom is the first instant of the price period of the rate.
func (r *Rate) EffectiveFrom() time.Time { return r.effectiveFrom }

// EffectiveTo is the end (exclusive) of the price period of the rate; the
// zero time means the period is open-ended.
func (r *Rate) EffectiveTo() time.Time { return r.effectiveTo }

// Cost is the token cost of u at r, in USD, exact (never rounded):
//
//	(input − cache_read − cache_creation) × input price
//	+ cache_read × cache_read price + cache_creation × cache_creation price
//	+ (output − reasoning) × output price + reasoning × reasoning price
//
// It is the only implementation of the formula. Cost is linear in u, so the
// cost of a sum of usages is the sum of their costs.
func (r *Rate) Cost(u Usage) decimal.Decimal {
	tokens := [5]int64{
		u.InputTokens - u.CacheReadInputTokens - u.CacheCreationInputTokens,
		u.CacheReadInputTokens,
		u.CacheCreationInputTokens,
		u.OutputTokens - u.ReasoningTokens,
		u.ReasoningTokens,
	}
	if r.fast {
		if sum, ok := dot(tokens, r.coef); ok {
			return decimal.New(sum, r.exp)
		}
	}
	return r.slowCost(tokens)
}

// slowCost is Cost in arbitrary precision, used when the integer form would
// overflow.
func (r *Rate) slowCost(tokens [5]int64) decimal.Decimal {
	sum := decimal.Zero
	for i, n := range tokens {
		sum = sum.Add(decimal.NewFromInt(n).Mul(r.perToken[i]))
	}
	return sum
}

// dot is the sum of a[i]*b[i], with ok=false on int64 overflow.
func dot(a, b [5]int64) (sum int64, ok bool) {
	for i := range a {
		p, ok := mul64(a[i], b[i])
		if !ok {
			return 0, false
		}
		s := sum + p
		if (s > sum) != (p > 0) {
			return 0, false
		}
		sum = s
	}
	return sum, true
}

func mul64(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	p := a * b
	if (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) || p/b != a {
		return 0, false
	}
	return p, true
}
