package main

import (
	"strings"
	"testing"
	"time"
)

// The benchmark itself needs the stack and minutes (make bench-e2e); these
// test its pure helpers only.

func TestReplaceBlock(t *testing.T) {
	withMarkers := "# B\n\n## End to end\n\nintro\n\n" + beginMarker + "\nold\ntable\n" + endMarker + "\n\n## 2026-11-29, x\n"
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"replaces only what is between the markers", withMarkers,
			"# B\n\n## End to end\n\nintro\n\n" + beginMarker + "\nnew\n" + endMarker + "\n\n## 2026-11-29, x\n"},
		{"adds the section before the first second-level heading", "# B\n\nintro\n\n## 2026-11-29, x\n\nold record\n",
			"# B\n\nintro\n\n## End to end\n\n`make bench-e2e` writes its latest table here.\n\n" +
				beginMarker + "\nnew\n" + endMarker + "\n\n## 2026-11-29, x\n\nold record\n"},
		{"appends the section to a file without headings", "# B",
			"# B\n\n## End to end\n\n`make bench-e2e` writes its latest table here.\n\n" + beginMarker + "\nnew\n" + endMarker + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := replaceBlock(tc.doc, "new\n\n")
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
			again, err := replaceBlock(got, "new")
			if err != nil || again != got {
				t.Errorf("a second replacement changed the document:\n%s", again)
			}
		})
	}
	if _, err := replaceBlock(endMarker+"\n"+beginMarker, "x"); err == nil {
		t.Error("markers out of order: no error")
	}
}

func TestParseMetrics(t *testing.T) {
	m := parseMetrics(`# HELP awumeter_records_total Kafka records read, by topic.
# TYPE awumeter_records_total counter
awumeter_records_total{topic="a"} 5
awumeter_records_total{topic="b"} 7
awumeter_flush_duration_seconds_count{table="events"} 3
awumeter_flush_duration_seconds_count{table="workcycles"} 2
process_cpu_seconds_total 1.5e+00
`)
	if m["awumeter_records_total"] != 12 || m[`awumeter_records_total{topic="b"}`] != 7 || m["process_cpu_seconds_total"] != 1.5 {
		t.Errorf("parsed %v", m)
	}
	by := seriesBy(m, "awumeter_flush_duration_seconds_count", "table")
	if len(by) != 2 || by["events"] != 3 || by["workcycles"] != 2 {
		t.Errorf("by table: %v", by)
	}
	if seriesBy(m, "awumeter_workcycle_lookups_total", "via") != nil {
		t.Error("an absent metric has series")
	}
}

func TestParseStatCPU(t *testing.T) {
	stat := "4242 (awu meter (x)) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 12 0 100 0 0\n"
	got, err := parseStatCPU(stat)
	if err != nil || got != 3.25 {
		t.Errorf("got %v, %v; want 3.25 s", got, err)
	}
	if _, err := parseStatCPU("garbage"); err == nil {
		t.Error("no error for garbage")
	}
}

func TestNumbers(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 897464: "897,464", -1234567: "-1,234,567"} {
		if got := commas(n); got != want {
			t.Errorf("commas(%d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int64]string{10_000_000: "10M", 500_000: "500k", 1234: "1,234"} {
		if got := short(n); got != want {
			t.Errorf("short(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestLedgerSQLNamesEveryColumnItFills(t *testing.T) {
	s := ledgerShape{db: "db", topic: "t", events: 100, workcycles: 90000, tenants: 3,
		before: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), legacyTimes: true}
	sql := s.eventsSQL()
	head, _, _ := strings.Cut(sql, "\n")
	list := strings.TrimSuffix(head[strings.Index(head, "(")+1:], ")")
	if n := len(strings.Split(list, ", ")); n != 27 {
		t.Errorf("%d columns, want the 27 of the legacy events table: %s", n, list)
	}
	if !strings.Contains(sql, "numbers(100)") || !strings.Contains(s.keysSQL(), "numbers(10)") {
		t.Errorf("wrong sizes:\n%s\n%s", sql, s.keysSQL())
	}
}
