// Package report builds the monthly work-economics report of `awumeter
// report`: one self-contained HTML file with the month's cost per
// workcycle, list price against token cost by day, the attempted →
// succeeded → validated funnel, success per tool, retry inflation, tokens
// per AWU, resolution, escalation and override rates, and the article's
// ROI model at the measured resolution rate and time saved
// (docs/economics.md).
//
// Build reads the data with the query pack (schemas/chschema/queries), so
// every number in a report is one an analyst gets from `awumeter query`
// for the same month and tenant. WriteHTML renders it with Chart.js
// embedded; the page loads nothing from the network, and its Content
// Security Policy forbids it to.
package report

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/pipeline/economics"
)

// AI cost per case, as Options.AICost names it.
const (
	// AICostConversation is the assumptions' AI cost per case ($2 per
	// conversation by default).
	AICostConversation = "conversation"
	// AICostList is the month's measured list price per completed workcycle.
	AICostList = "list"
	// AICostToken is the month's measured token cost per completed workcycle.
	AICostToken = "token"
)

// Options say what a report covers.
type Options struct {
	// Month is the UTC month, YYYY-MM.
	Month string
	// Tenant narrows the report to one tenant; empty is every tenant.
	Tenant string
	// Assumptions are the ROI model's (economics.DefaultAssumptions, or a
	// tenant's section of an economics file).
	Assumptions economics.Assumptions
	// AssumptionsSource says where Assumptions came from, for the page:
	// "the article" or a file name.
	AssumptionsSource string
	// AICost picks the AI cost per case of the ROI panel: AICostConversation
	// (default), AICostList or AICostToken.
	AICost string
	// Database is the ClickHouse database read, shown on the page.
	Database string
	// Now is when the report is built; zero is the clock.
	Now time.Time
	// Version is awumeter's, shown on the page.
	Version string
}

