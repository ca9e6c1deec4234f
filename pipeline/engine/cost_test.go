package engine

import (
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"
)

// TestCostSumMatchesAddCost checks that costSum gives what a chain of
// addCost gives, exponent included, across zeros, mixed exponents and
// numbers beyond int64.
func TestCostSumMatchesAddCost(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	term := func() decimal.Decimal {
		switch rng.IntN(8) {
		case 0:
			return decimal.New(0, -rng.Int32N(12))
		case 1:
			return decimal.RequireFromString("123456789012345678901234567890").Shift(-rng.Int32N(20))
		case 2:
			return decimal.New(rng.Int64N(1<<62), -rng.Int32N(20))
		}
		return decimal.New(rng.Int64N(1e9), -rng.Int32N(15))
	}
	for range 20000 {
		var s costSum
		var want decimal.Decimal
		for range rng.IntN(6) {
			c := term()
			s.add(c)
			want = addCost(want, c)
		}
		got := s.value()
		if !got.Equal(want) || got.Exponent() != want.Exponent() {
			t.Fatalf("sum %s (exp %d), want %s (exp %d)", got, got.Exponent(), want, want.Exponent())
		}
	}
}
