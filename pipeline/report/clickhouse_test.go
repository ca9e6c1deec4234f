package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/internal/testenv"
	"github.com/awumeter/awumeter/pipeline/economics"
	"github.com/awumeter/awumeter/pipeline/migrate"
	"github.com/awumeter/awumeter/pipeline/sink"
)

// knownDatabase migrates a fresh database and writes october() to it the
// way the service does (its rollups refreshed), twice: a replay must not
// change the report.
func knownDatabase(t *testing.T) *testenv.ClickHouse {
	t.Helper()
	if testing.Short() {
		t.Skip("needs ClickHouse")
	}
	ch := testenv.NewClickHouse(t)
	ctx := testenv.Context(t, 2*time.Minute)
	if _, err := migrate.Up(ctx, ch.Conn, migrate.Options{Database: ch.Database}); err != nil {
		t.Fatal(err)
	}
	schema, err := migrate.CheckSchema(ctx, ch.Conn, ch.Database)
	if err != nil {
		t.Fatal(err)
	}
	w := sink.NewWriter(ch.Conn, schema, sink.DefaultConfig(), sink.Settings{})
	for range 2 {
		if err := w.Write(ctx, october()); err != nil {
			t.Fatal(err)
		}
	}
	return ch
}

// The values are worked out by hand from october() (see its comment).
func TestBuildReadsTheMonthOfOneTenant(t *testing.T) {
	ch := knownDatabase(t)
	ctx := testenv.Context(t, time.Minute)
	var queries []string
	r, err := Build(ctx, ch.Conn, Options{Month: "2026-10", Tenant: "acme", Assumptions: economics.DefaultAssumptions()},
		func(q string) { queries = append(queries, q) })
	if err != nil {
		t.Fatal(err)
	}
	dec := decimal.RequireFromString
	want := Totals{AWUs: 4, Attempts: 7, Actions: 2, VoiceActions: 1, InputTokens: 5800, OutputTokens: 1130,
		TokenCost: dec("0.5163"), ListCost: dec("0.25"), Credits: 50, Workcycles: 3, Completed: 3}
	if got := r.Totals; !sameJSON(t, got, want) {
		t.Errorf("totals\n got %s\nwant %s", js(t, got), js(t, want))
	}
	zero := decimal.Zero
	wantDays := []Day{
		{Day: "2026-10-01", TokenCost: zero, ListCost: zero},
		{Day: "2026-10-02", TokenCost: zero, ListCost: zero},
		{Day: "2026-10-03", AWUs: 2, Succeeded: 2, Attempts: 3, InputTokens: 1500, OutputTokens: 300, TokenCost: dec("0.0123"), ListCost: dec("0.1")},
		{Day: "2026-10-04", AWUs: 2, Succeeded: 1, Attempts: 4, InputTokens: 4300, OutputTokens: 830, TokenCost: dec("0.504"), ListCost: dec("0.15")},
	}
	if !sameJSON(t, r.Days, wantDays) {
		t.Errorf("days\n got %s\nwant %s", js(t, r.Days), js(t, wantDays))
	}
	// w1 costs $0.0123 in tokens and $0.10 at list; w2 $0.004 and $0; w3 $0.5 and $0.15.
	wantBuckets := []CostBucket{{From: dec("0"), List: 1}, {From: dec("0.001")}, {From: dec("0.002"), Token: 1}, {From: dec("0.005")},
		{From: dec("0.01"), Token: 1}, {From: dec("0.02")}, {From: dec("0.05")}, {From: dec("0.1"), List: 2}, {From: dec("0.2")},
		{From: dec("0.5"), Token: 1}}
	if !sameJSON(t, r.CostBuckets, wantBuckets) {
		t.Errorf("cost buckets\n got %s\nwant %s", js(t, r.CostBuckets), js(t, wantBuckets))
	}
	if want := (Funnel{Attempted: 4, Succeeded: 3, Validated: 1, Failed: 1, Attempts: 7}); r.Funnel != want {
		t.Errorf("funnel %+v, want %+v", r.Funnel, want)
	}
	if len(r.Agents) != 1 || r.Agents[0].Agent != "support" || r.Agents[0].Funnel != r.Funnel {
		t.Errorf("agents %+v", r.Agents)
	}
	wantTools := []Tool{{Tool: "refund", AWUs: 2, Succeeded: 1, Attempts: 4}, {Tool: "search", AWUs: 1, Succeeded: 1, Attempts: 2}}
	if !sameJSON(t, r.Tools, wantTools) {
		t.Errorf("tools %+v", r.Tools)
	}
	// Cycle times 60, 300 and 600 s; $0.5163 and $0.25 over 2 resolved
	// and 1 validated AWU; 6930 tokens over 4 AWUs; w1 alone rated (5).
	five, two := 5.0, 2.0
	wantOutcomes := []Outcome{{Tenant: "acme", Agent: "support", Completed: 3, Resolved: 2, ResolutionRate: 0.6667, EscalationRate: 0.3333,
		CycleTimeP50Seconds: 300, CycleTimeP90Seconds: 600, TokenCostPerResolution: ptr(dec("0.25815")), ListCostPerResolution: ptr(dec("0.125")),
		AWUsPerResolution: &two, TokenCostPerValidated: ptr(dec("0.5163")), ListCostPerValidated: ptr(dec("0.25")),
		TokensPerAWU: ptr(1732.5), OverrideRate: ptr(0.0), ResolvedByHuman: 1, HumanMinutes: 6, CSAT: &five}}
	if !sameJSON(t, r.Outcomes, wantOutcomes) {
		t.Errorf("outcomes\n got %s\nwant %s", js(t, r.Outcomes), js(t, wantOutcomes))
	}
	// R = 2/3 (w1 by the agent, w3 resolved_by unsaid); S = 1 − 6/10.
	// Blended = 2 + (1/3) × 8.369032172645 × 0.6; savings = 0.8 × H − 2.
	roi := r.ROI
	if roi == nil {
		t.Fatal("no ROI")
	}
	if roi.R.StringFixed(6) != "0.666667" || !roi.S.Equal(dec("0.4")) || !roi.SMeasured || !roi.AICost.Equal(dec("2")) ||
		roi.Blended.StringFixed(6) != "3.673806" || roi.Savings.StringFixed(6) != "4.695226" {
		t.Errorf("roi %s", js(t, roi))
	}
	// Any R breaks even: the AI ($2) costs less than the time it saves (0.4 × H).
	if roi.BreakEven == nil || !roi.BreakEven.IsZero() {
		t.Errorf("break-even %v", roi.BreakEven)
	}
	if len(roi.Curve) != 11 || !roi.Curve[10].Blended.Equal(dec("2")) || !roi.Curve[0].R.IsZero() {
		t.Errorf("curve %s", js(t, roi.Curve))
	}
	if want := "tenant_daily_totals workcycle_cost_distribution awu_funnel tool_success_rate work_outcomes roi_inputs"; strings.Join(queries, " ") != want {
		t.Errorf("progress %q", queries)
	}
}

