// Package grafana_test runs every panel query of the Grafana dashboard
// against the real ClickHouse server, on a day of generated telemetry
// metered by the engine, with the data source's macros expanded as the
// grafana-clickhouse-datasource plugin expands them.
package grafana_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/internal/gen"
	"github.com/awumeter/awumeter/internal/testenv"
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/guard"
	"github.com/awumeter/awumeter/pipeline/migrate"
	"github.com/awumeter/awumeter/pipeline/sink"
)

type dashboard struct {
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query string `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID      int    `json:"id"`
	Title   string `json:"title"`
	Type    string `json:"type"`
	Targets []struct {
		QueryType string `json:"queryType"`
		RawSQL    string `json:"rawSql"`
	} `json:"targets"`
}

func load(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile("awumeter.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("awumeter.json: %v", err)
	}
	return d
}

var (
	dateFilter = regexp.MustCompile(`\$__dateFilter\((\w+)\)`)
	timeFilter = regexp.MustCompile(`\$__timeFilter\((\w+)\)`)
)

// expand replaces the plugin's macros and the dashboard's variables, as
// Grafana does for a time range of from..to, the given tenants and
// database.
func expand(sql, db string, tenants []string, from, to time.Time) string {
	sql = dateFilter.ReplaceAllString(sql, fmt.Sprintf("$1 >= toDate('%s') AND $1 <= toDate('%s')", from.Format(time.DateOnly), to.Format(time.DateOnly)))
	sql = timeFilter.ReplaceAllString(sql, fmt.Sprintf("$1 >= toDateTime(%d) AND $1 <= toDateTime(%d)", from.Unix(), to.Unix()))
	quoted := make([]string, len(tenants))
	for i, t := range tenants {
		quoted[i] = "'" + strings.ReplaceAll(t, "'", `\'`) + "'"
	}
	sql = strings.ReplaceAll(sql, "${tenant:singlequote}", strings.Join(quoted, ","))
	return strings.ReplaceAll(sql, "${database}", db)
}

// Every query names only the dashboard's variables and macros the test
// expands, and every panel has one SQL target.
func TestDashboardIsWellFormed(t *testing.T) {
	d := load(t)
	if len(d.Panels) < 9 {
		t.Fatalf("%d panels", len(d.Panels))
	}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d twice", p.ID)
		}
		ids[p.ID] = true
		if len(p.Targets) != 1 || p.Targets[0].RawSQL == "" {
			t.Errorf("panel %q: want one SQL target", p.Title)
			continue
		}
		left := expand(p.Targets[0].RawSQL, "db", []string{"t"}, time.Unix(0, 0), time.Unix(1, 0))
		if strings.Contains(left, "$") {
			t.Errorf("panel %q: a macro or variable the test does not know: %s", p.Title, left)
		}
	}
}

// Each panel's query runs on ClickHouse 18.16 against metered data and
// returns rows, time series with their time column first.
func TestEveryPanelQueryRunsOnClickHouse(t *testing.T) {
	ch := testenv.NewClickHouse(t)
	ctx := testenv.Context(t, 2*time.Minute)
	if _, err := migrate.Up(ctx, ch.Conn, migrate.Options{Database: ch.Database}); err != nil {
		t.Fatal(err)
	}
	schema, err := migrate.CheckSchema(ctx, ch.Conn, ch.Database)
	if err != nil {
		t.Fatal(err)
	}
	w := sink.NewWriter(ch.Conn, schema, sink.DefaultConfig(), sink.Settings{})

	// A day of generated telemetry through the engine, one batch.
	cfg := gen.DefaultConfig()
	cfg.Seed, cfg.Workcycles, cfg.MalformedRate, cfg.Span = 3, 200, 0, 6*time.Hour
	s, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.DefaultConfig(), engine.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	evs := s.Events()
	var b sink.Batch
	for i := range evs {
		evs[i].Source.Offset = int64(i)
		if o, err := e.Apply(&evs[i]); err != nil {
			t.Fatal(err)
		} else if o.Accepted() {
			b.Events = append(b.Events, evs[i])
		}
	}
	rows := e.Flush()
	b.Workcycles, b.AWUs, b.AWUModels = rows.Workcycles, rows.AWUs, rows.AWUModels
	// One workcycle still open, and one alert, for the panels that show them.
	open := rows.Workcycles[0]
	open.WorkcycleID, open.State, open.Version = "runaway-open", engine.StateOpen, 1
	b.Workcycles = append(b.Workcycles, open)
	b.Alerts = []guard.Alert{{ID: guard.AlertID("runaway", guard.OnWorkcycle, open.TenantID, open.WorkcycleID, "", time.Time{}),
		Rule: "runaway", On: guard.OnWorkcycle, Metric: guard.MetricAttempts, Threshold: decimal.NewFromInt(50),
		Value: decimal.NewFromInt(61), TenantID: open.TenantID, WorkcycleID: open.WorkcycleID, EventTime: open.EndedAt}}
	if err := w.Write(ctx, b); err != nil {
		t.Fatal(err)
	}

	tenants := map[string]bool{}
	for _, r := range rows.Workcycles {
		tenants[r.TenantID] = true
	}
	var all []string
	for tn := range tenants {
		all = append(all, tn)
	}
	from, to := rows.Workcycles[0].StartedAt.Add(-48*time.Hour), rows.Workcycles[0].StartedAt.Add(48*time.Hour)

	d := load(t)
	for _, v := range d.Templating.List {
		if v.Type == "query" {
			t.Run("variable "+v.Name, func(t *testing.T) { runQuery(ctx, t, ch, expand(v.Query, ch.Database, all, from, to), "") })
		}
	}
	for _, p := range d.Panels {
		t.Run(p.Title, func(t *testing.T) {
			first := ""
			if p.Targets[0].QueryType == "timeseries" {
				first = "time"
			}
			runQuery(ctx, t, ch, expand(p.Targets[0].RawSQL, ch.Database, all, from, to), first)
		})
	}
}

// runQuery runs sql and requires rows, and a first column named first when
// first is set.
func runQuery(ctx context.Context, t *testing.T, ch *testenv.ClickHouse, sql, first string) {
	t.Helper()
	rows, err := ch.Conn.Query(ctx, sql)
	if err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
	defer rows.Close()
	cols := rows.Columns()
	if first != "" && (len(cols) == 0 || cols[0] != first) {
		t.Errorf("columns %v: a time series needs %q first", cols, first)
	}
	n := 0
	for rows.Next() {
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Errorf("no rows:\n%s", sql)
	}
}
