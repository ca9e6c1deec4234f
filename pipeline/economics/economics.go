// Package economics is the unit-economics model of "Agentic Work Units"
// (the article behind awumeter, section "Quantitative models and
// sensitivity tables"): the fully loaded cost of a human-handled case, the
// blended cost of AI plus human handling, the break-even resolution rate,
// the payback of an enablement cost, and the build-vs-buy break-even
// volume. It is pure: exact decimals in, exact decimals out; rounding is
// left to whoever prints. docs/economics.md explains every formula and
// the source of every default.
package economics

import (
	"errors"
	"fmt"

	"github.com/shopspring/decimal"
)

// Scale is the number of fractional digits kept by every division of the
// model: far below a cent, so printed amounts never depend on it.
const Scale = 12

var (
	one      = decimal.NewFromInt(1)
	sixty    = decimal.NewFromInt(60)
	twelve   = decimal.NewFromInt(12)
	hundred  = decimal.NewFromInt(100)
	zero     = decimal.Zero
	maxRatio = one
)

// Assumptions are the inputs of the human cost per case and of the
// AI cost per case. Amounts are USD; rates are fractions (0.7 for 70%).
// DefaultAssumptions returns the article's.
type Assumptions struct {
	// WagePerHour is the human agent's hourly wage, USD: the BLS median pay
	// of customer service representatives, $20.59 (May 2024).
	WagePerHour decimal.Decimal `yaml:"wage_per_hour" json:"wage_per_hour"`
	// BenefitsPerHour and ECECWagesPerHour give the benefits load as a
	// share of wages: BLS Employer Costs for Employee Compensation,
	// private industry, September 2025: $13.68 of benefits per $32.37 of
	// wages an hour.
	BenefitsPerHour  decimal.Decimal `yaml:"benefits_per_hour" json:"benefits_per_hour"`
	ECECWagesPerHour decimal.Decimal `yaml:"ecec_wages_per_hour" json:"ecec_wages_per_hour"`
	// PaidHoursPerYear is the paid hours of one agent a year, 1,760. It
	// does not change the cost per case; it sizes a team (Team).
	PaidHoursPerYear decimal.Decimal `yaml:"paid_hours_per_year" json:"paid_hours_per_year"`
	// Utilization is the share of paid time spent handling cases, 0.70.
	Utilization decimal.Decimal `yaml:"utilization" json:"utilization"`
	// HandleMinutes is the average handle time of one case, 10 minutes.
	HandleMinutes decimal.Decimal `yaml:"handle_minutes" json:"handle_minutes"`
	// Overhead is supervision, training and tools on top of loaded wages,
	// 0.20 (the article's explicit assumption).
	Overhead decimal.Decimal `yaml:"overhead" json:"overhead"`
	// AICostPerCase is what the AI costs per inbound case, USD: $2, the
	// published price of a customer-facing conversation.
	AICostPerCase decimal.Decimal `yaml:"ai_cost_per_case" json:"ai_cost_per_case"`
}

// DefaultAssumptions are the article's base case, which gives
// HumanCostPerCase ≈ $8.37.
func DefaultAssumptions() Assumptions {
	return Assumptions{
		WagePerHour:      decimal.RequireFromString("20.59"),
		BenefitsPerHour:  decimal.RequireFromString("13.68"),
		ECECWagesPerHour: decimal.RequireFromString("32.37"),
		PaidHoursPerYear: decimal.NewFromInt(1760),
		Utilization:      decimal.RequireFromString("0.70"),
		HandleMinutes:    decimal.NewFromInt(10),
		Overhead:         decimal.RequireFromString("0.20"),
		AICostPerCase:    decimal.NewFromInt(2),
	}
}

