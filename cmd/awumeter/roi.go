package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/shopspring/decimal"
	"github.com/spf13/cobra"

	"github.com/awumeter/awumeter/internal/textsafe"
	"github.com/awumeter/awumeter/pipeline/economics"
	"github.com/awumeter/awumeter/pipeline/report"
)

func init() { register(newROICmd) }

// roiFlags are the flags of awumeter roi.
type roiFlags struct {
	economics string
	tenant    string
	pairs     []string // R:S
	scenarios []string // CASES:R:S:ENABLEMENT
	fixed     []string
	buy       string
	compute   string
	format    string
	// Measured inputs: the month's completed workcycles in ClickHouse.
	month  string
	aiCost string
	conn   chFlags
}

// The article's tables, the defaults of the flags.
var (
	articlePairs     = []string{"20%:0%", "20%:20%", "40%:0%", "60%:20%", "80%:20%"}
	articleScenarios = []string{"100000:60%:20%:250000", "100000:80%:20%:250000", "1000000:60%:20%:1000000", "1000000:80%:20%:1000000"}
	articleFixed     = []string{"500000", "1500000", "3000000"}
)

func newROICmd() *cobra.Command {
	var f roiFlags
	cmd := &cobra.Command{
		Use:   "roi",
		Short: "The unit economics of AI against human handling: blended cost, break-even, payback, build vs buy",
		Long: `Print the ROI model of the article behind awumeter (docs/economics.md):
the fully loaded cost H of a human-handled case and how it is derived, the
break-even resolution rate, a sensitivity table of the blended cost per
inbound case, ROI scenarios with their payback, and the build-vs-buy
break-even volume.

Every assumption comes from --economics FILE (the tenant's section, else
its default section) and otherwise from the article: $20.59 an hour, the
BLS ECEC benefits load ($13.68 per $32.37 of wages), 70% utilization,
10-minute handle time, 20% overhead (H ≈ $8.37), and $2 per case for the
AI. Rates are written as 60% or 0.6. With no flags it prints the article's
tables.

With --month it also measures R and S from the month's completed workcycles
in ClickHouse (the query pack's roi_inputs; --tenant narrows it to one
tenant): R is the share resolved by the agent without a human, S follows
from the human minutes the escalated ones took against the handle time,
and --ai-cost picks the AI cost per case: the conversation price of the
assumptions, or the measured list or token cost per workcycle.`,
		Example: `  awumeter roi
  awumeter roi --rs 35%:10% --scenario 250000:35%:10%:400000
  awumeter roi --economics economics.yaml --tenant acme --format json
  awumeter roi --month 2026-10 --tenant acme --ai-cost list`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runROI(cmd.Context(), cmd.OutOrStdout(), &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.economics, "economics", "", "economics YAML file: assumptions by tenant (docs/economics.md)")
	fl.StringVar(&f.tenant, "tenant", "", "tenant whose section of --economics applies (default: its default section)")
	fl.StringSliceVar(&f.pairs, "rs", articlePairs, "sensitivity rows, each R:S: resolution rate and time saved on escalations")
	fl.StringSliceVar(&f.scenarios, "scenario", articleScenarios, "ROI scenarios, each CASES:R:S:ENABLEMENT (cases a year, rates, one-time USD)")
	fl.StringSliceVar(&f.fixed, "fixed", articleFixed, "build vs buy: yearly fixed costs of building in house, USD")
	fl.StringVar(&f.buy, "buy", "", "build vs buy: price per case when buying, USD (default: the AI cost per case)")
	fl.StringVar(&f.compute, "compute", "0.05", "build vs buy: compute per case when building, USD")
	fl.StringVar(&f.format, "format", "text", "output format: text or json")
	fl.StringVar(&f.month, "month", "", "measure R, S and the cost per workcycle from this UTC month's workcycles, YYYY-MM")
	fl.StringVar(&f.aiCost, "ai-cost", "conversation", "with --month, the AI cost per case: conversation (the assumptions'), list or token (measured per workcycle)")
	f.conn.add(fl, "with --month: ")
	return cmd
}

// roiReport is what awumeter roi prints; amounts are exact decimal strings
// in JSON, rates are fractions.
type roiReport struct {
	Assumptions  economics.Assumptions `json:"assumptions"`
	Human        economics.HumanCost   `json:"human_cost"`
	BreakEven    []roiBreakEven        `json:"break_even"`
	Sensitivity  []roiSensitivity      `json:"sensitivity"`
	Scenarios    []roiScenario         `json:"scenarios"`
	Buy          decimal.Decimal       `json:"buy_per_case"`
	Compute      decimal.Decimal       `json:"compute_per_case"`
	BuildVersus  []roiBuild            `json:"build_vs_buy"`
	Measured     *roiMeasured          `json:"measured,omitempty"`
	assumedByArt bool
}

// roiMeasured is what --month measured, and the model at those rates.
type roiMeasured struct {
	Month     string             `json:"month"`
	Tenant    string             `json:"tenant,omitempty"`
	Inputs    economics.Measured `json:"inputs"`
	R         decimal.Decimal    `json:"resolution_rate"`
	S         decimal.Decimal    `json:"time_saved"`
	SMeasured bool               `json:"time_saved_measured"`
	AICost    decimal.Decimal    `json:"ai_cost_per_case"`
	AICostOf  string             `json:"ai_cost_of"`
	Blended   decimal.Decimal    `json:"blended_per_case"`
	Savings   decimal.Decimal    `json:"savings_per_case"`
}

type roiBreakEven struct {
	S          decimal.Decimal  `json:"time_saved"`
	Resolution *decimal.Decimal `json:"resolution_rate"` // null: never breaks even
}

type roiSensitivity struct {
	R       decimal.Decimal `json:"resolution_rate"`
	S       decimal.Decimal `json:"time_saved"`
	Blended decimal.Decimal `json:"blended_per_case"`
	Savings decimal.Decimal `json:"savings_per_case"`
}

type roiScenario struct {
	economics.Scenario
	economics.ROI
}

type roiBuild struct {
	Fixed  decimal.Decimal  `json:"fixed_per_year"`
	Volume *decimal.Decimal `json:"break_even_cases_per_year"` // null: building never pays
}

func runROI(ctx context.Context, w io.Writer, f *roiFlags) error {
	if f.format != "text" && f.format != "json" {
		return fmt.Errorf("--format must be text or json, not %q", f.format)
	}
	if f.aiCost != "conversation" && f.aiCost != "list" && f.aiCost != "token" {
		return fmt.Errorf("--ai-cost must be conversation, list or token, not %q", f.aiCost)
	}
	a := economics.DefaultAssumptions()
	if f.economics != "" {
		file, err := economics.Load(f.economics)
		if err != nil {
			return err
		}
		a = file.For(f.tenant)
	} else if f.tenant != "" && f.month == "" {
		return fmt.Errorf("--tenant needs --economics or --month: without them every tenant has the article's assumptions")
	}
	if err := a.Validate(""); err != nil {
		return err
	}
	rep := roiReport{Assumptions: a, Human: a.HumanCostPerCase(), assumedByArt: f.economics == ""}
	h, ai := rep.Human.PerCase, a.AICostPerCase
	for _, s := range []string{"0", "0.2"} {
		sv := decimal.RequireFromString(s)
		be := roiBreakEven{S: sv}
		if r, ok := economics.BreakEvenResolution(h, ai, sv); ok {
			be.Resolution = &r
		}
		rep.BreakEven = append(rep.BreakEven, be)
	}
	for _, p := range f.pairs {
		v, err := roiFields("--rs", p, "R:S", rateField, rateField)
		if err != nil {
			return err
		}
		b := economics.Blended(h, ai, v[0], v[1])
		rep.Sensitivity = append(rep.Sensitivity, roiSensitivity{R: v[0], S: v[1], Blended: b, Savings: h.Sub(b)})
	}
	for _, s := range f.scenarios {
		v, err := roiFields("--scenario", s, "CASES:R:S:ENABLEMENT", amountField, rateField, rateField, amountField)
		if err != nil {
			return err
		}
		sc := economics.Scenario{Cases: v[0], R: v[1], S: v[2], Enablement: v[3]}
		rep.Scenarios = append(rep.Scenarios, roiScenario{Scenario: sc, ROI: economics.Return(h, ai, sc)})
	}
	rep.Buy = ai
	if f.buy != "" {
		v, err := amountField(f.buy)
		if err != nil {
			return fmt.Errorf("--buy: %w", err)
		}
		rep.Buy = v
	}
	var err error
	if rep.Compute, err = amountField(f.compute); err != nil {
		return fmt.Errorf("--compute: %w", err)
	}
	for _, s := range f.fixed {
		v, err := amountField(s)
		if err != nil {
			return fmt.Errorf("--fixed %q: %w", s, err)
		}
		b := roiBuild{Fixed: v}
		if vol, ok := economics.BuildVsBuy(v, rep.Buy, rep.Compute); ok {
			b.Volume = &vol
		}
		rep.BuildVersus = append(rep.BuildVersus, b)
	}
	if f.month != "" {
		m, err := measureROI(ctx, f, a)
		if err != nil {
			return err
		}
		rep.Measured = m
	}
	if f.format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return writeROI(w, &rep)
}

// roiFields splits a flag value at ':' and parses each field.
func roiFields(flag, value, shape string, parse ...func(string) (decimal.Decimal, error)) ([]decimal.Decimal, error) {
	parts := strings.Split(value, ":")
	if len(parts) != len(parse) {
		return nil, fmt.Errorf("%s %q: want %s", flag, value, shape)
	}
	out := make([]decimal.Decimal, len(parts))
	for i, p := range parts {
		v, err := parse[i](strings.TrimSpace(p))
		if err != nil {
			return nil, fmt.Errorf("%s %q: %s: %w", flag, value, strings.Split(shape, ":")[i], err)
		}
		out[i] = v
	}
	return out, nil
}

// rateField parses a rate written as 60% or 0.6, from 0 to 1.
func rateField(s string) (decimal.Decimal, error) {
	pct := strings.HasSuffix(s, "%")
	v, err := decimal.NewFromString(strings.TrimSuffix(s, "%"))
	if err != nil {
		return v, fmt.Errorf("%q is not a rate (write 60%% or 0.6)", s)
	}
	if pct {
		v = v.Div(decimal.NewFromInt(100))
	}
	if v.Sign() < 0 || v.GreaterThan(decimal.NewFromInt(1)) {
		return v, fmt.Errorf("%q is not between 0%% and 100%%", s)
	}
	return v, nil
}

// amountField parses a non-negative amount (USD or a count).
func amountField(s string) (decimal.Decimal, error) {
	v, err := decimal.NewFromString(s)
	if err != nil {
		return v, fmt.Errorf("%q is not a number", s)
	}
	if v.Sign() < 0 {
		return v, fmt.Errorf("%q is negative", s)
	}
	return v, nil
}

func usd(d decimal.Decimal) string {
	s := d.Round(2).StringFixed(2)
	if strings.HasPrefix(s, "-") {
		return "-$" + s[1:]
	}
	return "$" + s
}

func usdMillions(d decimal.Decimal) string {
	return "$" + d.Div(decimal.NewFromInt(1_000_000)).Round(2).StringFixed(2) + "M"
}

func pct(r decimal.Decimal) string {
	return economics.Percent(r).Round(1).String() + "%"
}

// count prints a whole number with thousands separators.
func count(d decimal.Decimal) string {
	s := d.Round(0).String()
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// measureROI reads the month's roi_inputs (summed over its tenants, or
// the one --tenant names) and applies the model at the measured rates.
func measureROI(ctx context.Context, f *roiFlags, a economics.Assumptions) (*roiMeasured, error) {
	conn, err := f.conn.dial(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	m, err := report.Measure(ctx, conn, f.month, f.tenant)
	if err != nil {
		return nil, err
	}
	if m.Completed == 0 {
		who := "any tenant"
		if f.tenant != "" {
			who = "tenant " + textsafe.Terminal(f.tenant)
		}
		return nil, fmt.Errorf("no completed workcycle started in %s for %s: nothing to measure", f.month, who)
	}
	r := report.NewROI(a, m, f.aiCost)
	out := &roiMeasured{Month: f.month, Tenant: f.tenant, Inputs: m, R: r.R, S: r.S, SMeasured: r.SMeasured,
		AICost: r.AICost, AICostOf: "conversation", Blended: r.Blended, Savings: r.Savings}
	if f.aiCost != report.AICostConversation {
		out.AICostOf = r.AICostOf
	}
	return out, nil
}

func writeROI(w io.Writer, r *roiReport) error {
	a, h := r.Assumptions, r.Human
	if m := r.Measured; m != nil {
		who := "every tenant"
		if m.Tenant != "" {
			who = textsafe.Terminal(m.Tenant)
		}
		fmt.Fprintf(w, "Measured in %s, %s: %s completed workcycles\n", m.Month, who, count(decimal.NewFromInt(m.Inputs.Completed)))
		fmt.Fprintf(w, "  R = %s (%s resolved by the agent without a human)\n", pct(m.R), count(decimal.NewFromInt(m.Inputs.ResolvedByAgent)))
		if m.SMeasured {
			per := decimal.NewFromInt(m.Inputs.EscalatedHumanMillis).DivRound(decimal.NewFromInt(m.Inputs.EscalatedTimed*60_000), 1)
			fmt.Fprintf(w, "  S = %s (%s human minutes per escalated workcycle, of %s that said, against %s)\n", pct(m.S), per, count(decimal.NewFromInt(m.Inputs.EscalatedTimed)), a.HandleMinutes)
		} else {
			fmt.Fprintln(w, "  S = 0% (no escalated workcycle said its human minutes)")
		}
		fmt.Fprintf(w, "  AI cost per case %s (%s)\n", usd(m.AICost), m.AICostOf)
		fmt.Fprintf(w, "  blended cost per case %s, savings vs all-human %s\n\n", usd(m.Blended), usd(m.Savings))
	}
	source := "the article's assumptions"
	if !r.assumedByArt {
		source = "the economics file"
	}
	fmt.Fprintf(w, "Human cost per case H (%s; docs/economics.md):\n", source)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  wage\t%s an hour\n", usd(a.WagePerHour))
	fmt.Fprintf(tw, "  + benefits %s of wages\t%s an hour\t(%s per %s of wages, BLS ECEC)\n", pct(h.BenefitsLoad), usd(h.LoadedHour), usd(a.BenefitsPerHour), usd(a.ECECWagesPerHour))
	fmt.Fprintf(tw, "  + overhead %s\t%s an hour\n", pct(a.Overhead), usd(h.OverheadHour))
	fmt.Fprintf(tw, "  / utilization %s\t%s a handling hour\n", pct(a.Utilization), usd(h.HandlingHour))
	fmt.Fprintf(tw, "  x %s min handle time\t%s a case\t(%s cases per agent in %s paid hours a year)\n", a.HandleMinutes, usd(h.PerCase), count(h.CasesPerAgent), count(a.PaidHoursPerYear))
	tw.Flush()
	fmt.Fprintf(w, "AI cost per case: %s\n\n", usd(a.AICostPerCase))

	fmt.Fprintln(w, "Break-even resolution rate R (blended cost = H):")
	for _, b := range r.BreakEven {
		v := "never: the AI alone costs more than H"
		if b.Resolution != nil {
			v = pct(*b.Resolution)
		}
		fmt.Fprintf(w, "  with time saved on escalations S = %s: R = %s\n", pct(b.S), v)
	}

	fmt.Fprintf(w, "\nBlended cost per inbound case = AI + (1 - R) x H x (1 - S), H = %s, AI = %s:\n", usd(h.PerCase), usd(a.AICostPerCase))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  R\tS\tblended\tsavings vs all-human\t")
	for _, s := range r.Sensitivity {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t\n", pct(s.R), pct(s.S), usd(s.Blended), usd(s.Savings))
	}
	tw.Flush()

	fmt.Fprintln(w, "\nROI scenarios (a year of cases; payback = enablement / yearly savings):")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  cases a year\tR\tS\tall-human\tblended\tsavings\tenablement\tpayback\t")
	for _, s := range r.Scenarios {
		payback := "never"
		if s.PaysBack {
			payback = s.PaybackMonths.Round(1).StringFixed(1) + " months"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", count(s.Cases), pct(s.R), pct(s.S),
			usdMillions(s.Baseline), usdMillions(s.Blended), usdMillions(s.Savings), usdMillions(s.Enablement), payback)
	}
	tw.Flush()

	fmt.Fprintf(w, "\nBuild vs buy (buy at %s a case; build: a fixed yearly cost plus %s of compute a case):\n", usd(r.Buy), usd(r.Compute))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  fixed a year\tbreak-even volume (cases a year)\t")
	for _, b := range r.BuildVersus {
		v := "never: compute costs the price"
		if b.Volume != nil {
			v = count(*b.Volume)
		}
		fmt.Fprintf(tw, "  %s\t%s\t\n", usdMillions(b.Fixed), v)
	}
	return tw.Flush()
}
