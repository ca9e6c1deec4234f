package source

import (
	"io"
	"math"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/awumeter/awumeter/internal/metrics"
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/event"
)

// An accepted token_usage event of a model without a price, with the
// largest counts, is counted as unpriced without a panic: the int64 sum of
// its counts wraps to -2, and a Prometheus counter panics on a negative
// Add, which crash-looped the service on that record.
func TestUnpricedTokensOfTheLargestCountsDoNotPanic(t *testing.T) {
	m := metrics.New("test")
	cfg := DefaultConfig()
	tc := DefaultTopicConfig()
	tc.Name = "telemetry"
	cfg.Topics = []TopicConfig{tc}
	cfg.Brokers = []string{"127.0.0.1:1"} // never dialled
	s, err := New(cfg, Settings{Sink: newLedgerSink(), Engine: engine.DefaultConfig(), Observer: m.Observer()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.cl.Close()
	ev := event.Event{Type: event.TypeTokenUsage, TenantID: "t", WorkcycleID: "w", EventID: "e", AWUID: "u", Attempt: 1,
		Model: "no-such-model", Time: time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC),
		InputTokens: math.MaxInt64, OutputTokens: math.MaxInt64}
	s.countUnpriced(&ev)
	s.countUnpriced(&ev)

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	// 4 × (2^63 − 1) as a float64 is 2^65.
	if want := "awumeter_unpriced_tokens_total 3.6893488147419103e+19\n"; !strings.Contains(string(body), want) {
		t.Errorf("/metrics lacks %q", want)
	}
}
