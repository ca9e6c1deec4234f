package chschema

import (
	"io/fs"
	"os"
	"strings"
	"testing"
)

func renderAll(t *testing.T, p Params) string {
	t.Helper()
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, m := range ms {
		stmts, err := m.Statements(p)
		if err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		for _, s := range stmts {
			b.WriteString(s + ";\n")
		}
	}
	return b.String()
}

func TestRenderBranches(t *testing.T) {
	modernOnly := []string{"LowCardinality", "DateTime64", "CODEC(", " TTL "}
	t.Run("legacy uses nothing 18.16 lacks", func(t *testing.T) {
		sql := renderAll(t, Params{Database: "awumeter", Flavor: Legacy})
		for _, f := range append(modernOnly, "Replicated", "Distributed", "ON CLUSTER", "{{") {
			if strings.Contains(sql, f) {
				t.Errorf("legacy DDL contains %q", f)
			}
		}
		for _, want := range []string{"started_at_ms", "time_ms", "CREATE TABLE IF NOT EXISTS awumeter.workcycles\n"} {
			if !strings.Contains(sql, want) {
				t.Errorf("legacy DDL lacks %q", want)
			}
		}
	})
	t.Run("modern uses the modern features and no _ms columns", func(t *testing.T) {
		sql := renderAll(t, Params{Database: "awumeter", Flavor: Modern, EventsRetentionDays: 400})
		for _, f := range modernOnly {
			if !strings.Contains(sql, f) {
				t.Errorf("modern DDL lacks %q", f)
			}
		}
		if strings.Contains(sql, "_ms ") {
			t.Error("modern DDL has a _ms column")
		}
		if !strings.Contains(sql, "TTL toDateTime(time) + INTERVAL 400 DAY") {
			t.Error("no TTL on events")
		}
	})
	t.Run("without a retention there is no TTL", func(t *testing.T) {
		if sql := renderAll(t, Params{Database: "awumeter", Flavor: Modern}); strings.Contains(sql, " TTL ") {
			t.Error("TTL without retention")
		}
	})
	t.Run("the cluster variant replicates and distributes every table", func(t *testing.T) {
		sql := renderAll(t, Params{Database: "m", Flavor: Legacy, Cluster: "c"})
		for _, table := range []string{"events", "workcycles", "awus", "awu_models"} {
			for _, want := range []string{
				"CREATE TABLE IF NOT EXISTS m." + table + "_local ON CLUSTER c",
				"ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/m/" + table + "_local', '{replica}'",
				"CREATE TABLE IF NOT EXISTS m." + table + " ON CLUSTER c AS m." + table + "_local",
				"ENGINE = Distributed(c, m, " + table + "_local, cityHash64(tenant_id, workcycle_id))",
			} {
				if !strings.Contains(sql, want) {
					t.Errorf("cluster DDL lacks %q", want)
				}
			}
		}
		if !strings.Contains(sql, "CREATE VIEW IF NOT EXISTS m.usage_daily ON CLUSTER c") {
			t.Error("views are not created on the cluster")
		}
	})
}

func TestParamsValidate(t *testing.T) {
	for name, p := range map[string]Params{
		"database with a quote": {Database: "a'b", Flavor: Legacy},
		"unknown flavor":        {Database: "a", Flavor: "new"},
		"cluster with a space":  {Database: "a", Flavor: Legacy, Cluster: "a b"},
		"negative retention":    {Database: "a", Flavor: Modern, EventsRetentionDays: -1},
		"retention on legacy":   {Database: "a", Flavor: Legacy, EventsRetentionDays: 30},
	} {
		t.Run(name, func(t *testing.T) {
			if err := p.Validate(); err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestQueriesAreSingleStatements(t *testing.T) {
	names := QueryNames()
	if len(names) < 9 {
		t.Fatalf("only %d queries", len(names))
	}
	for _, n := range names {
		q, err := Query(n)
		if err != nil {
			t.Fatal(err)
		}
		// Runnable by hand with clickhouse-client --database: no template
		// and no database in front of a table.
		if strings.Contains(q, "{{") || strings.Contains(q, "awumeter.") {
			t.Errorf("%s names a database or is a template", n)
		}
	}
}

func TestSplitStatements(t *testing.T) {
	got := splitStatements("-- only a comment;\nSELECT 1;\n\n;\nSELECT ';' AS x\nFROM t;\n")
	if len(got) != 2 || got[0] != "SELECT 1" || got[1] != "SELECT ';' AS x\nFROM t" {
		t.Errorf("%q", got)
	}
}

// docs/clickhouse.md shows every query of the pack as it is.
func TestDocsShowTheQueryPack(t *testing.T) {
	doc, err := os.ReadFile("../../docs/clickhouse.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range QueryNames() {
		src, err := fs.ReadFile(files, "queries/"+n+".sql")
		if err != nil {
			t.Fatal(err)
		}
		want := strings.TrimSpace(string(src))
		if !strings.Contains(string(doc), want) {
			t.Errorf("docs/clickhouse.md does not show queries/%s.sql as it is", n)
		}
	}
}
