package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
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
