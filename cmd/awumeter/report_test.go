package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/internal/testenv"
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/migrate"
	"github.com/awumeter/awumeter/pipeline/sink"
)

func TestReportRefusesBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"report"}, `required flag(s) "month" not set`},
		{[]string{"report", "--month", "2026-1"}, `--month "2026-1": want a UTC month as YYYY-MM`},
		{[]string{"report", "--month", "2026-10", "--ai-cost", "free"}, `--ai-cost "free": want conversation, list or token`},
		{[]string{"report", "--month", "2026-10", "--tenant", ""}, "--tenant is empty; leave it out to report every tenant"},
		{[]string{"report", "--month", "2026-10", "--economics", "/nonexistent/economics.yaml"}, "/nonexistent/economics.yaml"},
	} {
		_, _, err := execute(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err %v, want %q", c.args, err, c.want)
		}
	}
}

// One workcycle of one AWU, written as the service writes it: the report
// of its month holds it, the file is written whole, and a failed run
// leaves no file behind.
func TestReportWritesTheMonth(t *testing.T) {
	if testing.Short() {
		t.Skip("needs ClickHouse")
	}
	ch := testenv.NewClickHouse(t)
	ctx := testenv.Context(t, time.Minute)
	if _, err := migrate.Up(ctx, ch.Conn, migrate.Options{Database: ch.Database}); err != nil {
		t.Fatal(err)
	}
	schema, err := migrate.CheckSchema(ctx, ch.Conn, ch.Database)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 10, 7, 9, 0, 0, 0, time.UTC)
	cost := decimal.RequireFromString("0.0421")
	b := sink.Batch{
		Workcycles: []engine.WorkcycleRow{{TenantID: "acme", WorkcycleID: "w1", AgentID: "support", Outcome: "resolved", ResolvedBy: "agent",
			StartedAt: at, EndedAt: at.Add(time.Minute), AWUs: 1, AWUsSucceeded: 1, Attempts: 1, TokenCost: cost, ListCost: decimal.Zero, Version: 1}},
		AWUs: []engine.AWURow{{TenantID: "acme", WorkcycleID: "w1", AWUID: "u1", AgentID: "support", Kind: "prompt", Channel: "text",
			Status: "succeeded", Attempts: 1, FirstSeen: at, LastSeen: at, TokenCounts: engine.TokenCounts{InputTokens: 1200, OutputTokens: 300},
			TokenCost: cost, ListCost: decimal.Zero, Version: 1}},
	}
	if err := sink.NewWriter(ch.Conn, schema, sink.DefaultConfig(), sink.Settings{}).Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	conn := []string{"--clickhouse", ch.Addr, "--database", ch.Database}
	dir := t.TempDir()
	file := filepath.Join(dir, "acme.html")
	_, errOut, err := execute(t, append([]string{"report", "--month", "2026-10", "--tenant", "acme", "--output", file}, conn...)...)
	if err != nil {
		t.Fatalf("%v: %s", err, errOut)
	}
	if !strings.Contains(errOut, "reading work_outcomes\n") ||
		!strings.Contains(errOut, "acme.html (") || !strings.Contains(errOut, "KiB): closed workcycles 1, AWUs 1, token cost $0.04, list price $0.00\n") {
		t.Errorf("stderr:\n%s", errOut)
	}
	page, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<h1>Work economics, October 2026</h1>", "Tenant <strong>acme</strong>", "<td>2026-10-07</td><td>1</td><td>1</td><td>1,200</td><td>300</td><td>$0.0421</td><td>$0.00</td>"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	out, _, err := execute(t, append([]string{"report", "--month", "2026-10", "--output", "-"}, conn...)...)
	if err != nil || !strings.HasPrefix(out, "<!DOCTYPE html>") || !strings.Contains(out, "Every tenant") {
		t.Errorf("--output -: %v\n%.200s", err, out)
	}
	// A month with nothing: an error, and no file.
	empty := filepath.Join(dir, "empty.html")
	_, _, err = execute(t, append([]string{"report", "--month", "2026-09", "--output", empty}, conn...)...)
	if err == nil || !strings.Contains(err.Error(), "nothing metered in 2026-09 for any tenant") {
		t.Errorf("an empty month: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("files left in the output directory: %v", entries)
	}

	// A symbolic link is followed: its target gets the report, the link stays.
	target, link := filepath.Join(dir, "target.html"), filepath.Join(dir, "link.html")
	if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if _, errOut, err := execute(t, append([]string{"report", "--month", "2026-10", "--output", link}, conn...)...); err != nil {
		t.Fatalf("%v: %s", err, errOut)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v %v", st, err)
	}
	if b, _ := os.ReadFile(target); !strings.HasPrefix(string(b), "<!DOCTYPE html>") {
		t.Errorf("the link's target holds %.40q", b)
	}
	if st, _ := os.Stat(target); st.Mode().Perm() != 0o600 {
		t.Errorf("the replaced file's permissions are %v, want its own 0600", st.Mode().Perm())
	}
	// A device is written in place, never replaced.
	if _, errOut, err := execute(t, append([]string{"report", "--month", "2026-10", "--output", os.DevNull}, conn...)...); err != nil {
		t.Fatalf("%v: %s", err, errOut)
	}
	if st, err := os.Stat(os.DevNull); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("%s is no longer a device: %v %v", os.DevNull, st, err)
	}
}

// An output that cannot be written is refused before any query: these
// point at a server that is not there, and fail on --output first.
func TestReportRefusesABadOutputFirst(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ output, want string }{
		{"", "--output is empty"},
		{dir, "is a directory"},
		{filepath.Join(dir, "missing", "r.html"), "directory " + filepath.Join(dir, "missing") + " does not exist"},
	} {
		_, _, err := execute(t, "report", "--month", "2026-10", "--output", c.output, "--clickhouse", "127.0.0.1:1")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("--output %q: %v, want %q", c.output, err, c.want)
		}
	}
}
