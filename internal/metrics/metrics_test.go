package metrics

import (
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHandlerExposesTheServiceSeries(t *testing.T) {
	m := New("test")
	m.Events.WithLabelValues("json", "token_usage").Add(3)
	m.ObserveFlush("workcycles", 10, 20*time.Millisecond, nil)
	m.ObserveFlush("awus", 0, 0, errors.New("connection refused"))
	m.SetPartition("telemetry", 2, 41, 7)
	m.SetWorkcycles("telemetry", 2, 5, 9, 4096)

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`awumeter_events_total{format="json",type="token_usage"} 3`,
		`awumeter_flushed_rows_total{table="workcycles"} 10`,
		`awumeter_flush_errors_total{table="awus"} 1`,
		`awumeter_committed_offset{partition="2",topic="telemetry"} 41`,
		`awumeter_consumer_lag{partition="2",topic="telemetry"} 7`,
		`awumeter_open_workcycles{partition="2",topic="telemetry"} 5`,
		`awumeter_engine_state_bytes{partition="2",topic="telemetry"} 4096`,
		`awumeter_engine_budget_evictions_total 0`,
		`awumeter_build_info{version="test"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestForgetPartitionRemovesItsSeries(t *testing.T) {
	m := New("test")
	m.SetPartition("telemetry", 1, 10, 0)
	m.ForgetPartition("telemetry", 1)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if strings.Contains(rec.Body.String(), `awumeter_committed_offset{`) {
		t.Fatal("the forgotten partition's offset is still exported")
	}
}

func TestTwoInstancesDoNotCollide(t *testing.T) {
	New("a")
	New("b") // would panic with a shared registry
}