var monthRe = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])$`)

// Validate reports every problem with o, naming its flag.
func (o Options) Validate() error {
	var errs []error
	if !monthRe.MatchString(o.Month) {
		errs = append(errs, fmt.Errorf("--month %q: want a UTC month as YYYY-MM, e.g. 2026-10", o.Month))
	}
	switch o.AICost {
	case "", AICostConversation, AICostList, AICostToken:
	default:
		errs = append(errs, fmt.Errorf("--ai-cost %q: want conversation, list or token", o.AICost))
	}
	if err := o.Assumptions.Validate(""); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Report is what a report shows, as WriteHTML embeds it in the page (JSON:
// amounts are exact decimal strings, USD; rates are fractions; counts are
// numbers). Rows summed over tenants when Tenant is empty.
type Report struct {
	Month             string    `json:"month"`
	Tenant            string    `json:"tenant,omitempty"`
	Database          string    `json:"database,omitempty"`
	GeneratedAt       time.Time `json:"generated_at"`
	AssumptionsSource string    `json:"assumptions_source"`
	Version           string    `json:"awumeter_version,omitempty"`
	// InProgress is true when the report was built before the month
	// ended: its figures will still change.
	InProgress bool `json:"in_progress"`

	Totals Totals `json:"totals"`
	// Days are the month's days from the 1st to the last one with AWUs,
	// in order, those without AWUs at zero (tenant_daily_totals).
	Days []Day `json:"days"`
	// CostBuckets are the distribution of cost per closed workcycle
	// (workcycle_cost_distribution), by lower bound, ascending, from the
	// lowest bucket with a workcycle at either price to the highest, the
	// empty ones between them at zero.
	CostBuckets []CostBucket `json:"cost_buckets"`
	// Funnel sums the month's AWUs (awu_funnel).
	Funnel Funnel `json:"funnel"`
	// Agents are the funnel per agent, by agent (awu_funnel).
	Agents []AgentFunnel `json:"agents"`
	// Tools are the tool AWUs per tool, by success rate then name
	// (tool_success_rate).
	Tools []Tool `json:"tools"`
	// Outcomes are the completed workcycles per tenant, agent and outcome
	// type (work_outcomes), the most completed first, then in the query's
	// order (tenant, agent, outcome type).
	Outcomes []Outcome `json:"outcomes"`
	// ROI is the model at the measured rates (roi_inputs); nil when no
	// workcycle completed in the month.
	ROI *ROI `json:"roi"`
}

// Totals are the month's sums.
type Totals struct {
	AWUs         int64           `json:"awus"`
	Attempts     int64           `json:"attempts"`
	Actions      int64           `json:"actions"`
	VoiceActions int64           `json:"voice_actions"`
	InputTokens  int64           `json:"input_tokens"`
	OutputTokens int64           `json:"output_tokens"`
	TokenCost    decimal.Decimal `json:"token_cost"`
	ListCost     decimal.Decimal `json:"list_cost"`
	Credits      int64           `json:"credits"`
	// Workcycles are the closed workcycles that started in the month,
	// Completed those of them with an outcome.
	Workcycles int64 `json:"workcycles"`
	Completed  int64 `json:"completed"`
}

// Day is one UTC day's usage. An AWU counts on the day of its first event.
type Day struct {
	Day          string          `json:"day"` // YYYY-MM-DD
	AWUs         int64           `json:"awus"`
	Succeeded    int64           `json:"awus_succeeded"`
	Attempts     int64           `json:"attempts"`
	InputTokens  int64           `json:"input_tokens"`
	OutputTokens int64           `json:"output_tokens"`
	TokenCost    decimal.Decimal `json:"token_cost"`
	ListCost     decimal.Decimal `json:"list_cost"`
}

// CostBucket counts closed workcycles whose cost is at least From and
// below the next bucket's From, USD.
type CostBucket struct {
	From  decimal.Decimal `json:"from"`
	Token int64           `json:"token"` // by token cost
	List  int64           `json:"list"`  // by list price
}

// Funnel counts AWUs by how far they got; Attempts counts retries too.
type Funnel struct {
	Attempted  int64 `json:"attempted"`
	Succeeded  int64 `json:"succeeded"`
	Validated  int64 `json:"validated"`
	RolledBack int64 `json:"rolled_back"`
	Failed     int64 `json:"failed"`
	Attempts   int64 `json:"attempts"`
}

// AgentFunnel is one agent's funnel.
type AgentFunnel struct {
	Agent string `json:"agent"`
	Funnel
}

// Tool is one tool's AWUs and attempts.
type Tool struct {
	Tool      string `json:"tool"`
	AWUs      int64  `json:"awus"`
	Succeeded int64  `json:"awus_succeeded"`
	Attempts  int64  `json:"attempts"`
}

// Outcome is one row of work_outcomes. Nullable columns are nil when the
// query gives NULL (nothing resolved, validated or rated, or no AWU).
type Outcome struct {
	Tenant                 string           `json:"tenant"`
	Agent                  string           `json:"agent"`
	OutcomeType            string           `json:"outcome_type"`
	Completed              int64            `json:"completed"`
	Resolved               int64            `json:"resolved"`
	ResolutionRate         float64          `json:"resolution_rate"`
	EscalationRate         float64          `json:"escalation_rate"`
	OverrideRate           *float64         `json:"override_rate"`
	CycleTimeP50Seconds    int64            `json:"cycle_time_p50_s"`
	CycleTimeP90Seconds    int64            `json:"cycle_time_p90_s"`
	TokenCostPerResolution *decimal.Decimal `json:"token_cost_per_resolution"`
	ListCostPerResolution  *decimal.Decimal `json:"list_cost_per_resolution"`
	AWUsPerResolution      *float64         `json:"awus_per_resolution"`
	TokenCostPerValidated  *decimal.Decimal `json:"token_cost_per_validated_awu"`
	ListCostPerValidated   *decimal.Decimal `json:"list_cost_per_validated_awu"`
	TokensPerAWU           *float64         `json:"tokens_per_awu"`
	ResolvedByHuman        int64            `json:"resolved_by_human"`
	HumanMinutes           float64          `json:"human_minutes"`
	CSAT                   *float64         `json:"csat"`
}

// ROI is the article's model at the month's measured rates.
type ROI struct {
	Assumptions economics.Assumptions `json:"assumptions"`
	Human       economics.HumanCost   `json:"human_cost"`
	Inputs      economics.Measured    `json:"inputs"`
	// R is the share of completed workcycles the agent resolved alone; S
	// the time saved on the others (SMeasured false: none said its human
	// minutes, and S is 0).
	R         decimal.Decimal `json:"resolution_rate"`
	S         decimal.Decimal `json:"time_saved"`
	SMeasured bool            `json:"time_saved_measured"`
	AICost    decimal.Decimal `json:"ai_cost_per_case"`
	AICostOf  string          `json:"ai_cost_of"`
	Blended   decimal.Decimal `json:"blended_per_case"`
	Savings   decimal.Decimal `json:"savings_per_case"`
	// BreakEven is the break-even resolution rate at the measured S; nil
	// when the AI alone costs more than a human-handled case.
	BreakEven *decimal.Decimal `json:"break_even_resolution_rate"`
	// Curve is the blended cost per case at R = 0%, 10%, … 100% and the
	// measured S: the line the measured point sits on.
	Curve []CurvePoint `json:"curve"`
}

// CurvePoint is the blended cost per case at one resolution rate.
type CurvePoint struct {
	R       decimal.Decimal `json:"resolution_rate"`
	Blended decimal.Decimal `json:"blended_per_case"`
}

// NewROI applies the model at m's rates. m.Completed must be positive.
func NewROI(a economics.Assumptions, m economics.Measured, aiCost string) *ROI {
	out := &ROI{Assumptions: a, Human: a.HumanCostPerCase(), Inputs: m, AICost: a.AICostPerCase, AICostOf: "conversation price of the assumptions"}
	out.R, out.S, out.SMeasured = m.Rates(a)
	switch aiCost {
	case AICostList:
		out.AICost, out.AICostOf = m.CostPerWorkcycle(true), "list price per workcycle"
	case AICostToken:
		out.AICost, out.AICostOf = m.CostPerWorkcycle(false), "token cost per workcycle"
	}
	h := out.Human.PerCase
	out.Blended = economics.Blended(h, out.AICost, out.R, out.S)
	out.Savings = h.Sub(out.Blended)
	if r, ok := economics.BreakEvenResolution(h, out.AICost, out.S); ok {
		out.BreakEven = &r
	}
	for i := int64(0); i <= 10; i++ {
		r := decimal.New(i, -1)
		out.Curve = append(out.Curve, CurvePoint{R: r, Blended: economics.Blended(h, out.AICost, r, out.S)})
	}
	return out
}
