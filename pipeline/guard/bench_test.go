package guard

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/pipeline/engine"
)

// benchRows is one emitted batch: 1000 workcycle rows and 1000 AWU rows,
// with costs at three exponents as the engine's sums produce them.
func benchRows(prefix string) ([]engine.WorkcycleRow, []engine.AWURow) {
	ws := make([]engine.WorkcycleRow, 1000)
	as := make([]engine.AWURow, 1000)
	for i := range ws {
		id := fmt.Sprintf("%s-wc-%06d", prefix, i)
		ws[i] = engine.WorkcycleRow{
			TenantID: "tenant-" + fmt.Sprint(i%3), AgentID: "support-bot", WorkcycleID: id,
			EndedAt: endedAt, AWUs: int64(i % 20), Attempts: int64(i % 30), Retries: int64(1 + i%10),
			TokenCost: decimal.New(int64(1000+i), -4-int32(i%3)), ListCost: decimal.New(int64(i), -2),
		}
		as[i] = engine.AWURow{
			TenantID: ws[i].TenantID, AgentID: "support-bot", WorkcycleID: id, AWUID: "awu-1",
			Attempts: int64(1 + i%4), LastSeen: endedAt, TokenCost: decimal.New(int64(i), -6),
		}
	}
	return ws, as
}

// benchRules are three rules: two on workcycles (an integer and a
// decimal metric) and one on AWUs. quiet rules are never crossed by
// benchRows, loud ones by every row.
func benchRules(loud bool) []Rule {
	if loud {
		return []Rule{
			{Name: "retries", On: OnWorkcycle, Metric: MetricRetries, Above: decimal.Zero},
			{Name: "cost", On: OnWorkcycle, Metric: MetricTokenCost, Above: decimal.RequireFromString("0.00001")},
			{Name: "attempts", On: OnAWU, Metric: MetricAttempts, Above: decimal.Zero},
		}
	}
	return []Rule{
		{Name: "retries", On: OnWorkcycle, Metric: MetricRetries, Above: decimal.New(50, 0)},
		{Name: "cost", On: OnWorkcycle, Metric: MetricTokenCost, Above: decimal.RequireFromString("2.5")},
		{Name: "attempts", On: OnAWU, Metric: MetricAttempts, Above: decimal.New(8, 0)},
	}
}

func benchmarkRows(b *testing.B, e *Evaluator, ws []engine.WorkcycleRow, as []engine.AWURow, wantAlerts bool) {
	b.Helper()
	rows := len(ws) + len(as)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if got := e.Rows(ws, as); (got != nil) != wantAlerts {
			b.Fatalf("%d alerts", len(got))
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N*rows), "allocs/row")
}

func BenchmarkRows(b *testing.B) {
	ws, as := benchRows("b")
	b.Run("no_rules", func(b *testing.B) {
		benchmarkRows(b, newEvaluator(b, 0), ws, as, false)
	})
	b.Run("3_rules_no_crossing", func(b *testing.B) {
		benchmarkRows(b, newEvaluator(b, 0, benchRules(false)...), ws, as, false)
	})
	// Every row crosses every rule it applies to, but the alerts were
	// sent by the first batch: the steady state of re-emitted rows.
	b.Run("3_rules_crossing_remembered", func(b *testing.B) {
		e := newEvaluator(b, 0, benchRules(true)...)
		if got := e.Rows(ws, as); len(got) != 3000 {
			b.Fatalf("first batch: %d alerts, want 3000", len(got))
		}
		benchmarkRows(b, e, ws, as, false)
	})
	// Every row crosses every rule for the first time (Remember 1 forgets
	// each id at once): 3000 new alerts per batch.
	b.Run("3_rules_crossing_new", func(b *testing.B) {
		benchmarkRows(b, newEvaluator(b, 1, benchRules(true)...), ws, as, true)
	})
}
