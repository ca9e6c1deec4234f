package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/pipeline/statement"
)

// FuzzProcessEndToEnd feeds extreme numbers and hostile ids through
// `awumeter process` and then `awumeter statement --rollups`, the offline
// path a careless or hostile producer's records take. Whatever the input:
// nothing panics, every record is accounted for as an event outcome or a
// dead letter, and no count or amount in any row or statement is negative.
func FuzzProcessEndToEnd(f *testing.F) {
	long := strings.Repeat("a", 100_000)
	for _, s := range []struct {
		tenant, workcycle, awu, model, in1, in2, out string
	}{
		{"acme", "case-1", "plan-1", "claude-sonnet-4.6", "4000", "1000", "800"},
		// Sums that wrap int64 when two events of one AWU are added.
		{"acme", "case-1", "plan-1", "claude-sonnet-4.6", "5000000000000000000", "5000000000000000000", "1"},
		// input + output of one unpriced event wraps.
		{"acme", "case-1", "plan-1", "no-such-model", "9223372036854775807", "0", "9223372036854775807"},
		{"acme", "case-1", "plan-1", "gpt-5", "1.0000000000000001", "4611686018427387905.0", "1e-400"},
		{"acme", "case-1", "plan-1", "gpt-5", "-1", "1e30", "18446744073709551616"},
		{long, long, long, long, "1", "2", "3"},
		{"acme\nTotal     USD 0.00\nHash      sha256:forged", "\x1b[31mred", "=cmd|' /C calc'!A0", "\u202egpt", "10", "20", "30"},
		{"", "", "", "", "", "", ""},
	} {
		f.Add(s.tenant, s.workcycle, s.awu, s.model, s.in1, s.in2, s.out)
	}
	f.Fuzz(func(t *testing.T, tenant, workcycle, awu, model, in1, in2, out string) {
		checkProcessEndToEnd(t, tenant, workcycle, awu, model, in1, in2, out)
	})
}

// summaryRE reads the counts of process's summary line.
var summaryRE = regexp.MustCompile(`(\d+) records, (\d+) rejected; (\d+) events accepted \(\d+ late into emitted workcycles\), (\d+) duplicates, (\d+) conflicts`)

func checkProcessEndToEnd(t *testing.T, tenant, workcycle, awu, model, in1, in2, out string) {
	t.Helper()
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	// Numbers go in as raw JSON text, so malformed, huge and fractional
	// numbers all reach the decoder as a producer would send them.
	num := func(s string) string {
		if strings.ContainsAny(s, "\n\r") {
			return "0"
		}
		return s
	}
	common := fmt.Sprintf(`"tenant_id":%s,"workcycle_id":%s,"agent_id":"agent-1"`, q(tenant), q(workcycle))
	lines := []string{
		fmt.Sprintf(`{"event_id":"e1","type":"token_usage","time":"2026-11-26T09:00:00Z",%s,"awu_id":%s,"attempt":1,"model":%s,"input_tokens":%s,"output_tokens":%s}`,
			common, q(awu), q(model), num(in1), num(out)),
		fmt.Sprintf(`{"event_id":"e2","type":"token_usage","time":"2026-11-26T09:00:01Z",%s,"awu_id":%s,"attempt":2,"model":%s,"input_tokens":%s,"output_tokens":%s}`,
			common, q(awu), q(model), num(in2), num(out)),
		fmt.Sprintf(`{"event_id":"e3","type":"tool_invocation","time":"2026-11-26T09:00:02Z",%s,"awu_id":%s,"attempt":1,"tool":%s,"status":"succeeded"}`,
			common, q(awu+"-tool"), q(model)),
		fmt.Sprintf(`{"event_id":"e4","type":"workcycle","time":"2026-11-26T09:00:03Z",%s,"phase":"completed","outcome":"resolved","outcome_type":%s}`,
			common, q(model)),
	}
	lines = append(lines, lines[0]) // a duplicate
	dir := t.TempDir()
	input, rows, dl := filepath.Join(dir, "in.ndjson"), filepath.Join(dir, "rows.ndjson"), filepath.Join(dir, "dl.ndjson")
	if err := os.WriteFile(input, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	_, errOut, err := run(t, "", "process", "--input", input, "--output", rows, "--dead-letter", dl, "--now", goldenNow)
	if err != nil {
		t.Fatalf("process failed on data: %v\n%s", err, errOut)
	}
	m := summaryRE.FindStringSubmatch(errOut)
	if m == nil {
		t.Fatalf("no summary in %q", errOut)
	}
	n := make([]int64, len(m))
	for i := 1; i < len(m); i++ {
		n[i], _ = strconv.ParseInt(m[i], 10, 64)
	}
	records, rejected, accepted, dups, conflicts := n[1], n[2], n[3], n[4], n[5]
	if records != int64(len(lines)) {
		t.Errorf("%d records counted, want %d", records, len(lines))
	}
	// A native JSON record is one event or one rejection, never both or neither.
	if got := rejected + accepted + dups + conflicts; got != records {
		t.Errorf("records not accounted for: %d rejected + %d accepted + %d duplicates + %d conflicts = %d, want %d\n%s",
			rejected, accepted, dups, conflicts, got, records, errOut)
	}
	if letters := countLines(t, dl); letters != rejected {
		t.Errorf("%d dead letters written, want one per rejected record (%d)", letters, rejected)
	}
	checkRowsNonNegative(t, rows)

	stOut, stErr, err := runStatementCmd(t, "statement", "--month", "2026-11", "--rollups", rows, "--format", "json", "--now", goldenNow)
	if err != nil {
		if strings.TrimSpace(err.Error()) == "" {
			t.Fatalf("statement failed without saying why: %s", stErr)
		}
		return // a refusal with a reason is a valid answer; a panic is not
	}
	var sts []statement.JSONStatement
	if err := json.Unmarshal([]byte(stOut), &sts); err != nil {
		t.Fatalf("statement JSON: %v\n%s", err, stOut)
	}
	for _, st := range sts {
		nonNegative(t, "statement total", st.Total)
		for _, l := range st.Lines {
			nonNegative(t, "quantity of "+l.Item, l.Quantity)
			if l.Amount != nil {
				nonNegative(t, "amount of "+l.Item, *l.Amount)
			}
		}
	}
}

func countLines(t *testing.T, path string) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return int64(strings.Count(string(b), "\n"))
}

// checkRowsNonNegative fails on any negative count or amount in process output.
func checkRowsNonNegative(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var row map[string]any
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.UseNumber()
		if err := dec.Decode(&row); err != nil {
			t.Fatalf("row is not JSON: %v", err)
		}
		for k, v := range row {
			switch v := v.(type) {
			case json.Number:
				nonNegative(t, fmt.Sprintf("%v.%s", row["table"], k), v.String())
			case string:
				if k == "token_cost" || k == "list_cost" {
					nonNegative(t, fmt.Sprintf("%v.%s", row["table"], k), v)
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

func nonNegative(t *testing.T, what, s string) {
	t.Helper()
	d, err := decimal.NewFromString(strings.ReplaceAll(s, ",", ""))
	if err != nil {
		t.Errorf("%s: %q is not a number", what, s)
		return
	}
	if d.IsNegative() {
		t.Errorf("%s is negative: %s", what, s)
	}
}
