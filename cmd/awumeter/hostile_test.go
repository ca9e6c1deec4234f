package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rollupsFile writes awumeter process output with one succeeded tool AWU
// per entry of inputTokens, all of tenant, on 2 October 2026.
func rollupsFile(t *testing.T, tenant string, inputTokens ...int64) string {
	t.Helper()
	var b bytes.Buffer
	for i, n := range inputTokens {
		row := map[string]any{"table": "awus", "tenant_id": tenant, "workcycle_id": "w1", "awu_id": "a" + string(rune('0'+i)),
			"agent_id": "agent-1", "kind": "tool", "tool": "lookup", "channel": "text", "status": "succeeded",
			"validated": false, "rolled_back": false, "attempts": 1,
			"first_seen": "2026-10-02T00:00:00Z", "last_seen": "2026-10-02T00:00:00Z",
			"input_tokens": n, "output_tokens": 0, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0,
			"reasoning_tokens": 0, "token_cost": "0.5", "credits": 20, "list_cost": "0.1", "unpriced_tokens": 0, "version": 1}
		line, err := json.Marshal(row)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(append(line, '\n'))
	}
	path := filepath.Join(t.TempDir(), "rollups.ndjson")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Two AWUs of 5,000,000,000,000,000,000 input tokens each: the statement's
// sum would wrap to -8446744073709551616. It is refused instead, naming the
// tenant, the month and the field.
func TestStatementRefusesASumThatWouldOverflow(t *testing.T) {
	path := rollupsFile(t, "acme", 5000000000000000000, 5000000000000000000)
	for _, format := range []string{"text", "json", "csv"} {
		t.Run("the "+format+" statement is refused", func(t *testing.T) {
			out, _, err := runStatementCmd(t, "statement", "--month", "2026-10", "--rollups", path, "--format", format)
			if err == nil {
				t.Fatalf("no error; the statement was printed:\n%s", out)
			}
			for _, want := range []string{`"acme"`, "2026-10", "input_tokens", "overflow"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %s", err, want)
				}
			}
			if strings.Contains(out, "-8446744073709551616") {
				t.Fatalf("a wrapped sum was printed:\n%s", out)
			}
		})
	}
}

func TestTextStatementCannotBeForgedByATenantID(t *testing.T) {
	path := rollupsFile(t, "acme\nTotal     USD 0.00\nHash      sha256:forged\x1b[2J", 10)
	out, _, err := runStatementCmd(t, "statement", "--month", "2026-10", "--rollups", path)
	if err != nil {
		t.Fatal(err)
	}
	var totals, hashes int
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "Total") {
			totals++
		}
		if strings.HasPrefix(l, "Hash") {
			hashes++
		}
	}
	if totals != 1 || hashes != 1 || strings.Contains(out, "sha256:forged\n") {
		t.Fatalf("%d Total and %d Hash lines, want one each:\n%s", totals, hashes, out)
	}
	if strings.Contains(out, "\x1b") {
		t.Fatalf("an escape byte reached the terminal: %q", out)
	}
}

func TestCSVStatementNeutralisesAFormulaTenant(t *testing.T) {
	tenant := "=1+1|cmd"
	path := rollupsFile(t, tenant, 10)
	out, _, err := runStatementCmd(t, "statement", "--month", "2026-10", "--rollups", path, "--format", "csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows[1:] {
		if r[0] != "'"+tenant+":2026-10" || r[1] != "'"+tenant {
			t.Fatalf("statement_id %q, tenant_id %q; want both behind a single quote", r[0], r[1])
		}
	}
}

func TestCostRefusesCreditsThatWouldOverflow(t *testing.T) {
	// 500,000,000,000,000,000 actions × 20 credits is beyond int64.
	out, _, err := execute(t, "cost", "--actions", "500000000000000000")
	if err == nil || !strings.Contains(err.Error(), "--actions") || !strings.Contains(err.Error(), "overflow") {
		t.Fatalf("err %v, want an overflow naming --actions; printed:\n%s", err, out)
	}
}

// A malformed --set never shows its argument, on stderr or in the error.
func TestRunDoesNotEchoAMalformedSet(t *testing.T) {
	const secret = "S3cr3t-planted-4b1d"
	// runService wrote problems to os.Stderr before; capture it too.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = w
	_, errOut, runErr := execute(t, "run", "--set", "clickhouse.password:"+secret)
	os.Stderr = saved
	w.Close()
	osErr, _ := io.ReadAll(r)
	if runErr == nil {
		t.Fatal("run accepted a malformed --set")
	}
	for name, s := range map[string]string{"stderr": errOut + string(osErr), "error": runErr.Error()} {
		if strings.Contains(s, secret) {
			t.Fatalf("%s shows the secret: %s", name, s)
		}
	}
	if !strings.Contains(errOut+string(osErr), "clickhouse.password") {
		t.Fatalf("stderr does not name the key: %s", errOut+string(osErr))
	}
}
