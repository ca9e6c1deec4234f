package metrics

import (
	"math"
	"testing"
	"time"
)

func TestAddCountsNeverPanicsAndNeverWraps(t *testing.T) {
	t.Run("two counts of the largest int64 add up to their true sum", func(t *testing.T) {
		m := New("test")
		AddCounts(m.UnpricedTokens, math.MaxInt64, math.MaxInt64)
		// 2 × (2^63 − 1) as a float64 is 2^64.
		if got := value(t, m, "awumeter_unpriced_tokens_total "); got != "1.8446744073709552e+19" {
			t.Errorf("unpriced tokens %s, want 1.8446744073709552e+19", got)
		}
	})
	t.Run("a negative count adds nothing", func(t *testing.T) {
		m := New("test")
		AddCounts(m.UnpricedTokens, 5, -7, 2)
		if got := value(t, m, "awumeter_unpriced_tokens_total "); got != "7" {
			t.Errorf("unpriced tokens %s, want 7", got)
		}
	})
	t.Run("a flush of a negative row count adds nothing", func(t *testing.T) {
		m := New("test")
		m.ObserveFlush("awus", -3, time.Millisecond, nil)
		m.ObserveFlush("awus", 4, time.Millisecond, nil)
		if got := value(t, m, `awumeter_flushed_rows_total{table="awus"} `); got != "4" {
			t.Errorf("flushed rows %s, want 4", got)
		}
	})
}