func TestBuildReadsTheMonthOfEveryTenant(t *testing.T) {
	ch := knownDatabase(t)
	ctx := testenv.Context(t, time.Minute)
	r, err := Build(ctx, ch.Conn, Options{Month: "2026-10", Assumptions: economics.DefaultAssumptions(), AICost: AICostToken}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// bigco's w4 adds $2.5 in tokens, in the $2–$5 bucket, and $0 at
	// list; its w5 (no AWU) $0 at both.
	if r.Totals.Workcycles != 5 || r.Totals.AWUs != 5 || r.Totals.TokenCost.String() != "3.0163" || len(r.Days) != 5 {
		t.Errorf("totals %s, %d days", js(t, r.Totals), len(r.Days))
	}
	// 0 to $2: 12 buckets of the series.
	if n := len(r.CostBuckets); n != 12 || r.CostBuckets[0].Token != 1 || r.CostBuckets[0].List != 3 ||
		r.CostBuckets[11].From.String() != "2" || r.CostBuckets[11].Token != 1 {
		t.Errorf("buckets %s", js(t, r.CostBuckets))
	}
	// The intake agent's workcycle had no AWU: no tokens per AWU, no
	// override rate, and no error for the division.
	var intake *Outcome
	for i := range r.Outcomes {
		if r.Outcomes[i].Agent == "intake" {
			intake = &r.Outcomes[i]
		}
	}
	if intake == nil || intake.Completed != 1 || intake.Resolved != 0 || intake.TokensPerAWU != nil || intake.OverrideRate != nil ||
		intake.TokenCostPerResolution != nil || intake.TokenCostPerValidated != nil {
		t.Errorf("intake %s", js(t, intake))
	}
	// R = 3/5; the token cost per case is 3.0163 / 5.
	if r.ROI.R.String() != "0.6" || r.ROI.AICost.String() != "0.60326" || r.ROI.AICostOf != "token cost per workcycle" {
		t.Errorf("roi %s", js(t, r.ROI))
	}
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	browse(t, "known-database-every-tenant", buf.String())
}

func TestBuildRefusesAnEmptyMonth(t *testing.T) {
	ch := knownDatabase(t)
	ctx := testenv.Context(t, time.Minute)
	_, err := Build(ctx, ch.Conn, Options{Month: "2026-10", Tenant: "nobody", Assumptions: economics.DefaultAssumptions()}, nil)
	if !errors.Is(err, ErrEmpty) || !strings.Contains(err.Error(), "nothing metered in 2026-10 for tenant nobody") {
		t.Errorf("err %v", err)
	}
	// September has w0 only: a report, with its ROI.
	r, err := Build(ctx, ch.Conn, Options{Month: "2026-09", Tenant: "acme", Assumptions: economics.DefaultAssumptions()}, nil)
	if err != nil || r.Totals.Workcycles != 1 || r.Totals.TokenCost.String() != "9" {
		t.Errorf("September: %v %+v", err, r)
	}
}

// The report of the known database, rendered, is what the browser test
// loads too (TestReportRendersInChromium).
func TestWriteHTMLOfTheKnownDatabase(t *testing.T) {
	ch := knownDatabase(t)
	ctx := testenv.Context(t, time.Minute)
	r, err := Build(ctx, ch.Conn, Options{Month: "2026-10", Tenant: "acme", Assumptions: economics.DefaultAssumptions(),
		Now: time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{
		"<h1>Work economics, October 2026</h1>",
		"<td>2026-10-04</td><td>2</td><td>4</td><td>4,300</td><td>830</td><td>$0.504</td><td>$0.15</td>",
		"<td>$0.01–$0.02</td><td>1</td><td>0</td>",
		"<td>$0.02–$0.05</td><td>0</td><td>0</td>",
		"<td>2026-10-02</td><td>0</td><td>0</td><td>0</td><td>0</td><td>$0.00</td><td>$0.00</td>",
		`<td class="name">refund</td><td>2</td><td>1</td><td>50.0%</td><td>4</td><td>25.0%</td>`,
		"<td>2026-10-04</td><td>2</td><td>4</td><td>4,300</td><td>830</td><td>$0.504</td><td>$0.15</td><td>2.00</td><td>2565.00</td>",
		`<span class="value">66.7%</span><span class="label">R: resolved by the agent alone (2 of 3)</span>`,
		`<span class="value">$3.67</span><span class="label">blended cost per case</span>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(page, `class="banner"`) {
		t.Error("October is over by 1 November, yet the page says it is not")
	}
	browse(t, "known-database", page)

	// Built on 20 October, the report says the month is not over.
	r, err = Build(ctx, ch.Conn, Options{Month: "2026-10", Tenant: "acme", Assumptions: economics.DefaultAssumptions(),
		Now: time.Date(2026, 10, 20, 12, 0, 0, 0, time.UTC)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	if !r.InProgress || !strings.Contains(buf.String(), `<p class="banner">October 2026 was not over when this report was made`) {
		t.Errorf("in progress %v, and the page has no banner", r.InProgress)
	}
}

func sameJSON(t *testing.T, got, want any) bool { return js(t, got) == js(t, want) }

func js(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
