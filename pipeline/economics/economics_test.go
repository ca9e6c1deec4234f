package economics

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// cents rounds as the article prints amounts.
func cents(x decimal.Decimal) string { return x.Round(2).StringFixed(2) }

// The article's base case: H ≈ $8.37 per human-handled case.
func TestHumanCostPerCaseIsTheArticles(t *testing.T) {
	h := DefaultAssumptions().HumanCostPerCase()
	// 13.68 / 32.37 = 0.422613531047...; 20.59 × 1.422613531047 = 29.2916...;
	// × 1.2 = 35.1499...; ÷ 0.7 = 50.2142...; × 10 / 60 = 8.36903...
	if got := h.PerCase.StringFixed(5); got != "8.36903" {
		t.Fatalf("H = %s, want 8.36903", h.PerCase)
	}
	if got := cents(h.PerCase); got != "8.37" {
		t.Fatalf("H rounds to %s, want 8.37", got)
	}
	// 1,760 paid hours × 70% × 6 cases an hour.
	if !h.CasesPerAgent.Equal(d("7392")) {
		t.Fatalf("cases per agent = %s, want 7392", h.CasesPerAgent)
	}
}

// The sensitivity table (H = $8.37, AI = $2), with H as derived.
func TestSensitivityTableIsTheArticles(t *testing.T) {
	h := DefaultAssumptions().HumanCostPerCase().PerCase
	for _, c := range []struct{ r, s, blended, savings string }{
		{"0.2", "0", "8.70", "-0.33"},
		{"0.2", "0.2", "7.36", "1.01"},
		{"0.4", "0", "7.02", "1.35"},
		{"0.6", "0.2", "4.68", "3.69"},
		{"0.8", "0.2", "3.34", "5.03"},
	} {
		b := Blended(h, d("2"), d(c.r), d(c.s))
		if cents(b) != c.blended || cents(h.Sub(b)) != c.savings {
			t.Errorf("R %s, S %s: blended %s, savings %s; want %s and %s", c.r, c.s, cents(b), cents(h.Sub(b)), c.blended, c.savings)
		}
	}
}

// Break-even: about 24% with S = 0 and about 5% with S = 20%.
func TestBreakEvenResolutionIsTheArticles(t *testing.T) {
	h := DefaultAssumptions().HumanCostPerCase().PerCase
	for _, c := range []struct{ s, want string }{{"0", "23.9"}, {"0.2", "4.9"}} {
		r, ok := BreakEvenResolution(h, d("2"), d(c.s))
		if !ok || Percent(r).Round(1).StringFixed(1) != c.want {
			t.Errorf("S %s: break-even R %s%% (ok %t), want %s%%", c.s, Percent(r), ok, c.want)
		}
	}
	if _, ok := BreakEvenResolution(d("1"), d("2"), d("0")); ok {
		t.Error("an AI dearer than a human case breaks even")
	}
	if r, ok := BreakEvenResolution(d("8"), d("0"), d("0")); !ok || !r.IsZero() {
		t.Errorf("a free AI breaks even at %s (ok %t), want 0", r, ok)
	}
}

// The ROI scenarios: $0.25M of enablement at 100,000 cases, R = 60%,
// S = 20% pays back in about 8 months.
func TestROIScenariosAreTheArticles(t *testing.T) {
	h := DefaultAssumptions().HumanCostPerCase().PerCase
	for _, c := range []struct {
		cases, r, s, enablement    string
		baseline, blended, savings string // millions, 2 places
		months                     string // 1 place
	}{
		{"100000", "0.6", "0.2", "250000", "0.84", "0.47", "0.37", "8.1"},
		{"100000", "0.8", "0.2", "250000", "0.84", "0.33", "0.50", "6.0"},
		{"1000000", "0.6", "0.2", "1000000", "8.37", "4.68", "3.69", "3.3"},
		{"1000000", "0.8", "0.2", "1000000", "8.37", "3.34", "5.03", "2.4"},
	} {
		roi := Return(h, d("2"), Scenario{Cases: d(c.cases), R: d(c.r), S: d(c.s), Enablement: d(c.enablement)})
		m := func(x decimal.Decimal) string { return x.Div(d("1000000")).Round(2).StringFixed(2) }
		got := strings.Join([]string{m(roi.Baseline), m(roi.Blended), m(roi.Savings), roi.PaybackMonths.Round(1).StringFixed(1)}, " ")
		want := strings.Join([]string{c.baseline, c.blended, c.savings, c.months}, " ")
		if got != want || !roi.PaysBack {
			t.Errorf("%s cases, R %s: got %s, want %s", c.cases, c.r, got, want)
		}
	}
	if roi := Return(h, d("20"), Scenario{Cases: d("10"), R: d("0.5"), Enablement: d("1")}); roi.PaysBack {
		t.Errorf("a scenario that loses money pays back: %+v", roi)
	}
}

