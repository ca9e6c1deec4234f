package main

import (
	"fmt"
	"strings"
)

// shape is the generated data: N AWU rows, 10 per workcycle, and their
// per-model rows, written server side by INSERT … SELECT … FROM numbers(N).
// Everything is a function of the row number, so a size always gives the
// same data.
//
//   - Workcycle w = n div 10; AWU j = n mod 10 of it.
//   - 20 tenants, skewed: tenant floor(20·u²) for a uniform u per workcycle,
//     so tenant-00 has about 22% of the AWUs and tenant-19 about 2.5%.
//   - 10 agents (agent-0 … agent-9) per tenant, one per workcycle.
//   - kind prompt for j in {0, 3, 6, 9}, else tool; 15 tools (tool-0 …
//     tool-14); tool AWUs on channel voice one time in 8, else text.
//   - 4% failed, the rest succeeded; a quarter of the succeeded tool AWUs
//     validated; 0.5% rolled back; attempts 1 to 3.
//   - first_seen: the workcycles spread evenly over 2025 (UTC), the AWUs of
//     a workcycle 20 s apart, so usage_monthly has 12 months × 20 tenants
//     slices and usage_daily 365 × 20.
//   - token counts, Decimal costs at fixed prices, credits of succeeded tool
//     AWUs, list cost 0.05 per credit.
//   - version 2^32 + 3 + attempts.
//   - One AWU in 4 has two models, the others one, from 5 models of 3
//     providers; the tokens (and so the cost) are split between them.
//   - Superseded versions: one AWU in 10 (and its model rows) is inserted a
//     second time, in a separate INSERT after the first, with version − 2
//     and half the tokens, as a re-emitted workcycle leaves its earlier
//     rows until a merge; FINAL must drop them.
type shape struct {
	db     string
	n      int64
	legacy bool // the *_ms companion columns exist (ClickHouse before 21.8)
}

// year0 is 2025-01-01 00:00:00 UTC; the data covers 2025.
const year0 = 1735689600

// busyMonth and busyTenant are the slice of the single-tenant daily query:
// the tenant with the most AWUs, in the middle of the year.
const (
	busyMonth  = "2025-06-01"
	busyTenant = "tenant-00"
)

// awuExprs are the AWU's fields, named a_<column>, over n, w and j.
// superseded halves the tokens and lowers the version.
func (s shape) awuExprs(superseded bool) []string {
	workcycles := (s.n + 9) / 10
	tok := func(e string) string {
		if superseded {
			return "intDiv(" + e + ", 2)"
		}
		return e
	}
	version := "toUInt64(4294967296 + 3 + a_attempts)"
	if superseded {
		version = "toUInt64(4294967296 + 1 + a_attempts)"
	}
	return []string{
		"concat('tenant-', substring(toString(100 + toUInt32(floor(20 * pow((intHash64(w) % 1000003) / 1000003, 2)))), 2)) AS a_tenant_id",
		"concat('wc-', toString(w)) AS a_workcycle_id",
		"concat('awu-', toString(j)) AS a_awu_id",
		"concat('agent-', toString(intHash64(w + 1) % 10)) AS a_agent_id",
		"if(j % 3 = 0, 'prompt', 'tool') AS a_kind",
		"if(a_kind = 'tool', concat('tool-', toString(intHash64(n + 2) % 15)), '') AS a_tool",
		"if(a_kind = 'tool', if(intHash64(n + 3) % 8 = 0, 'voice', 'text'), '') AS a_channel",
		"if(intHash64(n + 5) % 25 = 0, 'failed', 'succeeded') AS a_status",
		"toUInt8(a_kind = 'tool' AND a_status = 'succeeded' AND intHash64(n + 7) % 4 = 0) AS a_validated",
		"toUInt8(intHash64(n + 11) % 200 = 0) AS a_rolled_back",
		"toInt64(1 + (intHash64(n + 13) % 10 = 0) + (intHash64(n + 17) % 40 = 0)) AS a_attempts",
		fmt.Sprintf("toDateTime(%d + intDiv(w * 31536000, %d) + j * 20) AS a_first_seen", year0, workcycles),
		"a_first_seen + a_attempts * 3 AS a_last_seen",
		"toUInt16(n % 1000) AS a_first_seen_ms",
		"toUInt16((n * 7) % 1000) AS a_last_seen_ms",
		"toInt64(" + tok("if(a_kind = 'prompt', 800 + intHash64(n + 19) % 6000, 200 + intHash64(n + 19) % 1500)") + ") AS a_input_tokens",
		"toInt64(" + tok("50 + intHash64(n + 23) % 800") + ") AS a_output_tokens",
		"toInt64(" + tok("if(intHash64(n + 29) % 3 = 0, intHash64(n + 31) % 4000, 0)") + ") AS a_cache_read_input_tokens",
		"toInt64(" + tok("if(intHash64(n + 37) % 10 = 0, intHash64(n + 41) % 500, 0)") + ") AS a_cache_creation_input_tokens",
		"toInt64(" + tok("if(a_kind = 'prompt', intHash64(n + 43) % 1000, 0)") + ") AS a_reasoning_tokens",
		"toInt64(if(a_kind = 'tool' AND a_status = 'succeeded', 1, 0)) AS a_credits",
		"toInt64(if(intHash64(n + 47) % 500 = 0, a_output_tokens, 0)) AS a_unpriced_tokens",
		version + " AS a_version",
		"if(intHash64(w + 53) % 4 = 0, 2, 1) AS a_models",
	}
}

// cost is the token cost of the token counts in e.g. a_input_tokens, at
// fixed prices: 3, 15 and 0.3 per million input, output and cache-read
// tokens.
func cost(in, out, cacheRead string) string {
	return fmt.Sprintf("toDecimal128(%s * 30 + %s * 150 + %s * 3, 12) / 10000000", in, out, cacheRead)
}

