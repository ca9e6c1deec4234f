package sink

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/migrate"
	chschema "github.com/awumeter/awumeter/schemas/clickhouse"
)

// hugeBatch holds two AWUs (and their model rows) of one tenant, day, agent
// and tool whose counts are each at most the largest Int64 but whose sums
// are not: sum(Int64) would wrap them negative.
func hugeBatch() Batch {
	const max = math.MaxInt64
	counts := engine.TokenCounts{InputTokens: 5_000_000_000_000_000_000, OutputTokens: max, CacheReadInputTokens: max,
		CacheCreationInputTokens: max, ReasoningTokens: max}
	awu := func(id, first string) engine.AWURow {
		return engine.AWURow{TenantID: "t-huge", WorkcycleID: "wc-huge", AWUID: id, AgentID: "a", Kind: "tool", Tool: "search",
			Channel: "text", Status: "succeeded", Attempts: max, FirstSeen: at(first), LastSeen: at(first), TokenCounts: counts,
			TokenCost: dec("0"), Credits: max, ListCost: dec("0"), UnpricedTokens: max, Version: 1}
	}
	u1, u2 := awu("u1", "2026-01-05 10:00:00"), awu("u2", "2026-01-05 11:00:00")
	model := func(a engine.AWURow) AWUModelRow {
		return AWUModelRow{TenantID: a.TenantID, WorkcycleID: a.WorkcycleID, AWUID: a.AWUID, Model: "m", Provider: "p",
			AgentID: a.AgentID, Kind: a.Kind, Tool: a.Tool, FirstSeen: a.FirstSeen, TokenCounts: counts, TokenCost: dec("0"),
			UnpricedTokens: max, Version: 1}
	}
	return Batch{AWUs: []engine.AWURow{u1, u2}, AWUModels: []AWUModelRow{model(u1), model(u2)}}
}

// hugeQueries read the sums of hugeBatch from every rollup view, as text.
func hugeQueries(db string) map[string]string {
	usage := `SELECT toString(attempts), toString(retries), toString(input_tokens), toString(output_tokens),
		toString(cache_read_input_tokens), toString(cache_creation_input_tokens), toString(reasoning_tokens),
		toString(credits), toString(unpriced_tokens) FROM ` + db + `.`
	models := `SELECT toString(input_tokens), toString(output_tokens), toString(cache_read_input_tokens),
		toString(cache_creation_input_tokens), toString(reasoning_tokens), toString(unpriced_tokens) FROM ` + db + `.`
	return map[string]string{
		"usage_daily":         usage + "usage_daily",
		"usage_monthly":       usage + "usage_monthly",
		"model_usage_daily":   models + "model_usage_daily",
		"model_usage_monthly": models + "model_usage_monthly",
	}
}

// hugeSums are the sums of hugeBatch in every view, by hand: 2 × 5·10^18
// = 10^19, 2 × (2^63 − 1) = 18446744073709551614, and retries are the
// attempts less the 2 AWUs.
func hugeSums() map[string]string {
	const twice = "18446744073709551614"
	usage := strings.Join([]string{twice, "18446744073709551612", "10000000000000000000", twice, twice, twice, twice, twice, twice}, "\t")
	models := strings.Join([]string{"10000000000000000000", twice, twice, twice, twice, twice}, "\t")
	return map[string]string{"usage_daily": usage, "usage_monthly": usage, "model_usage_daily": models, "model_usage_monthly": models}
}

// Sums in the rollup views never wrap: Int64 columns whose sum passes
// 2^63 − 1 are summed exactly, on ClickHouse 18.16.
func TestRollupSumsDoNotWrap(t *testing.T) {
	conn, schema := migrated(t)
	write(t, NewWriter(conn, schema, testConfig(), Settings{}), hugeBatch())
	want := hugeSums()
	for view, sql := range hugeQueries(schema.Database) {
		if got := strings.Join(tsvLines(t, conn, sql), "\n"); got != want[view] {
			t.Errorf("%s sums\n%s\nwant\n%s", view, got, want[view])
		}
	}
}

// The same on the modern branch, on a current ClickHouse in chDB.
func TestRollupSumsDoNotWrapOnChDB(t *testing.T) {
	python := chdbPython(t)
	params := chschema.Params{Database: "awumeter", Flavor: chschema.Modern}
	setup := []string{"CREATE DATABASE IF NOT EXISTS awumeter"}
	ms, err := chschema.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		stmts, err := m.Statements(params)
		if err != nil {
			t.Fatal(err)
		}
		setup = append(setup, stmts...)
	}
	setup = append(setup, insertValues(migrate.Schema{Database: "awumeter", Flavor: chschema.Modern}, hugeBatch())...)
	job, _ := json.Marshal(map[string]any{"setup": setup, "queries": hugeQueries("awumeter")})
	jobFile := filepath.Join(t.TempDir(), "job.json")
	if err := os.WriteFile(jobFile, job, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(python, "testdata/chdb_run.py", jobFile).Output()
	var res struct {
		Results   map[string]string `json:"results"`
		Error     string            `json:"error"`
		Statement string            `json:"statement"`
	}
	if jerr := json.Unmarshal(out, &res); jerr != nil {
		t.Fatalf("chdb run: %v %v: %s", err, jerr, out)
	}
	if res.Error != "" {
		t.Fatalf("chdb rejected a statement: %s\n%s", res.Error, res.Statement)
	}
	for view, want := range hugeSums() {
		if got := strings.TrimRight(res.Results[view], "\n"); got != want {
			t.Errorf("%s sums\n%s\nwant\n%s", view, got, want)
		}
	}
}
