package chschema

import (
	"reflect"
	"strings"
	"testing"
)

const twoMarkers = `-- Two subqueries, both filtered.
-- More about it.
SELECT tenant_id, n, m
FROM
(
    SELECT tenant_id, count() AS n FROM awus FINAL
    WHERE 1 /* filters: month = toStartOfMonth(first_seen), tenant = tenant_id */
    GROUP BY tenant_id
) AS a
ANY LEFT JOIN
(
    SELECT tenant_id, count() AS m FROM events FINAL
    WHERE type = 'token_usage' /* filters: tenant = tenant_id, month = toStartOfMonth(toDate(time, 'UTC')) */
    GROUP BY tenant_id
) AS t USING tenant_id;
`

func TestParseQuery(t *testing.T) {
	q, err := ParseQuery("two", twoMarkers)
	if err != nil {
		t.Fatal(err)
	}
	if q.Description != "Two subqueries, both filtered." {
		t.Errorf("description %q", q.Description)
	}
	if !reflect.DeepEqual(q.Filters, []string{"month", "tenant"}) {
		t.Errorf("filters %q", q.Filters)
	}
	if strings.HasSuffix(q.SQL, ";") || !strings.HasPrefix(q.SQL, "-- Two") {
		t.Errorf("SQL %q", q.SQL)
	}
	if !q.Accepts(FilterTenant) || q.Accepts("agent") {
		t.Error("Accepts")
	}
}

