package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awumeter/awumeter/internal/testenv"
	"github.com/awumeter/awumeter/pipeline/migrate"
	"github.com/awumeter/awumeter/pipeline/statement"
)

const statementFixture = "../../testdata/statement/rollups/"

// runStatementCmd executes awumeter with args and returns stdout and stderr.
func runStatementCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out, errOut bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetIn(strings.NewReader(""))
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err := cmd.Execute()
	return out.String(), errOut.String(), err
}

func statementGolden(t *testing.T, name, got string) {
	t.Helper()
	golden(t, filepath.Join(statementFixture, name), got)
}

// The expected amounts of the fixture, worked out by hand (see the golden
// files for every line):
//
//	acme, flex_credits, UTC: a1 is 1 text action = 20 credits × $0.005 =
//	$0.10; a2 (voice) began on 1 November; a4 failed. Conversations c1 and
//	c2 = 2 × $2 = $4.00, not billed. Token cost: gemini-3-flash $0.125 →
//	$0.12, claude-sonnet-4.6 $0.024 → $0.02. Total $0.10.
//
//	acme in New York: a2 began at 20:05 EDT on 31 October, so October has
//	20 + 30 = 50 credits = $0.25.
//
//	beta, per_conversation: c3 (two workcycles) and c4 (23:59:59 on 31
//	October) = 2 × $2 = $4.00; c5 began in November. Total $4.00.
func TestStatementFromRollupsGolden(t *testing.T) {
	base := []string{"statement", "--month", "2026-10", "--rollups", statementFixture + "rollups.ndjson",
		"--pricebook", statementFixture + "pricebook.yaml"}
	for _, c := range []struct {
		golden string
		args   []string
	}{
		{"statement.txt", nil},
		{"statement.json", []string{"--format", "json"}},
		{"statement.csv", []string{"--format", "csv"}},
		{"statement-new-york.txt", []string{"--tenant", "acme", "--billing", statementFixture + "billing-new-york.yaml"}},
	} {
		t.Run(c.golden, func(t *testing.T) {
			out, errOut, err := runStatementCmd(t, append(base, c.args...)...)
			if err != nil {
				t.Fatalf("%v: %s", err, errOut)
			}
			statementGolden(t, c.golden, out)
		})
	}

	out, _, err := runStatementCmd(t, append(base, "--format", "json")...)
	if err != nil {
		t.Fatal(err)
	}
	var sts []statement.JSONStatement
	if err := json.Unmarshal([]byte(out), &sts); err != nil {
		t.Fatal(err)
	}
	totals := map[string]string{}
	for _, s := range sts {
		totals[s.TenantID] = s.Status + " " + s.Total
	}
	if totals["acme"] != "draft 0.10" || totals["beta"] != "draft 4.00" || len(totals) != 2 {
		t.Errorf("totals %v", totals)
	}

	out, _, err = runStatementCmd(t, append(base, "--tenant", "acme", "--billing", statementFixture+"billing-new-york.yaml", "--format", "json")...)
	if err != nil {
		t.Fatal(err)
	}
	sts = nil
	if err := json.Unmarshal([]byte(out), &sts); err != nil {
		t.Fatal(err)
	}
	if len(sts) != 1 || sts[0].Total != "0.25" || sts[0].PeriodEnd.Format("2006-01-02T15:04Z07:00") != "2026-11-01T04:00Z" {
		t.Errorf("New York statement %+v", sts)
	}
}

// TestStatementFromProcessOutputSplitsTokenCostByModel feeds the worked
// example's `awumeter process` output to `statement --rollups`: its
// awu_models rows split the token cost by model, so no "*" line remains.
func TestStatementFromProcessOutputSplitsTokenCostByModel(t *testing.T) {
	rows := filepath.Join(t.TempDir(), "rows.ndjson")
	if _, errOut, err := run(t, "", "process", "--input", "../../testdata/engine/worked-example/input.ndjson",
		"--output", rows, "--now", goldenNow); err != nil {
		t.Fatalf("%v: %s", err, errOut)
	}
	out, errOut, err := runStatementCmd(t, "statement", "--month", "2026-11", "--rollups", rows, "--format", "json", "--now", goldenNow)
	if err != nil {
		t.Fatalf("%v: %s", err, errOut)
	}
	var sts []statement.JSONStatement
	if err := json.Unmarshal([]byte(out), &sts); err != nil {
		t.Fatal(err)
	}
	if len(sts) != 1 {
		t.Fatalf("%d statements, want 1", len(sts))
	}
	var got []string
	for _, l := range sts[0].Lines {
		if l.Item == statement.ItemTokenCost && l.Amount != nil {
			got = append(got, l.Model+" "+l.Quantity+" "+*l.Amount)
		}
	}
	// docs/engine.md, worked example: acme-internal-7b 1,500 + 500 tokens,
	// unpriced; claude-sonnet-4.6 2 × (12,000 + 2,000) tokens, $0.132;
	// gemini-3-flash 4,000 + 800 tokens, $0.00395.
	want := []string{"acme-internal-7b 2000 0.00", "claude-sonnet-4.6 28000 0.13", "gemini-3-flash 4800 0.00"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("token_cost lines %q, want %q", got, want)
	}
}

