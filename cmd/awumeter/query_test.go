package main

import (
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/internal/testenv"
	"github.com/awumeter/awumeter/pipeline/migrate"
)

func TestQueryList(t *testing.T) {
	out, errOut, err := runStatementCmd(t, "query", "--list")
	if err != nil {
		t.Fatalf("%v: %s", err, errOut)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 13 {
		t.Fatalf("%d lines:\n%s", len(lines), out)
	}
	for _, want := range []string{
		"awu_funnel                   AWUs attempted vs succeeded vs validated vs rolled back, per month, tenant and agent. [--month --tenant]",
		"retry_inflation              Retry inflation per tenant: attempts per AWU, and the share of tokens spent on retries. [--tenant]",
		"tool_success_rate            Success rate per month, tenant and tool: of the tool AWUs, and of their individual attempts. [--month --tenant]",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("no line %q in\n%s", want, out)
		}
	}
}

// Bad flags are refused before any connection is tried (the address is
// one nothing listens on).
func TestQueryRefusesBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"query"}, "name one query of the pack, or --list"},
		{[]string{"query", "--list", "awu_funnel"}, "--list takes no query name"},
		{[]string{"query", "nope"}, `no query "nope" in the pack`},
		{[]string{"query", "awu_funnel", "--format", "xml"}, `--format "xml": must be table, csv or json`},
		{[]string{"query", "awu_funnel", "--month", "2026-1"}, `--month "2026-1": must be YYYY-MM`},
		{[]string{"query", "awu_funnel", "--month", "2026-13"}, `--month "2026-13": must be YYYY-MM`},
		{[]string{"query", "retry_inflation", "--month", "2026-10"}, "query retry_inflation does not take --month; it takes --tenant"},
		{[]string{"query", "retry_inflation", "--tenant", ""}, "--tenant is empty"},
	} {
		_, _, err := runStatementCmd(t, append(c.args, "--clickhouse", "127.0.0.1:1")...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.args, err, c.want)
		}
	}
}

