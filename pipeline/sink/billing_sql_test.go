package sink

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/schemas/chschema"
)

// The rollup SQL restates the billing rule (engine.AWURow.BillableAction and
// VoiceAction) in ClickHouse: these tests hold it to the Go rule on every
// combination of kind, channel and status, without and with a server.

// billingClasses are the AWU rows of every kind, channel and status, each
// with an agent of its own so that a rollup row holds one of them.
func billingClasses() []engine.AWURow {
	var rows []engine.AWURow
	for _, tool := range []bool{false, true} {
		for _, voice := range []bool{false, true} {
			for _, succeeded := range []bool{false, true} {
				var r engine.AWURow
				r.Classify(tool, voice, succeeded)
				r.AgentID = fmt.Sprintf("%s-%s-%s", r.Kind, r.Channel, r.Status)
				rows = append(rows, r)
			}
		}
	}
	return rows
}

// selectItem is one item of a SELECT list: text outside parentheses up to a
// comma, with parentheses nested at most twice, as in the refresh's.
var selectItem = regexp.MustCompile(`(?:[^,()]|\((?:[^()]|\([^()]*\))*\))+`)

// rollupExpressions maps the columns of the INSERT INTO <db>.<table> among
// stmts to the expressions of its first SELECT.
func rollupExpressions(t *testing.T, stmts []string, table string) map[string]string {
	t.Helper()
	head := regexp.MustCompile(`(?m)^INSERT INTO \w+\.` + table + ` \(([^)]*)\)\s*SELECT\s`)
	for _, s := range stmts {
		m := head.FindStringSubmatchIndex(s)
		if m == nil {
			continue
		}
		cols := strings.Split(s[m[2]:m[3]], ",")
		list, _, _ := strings.Cut(s[m[1]:], "\nFROM ")
		exprs := selectItem.FindAllString(list, -1)
		if len(exprs) != len(cols) {
			t.Fatalf("%s: %d columns, %d expressions", table, len(cols), len(exprs))
		}
		out := map[string]string{}
		for i, c := range cols {
			out[strings.TrimSpace(c)] = strings.TrimSpace(exprs[i])
		}
		return out
	}
	t.Fatalf("no INSERT INTO %s in the refresh", table)
	return nil
}

var (
	countIf  = regexp.MustCompile(`^countIf\((.*)\)$`)
	equalsTo = regexp.MustCompile(`^(kind|channel|status) = '([^']*)'$`)
)

// evalCondition evaluates a conjunction of "column = 'value'" terms on r,
// the only form the rollup SQL uses for the rule.
func evalCondition(t *testing.T, cond string, r *engine.AWURow) bool {
	t.Helper()
	fields := map[string]string{"kind": string(r.Kind), "channel": string(r.Channel), "status": string(r.Status)}
	ok := true
	for term := range strings.SplitSeq(cond, " AND ") {
		m := equalsTo.FindStringSubmatch(strings.TrimSpace(term))
		if m == nil {
			t.Fatalf("condition %q: term %q is not column = 'value'; evaluate it in ClickHouse instead (TestRollupsCountTheBillingRule)", cond, term)
		}
		ok = ok && fields[m[1]] == m[2]
	}
	return ok
}

func TestRollupSQLStatesTheBillingRule(t *testing.T) {
	for _, flavor := range []chschema.Flavor{chschema.Legacy, chschema.Modern} {
		t.Run(string(flavor), func(t *testing.T) {
			stmts, err := chschema.RefreshAllStatements(chschema.Params{Database: "awumeter", Flavor: flavor})
			if err != nil {
				t.Fatal(err)
			}
			daily := rollupExpressions(t, stmts, "rollup_usage_daily")
			rules := map[string]func(*engine.AWURow) bool{
				"actions":       (*engine.AWURow).BillableAction,
				"voice_actions": (*engine.AWURow).VoiceAction,
			}
			for col, rule := range rules {
				m := countIf.FindStringSubmatch(daily[col])
				if m == nil {
					t.Fatalf("rollup_usage_daily.%s = %q, want countIf(condition)", col, daily[col])
				}
				for _, r := range billingClasses() {
					if got, want := evalCondition(t, m[1], &r), rule(&r); got != want {
						t.Errorf("rollup_usage_daily.%s counts %s: %v, the Go rule says %v", col, r.AgentID, got, want)
					}
				}
			}
			monthly := rollupExpressions(t, stmts, "rollup_usage_monthly")
			for col := range rules {
				if want := "sum(" + col + ")"; monthly[col] != want {
					t.Errorf("rollup_usage_monthly.%s = %q, want %q", col, monthly[col], want)
				}
			}
		})
	}
}

// The refresh, run by ClickHouse on one AWU of every kind, channel and
// status, counts as actions and voice actions exactly the rows the Go rule
// says, in the daily and the monthly rollups.
func TestRollupsCountTheBillingRule(t *testing.T) {
	conn, schema := migrated(t)
	w := NewWriter(conn, schema, testConfig(), Settings{})
	first := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	classes := billingClasses()
	want := map[string]string{}
	for i := range classes {
		r := &classes[i]
		r.TenantID, r.WorkcycleID, r.AWUID = "t", "wc", r.AgentID
		r.Attempts, r.FirstSeen, r.LastSeen, r.Version = 1, first, first, 1
		want[r.AgentID] = fmt.Sprintf("%s\t%d\t%d", r.AgentID, b2u(r.BillableAction()), b2u(r.VoiceAction()))
	}
	write(t, w, Batch{AWUs: classes})
	for _, view := range []string{"usage_daily", "usage_monthly"} {
		got := tsvLines(t, conn, fmt.Sprintf("SELECT agent_id, actions, voice_actions FROM %s.%s WHERE tenant_id = 't'", schema.Database, view))
		if len(got) != len(classes) {
			t.Fatalf("%s: %d rows, want %d:\n%s", view, len(got), len(classes), strings.Join(got, "\n"))
		}
		for _, line := range got {
			agent, _, _ := strings.Cut(line, "\t")
			if line != want[agent] {
				t.Errorf("%s: agent, actions, voice_actions = %q, the Go rule says %q", view, line, want[agent])
			}
		}
	}
}

func b2u(b bool) int {
	if b {
		return 1
	}
	return 0
}