func TestStatementFlags(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"the month is required", []string{}, "--month is required"},
		{"a bad month is refused", []string{"--month", "2026-13", "--rollups", statementFixture + "rollups.ndjson"}, "must be YYYY-MM"},
		{"an unknown format is refused", []string{"--month", "2026-10", "--format", "xml"}, "--format \"xml\""},
		{"force needs close", []string{"--month", "2026-10", "--force"}, "--force only applies with --close"},
		{"close needs ClickHouse", []string{"--month", "2026-10", "--close", "--rollups", "x"}, "need ClickHouse"},
		{"reconcile has no csv", []string{"--month", "2026-10", "--reconcile", "--format", "csv"}, "not csv"},
		{"a bad --now is refused", []string{"--month", "2026-10", "--now", "yesterday", "--rollups", "x"}, "--now"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := runStatementCmd(t, append([]string{"statement"}, c.args...)...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestStatementCloseAgainstClickHouse(t *testing.T) {
	if testing.Short() {
		t.Skip("needs ClickHouse")
	}
	ch := testenv.NewClickHouse(t)
	ctx := testenv.Context(t, time.Minute)
	if _, err := migrate.Up(ctx, ch.Conn, migrate.Options{Database: ch.Database}); err != nil {
		t.Fatal(err)
	}
	args := []string{"statement", "--month", "2026-10", "--tenant", "acme", "--clickhouse", ch.Addr, "--database", ch.Database}

	_, _, err := runStatementCmd(t, append(args, "--close", "--now", "2026-11-02T00:00:00Z")...)
	if err == nil || !strings.Contains(err.Error(), "grace period") {
		t.Fatalf("early close: %v", err)
	}
	out, errOut, err := runStatementCmd(t, append(args, "--close", "--now", "2026-11-03T00:00:00Z", "--format", "json")...)
	if err != nil {
		t.Fatalf("close: %v: %s", err, errOut)
	}
	var sts []statement.JSONStatement
	if err := json.Unmarshal([]byte(out), &sts); err != nil || len(sts) != 1 {
		t.Fatalf("close output %q: %v", out, err)
	}
	st := sts[0]
	if st.Status != "closed" || st.Total != "0.00" || st.ClosedAt == nil || st.Forced || !strings.HasPrefix(st.ContentHash, "sha256:") {
		t.Errorf("closed %+v", st)
	}
	if !strings.Contains(errOut, "closed acme:2026-10 ("+st.ContentHash+")") {
		t.Errorf("stderr %q", errOut)
	}
	_, errOut, err = runStatementCmd(t, append(args, "--close", "--now", "2026-11-04T00:00:00Z")...)
	if err != nil || !strings.Contains(errOut, "already closed") || !strings.Contains(errOut, st.ContentHash) {
		t.Errorf("second close: %v, stderr %q", err, errOut)
	}
	out, _, err = runStatementCmd(t, append(args, "--reconcile")...)
	if err != nil || !strings.Contains(out, "(closed): OK") || !strings.Contains(out, "Late after close  0 ledger events") {
		t.Errorf("reconcile: %v\n%s", err, out)
	}
	_, _, err = runStatementCmd(t, "statement", "--month", "2026-10", "--clickhouse", ch.Addr, "--database", "nowhere_"+ch.Database)
	var code exitCode
	if err == nil || errors.As(err, &code) || !strings.Contains(err.Error(), "awumeter migrate") {
		t.Errorf("unmigrated database: %v", err)
	}
}
