package main

import (
	"slices"
	"strings"
	"testing"
)

// The benchmark itself needs ClickHouse and minutes (make bench-rollups);
// these test its pure helpers only.

func TestParseSizes(t *testing.T) {
	got, err := parseSizes("10000000, 100M,1e6,5_000k")
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{10_000_000, 100_000_000, 1_000_000, 5_000_000}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for _, bad := range []string{"", "x", "10"} {
		if _, err := parseSizes(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestReplaceBlock(t *testing.T) {
	doc := "# B\n\n## Rollups\n\nintro\n\n" + beginMarker + "\nold\n" + endMarker + "\n\n## Later\n"
	got, err := replaceBlock(doc, "new\n\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := "# B\n\n## Rollups\n\nintro\n\n" + beginMarker + "\nnew\n" + endMarker + "\n\n## Later\n"; got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	added, err := replaceBlock("# B\n", "new")
	if err != nil || !strings.HasSuffix(added, "## Rollups\n\n`make bench-rollups` writes its latest table here.\n\n"+beginMarker+"\nnew\n"+endMarker+"\n") {
		t.Errorf("no markers: got %q, %v", added, err)
	}
	if _, err := replaceBlock(endMarker+"\n"+beginMarker, "x"); err == nil {
		t.Error("markers out of order: no error")
	}
}

func TestLabel(t *testing.T) {
	for q, want := range map[string]string{
		"-- c\nINSERT INTO db.awu_days (a, b)\nSELECT a FROM db.awus FINAL": "INSERT awu_days ← awus",
		"CREATE TABLE IF NOT EXISTS db.rollup_usage_daily\n(":               "CREATE rollup_usage_daily",
		"DROP TABLE IF EXISTS db.usage_monthly":                             "DROP usage_monthly",
	} {
		if got := label(q, "db"); got != want {
			t.Errorf("label(%q) = %q, want %q", q, got, want)
		}
	}
}

func TestGeneratedSQLNamesEveryColumnOnce(t *testing.T) {
	s := shape{db: "db", n: 1000, legacy: true}
	for _, sql := range []string{s.awusSQL(false), s.awusSQL(true), s.modelsSQL(false), s.modelsSQL(true)} {
		head, _, _ := strings.Cut(sql, ")\nSELECT")
		_, cols, _ := strings.Cut(head, "(")
		seen := map[string]bool{}
		for c := range strings.SplitSeq(cols, ", ") {
			if seen[c] {
				t.Errorf("column %s twice in %s", c, head)
			}
			seen[c] = true
		}
	}
}
