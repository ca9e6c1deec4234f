package price

import (
	"errors"
	"fmt"
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

// Add returns the sum of u and v.
func (u Usage) Add(v Usage) Usage {
	return Usage{
		InputTokens:              u.InputTokens + v.InputTokens,
		OutputTokens:             u.OutputTokens + v.OutputTokens,
		CacheReadInputTokens:     u.CacheReadInputTokens + v.CacheReadInputTokens,
		CacheCreationInputTokens: u.CacheCreationInputTokens + v.CacheCreationInputTokens,
		ReasoningTokens:          u.ReasoningTokens + v.ReasoningTokens,
	}
}

// Total is InputTokens + OutputTokens, the count reported as unpriced tokens
// when no rate applies.
func (u Usage) Total() int64 { return u.InputTokens + u.OutputTokens }

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
	if c := u.CacheReadInputTokens + u.CacheCreationInputTokens; c > u.InputTokens {
		errs = append(errs, fmt.Errorf("%w: cache_read_input_tokens + cache_creation_input_tokens is %d, more than input_tokens %d",
			ErrInvalidUsage, c, u.InputTokens))
	}
	if u.ReasoningTokens > u.OutputTokens {
		errs = append(errs, fmt.Errorf("%w: reasoning_tokens is %d, more than output_tokens %d",
			ErrInvalidUsage, u.ReasoningTokens, u.OutputTokens))
	}
	return errors.Join(errs...)
}