// Validate reports every invalid assumption, naming its YAML key under
// prefix (e.g. "economics.default.").
func (a Assumptions) Validate(prefix string) error {
	var errs []error
	positive := func(key string, d decimal.Decimal) {
		if d.Sign() <= 0 {
			errs = append(errs, fmt.Errorf("%s%s: must be positive, got %s", prefix, key, d))
		}
	}
	nonNegative := func(key string, d decimal.Decimal) {
		if d.Sign() < 0 {
			errs = append(errs, fmt.Errorf("%s%s: must not be negative, got %s", prefix, key, d))
		}
	}
	positive("wage_per_hour", a.WagePerHour)
	nonNegative("benefits_per_hour", a.BenefitsPerHour)
	positive("ecec_wages_per_hour", a.ECECWagesPerHour)
	positive("paid_hours_per_year", a.PaidHoursPerYear)
	positive("handle_minutes", a.HandleMinutes)
	nonNegative("overhead", a.Overhead)
	nonNegative("ai_cost_per_case", a.AICostPerCase)
	if a.Utilization.Sign() <= 0 || a.Utilization.GreaterThan(maxRatio) {
		errs = append(errs, fmt.Errorf("%sutilization: must be above 0 and at most 1, got %s", prefix, a.Utilization))
	}
	return errors.Join(errs...)
}

// HumanCost is the derivation of the fully loaded cost of one
// human-handled case, USD, step by step:
//
//	loaded hour   = wage × (1 + benefits ÷ ECEC wages)
//	overhead hour = loaded hour × (1 + overhead)
//	handling hour = overhead hour ÷ utilization   (a paid hour handles cases for utilization of an hour)
//	per case      = handling hour × handle minutes ÷ 60
type HumanCost struct {
	BenefitsLoad  decimal.Decimal `json:"benefits_load"` // benefits ÷ ECEC wages, a fraction
	LoadedHour    decimal.Decimal `json:"loaded_hour"`
	OverheadHour  decimal.Decimal `json:"overhead_hour"`
	HandlingHour  decimal.Decimal `json:"handling_hour"`
	PerCase       decimal.Decimal `json:"per_case"`        // H
	CasesPerAgent decimal.Decimal `json:"cases_per_agent"` // cases one agent handles a year
}

// HumanCostPerCase derives H from a (see HumanCost). a must be valid.
func (a Assumptions) HumanCostPerCase() HumanCost {
	var h HumanCost
	h.BenefitsLoad = a.BenefitsPerHour.DivRound(a.ECECWagesPerHour, Scale)
	h.LoadedHour = a.WagePerHour.Mul(one.Add(h.BenefitsLoad))
	h.OverheadHour = h.LoadedHour.Mul(one.Add(a.Overhead))
	h.HandlingHour = h.OverheadHour.DivRound(a.Utilization, Scale)
	h.PerCase = h.HandlingHour.Mul(a.HandleMinutes).DivRound(sixty, Scale)
	h.CasesPerAgent = a.PaidHoursPerYear.Mul(a.Utilization).Mul(sixty).DivRound(a.HandleMinutes, Scale)
	return h
}

// Blended is the cost per inbound case when the AI handles every case at
// ai, resolves the share r of them, and the rest go to humans (cost h per
// case) whose effort the AI cuts by the share s:
//
//	blended = ai + (1 − r) × h × (1 − s)
//
// r and s are fractions in [0, 1].
func Blended(h, ai, r, s decimal.Decimal) decimal.Decimal {
	return ai.Add(one.Sub(r).Mul(h).Mul(one.Sub(s)))
}

// BreakEvenResolution is the resolution rate r at which Blended equals
// the all-human cost h, for time saved s:
//
//	r = 1 − (h − ai) ÷ (h × (1 − s))
//
// It is 0 when the AI costs nothing more than the time it saves (the
// blended cost is below h at any rate), and ok is false when no rate
// breaks even: the AI alone costs more than h.
func BreakEvenResolution(h, ai, s decimal.Decimal) (r decimal.Decimal, ok bool) {
	if ai.GreaterThan(h) {
		return zero, false
	}
	denom := h.Mul(one.Sub(s))
	if denom.Sign() <= 0 {
		return zero, true // humans cost nothing on escalations: any rate
	}
	r = one.Sub(h.Sub(ai).DivRound(denom, Scale))
	if r.Sign() < 0 {
		r = zero
	}
	return r, true
}