// Build vs buy at $2 a case and $0.05 of compute: about 256k, 769k and
// 1.54M cases a year for $0.5M, $1.5M and $3M of fixed cost.
func TestBuildVsBuyIsTheArticles(t *testing.T) {
	for _, c := range []struct{ fixed, want string }{
		{"500000", "256410"}, {"1500000", "769231"}, {"3000000", "1538462"},
	} {
		v, ok := BuildVsBuy(d(c.fixed), d("2"), d("0.05"))
		if !ok || v.Round(0).String() != c.want {
			t.Errorf("fixed %s: %s cases, want %s", c.fixed, v, c.want)
		}
	}
	if _, ok := BuildVsBuy(d("1"), d("0.05"), d("0.05")); ok {
		t.Error("building pays although compute costs the price")
	}
}

func TestAnEconomicsFileLaysTenantsOverTheDefault(t *testing.T) {
	f, err := Parse([]byte("default:\n  handle_minutes: 12\ntenants:\n  acme:\n    ai_cost_per_case: 1.40\n  bigco: {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	acme, other := f.For("acme"), f.For("nobody")
	if !acme.HandleMinutes.Equal(d("12")) || !acme.AICostPerCase.Equal(d("1.4")) || !acme.WagePerHour.Equal(d("20.59")) {
		t.Errorf("acme: %+v", acme)
	}
	if !other.HandleMinutes.Equal(d("12")) || !other.AICostPerCase.Equal(d("2")) {
		t.Errorf("default: %+v", other)
	}
	if !f.For("bigco").HandleMinutes.Equal(d("12")) {
		t.Errorf("bigco: %+v", f.For("bigco"))
	}
}

func TestAnEconomicsFileNamesEveryProblem(t *testing.T) {
	_, err := Parse([]byte("default:\n  utilization: 1.5\n  bogus: 1\ntenants:\n  acme:\n    wage_per_hour: -1\n"))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{`unknown key "bogus"`, "tenants.acme.wage_per_hour: must be positive, got -1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v\nlacks %q", err, want)
		}
	}
	_, err = Parse([]byte("default:\n  utilization: 1.5\n"))
	if err == nil || !strings.Contains(err.Error(), "default.utilization: must be above 0 and at most 1, got 1.5") {
		t.Errorf("err = %v", err)
	}
}

// Four completed workcycles: two resolved by the agent, two escalated that
// took 6 and 4 human minutes against a 10-minute baseline.
func TestMeasuredRates(t *testing.T) {
	m := Measured{Completed: 4, ResolvedByAgent: 2, EscalatedTimed: 2, EscalatedHumanMillis: 600_000, ListCost: d("0.60"), TokenCost: d("0.11")}
	r, s, ok := m.Rates(DefaultAssumptions())
	if !ok || !r.Equal(d("0.5")) || !s.Equal(d("0.5")) {
		t.Fatalf("R %s, S %s (measured %t), want 0.5 and 0.5", r, s, ok)
	}
	if !m.CostPerWorkcycle(true).Equal(d("0.15")) || !m.CostPerWorkcycle(false).Equal(d("0.0275")) {
		t.Fatalf("cost per workcycle %s (list), %s (token)", m.CostPerWorkcycle(true), m.CostPerWorkcycle(false))
	}
	slow := Measured{Completed: 2, EscalatedTimed: 1, EscalatedHumanMillis: 900_000}
	if _, s, _ := slow.Rates(DefaultAssumptions()); !s.IsZero() {
		t.Errorf("humans slower than the baseline save %s, want 0", s)
	}
	if _, _, ok := (Measured{Completed: 3, ResolvedByAgent: 3}).Rates(DefaultAssumptions()); ok {
		t.Error("S measured without any timed escalation")
	}
}