func TestParseQueryRefusesBadMarkers(t *testing.T) {
	for name, c := range map[string]struct{ src, want string }{
		"no description":      {"SELECT 1;\n", "no description"},
		"two statements":      {"-- d\nSELECT 1;\nSELECT 2;\n", "2 statements"},
		"template":            {"-- d\nSELECT * FROM {{db}}.awus;\n", "not templates"},
		"question mark":       {"-- d\nSELECT '?';\n", `"?"`},
		"unknown filter":      {"-- d\nSELECT 1 WHERE 1 /* filters: agent = agent_id */;\n", `unknown filter "agent"`},
		"no expression":       {"-- d\nSELECT 1 WHERE 1 /* filters: tenant = */;\n", "want name = expression"},
		"no equals":           {"-- d\nSELECT 1 WHERE 1 /* filters: tenant */;\n", "want name = expression"},
		"empty marker":        {"-- d\nSELECT 1 WHERE 1 /* filters: */;\n", "lists no filter"},
		"twice":               {"-- d\nSELECT 1 WHERE 1 /* filters: tenant = a, tenant = b */;\n", "tenant twice"},
		"markers disagree":    {"-- d\nSELECT 1 WHERE 1 /* filters: tenant = a */ AND 1 /* filters: month = m */;\n", "disagree"},
		"unterminated marker": {"-- d\nSELECT 1 WHERE 1 /* filters: tenant = a\n*/;\n", "not a marker"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseQuery("q", c.src)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}

func TestBind(t *testing.T) {
	q, err := ParseQuery("two", twoMarkers)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("no filters keeps the file's SQL", func(t *testing.T) {
		sql, args, err := q.Bind(nil)
		if err != nil || sql != q.SQL || args != nil {
			t.Errorf("%v %v %q", err, args, sql)
		}
		sql, args, err = q.Bind(FilterValues{"month": "", "tenant": ""})
		if err != nil || sql != q.SQL || args != nil {
			t.Errorf("empty values: %v %v %q", err, args, sql)
		}
	})
	t.Run("both filters, each marker in its own order", func(t *testing.T) {
		sql, args, err := q.Bind(FilterValues{"month": "2026-02", "tenant": "o'brien"})
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{
			"WHERE 1 AND toStartOfMonth(first_seen) = ? AND tenant_id = ?\n",
			"WHERE type = 'token_usage' AND tenant_id = ? AND toStartOfMonth(toDate(time, 'UTC')) = ?\n",
		} {
			if !strings.Contains(sql, want) {
				t.Errorf("no %q in\n%s", want, sql)
			}
		}
		if strings.Contains(sql, "filters:") || strings.Contains(sql, "o'brien") {
			t.Errorf("marker left or value pasted:\n%s", sql)
		}
		// The tenant is a bound value, never part of the text.
		want := []any{"2026-02-01", "o'brien", "o'brien", "2026-02-01"}
		if !reflect.DeepEqual(args, want) {
			t.Errorf("args %q, want %q", args, want)
		}
	})
	t.Run("one filter", func(t *testing.T) {
		sql, args, err := q.Bind(FilterValues{"tenant": "acme"})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Count(sql, "AND tenant_id = ?") != 2 || strings.Contains(sql, "toStartOfMonth(first_seen) =") {
			t.Errorf("%s", sql)
		}
		if !reflect.DeepEqual(args, []any{"acme", "acme"}) {
			t.Errorf("args %q", args)
		}
	})
	t.Run("bad month", func(t *testing.T) {
		for _, m := range []string{"2026-13", "2026-1", "202610", "2026-10-01", "October", "0001-01"} {
			_, _, err := q.Bind(FilterValues{"month": m})
			if err == nil || !strings.Contains(err.Error(), "--month") || !strings.Contains(err.Error(), "YYYY-MM") {
				t.Errorf("%s: %v", m, err)
			}
		}
	})
	t.Run("unknown filter", func(t *testing.T) {
		if _, _, err := q.Bind(FilterValues{"agent": "a"}); err == nil || !strings.Contains(err.Error(), `unknown filter "agent"`) {
			t.Error(err)
		}
	})
}

func TestBindRefusesAFilterTheQueryDoesNotTake(t *testing.T) {
	q, err := ParseQuery("tenants_only", "-- d\nSELECT 1 FROM awus WHERE 1 /* filters: tenant = tenant_id */;\n")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = q.Bind(FilterValues{"month": "2026-10", "tenant": "a"})
	if err == nil || err.Error() != "query tenants_only does not take --month; it takes --tenant" {
		t.Errorf("%v", err)
	}
	none, err := ParseQuery("plain", "-- d\nSELECT 1;\n")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = none.Bind(FilterValues{"tenant": "a"})
	if err == nil || err.Error() != "query plain does not take --tenant; it takes no filters" {
		t.Errorf("%v", err)
	}
}

// Every query of the pack parses, has a one-line description, and declares
// the filters this table says; a change to a query's filters changes the
// documentation too.
func TestThePacksFilters(t *testing.T) {
	want := map[string][]string{
		"awu_funnel":                  {"month", "tenant"},
		"cost_per_workcycle":          {"month", "tenant"},
		"escalation_rate":             {"month", "tenant"},
		"inference_to_work":           {"month", "tenant"},
		"model_cost_monthly":          {"month", "tenant"},
		"most_expensive_workcycles":   {"month", "tenant"},
		"retry_inflation":             {"tenant"},
		"roi_inputs":                  {"month", "tenant"},
		"tenant_daily_totals":         {"month", "tenant"},
		"workcycle_cost_distribution": {"month", "tenant"},
		"tenant_monthly_totals":       {"month", "tenant"},
		"tool_success_rate":           {"month", "tenant"},
		"work_outcomes":               {"month", "tenant"},
	}
	qs, err := Queries()
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != len(want) {
		t.Errorf("%d queries, want %d", len(qs), len(want))
	}
	for _, q := range qs {
		if !reflect.DeepEqual(q.Filters, want[q.Name]) {
			t.Errorf("%s takes %q, want %q", q.Name, q.Filters, want[q.Name])
		}
		if !strings.HasSuffix(q.Description, ".") && !strings.HasSuffix(q.Description, "price") {
			t.Errorf("%s: description %q does not end a sentence on its first line", q.Name, q.Description)
		}
		sql, args, err := q.Bind(FilterValues{"tenant": "t1"})
		if err != nil || len(args) == 0 || strings.Count(sql, "?") != len(args) {
			t.Errorf("%s: %v, %d args for\n%s", q.Name, err, len(args), sql)
		}
	}
	if _, err := LoadQuery("nope"); err == nil || !strings.Contains(err.Error(), "--list") {
		t.Errorf("unknown query: %v", err)
	}
}
