package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/internal/testenv"
	"github.com/awumeter/awumeter/pipeline/migrate"
)

// With no flags, awumeter roi prints the article's tables. The golden file
// was checked figure by figure against the article ("Quantitative models
// and sensitivity tables"): H ≈ $8.37; break-even about 24% and 5%; the
// five blended costs and savings; the four ROI scenarios and their
// paybacks of about 8, 6, 3 and 2–3 months; build vs buy about 256k, 769k
// and 1.54M cases.
func TestROIPrintsTheArticlesTables(t *testing.T) {
	out, errOut, err := execute(t, "roi")
	if err != nil {
		t.Fatalf("%v: %s", err, errOut)
	}
	want, err := os.ReadFile("../../testdata/roi/article.txt")
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Fatalf("got:\n%s\nwant (testdata/roi/article.txt):\n%s", out, want)
	}
}

// A tenant's section of an economics file and the flags change the model;
// the expected values are worked by hand in the comments.
func TestROIWithATenantsAssumptions(t *testing.T) {
	file := filepath.Join(t.TempDir(), "economics.yaml")
	if err := os.WriteFile(file, []byte("default:\n  handle_minutes: 12\ntenants:\n  acme:\n    ai_cost_per_case: 1.40\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := execute(t, "roi", "--economics", file, "--tenant", "acme", "--rs", "50%:0.1",
		"--scenario", "200000:50%:10%:300000", "--fixed", "500000", "--format", "json")
	if err != nil {
		t.Fatalf("%v: %s", err, errOut)
	}
	var rep struct {
		Human struct {
			PerCase decimal.Decimal `json:"per_case"`
		} `json:"human_cost"`
		BreakEven []struct {
			Resolution decimal.Decimal `json:"resolution_rate"`
		} `json:"break_even"`
		Sensitivity []struct {
			Blended decimal.Decimal `json:"blended_per_case"`
			Savings decimal.Decimal `json:"savings_per_case"`
		} `json:"sensitivity"`
		Scenarios []struct {
			Savings decimal.Decimal `json:"savings_per_year"`
			Payback decimal.Decimal `json:"payback_months"`
		} `json:"scenarios"`
		Build []struct {
			Volume decimal.Decimal `json:"break_even_cases_per_year"`
		} `json:"build_vs_buy"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	r2 := func(d decimal.Decimal, places int32) string { return d.Round(places).StringFixed(places) }
	got := strings.Join([]string{
		// $50.21419303587 a handling hour × 12 / 60 minutes.
		r2(rep.Human.PerCase, 4),
		// 1 − (10.0428 − 1.40) / 10.0428 = 1.40 / 10.0428.
		r2(rep.BreakEven[0].Resolution, 4),
		// 1.40 + 0.5 × 10.0428 × 0.9 = 5.9193; savings 10.0428 − 5.9193.
		r2(rep.Sensitivity[0].Blended, 2), r2(rep.Sensitivity[0].Savings, 2),
		// 200,000 × 4.12356123 = 824,712.25 a year; 300,000 × 12 / that.
		r2(rep.Scenarios[0].Savings, 0), r2(rep.Scenarios[0].Payback, 2),
		// 500,000 / (1.40 − 0.05).
		r2(rep.Build[0].Volume, 0),
	}, " ")
	want := "10.0428 0.1394 5.92 4.12 824712 4.37 370370"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestROIRefusesBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--rs", "150%:0"}, `--rs "150%:0": R: "150%" is not between 0% and 100%`},
		{[]string{"--rs", "20%"}, `--rs "20%": want R:S`},
		{[]string{"--scenario", "10:20%:0%:x"}, `--scenario "10:20%:0%:x": ENABLEMENT: "x" is not a number`},
		{[]string{"--tenant", "acme"}, "--tenant needs --economics"},
		{[]string{"--fixed", "-1"}, `--fixed "-1": "-1" is negative`},
		{[]string{"--format", "xml"}, `--format must be text or json, not "xml"`},
	} {
		_, _, err := execute(t, append([]string{"roi"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want %s", c.args, err, c.want)
		}
	}
}

// --month measures R, S and the AI cost from ClickHouse. acme's October:
// w1 resolved by the agent, w2 resolved (resolved_by unsaid), w3 escalated
// and resolved by a human in 6 minutes, w4 abandoned after 4 human
// minutes, w5 still open (not counted), and bigco's w6 (another tenant).
// R = 2/4, S = 1 − (10 min / 2) / 10 = 0.5; list cost 0.60 over 4
// workcycles = $0.15 a case; blended = 0.15 + 0.5 × 8.369032172645 × 0.5.
func TestROIMeasuresTheMonth(t *testing.T) {
	dec := decimal.RequireFromString
	if testing.Short() {
		t.Skip("needs ClickHouse")
	}
	ch := testenv.NewClickHouse(t)
	ctx := testenv.Context(t, time.Minute)
	if _, err := migrate.Up(ctx, ch.Conn, migrate.Options{Database: ch.Database}); err != nil {
		t.Fatal(err)
	}
	b, err := ch.Conn.PrepareBatch(ctx, "INSERT INTO workcycles (tenant_id, workcycle_id, outcome, resolved_by, human_millis, started_at, list_cost, token_cost, state, version)")
	if err != nil {
		t.Fatal(err)
	}
	oct := time.Date(2026, 10, 7, 9, 0, 0, 0, time.UTC)
	for _, r := range [][]any{
		{"acme", "w1", "resolved", "agent", int64(0), oct, dec("0.30"), dec("0.05"), "closed", uint64(3)},
		{"acme", "w2", "resolved", "", int64(0), oct, dec("0.20"), dec("0.03"), "closed", uint64(3)},
		{"acme", "w3", "escalated", "human", int64(360_000), oct, dec("0.10"), dec("0.02"), "closed", uint64(3)},
		{"acme", "w4", "abandoned", "", int64(240_000), oct, dec("0"), dec("0.01"), "closed", uint64(3)},
		{"acme", "w5", "", "", int64(0), oct, dec("5"), dec("5"), "open", uint64(1)},
		{"bigco", "w6", "resolved", "agent", int64(0), oct, dec("7"), dec("7"), "closed", uint64(1)},
	} {
		if err := b.Append(r...); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	conn := []string{"--clickhouse", ch.Addr, "--database", ch.Database}
	out, errOut, err := execute(t, append([]string{"roi", "--month", "2026-10", "--tenant", "acme", "--ai-cost", "list", "--format", "json"}, conn...)...)
	if err != nil {
		t.Fatalf("%v: %s", err, errOut)
	}
	var rep struct {
		Measured struct {
			Inputs struct {
				Completed int64
			} `json:"inputs"`
			R         decimal.Decimal `json:"resolution_rate"`
			S         decimal.Decimal `json:"time_saved"`
			SMeasured bool            `json:"time_saved_measured"`
			AICost    decimal.Decimal `json:"ai_cost_per_case"`
			Blended   decimal.Decimal `json:"blended_per_case"`
		} `json:"measured"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	m := rep.Measured
	if m.Inputs.Completed != 4 || !m.R.Equal(dec("0.5")) || !m.S.Equal(dec("0.5")) || !m.SMeasured ||
		!m.AICost.Equal(dec("0.15")) || m.Blended.StringFixed(8) != "2.24225804" {
		t.Fatalf("measured %+v\n%s", m, out)
	}
	text, errOut, err := execute(t, append([]string{"roi", "--month", "2026-10", "--tenant", "acme"}, conn...)...)
	if err != nil {
		t.Fatalf("%v: %s", err, errOut)
	}
	for _, want := range []string{
		"Measured in 2026-10, acme: 4 completed workcycles\n",
		"  R = 50% (2 resolved by the agent without a human)\n",
		"  S = 50% (5 human minutes per escalated workcycle, of 2 that said, against 10)\n",
		"  AI cost per case $2.00 (conversation)\n",
		// 2 + 0.5 × 8.369032 × 0.5 = 4.09; 8.37 − 4.09.
		"  blended cost per case $4.09, savings vs all-human $4.28\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in\n%s", want, text)
		}
	}
	_, _, err = execute(t, append([]string{"roi", "--month", "2026-09", "--tenant", "acme"}, conn...)...)
	if err == nil || !strings.Contains(err.Error(), "no completed workcycle started in 2026-09 for tenant acme") {
		t.Errorf("an empty month: %v", err)
	}
}