// awus is the inner query: one row per AWU, a_* columns.
func (s shape) awus(superseded bool) string {
	where := ""
	if superseded {
		where = "\nWHERE intHash64(n + 59) % 10 = 0"
	}
	return fmt.Sprintf("SELECT n, w, j,\n    %s\nFROM (SELECT number AS n, intDiv(number, 10) AS w, number %% 10 AS j FROM numbers(%d))%s",
		strings.Join(s.awuExprs(superseded), ",\n    "), s.n, where)
}

// awusSQL writes the AWU rows (or their superseded versions).
func (s shape) awusSQL(superseded bool) string {
	cols := []string{"tenant_id", "workcycle_id", "awu_id", "agent_id", "kind", "tool", "channel", "status",
		"validated", "rolled_back", "attempts", "first_seen", "last_seen"}
	if s.legacy {
		cols = append(cols, "first_seen_ms", "last_seen_ms")
	}
	cols = append(cols, "input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens",
		"reasoning_tokens", "token_cost", "credits", "list_cost", "unpriced_tokens", "version")
	exprs := make([]string, len(cols))
	for i, c := range cols {
		switch c {
		case "token_cost":
			exprs[i] = cost("a_input_tokens", "a_output_tokens", "a_cache_read_input_tokens")
		case "list_cost":
			exprs[i] = "toDecimal128(a_credits * 5, 12) / 100"
		default:
			exprs[i] = "a_" + c
		}
	}
	return fmt.Sprintf("INSERT INTO %s.awus (%s)\nSELECT\n    %s\nFROM (\n%s\n)",
		s.db, strings.Join(cols, ", "), strings.Join(exprs, ",\n    "), s.awus(superseded))
}

// modelsSQL writes the per-model rows of the AWU rows (or of their
// superseded versions): one or two per AWU, the tokens split 2:1.
func (s shape) modelsSQL(superseded bool) string {
	models := "['gpt-5', 'claude-sonnet-4-5', 'gemini-3-flash', 'gpt-5-mini', 'claude-haiku-4-5']"
	providers := "['openai', 'anthropic', 'google', 'openai', 'anthropic']"
	split := func(col string) string {
		return fmt.Sprintf("if(a_models = 1, %[1]s, if(m = 0, %[1]s - intDiv(%[1]s, 3), intDiv(%[1]s, 3)))", col)
	}
	cols := []string{"tenant_id", "workcycle_id", "awu_id", "model", "provider", "agent_id", "kind", "tool", "first_seen"}
	if s.legacy {
		cols = append(cols, "first_seen_ms")
	}
	cols = append(cols, "input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens",
		"reasoning_tokens", "token_cost", "unpriced_tokens", "version")
	exprs := make([]string, len(cols))
	for i, c := range cols {
		switch c {
		case "model":
			exprs[i] = fmt.Sprintf("arrayElement(%s, toUInt32((intHash64(w + 61) + m) %% 5 + 1))", models)
		case "provider":
			exprs[i] = fmt.Sprintf("arrayElement(%s, toUInt32((intHash64(w + 61) + m) %% 5 + 1))", providers)
		case "input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens", "reasoning_tokens", "unpriced_tokens":
			exprs[i] = split("a_" + c)
		case "token_cost":
			exprs[i] = cost(split("a_input_tokens"), split("a_output_tokens"), split("a_cache_read_input_tokens"))
		default:
			exprs[i] = "a_" + c
		}
	}
	return fmt.Sprintf("INSERT INTO %s.awu_models (%s)\nSELECT\n    %s\nFROM (\nSELECT *, arrayJoin(if(a_models = 2, [0, 1], [0])) AS m FROM (\n%s\n))",
		s.db, strings.Join(cols, ", "), strings.Join(exprs, ",\n    "), s.awus(superseded))
}

// query is one timed analyst query.
type query struct {
	name string
	sql  string
}

// queries are the analyst queries timed before and after, over db's views
// (and, for reference, the raw table without FINAL, which reads every
// version and so is not a correct answer).
func queries(db string) []query {
	return []query{
		{"monthly usage by tenant (usage_monthly)",
			"SELECT month, tenant_id, sum(awus), sum(token_cost), sum(list_cost) FROM " + db + ".usage_monthly GROUP BY month, tenant_id"},
		{"daily usage, one tenant, one month (usage_daily)",
			"SELECT day, sum(awus), sum(actions), sum(input_tokens), sum(output_tokens), sum(token_cost), sum(list_cost) FROM " + db +
				".usage_daily WHERE tenant_id = '" + busyTenant + "' AND toStartOfMonth(day) = toDate('" + busyMonth + "') GROUP BY day ORDER BY day"},
		{"daily usage by tenant, whole year (usage_daily)",
			"SELECT day, tenant_id, sum(awus), sum(token_cost), sum(list_cost) FROM " + db + ".usage_daily GROUP BY day, tenant_id"},
		{"monthly cost by tenant and model (model_usage_monthly)",
			"SELECT month, tenant_id, model, sum(awus), sum(input_tokens), sum(output_tokens), sum(token_cost) FROM " + db +
				".model_usage_monthly GROUP BY month, tenant_id, model"},
	}
}

// rawQuery is the reference: the monthly aggregation over the raw
// table without FINAL (superseded versions counted too).
func rawQuery(db string) query {
	return query{"reference: same over raw awus, no FINAL (not a correct answer)",
		"SELECT toStartOfMonth(first_seen) AS month, tenant_id, count(), sum(token_cost), sum(list_cost) FROM " + db + ".awus GROUP BY month, tenant_id"}
}
