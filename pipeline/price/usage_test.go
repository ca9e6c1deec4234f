package price

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestUsageSumsNeverWrap(t *testing.T) {
	t.Run("two input counts of 5,000,000,000,000,000,000 are refused, not wrapped", func(t *testing.T) {
		u := Usage{InputTokens: 5000000000000000000}
		sum, err := u.Add(u)
		if !errors.Is(err, ErrOverflow) || !strings.Contains(err.Error(), "input_tokens") {
			t.Fatalf("Add: %v, want ErrOverflow naming input_tokens", err)
		}
		if sum != (Usage{}) {
			t.Errorf("Add returned %+v with its error, want the zero Usage", sum)
		}
	})
	t.Run("a sum reaching exactly the largest int64 is kept", func(t *testing.T) {
		a := Usage{InputTokens: math.MaxInt64 - 7, OutputTokens: 1, CacheReadInputTokens: 2, CacheCreationInputTokens: 3, ReasoningTokens: 4}
		b := Usage{InputTokens: 7, OutputTokens: 10, CacheReadInputTokens: 20, CacheCreationInputTokens: 30, ReasoningTokens: 40}
		sum, err := a.Add(b)
		want := Usage{InputTokens: math.MaxInt64, OutputTokens: 11, CacheReadInputTokens: 22, CacheCreationInputTokens: 33, ReasoningTokens: 44}
		if err != nil || sum != want {
			t.Errorf("Add = %+v, %v; want %+v", sum, err, want)
		}
	})
	t.Run("each field is checked on its own", func(t *testing.T) {
		for _, c := range []struct {
			name string
			u    Usage
		}{
			{"output_tokens", Usage{OutputTokens: math.MaxInt64}},
			{"cache_read_input_tokens", Usage{CacheReadInputTokens: math.MaxInt64}},
			{"cache_creation_input_tokens", Usage{CacheCreationInputTokens: math.MaxInt64}},
			{"reasoning_tokens", Usage{ReasoningTokens: math.MaxInt64}},
		} {
			if _, err := c.u.Add(Usage{InputTokens: 1, OutputTokens: 1, CacheReadInputTokens: 1, CacheCreationInputTokens: 1, ReasoningTokens: 1}); !errors.Is(err, ErrOverflow) || !strings.Contains(err.Error(), c.name) {
				t.Errorf("%s: %v, want ErrOverflow naming it", c.name, err)
			}
		}
	})
	t.Run("a total of two largest int64 counts is refused, not -2", func(t *testing.T) {
		n, err := Usage{InputTokens: math.MaxInt64, OutputTokens: math.MaxInt64}.Total()
		if !errors.Is(err, ErrOverflow) || n != 0 {
			t.Errorf("Total = %d, %v; want 0 and ErrOverflow", n, err)
		}
	})
	t.Run("a total in range is input plus output", func(t *testing.T) {
		n, err := Usage{InputTokens: math.MaxInt64 - 5, OutputTokens: 5, CacheReadInputTokens: 9, ReasoningTokens: 2}.Total()
		if err != nil || n != math.MaxInt64 {
			t.Errorf("Total = %d, %v; want %d", n, err, int64(math.MaxInt64))
		}
	})
}

func TestValidateDoesNotWrapCacheTokens(t *testing.T) {
	// cache_read + cache_creation wraps to -2, which once compared as less
	// than input_tokens and let Cost price -9223372036854775807 input tokens.
	u := Usage{InputTokens: math.MaxInt64, CacheReadInputTokens: math.MaxInt64, CacheCreationInputTokens: math.MaxInt64}
	if err := u.Validate(); !errors.Is(err, ErrInvalidUsage) {
		t.Errorf("Validate = %v, want ErrInvalidUsage", err)
	}
	ok := Usage{InputTokens: math.MaxInt64, CacheReadInputTokens: math.MaxInt64 - 1, CacheCreationInputTokens: 1}
	if err := ok.Validate(); err != nil {
		t.Errorf("cache tokens summing to exactly input_tokens: %v", err)
	}
}

func TestMaxAWUsPerWorkcycleKeepsCreditsInRange(t *testing.T) {
	t.Run("the default plan's 30 credits per voice action allow 307,445,734,561,825,860 AWUs", func(t *testing.T) {
		if got := Default().MaxAWUsPerWorkcycle(); got != 307445734561825860 {
			t.Errorf("MaxAWUsPerWorkcycle = %d", got)
		}
	})
	t.Run("a plan of 2^62 credits per action allows one AWU", func(t *testing.T) {
		yaml := bytes.Replace(DefaultYAML(), []byte("action_credits: 20"), []byte("action_credits: 4611686018427387904"), 1)
		b, err := Parse(yaml)
		if err != nil {
			t.Fatal(err)
		}
		if got := b.MaxAWUsPerWorkcycle(); got != 1 {
			t.Errorf("MaxAWUsPerWorkcycle = %d, want 1", got)
		}
	})
	t.Run("a book whose plans charge no credits does not limit AWUs", func(t *testing.T) {
		yaml := DefaultYAML()
		for _, key := range []string{"action_credits: 20", "voice_action_credits: 30"} {
			yaml = bytes.Replace(yaml, []byte(key), []byte(strings.Split(key, ":")[0]+": 0"), 1)
		}
		b, err := Parse(yaml)
		if err != nil {
			t.Fatal(err)
		}
		if got := b.MaxAWUsPerWorkcycle(); got != math.MaxInt64 {
			t.Errorf("MaxAWUsPerWorkcycle = %d, want %d", got, int64(math.MaxInt64))
		}
	})
}
