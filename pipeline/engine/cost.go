package engine

import (
	"math"

	"github.com/shopspring/decimal"
)

// costSum adds up token costs exactly as repeated addCost calls would, to
// the same value and exponent, but in int64 arithmetic while the numbers fit:
// a decimal.Add allocates, and a workcycle row sums one cost per AWU.
type costSum struct {
	coef int64 // the sum is coef × 10^exp while !big
	exp  int32
	// last is the sum as a decimal when it is exactly the last term taken
	// (a sum of one term), which value returns without allocating.
	last    decimal.Decimal
	hasLast bool
	big     bool            // the sum outgrew int64: it is in dec
	dec     decimal.Decimal // the sum once big
}

// add adds c. Like addCost, a zero sum is replaced by c, exponent included;
// otherwise the sum takes the smaller exponent of the two.
func (s *costSum) add(c decimal.Decimal) {
	if s.big {
		s.dec = addCost(s.dec, c)
		return
	}
	if c.NumDigits() > 18 { // its coefficient may not fit in int64
		s.toBig(c)
		return
	}
	cc, ce := c.CoefficientInt64(), c.Exponent()
	if s.coef == 0 {
		s.coef, s.exp, s.last, s.hasLast = cc, ce, c, true
		return
	}
	e := min(s.exp, ce)
	a, ok1 := scale10(s.coef, s.exp-e)
	b, ok2 := scale10(cc, ce-e)
	sum := a + b
	if !ok1 || !ok2 || (b > 0 && sum < a) || (b < 0 && sum > a) {
		s.toBig(c)
		return
	}
	s.coef, s.exp, s.hasLast = sum, e, false
}

func (s *costSum) toBig(c decimal.Decimal) {
	s.dec, s.big = addCost(s.value(), c), true
}

// value is the sum.
func (s *costSum) value() decimal.Decimal {
	switch {
	case s.big:
		return s.dec
	case s.hasLast:
		return s.last
	case s.coef == 0 && s.exp == 0:
		return decimal.Decimal{}
	}
	return decimal.New(s.coef, s.exp)
}

var pow10 = [...]int64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

// scale10 is v × 10^n (n >= 0), with ok false on overflow.
func scale10(v int64, n int32) (int64, bool) {
	if v == 0 {
		return 0, true
	}
	if n >= int32(len(pow10)) {
		return 0, false
	}
	p := pow10[n]
	if v > math.MaxInt64/p || v < math.MinInt64/p {
		return 0, false
	}
	return v * p, true
}