// Scenario is one year of cases handled with AI: Cases inbound cases a
// year at resolution rate R and time saved S, and a one-time Enablement
// cost, USD.
type Scenario struct {
	Cases      decimal.Decimal `json:"cases_per_year"`
	R          decimal.Decimal `json:"resolution_rate"`
	S          decimal.Decimal `json:"time_saved"`
	Enablement decimal.Decimal `json:"enablement"`
}

// ROI is what a Scenario returns, USD a year; PaybackMonths is the
// months of savings that repay the enablement cost, and ok is false when
// there are no savings to repay it with.
type ROI struct {
	Baseline      decimal.Decimal `json:"all_human_per_year"`
	Blended       decimal.Decimal `json:"blended_per_year"`
	Savings       decimal.Decimal `json:"savings_per_year"`
	PaybackMonths decimal.Decimal `json:"payback_months"`
	PaysBack      bool            `json:"pays_back"`
}

// Return computes sc's ROI for human cost h and AI cost ai per case:
//
//	baseline = cases × h
//	blended  = cases × Blended(h, ai, r, s)
//	savings  = baseline − blended
//	payback  = enablement ÷ savings × 12 months
func Return(h, ai decimal.Decimal, sc Scenario) ROI {
	var out ROI
	out.Baseline = sc.Cases.Mul(h)
	out.Blended = sc.Cases.Mul(Blended(h, ai, sc.R, sc.S))
	out.Savings = out.Baseline.Sub(out.Blended)
	if out.Savings.Sign() > 0 {
		out.PaybackMonths = sc.Enablement.Mul(twelve).DivRound(out.Savings, Scale)
		out.PaysBack = true
	}
	return out
}

// BuildVsBuy is the yearly volume of cases above which building an agent
// in house (a fixed yearly cost plus compute per case) costs less than
// buying it at buy per case:
//
//	volume = fixed ÷ (buy − compute)
//
// ok is false when compute costs at least the price: building never pays.
func BuildVsBuy(fixed, buy, compute decimal.Decimal) (volume decimal.Decimal, ok bool) {
	margin := buy.Sub(compute)
	if margin.Sign() <= 0 {
		return zero, false
	}
	return fixed.DivRound(margin, Scale), true
}

// Percent is r as a percentage.
func Percent(r decimal.Decimal) decimal.Decimal { return r.Mul(hundred) }

// Measured are a period's completed workcycles as the query pack's
// roi_inputs sums them: how many completed, how many the agent resolved
// without a human, how many of the others said their human handling time
// and how much it was (milliseconds), and their list and token cost (USD).
type Measured struct {
	Completed            int64           `json:"completed"`
	ResolvedByAgent      int64           `json:"resolved_by_agent"`
	EscalatedTimed       int64           `json:"escalated_timed"`
	EscalatedHumanMillis int64           `json:"escalated_human_millis"`
	ListCost             decimal.Decimal `json:"list_cost"`
	TokenCost            decimal.Decimal `json:"token_cost"`
}

// Rates derives the model's rates from m:
//
//	R = resolved by the agent ÷ completed
//	S = 1 − (human minutes per timed escalated workcycle ÷ a.HandleMinutes)
//
// S is kept within [0, 1] (humans slower than the baseline save nothing),
// and measuredS is false when no escalated workcycle said its human time.
// m.Completed must be positive.
func (m Measured) Rates(a Assumptions) (r, s decimal.Decimal, measuredS bool) {
	r = decimal.NewFromInt(m.ResolvedByAgent).DivRound(decimal.NewFromInt(m.Completed), Scale)
	if m.EscalatedTimed == 0 {
		return r, zero, false
	}
	perCase := decimal.NewFromInt(m.EscalatedHumanMillis).DivRound(decimal.NewFromInt(m.EscalatedTimed*60_000), Scale)
	s = one.Sub(perCase.DivRound(a.HandleMinutes, Scale))
	if s.Sign() < 0 {
		s = zero
	}
	if s.GreaterThan(one) {
		s = one
	}
	return r, s, true
}

// CostPerWorkcycle is m's list or token cost per completed workcycle.
func (m Measured) CostPerWorkcycle(list bool) decimal.Decimal {
	c := m.TokenCost
	if list {
		c = m.ListCost
	}
	return c.DivRound(decimal.NewFromInt(m.Completed), Scale)
}