// Known workcycles, with the expected output of each format worked out by
// hand. A superseded version of w1 in September (token cost 9) must never
// show: FINAL keeps version 2, in October.
func TestQueryAgainstClickHouse(t *testing.T) {
	if testing.Short() {
		t.Skip("needs ClickHouse")
	}
	ch := testenv.NewClickHouse(t)
	ctx := testenv.Context(t, time.Minute)
	if _, err := migrate.Up(ctx, ch.Conn, migrate.Options{Database: ch.Database}); err != nil {
		t.Fatal(err)
	}
	insert := func(rows ...[]any) {
		t.Helper()
		b, err := ch.Conn.PrepareBatch(ctx, "INSERT INTO workcycles (tenant_id, workcycle_id, agent_id, outcome, started_at, awus, attempts, input_tokens, output_tokens, token_cost, list_cost, version)")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if err := b.Append(r...); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Send(); err != nil {
			t.Fatal(err)
		}
	}
	at := func(s string) time.Time {
		v, err := time.Parse(time.DateTime, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	dec := decimal.RequireFromString
	insert([]any{"acme", "w1", "a", "resolved", at("2026-09-30 23:00:00"), int64(9), int64(9), int64(9), int64(9), dec("9"), dec("9"), uint64(1)})
	insert(
		[]any{"acme", "w1", "a", "resolved", at("2026-10-03 10:00:00"), int64(2), int64(3), int64(1000), int64(200), dec("0.0125"), dec("0.1"), uint64(2)},
		[]any{"acme", "w2", "a", "escalated", at("2026-10-20 08:30:00"), int64(1), int64(1), int64(300), int64(50), dec("0.003"), dec("0"), uint64(1)},
		[]any{"acme", "w3", "a", "resolved", at("2026-11-02 00:00:00"), int64(1), int64(2), int64(500), int64(100), dec("0.005"), dec("0.05"), uint64(1)},
		[]any{"=evil\x1b[31m", "w9", "b", "resolved", at("2026-10-05 12:00:00"), int64(1), int64(1), int64(10), int64(5), dec("0.000000000001"), dec("0.005"), uint64(1)},
	)
	// w4 is open: a provisional row, which cost_per_workcycle leaves out
	// and most_expensive_workcycles shows as open.
	open, err := ch.Conn.PrepareBatch(ctx, "INSERT INTO workcycles (tenant_id, workcycle_id, agent_id, started_at, awus, attempts, input_tokens, output_tokens, token_cost, list_cost, state, version)")
	if err != nil {
		t.Fatal(err)
	}
	if err := open.Append("acme", "w4", "a", at("2026-10-25 09:00:00"), int64(1), int64(1), int64(150), int64(50), dec("0.002"), dec("0"), "open", uint64(1)); err != nil {
		t.Fatal(err)
	}
	if err := open.Send(); err != nil {
		t.Fatal(err)
	}
	conn := []string{"--clickhouse", ch.Addr, "--database", ch.Database}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"table", []string{"cost_per_workcycle", "--month", "2026-10", "--tenant", "acme"}, "" +
			"month       tenant_id  agent_id  outcome    workcycles  list_cost  token_cost  list_cost_per_workcycle  token_cost_per_workcycle  margin\n" +
			"2026-10-01  acme       a         escalated           1          0       0.003                        0                     0.003  -0.003\n" +
			"2026-10-01  acme       a         resolved            1        0.1      0.0125                      0.1                    0.0125  0.0875\n"},
		{"csv", []string{"most_expensive_workcycles", "--month", "2026-10", "--format", "csv"}, "" +
			"tenant_id,workcycle_id,agent_id,outcome,state,started_at,awus,attempts,tokens,token_cost,list_cost\n" +
			"acme,w1,a,resolved,closed,2026-10-03 10:00:00,2,3,1200,0.0125,0.1\n" +
			"acme,w2,a,escalated,closed,2026-10-20 08:30:00,1,1,350,0.003,0\n" +
			"acme,w4,a,,open,2026-10-25 09:00:00,1,1,200,0.002,0\n" +
			"'=evil\x1b[31m,w9,b,resolved,closed,2026-10-05 12:00:00,1,1,15,0.000000000001,0.005\n"},
		{"json", []string{"most_expensive_workcycles", "--tenant", "acme", "--format", "json"}, "" +
			`{"tenant_id":"acme","workcycle_id":"w1","agent_id":"a","outcome":"resolved","state":"closed","started_at":"2026-10-03 10:00:00","awus":2,"attempts":3,"tokens":1200,"token_cost":"0.0125","list_cost":"0.1"}` + "\n" +
			`{"tenant_id":"acme","workcycle_id":"w3","agent_id":"a","outcome":"resolved","state":"closed","started_at":"2026-11-02 00:00:00","awus":1,"attempts":2,"tokens":600,"token_cost":"0.005","list_cost":"0.05"}` + "\n" +
			`{"tenant_id":"acme","workcycle_id":"w2","agent_id":"a","outcome":"escalated","state":"closed","started_at":"2026-10-20 08:30:00","awus":1,"attempts":1,"tokens":350,"token_cost":"0.003","list_cost":"0"}` + "\n" +
			`{"tenant_id":"acme","workcycle_id":"w4","agent_id":"a","outcome":"","state":"open","started_at":"2026-10-25 09:00:00","awus":1,"attempts":1,"tokens":200,"token_cost":"0.002","list_cost":"0"}` + "\n"},
		{"table escapes a hostile tenant", []string{"escalation_rate", "--tenant", "=evil\x1b[31m"}, "" +
			"month       tenant_id      agent_id  completed  escalated  escalation_rate\n" +
			`2026-10-01  =evil\x1b[31m  b                 1          0                0` + "\n"},
		{"a quote in a value is a value", []string{"cost_per_workcycle", "--tenant", "acme' OR 1 = 1 OR tenant_id = '", "--format", "csv"},
			"month,tenant_id,agent_id,outcome,workcycles,list_cost,token_cost,list_cost_per_workcycle,token_cost_per_workcycle,margin\n"},
		{"no filters: every month", []string{"escalation_rate", "--format", "csv"}, "" +
			"month,tenant_id,agent_id,completed,escalated,escalation_rate\n" +
			"2026-10-01,'=evil\x1b[31m,b,1,0,0\n" +
			"2026-10-01,acme,a,2,1,0.5\n" +
			"2026-11-01,acme,a,1,0,0\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, err := runStatementCmd(t, append(append([]string{"query"}, c.args...), conn...)...)
			if err != nil {
				t.Fatalf("%v: %s", err, errOut)
			}
			if out != c.want {
				t.Errorf("got\n%s\nwant\n%s", out, c.want)
			}
		})
	}

	_, _, err = runStatementCmd(t, "query", "awu_funnel", "--clickhouse", ch.Addr, "--database", "nowhere_"+ch.Database)
	if err == nil || !strings.Contains(err.Error(), "nowhere_") {
		t.Errorf("unknown database: %v", err)
	}
}
