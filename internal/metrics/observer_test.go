package metrics_test

import (
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/awumeter/awumeter/internal/metrics"
	"github.com/awumeter/awumeter/pipeline/decode"
	"github.com/awumeter/awumeter/pipeline/rekey"
	"github.com/awumeter/awumeter/pipeline/source"
)

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

// Every call of the stages' observers lands in the series (names and
// labels) the metrics always had, which the dashboard and docs name.
func TestObserverKeepsTheSeries(t *testing.T) {
	m := metrics.New("test")
	var src source.Observer = m.Observer()
	var rk rekey.Observer = m.Observer()

	src.RecordsRead("telemetry", 4)
	src.EventsDecoded("json", "token_usage", 3)
	src.EventOutcomes("accepted", 2)
	src.SpansIgnored(decode.Ignored{NotGenAI: 5, InvokeAgent: 1})
	src.DeadLetters("invalid_json", 1)
	src.DeadLetterFailed()
	src.DeadLetterBuffered(100)
	src.DeadLetterBuffered(-40)
	src.UnpricedTokens(7, 8)
	src.RowsEmitted("awus", 6)
	src.EngineCounts(1, 2, 3)
	src.RestoredWorkcycles(2)
	src.WorkcycleLookups("local", 9)
	src.WorkcycleLookups("ledger", 0) // the series exists at zero
	src.SplitWorkcycles("telemetry", 1)
	src.AlertRaised("cost")
	src.AlertFailed()
	src.Rebalanced("assigned")
	src.PartitionsOwned(3)
	src.OffsetCommitted(nil)
	src.OffsetCommitted(nil)
	src.OffsetCommitted(errors.New("rebalancing"))
	src.PartitionOffsets("telemetry", 2, 41, -5)
	src.PartitionEngine("telemetry", 2, 5, 9, 4096)
	src.PartitionKeys("telemetry", 2, 12)
	rk.EventsRekeyed(10)
	rk.RekeyTransaction("committed")
	rk.RekeyLag("raw", 1, 17)
	rk.RekeyLag("raw", 2, 1)
	rk.RekeyLagForgotten("raw", 2)

	body := scrape(t, m)
	for _, want := range []string{
		`awumeter_records_total{topic="telemetry"} 4`,
		`awumeter_events_total{format="json",type="token_usage"} 3`,
		`awumeter_event_outcomes_total{outcome="accepted"} 2`,
		`awumeter_ignored_spans_total{kind="not_genai"} 5`,
		`awumeter_ignored_spans_total{kind="invoke_agent"} 1`,
		`awumeter_dead_letters_total{reason="invalid_json"} 1`,
		`awumeter_dead_letter_errors_total 1`,
		`awumeter_dead_letter_buffered_bytes 60`,
		`awumeter_unpriced_tokens_total 15`,
		`awumeter_rows_emitted_total{table="awus"} 6`,
		`awumeter_engine_budget_evictions_total 1`,
		`awumeter_engine_emitted_early_total 2`,
		`awumeter_provisional_rows_total 3`,
		`awumeter_restored_workcycles_total 2`,
		`awumeter_workcycle_lookups_total{via="local"} 9`,
		`awumeter_workcycle_lookups_total{via="ledger"} 0`,
		`awumeter_split_workcycles_total{topic="telemetry"} 1`,
		`awumeter_alerts_total{rule="cost"} 1`,
		`awumeter_alert_errors_total 1`,
		`awumeter_rebalances_total{kind="assigned"} 1`,
		`awumeter_assigned_partitions 3`,
		`awumeter_commits_total 2`,
		`awumeter_commit_errors_total 1`,
		`awumeter_committed_offset{partition="2",topic="telemetry"} 41`,
		`awumeter_consumer_lag{partition="2",topic="telemetry"} 0`,
		`awumeter_open_workcycles{partition="2",topic="telemetry"} 5`,
		`awumeter_held_workcycles{partition="2",topic="telemetry"} 9`,
		`awumeter_engine_state_bytes{partition="2",topic="telemetry"} 4096`,
		`awumeter_workcycle_keys{partition="2",topic="telemetry"} 12`,
		`awumeter_rekeyed_events_total 10`,
		`awumeter_rekey_transactions_total{result="committed"} 1`,
		`awumeter_rekey_lag{partition="1",topic="raw"} 17`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, `awumeter_rekey_lag{partition="2"`) {
		t.Error("a forgotten partition's rekey lag is still exported")
	}

	src.PartitionForgotten("telemetry", 2)
	if body := scrape(t, m); strings.Contains(body, `partition="2",topic="telemetry"`) {
		t.Error("a forgotten partition's series are still exported")
	}
}
