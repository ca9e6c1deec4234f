package metrics

import (
	"io"
	"math"
	"net/http/httptest"
	"strings"
	"testing"
)

// The unpriced-tokens counter takes amounts that data controls: the
// largest int64 token counts must neither wrap it nor make it panic.
func TestUnpricedTokensCounterNeitherWrapsNorPanics(t *testing.T) {
	t.Run("the largest int64 added twice reads 2^64, not 0", func(t *testing.T) {
		m := New("test")
		m.UnpricedTokens.Add(float64(math.MaxInt64))
		m.UnpricedTokens.Add(float64(math.MaxInt64))
		if got := value(t, m, "awumeter_unpriced_tokens_total "); got != "1.8446744073709552e+19" {
			t.Errorf("unpriced tokens %s, want 1.8446744073709552e+19", got)
		}
	})
	t.Run("a negative amount adds nothing and does not panic", func(t *testing.T) {
		m := New("test")
		m.UnpricedTokens.Add(3)
		m.UnpricedTokens.Add(-2) // an int64 sum that wrapped
		m.UnpricedTokens.Inc()
		if got := value(t, m, "awumeter_unpriced_tokens_total "); got != "4" {
			t.Errorf("unpriced tokens %s, want 4", got)
		}
	})
}

// value returns the value of the exposition line starting with prefix.
func value(t *testing.T, m *Metrics, prefix string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("/metrics has no line %q", prefix)
	return ""
}
