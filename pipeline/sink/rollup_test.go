package sink

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/internal/testenv"
	"github.com/awumeter/awumeter/pipeline/engine"
)

// The rollups cannot double count: superseded versions, a re-emitted
// workcycle that moves to another month, replayed batches and a replay of an
// older version after a newer one all leave the rollups equal to sums over
// the final rows alone — before and after ClickHouse merges the parts. The
// same data summed without FINAL is wrong, so the check has teeth.
func TestRollupsAbsorbReEmitsAndReplays(t *testing.T) {
	conn, schema := migrated(t)
	w := NewWriter(conn, schema, testConfig(), Settings{})
	final, stale := knownFinal(), knownStale()

	write(t, w, stale, final)
	checkRollups(t, conn, schema.Database, final, "after stale then final versions")

	write(t, w, final, stale, final, stale) // a crash replays both, out of order
	checkRollups(t, conn, schema.Database, final, "after replays")

	naive := scalar(t, conn, "SELECT toString(sum(token_cost)) FROM "+schema.Database+".awus")
	if got, want := decimal.RequireFromString(naive), sumCost(final.AWUs); got.Equal(want) {
		t.Fatalf("a sum without FINAL gave the right total %s; the test data has no duplicates to catch", got)
	}

	// A late event re-emits u1 with a higher version and more tokens.
	u1 := final.AWUs[0]
	u1.Version, u1.InputTokens, u1.TokenCost, u1.Attempts = 3, 900, dec("0.0009"), 3
	m1 := final.AWUModels[0]
	m1.Version, m1.InputTokens, m1.TokenCost = 3, 900, dec("0.0009")
	write(t, w, Batch{AWUs: []engine.AWURow{u1}, AWUModels: []AWUModelRow{m1}})
	final.AWUs[0], final.AWUModels[0] = u1, m1
	write(t, w, stale) // and an old batch is replayed once more
	checkRollups(t, conn, schema.Database, final, "after a re-emit with a higher version")

	for _, table := range []string{"awus", "awu_models", "workcycles", "events"} {
		if err := conn.Exec(testenv.Context(t, time.Minute), "OPTIMIZE TABLE "+schema.Database+"."+table+" FINAL"); err != nil {
			t.Fatal(err)
		}
	}
	checkRollups(t, conn, schema.Database, final, "after OPTIMIZE FINAL")
}

func sumCost(rows []engine.AWURow) decimal.Decimal {
	var s decimal.Decimal
	for _, r := range rows {
		s = s.Add(r.TokenCost)
	}
	return s
}

func scalar(t *testing.T, conn driver.Conn, sql string) string {
	t.Helper()
	var s string
	if err := conn.QueryRow(testenv.Context(t, time.Minute), sql).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// checkRollups compares every rollup view with sums computed here, in Go,
// from the final rows.
func checkRollups(t *testing.T, conn driver.Conn, db string, final Batch, when string) {
	t.Helper()
	type usage struct {
		awus, succeeded, actions, voice, attempts, retries, input, credits int64
		cost, list                                                         decimal.Decimal
	}
	for _, period := range []struct {
		view string
		key  func(time.Time) string
	}{
		{"usage_daily", func(t time.Time) string { return t.Format("2006-01-02") }},
		{"usage_monthly", func(t time.Time) string { return t.Format("2006-01") + "-01" }},
	} {
		sums := map[string]*usage{}
		for _, a := range final.AWUs {
			k := strings.Join([]string{period.key(a.FirstSeen), a.TenantID, a.AgentID, string(a.Kind), a.Tool, string(a.Channel)}, "\t")
			u := sums[k]
			if u == nil {
				u = &usage{}
				sums[k] = u
			}
			u.awus++
			if a.Status == "succeeded" {
				u.succeeded++
				if a.Kind == "tool" {
					u.actions++
					if a.Channel == "voice" {
						u.voice++
					}
				}
			}
			u.attempts += a.Attempts
			u.retries += a.Attempts - 1
			u.input += a.InputTokens
			u.credits += a.Credits
			u.cost = u.cost.Add(a.TokenCost)
			u.list = u.list.Add(a.ListCost)
		}
		var want []string
		for k, u := range sums {
			want = append(want, fmt.Sprintf("%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s", k, u.awus, u.succeeded, u.actions, u.voice,
				u.attempts, u.retries, u.input, u.credits, u.cost, u.list))
		}
		sort.Strings(want)
		got := tsvLines(t, conn, fmt.Sprintf(`SELECT toString(%s), tenant_id, agent_id, kind, tool, channel, awus, awus_succeeded, actions,
			voice_actions, attempts, retries, input_tokens, credits, token_cost, list_cost FROM %s.%s`, periodCol(period.view), db, period.view))
		if g, w := strings.Join(got, "\n"), strings.Join(want, "\n"); g != w {
			t.Errorf("%s: %s is\n%s\nwant\n%s", when, period.view, g, w)
		}
	}
	type modelUsage struct {
		awus, input, output int64
		cost                decimal.Decimal
	}
	sums := map[string]*modelUsage{}
	for _, m := range final.AWUModels {
		k := strings.Join([]string{m.FirstSeen.Format("2006-01-02"), m.TenantID, m.AgentID, m.Model, m.Provider, m.Tool}, "\t")
		u := sums[k]
		if u == nil {
			u = &modelUsage{}
			sums[k] = u
		}
		u.awus++
		u.input += m.InputTokens
		u.output += m.OutputTokens
		u.cost = u.cost.Add(m.TokenCost)
	}
	var want []string
	for k, u := range sums {
		want = append(want, fmt.Sprintf("%s\t%d\t%d\t%d\t%s", k, u.awus, u.input, u.output, u.cost))
	}
	sort.Strings(want)
	got := tsvLines(t, conn, fmt.Sprintf(`SELECT toString(day), tenant_id, agent_id, model, provider, tool, awus, input_tokens,
		output_tokens, token_cost FROM %s.model_usage_daily`, db))
	if g, w := strings.Join(got, "\n"), strings.Join(want, "\n"); g != w {
		t.Errorf("%s: model_usage_daily is\n%s\nwant\n%s", when, g, w)
	}
}

func periodCol(view string) string {
	if strings.HasSuffix(view, "daily") {
		return "day"
	}
	return "month"
}

// tsvLines runs sql and returns its rows as sorted, normalized TSV lines.
func tsvLines(t *testing.T, conn driver.Conn, sql string) []string {
	t.Helper()
	rows, err := queryTSV(t, conn, sql)
	if err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
	var out []string
	for _, r := range rows {
		for i := range r {
			r[i] = normalize(r[i])
		}
		out = append(out, strings.Join(r, "\t"))
	}
	sort.Strings(out)
	return out
}
