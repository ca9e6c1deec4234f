package sink

import (
	"math"
	"strings"
	"testing"

	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/migrate"
	"github.com/awumeter/awumeter/schemas/chschema"
)

// sumsBatch holds two AWUs (and their model rows) of one tenant, day, agent
// and tool whose Int64 columns hold a and b.
func sumsBatch(a, b int64) Batch {
	awu := func(id, first string, n int64) engine.AWURow {
		counts := engine.TokenCounts{InputTokens: n, OutputTokens: n, CacheReadInputTokens: n,
			CacheCreationInputTokens: n, ReasoningTokens: n}
		return engine.AWURow{TenantID: "t-huge", WorkcycleID: "wc-huge", AWUID: id, AgentID: "a", Kind: "tool", Tool: "search",
			Channel: "text", Status: "succeeded", Attempts: n, FirstSeen: at(first), LastSeen: at(first), TokenCounts: counts,
			TokenCost: dec("0"), Credits: n, ListCost: dec("0"), UnpricedTokens: n, Version: 1}
	}
	u1, u2 := awu("u1", "2026-01-05 10:00:00", a), awu("u2", "2026-01-05 11:00:00", b)
	model := func(a engine.AWURow) AWUModelRow {
		return AWUModelRow{TenantID: a.TenantID, WorkcycleID: a.WorkcycleID, AWUID: a.AWUID, Model: "m", Provider: "p",
			AgentID: a.AgentID, Kind: a.Kind, Tool: a.Tool, FirstSeen: a.FirstSeen, TokenCounts: a.TokenCounts, TokenCost: dec("0"),
			UnpricedTokens: a.UnpricedTokens, Version: 1}
	}
	return Batch{AWUs: []engine.AWURow{u1, u2}, AWUModels: []AWUModelRow{model(u1), model(u2)}}
}

// int64Columns are the Int64 sums of every rollup view.
var int64Columns = map[string][]string{
	"usage_daily": {"attempts", "retries", "input_tokens", "output_tokens", "cache_read_input_tokens",
		"cache_creation_input_tokens", "reasoning_tokens", "credits", "unpriced_tokens"},
	"model_usage_daily": {"input_tokens", "output_tokens", "cache_read_input_tokens",
		"cache_creation_input_tokens", "reasoning_tokens", "unpriced_tokens"},
}

// sumQueries reads each Int64 column of each view on its own, as text.
func sumQueries(db string) map[string]string {
	out := map[string]string{}
	for daily, cols := range int64Columns {
		for _, view := range []string{daily, strings.Replace(daily, "daily", "monthly", 1)} {
			for _, c := range cols {
				out[view+"."+c] = "SELECT toString(" + c + ") FROM " + db + "." + view
			}
		}
	}
	return out
}

// sumWant is what each query of sumQueries returns for the sums of
// sumsBatch: total for every column but retries, which are the attempts
// less the two AWUs.
func sumWant(total, retries string) map[string]string {
	out := map[string]string{}
	for name := range sumQueries("db") {
		out[name] = total
		if strings.HasSuffix(name, ".retries") {
			out[name] = retries
		}
	}
	return out
}

// Sums in the rollup views never wrap. Up to 2^63 − 1 they are exact;
// beyond it, where sum(Int64) wrapped to a negative number, the query
// fails with ClickHouse's decimal overflow instead, column by column, on
// ClickHouse 18.16.
func TestRollupSumsDoNotWrap(t *testing.T) {
	conn, schema := migrated(t)
	w := NewWriter(conn, schema, testConfig(), Settings{})
	// 4611686018427387903 + 4611686018427387904 = 2^63 − 1 exactly.
	write(t, w, sumsBatch(4611686018427387903, 4611686018427387904))
	for name, want := range sumWant("9223372036854775807", "9223372036854775805") {
		rows, err := queryTSV(t, conn, sumQueries(schema.Database)[name])
		if err != nil || len(rows) != 1 || rows[0][0] != want {
			t.Errorf("%s: %v, %v; want %s", name, rows, err, want)
		}
	}
	// One more AWU of 1 in each column takes every sum past int64.
	b := sumsBatch(1, 1)
	b.AWUs, b.AWUModels = b.AWUs[:1], b.AWUModels[:1]
	b.AWUs[0].AWUID, b.AWUModels[0].AWUID = "u3", "u3"
	write(t, w, b)
	for name, sql := range sumQueries(schema.Database) {
		rows, err := queryTSV(t, conn, sql)
		if err == nil || !strings.Contains(strings.ToLower(err.Error()), "overflow") {
			t.Errorf("%s: %v, %v; want the query refused with a decimal overflow", name, rows, err)
		}
	}
}

// The same on the modern branch, on a current ClickHouse in chDB.
func TestRollupSumsDoNotWrapOnChDB(t *testing.T) {
	schema := migrate.Schema{Database: "awumeter", Flavor: chschema.Modern}
	inserts := append(insertValues(schema, sumsBatch(math.MaxInt64, math.MaxInt64)), refreshValues(t, schema)...)
	res := runChDB(t, chschema.Params{Database: "awumeter", Flavor: chschema.Modern}, inserts, sumQueries("awumeter"), true)
	for name := range sumQueries("awumeter") {
		got := res.Results[name]
		if !strings.HasPrefix(got, "ERROR: ") || !strings.Contains(strings.ToLower(got), "overflow") {
			t.Errorf("%s: %q; want the query refused with a decimal overflow", name, strings.TrimSpace(got))
		}
	}
}
