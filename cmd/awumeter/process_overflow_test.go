package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awumeter/awumeter/pipeline/price"
)

// A price book of 2^62 credits per text action lets one workcycle hold a
// single billable AWU before its credits pass int64: the second would make
// the workcycle's credits 2^63, which wrapped to -9223372036854775808. The
// event that would add it goes to the dead letters as sum_overflow, with
// its bytes, and the rows keep the first.
func TestProcessSendsSumOverflowsToTheDeadLetters(t *testing.T) {
	dir := t.TempDir()
	book := filepath.Join(dir, "prices.yaml")
	yaml := bytes.Replace(price.DefaultYAML(), []byte("action_credits: 20"), []byte("action_credits: 4611686018427387904"), 1)
	if err := os.WriteFile(book, yaml, 0o644); err != nil {
		t.Fatal(err)
	}
	second := `{"event_id":"e2","type":"tool_invocation","time":"2026-11-02T09:00:02Z","tenant_id":"acme","workcycle_id":"wc-1","awu_id":"b","attempt":1,"tool":"crm.update","status":"succeeded"}`
	input := strings.Join([]string{
		`{"event_id":"e1","type":"tool_invocation","time":"2026-11-02T09:00:01Z","tenant_id":"acme","workcycle_id":"wc-1","awu_id":"a","attempt":1,"tool":"crm.update","status":"succeeded"}`,
		second,
	}, "\n") + "\n"
	dl := filepath.Join(dir, "dl.ndjson")
	out, stderr, err := run(t, input, "process", "--final-only", "--pricebook", book, "--dead-letter", dl, "--now", goldenNow)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}

	var wc map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var row map[string]any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatal(err)
		}
		if row["table"] == "workcycles" {
			wc = row
		}
	}
	if wc == nil || wc["credits"] != 4611686018427387904.0 || wc["awus"] != 1.0 {
		t.Errorf("workcycle row %v, want 4611686018427387904 credits and one AWU", wc)
	}

	letters, err := os.ReadFile(dl)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(letters)), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one dead letter, got %d:\n%s", len(lines), letters)
	}
	var letter struct {
		Reason string `json:"reason"`
		Record string `json:"record"`
		Offset int64  `json:"offset"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &letter); err != nil {
		t.Fatal(err)
	}
	if letter.Reason != "sum_overflow" || letter.Record != second || letter.Offset != 2 {
		t.Errorf("dead letter %s, want reason sum_overflow with line 2's bytes", lines[0])
	}
	if !strings.Contains(stderr, "1 rejected") {
		t.Errorf("summary %q does not count the refused record", stderr)
	}
}
