package price

import (
	"errors"
	"fmt"
	"math"
)

// Usage is the token usage of one request, or the sum of several priced at
// the same [Rate]. Cache tokens are parts of InputTokens and reasoning tokens
// are part of OutputTokens, as in the event contract.
type Usage struct {
	InputTokens              int64 `json:"input_tokens"`
	OutputTokens             int64 `json:"output_tokens"`
	CacheReadInputTokens     int64 `json:"cache_read_input_tokens"`
	CacheCreationInputTokens int64 `json:"cache_creation_input_tokens"`
	ReasoningTokens          int64 `json:"reasoning_tokens"`
}

// ErrOverflow is wrapped by the errors of [Usage.Add] and [Usage.Total]: a
// token count that would leave the int64 range, beyond
// 9,223,372,036,854,775,807 tokens (or below its negative).
var ErrOverflow = errors.New("token count out of the int64 range")

// Add returns the sum of u and v, field by field. It never wraps: when any
// field of the sum would leave the int64 range it returns the zero Usage
// and an error wrapping [ErrOverflow] that names the field.
func (u Usage) Add(v Usage) (Usage, error) {
	sum := Usage{
		InputTokens:              u.InputTokens + v.InputTokens,
		OutputTokens:             u.OutputTokens + v.OutputTokens,
		CacheReadInputTokens:     u.CacheReadInputTokens + v.CacheReadInputTokens,
		CacheCreationInputTokens: u.CacheCreationInputTokens + v.CacheCreationInputTokens,
		ReasoningTokens:          u.ReasoningTokens + v.ReasoningTokens,
	}
	// A two's-complement sum wrapped exactly when it has a sign neither
	// operand has; one test covers all five fields.
	if wrapped(u.InputTokens, v.InputTokens, sum.InputTokens)|
		wrapped(u.OutputTokens, v.OutputTokens, sum.OutputTokens)|
		wrapped(u.CacheReadInputTokens, v.CacheReadInputTokens, sum.CacheReadInputTokens)|
		wrapped(u.CacheCreationInputTokens, v.CacheCreationInputTokens, sum.CacheCreationInputTokens)|
		wrapped(u.ReasoningTokens, v.ReasoningTokens, sum.ReasoningTokens) < 0 {
		return Usage{}, addError(u, v)
	}
	return sum, nil
}

// wrapped is negative when s, computed as a + b, wrapped around.
func wrapped(a, b, s int64) int64 { return (a ^ s) & (b ^ s) }

// addError names the first field whose sum leaves the int64 range.
func addError(u, v Usage) error {
	a, b := u.counts(), v.counts()
	names := [5]string{"input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens", "reasoning_tokens"}
	for i := range a {
		if _, ok := addInt64(a[i], b[i]); !ok {
			return fmt.Errorf("%w: the sum of %s, %d + %d", ErrOverflow, names[i], a[i], b[i])
		}
	}
	return ErrOverflow
}

// counts are the five counts in the order of the struct's fields.
func (u Usage) counts() [5]int64 {
	return [5]int64{u.InputTokens, u.OutputTokens, u.CacheReadInputTokens, u.CacheCreationInputTokens, u.ReasoningTokens}
}

// Total is InputTokens + OutputTokens, the count reported as unpriced tokens
// when no rate applies. It never wraps: when the sum would leave the int64
// range it returns 0 and an error wrapping [ErrOverflow].
func (u Usage) Total() (int64, error) {
	t := u.InputTokens + u.OutputTokens
	if wrapped(u.InputTokens, u.OutputTokens, t) < 0 {
		return 0, totalError(u)
	}
	return t, nil
}

// totalError describes a Total that leaves the int64 range.
func totalError(u Usage) error {
	return fmt.Errorf("%w: input_tokens %d + output_tokens %d", ErrOverflow, u.InputTokens, u.OutputTokens)
}

// addInt64 is a + b, with ok false when the sum leaves the int64 range.
func addInt64(a, b int64) (sum int64, ok bool) {
	if (b > 0 && a > math.MaxInt64-b) || (b < 0 && a < math.MinInt64-b) {
		return 0, false
	}
	return a + b, true
}

// ErrInvalidUsage is wrapped by the errors of [Usage.Validate].
var ErrInvalidUsage = errors.New("invalid token usage")

// Validate reports usage that breaks the event contract: a negative count,
// cache tokens exceeding input tokens, or reasoning tokens exceeding output
// tokens. [Rate.Cost] applies the formula as written to any usage, so that it
// stays linear; callers validate usage where it enters the pipeline.
func (u Usage) Validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		n    int64
	}{
		{"input_tokens", u.InputTokens},
		{"output_tokens", u.OutputTokens},
		{"cache_read_input_tokens", u.CacheReadInputTokens},
		{"cache_creation_input_tokens", u.CacheCreationInputTokens},
		{"reasoning_tokens", u.ReasoningTokens},
	} {
		if f.n < 0 {
			errs = append(errs, fmt.Errorf("%w: %s is %d, must be >= 0", ErrInvalidUsage, f.name, f.n))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	// Both cache counts are >= 0 here, so the subtraction cannot wrap where
	// their sum could.
	if u.CacheReadInputTokens > u.InputTokens-u.CacheCreationInputTokens {
		errs = append(errs, fmt.Errorf("%w: cache_read_input_tokens %d + cache_creation_input_tokens %d is more than input_tokens %d",
			ErrInvalidUsage, u.CacheReadInputTokens, u.CacheCreationInputTokens, u.InputTokens))
	}
	if u.ReasoningTokens > u.OutputTokens {
		errs = append(errs, fmt.Errorf("%w: reasoning_tokens is %d, more than output_tokens %d",
			ErrInvalidUsage, u.ReasoningTokens, u.OutputTokens))
	}
	return errors.Join(errs...)
}
