package report

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/internal/chquery"
	"github.com/awumeter/awumeter/internal/textsafe"
	"github.com/awumeter/awumeter/pipeline/economics"
	"github.com/awumeter/awumeter/schemas/chschema"
)

// ErrEmpty is returned by Build when the month has neither AWUs nor
// closed workcycles for the tenant: a report of nothing.
var ErrEmpty = fmt.Errorf("nothing metered")

// Build reads the month's data with the query pack and applies the ROI
// model. conn's default database must be the awumeter database (see
// sink.DialDatabase). progress, when not nil, is called before each query
// with its name. It returns an error wrapping ErrEmpty when the month has
// nothing for the tenant.
func Build(ctx context.Context, conn driver.Conn, o Options, progress func(query string)) (*Report, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	source := o.AssumptionsSource
	if source == "" {
		source = "the article"
	}
	r := &Report{Month: o.Month, Tenant: o.Tenant, Database: o.Database, GeneratedAt: now.UTC().Truncate(time.Second),
		AssumptionsSource: source, Version: o.Version, Days: []Day{}, CostBuckets: []CostBucket{}, Agents: []AgentFunnel{}, Tools: []Tool{}, Outcomes: []Outcome{}}
	r.Totals.TokenCost, r.Totals.ListCost = decimal.Zero, decimal.Zero
	if first, err := time.Parse("2006-01", o.Month); err == nil {
		r.InProgress = now.Before(first.AddDate(0, 1, 0))
	}
	run := func(name string, each func(row) error) error {
		if progress != nil {
			progress(name)
		}
		return query(ctx, conn, name, o, each)
	}

	days := map[string]*Day{}
	if err := run("tenant_daily_totals", func(x row) error {
		d := x.date("day")
		if days[d] == nil {
			days[d] = &Day{Day: d, TokenCost: decimal.Zero, ListCost: decimal.Zero}
		}
		day := days[d]
		x.sum(&day.AWUs, "awus")
		x.sum(&day.Succeeded, "awus_succeeded")
		x.sum(&day.Attempts, "attempts")
		x.sum(&day.InputTokens, "input_tokens")
		x.sum(&day.OutputTokens, "output_tokens")
		day.TokenCost = day.TokenCost.Add(x.dec("token_cost"))
		day.ListCost = day.ListCost.Add(x.dec("list_cost"))
		t := &r.Totals
		x.sum(&t.AWUs, "awus")
		x.sum(&t.Attempts, "attempts")
		x.sum(&t.Actions, "actions")
		x.sum(&t.VoiceActions, "voice_actions")
		x.sum(&t.InputTokens, "input_tokens")
		x.sum(&t.OutputTokens, "output_tokens")
		t.TokenCost = t.TokenCost.Add(x.dec("token_cost"))
		t.ListCost = t.ListCost.Add(x.dec("list_cost"))
		x.sum(&t.Credits, "credits")
		return x.err
	}); err != nil {
		return nil, err
	}
	for _, d := range days {
		r.Days = append(r.Days, *d)
	}
	slices.SortFunc(r.Days, func(a, b Day) int { return strings.Compare(a.Day, b.Day) })
	r.Days = fillDays(o.Month, r.Days)

	buckets := map[string]*CostBucket{}
	if err := run("workcycle_cost_distribution", func(x row) error {
		from := decimal.NewFromFloat(x.float("bucket_from"))
		b := buckets[from.String()]
		if b == nil {
			b = &CostBucket{From: from}
			buckets[from.String()] = b
		}
		switch p := x.text("price"); p {
		case "token":
			x.sum(&b.Token, "workcycles")
			x.sum(&r.Totals.Workcycles, "workcycles")
		case "list":
			x.sum(&b.List, "workcycles")
		default:
			return fmt.Errorf("price %q: want token or list", p)
		}
		return x.err
	}); err != nil {
		return nil, err
	}
	for _, b := range buckets {
		r.CostBuckets = append(r.CostBuckets, *b)
	}
	slices.SortFunc(r.CostBuckets, func(a, b CostBucket) int { return a.From.Cmp(b.From) })
	r.CostBuckets = fillBuckets(r.CostBuckets)

	agents := map[string]*AgentFunnel{}
	if err := run("awu_funnel", func(x row) error {
		f := Funnel{Attempted: x.int("awus_attempted"), Succeeded: x.int("awus_succeeded"), Validated: x.int("awus_validated"),
			RolledBack: x.int("awus_rolled_back"), Failed: x.int("awus_failed"), Attempts: x.int("attempts")}
		r.Funnel.add(&x, f)
		a := x.text("agent_id")
		if agents[a] == nil {
			agents[a] = &AgentFunnel{Agent: a}
		}
		agents[a].add(&x, f)
		return x.err
	}); err != nil {
		return nil, err
	}
	for _, a := range agents {
		r.Agents = append(r.Agents, *a)
	}
	slices.SortFunc(r.Agents, func(a, b AgentFunnel) int { return strings.Compare(a.Agent, b.Agent) })

	tools := map[string]*Tool{}
	if err := run("tool_success_rate", func(x row) error {
		name := x.text("tool")
		if tools[name] == nil {
			tools[name] = &Tool{Tool: name}
		}
		t := tools[name]
		x.sum(&t.AWUs, "awus")
		x.sum(&t.Succeeded, "awus_succeeded")
		x.sum(&t.Attempts, "attempts")
		return x.err
	}); err != nil {
		return nil, err
	}
	for _, t := range tools {
		r.Tools = append(r.Tools, *t)
	}
	// Worst first, as tool_success_rate orders them: succeeded/awus compared
	// as cross products, exactly.
	slices.SortFunc(r.Tools, func(a, b Tool) int {
		if c := cmpRatio(a.Succeeded, a.AWUs, b.Succeeded, b.AWUs); c != 0 {
			return c
		}
		return strings.Compare(a.Tool, b.Tool)
	})

	if err := run("work_outcomes", func(x row) error {
		r.Outcomes = append(r.Outcomes, Outcome{
			Tenant: x.text("tenant_id"), Agent: x.text("agent_id"), OutcomeType: x.text("outcome_type"),
			Completed: x.int("completed"), Resolved: x.int("resolved"),
			ResolutionRate: x.float("resolution_rate"), EscalationRate: x.float("escalation_rate"), OverrideRate: x.floatOrNil("override_rate"),
			CycleTimeP50Seconds: x.int("cycle_time_p50_s"), CycleTimeP90Seconds: x.int("cycle_time_p90_s"),
			TokenCostPerResolution: x.decOrNil("token_cost_per_resolution"), ListCostPerResolution: x.decOrNil("list_cost_per_resolution"),
			AWUsPerResolution:     x.floatOrNil("awus_per_resolution"),
			TokenCostPerValidated: x.decOrNil("token_cost_per_validated_awu"), ListCostPerValidated: x.decOrNil("list_cost_per_validated_awu"),
			TokensPerAWU: x.floatOrNil("tokens_per_awu"), ResolvedByHuman: x.int("resolved_by_human"),
			HumanMinutes: x.float("human_minutes"), CSAT: x.floatOrNil("csat"),
		})
		return x.err
	}); err != nil {
		return nil, err
	}

	slices.SortStableFunc(r.Outcomes, func(a, b Outcome) int { return cmp.Compare(b.Completed, a.Completed) })

	if progress != nil {
		progress("roi_inputs")
	}
	m, err := Measure(ctx, conn, o.Month, o.Tenant)
	if err != nil {
		return nil, err
	}
	r.Totals.Completed = m.Completed
	if m.Completed > 0 {
		r.ROI = NewROI(o.Assumptions, m, o.AICost)
	}
	if r.Totals.AWUs == 0 && r.Totals.Workcycles == 0 {
		who := "any tenant"
		if o.Tenant != "" {
			who = "tenant " + textsafe.Terminal(o.Tenant)
		}
		return nil, fmt.Errorf("%w in %s for %s: no AWU and no closed workcycle (is --database %s the one awumeter run writes to?)", ErrEmpty, o.Month, who, textsafe.Terminal(o.Database))
	}
	return r, nil
}

// Measure sums the query pack's roi_inputs for a month ("YYYY-MM") over
// its tenants, or for one tenant: the ROI model's measured inputs.
// Completed is 0 when no workcycle that started in the month completed.
func Measure(ctx context.Context, conn driver.Conn, month, tenant string) (economics.Measured, error) {
	m := economics.Measured{ListCost: decimal.Zero, TokenCost: decimal.Zero}
	err := query(ctx, conn, "roi_inputs", Options{Month: month, Tenant: tenant}, func(x row) error {
		x.sum(&m.Completed, "completed")
		x.sum(&m.ResolvedByAgent, "resolved_by_agent")
		x.sum(&m.EscalatedTimed, "escalated_timed")
		x.sum(&m.EscalatedHumanMillis, "escalated_human_millis")
		m.ListCost = m.ListCost.Add(x.dec("list_cost"))
		m.TokenCost = m.TokenCost.Add(x.dec("token_cost"))
		return x.err
	})
	return m, err
}

// query runs one query of the pack with the month and tenant filters and
// calls each for every row.
func query(ctx context.Context, conn driver.Conn, name string, o Options, each func(row) error) error {
	q, err := chschema.LoadQuery(name)
	if err != nil {
		return err
	}
	sql, args, err := q.Bind(chschema.FilterValues{chschema.FilterMonth: o.Month, chschema.FilterTenant: o.Tenant})
	if err != nil {
		return err
	}
	res, err := chquery.Run(ctx, conn, sql, args...)
	if err != nil {
		return fmt.Errorf("query %s: %w", name, err)
	}
	cols := make(map[string]int, len(res.Columns))
	for i, c := range res.Columns {
		cols[c.Name] = i
	}
	for _, values := range res.Rows {
		if err := each(row{cols: cols, values: values}); err != nil {
			return fmt.Errorf("query %s: %w", name, err)
		}
	}
	return nil
}

// row reads a result row's cells by column name, converting the driver's
// scan types, which differ between ClickHouse releases (count() is UInt64,
// a quantile of a dateDiff Int32 or Int64). The first problem is kept in
// err, so a caller checks it once per row.
type row struct {
	cols   map[string]int
	values []any
	err    error
}

func (x *row) cell(name string) any {
	i, ok := x.cols[name]
	if !ok {
		x.fail(fmt.Errorf("no column %s", name))
		return nil
	}
	return x.values[i]
}

func (x *row) fail(err error) {
	if x.err == nil {
		x.err = err
	}
}

func (x *row) int(name string) int64 {
	switch v := x.cell(name).(type) {
	case int64:
		return v
	case int32:
		return int64(v)
	case int16:
		return int64(v)
	case int8:
		return int64(v)
	case uint64:
		if v > 1<<63-1 {
			x.fail(fmt.Errorf("column %s: %d does not fit Int64", name, v))
		}
		return int64(v)
	case uint32:
		return int64(v)
	case uint16:
		return int64(v)
	case uint8:
		return int64(v)
	case nil:
		return 0
	default:
		x.fail(fmt.Errorf("column %s: %T is not an integer", name, v))
		return 0
	}
}

func (x *row) float(name string) float64 {
	switch v := x.cell(name).(type) {
	case float64:
		return x.checkFloat(name, v)
	case float32:
		return float64(v)
	case nil:
		return 0
	default:
		x.fail(fmt.Errorf("column %s: %T is not a Float64", name, v))
		return 0
	}
}

func (x *row) floatOrNil(name string) *float64 {
	switch v := x.cell(name).(type) {
	case *float64:
		if v == nil {
			return nil
		}
		f := x.checkFloat(name, *v)
		return &f
	case float64:
		f := x.checkFloat(name, v)
		return &f
	case nil:
		return nil
	default:
		x.fail(fmt.Errorf("column %s: %T is not a Nullable(Float64)", name, v))
		return nil
	}
}

// checkFloat checks a Float64 cell's value.
func (x *row) checkFloat(name string, v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		x.fail(fmt.Errorf("column %s: %v is not a number a report can show", name, v))
		return 0
	}
	return v
}

func (x *row) dec(name string) decimal.Decimal {
	switch v := x.cell(name).(type) {
	case decimal.Decimal:
		return v
	case nil:
		return decimal.Zero
	default:
		x.fail(fmt.Errorf("column %s: %T is not a Decimal", name, v))
		return decimal.Zero
	}
}

func (x *row) decOrNil(name string) *decimal.Decimal {
	switch v := x.cell(name).(type) {
	case *decimal.Decimal:
		return v
	case decimal.Decimal:
		return &v
	case nil:
		return nil
	default:
		x.fail(fmt.Errorf("column %s: %T is not a Nullable(Decimal)", name, v))
		return nil
	}
}

func (x *row) text(name string) string {
	switch v := x.cell(name).(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		x.fail(fmt.Errorf("column %s: %T is not a String", name, v))
		return ""
	}
}

func (x *row) date(name string) string {
	switch v := x.cell(name).(type) {
	case time.Time:
		return v.Format(time.DateOnly)
	default:
		x.fail(fmt.Errorf("column %s: %T is not a Date", name, v))
		return ""
	}
}

// sum adds the column's value to *dst, failing rather than wrap.
func (x *row) sum(dst *int64, name string) {
	v := x.int(name)
	s := *dst + v
	if (v > 0 && s < *dst) || (v < 0 && s > *dst) {
		x.fail(fmt.Errorf("column %s: the sum passes the range of Int64", name))
		return
	}
	*dst = s
}

// add adds o's counts to f's; the counts come from one row of awu_funnel.
func (f *Funnel) add(x *row, o Funnel) {
	for _, p := range []struct {
		dst *int64
		v   int64
	}{{&f.Attempted, o.Attempted}, {&f.Succeeded, o.Succeeded}, {&f.Validated, o.Validated},
		{&f.RolledBack, o.RolledBack}, {&f.Failed, o.Failed}, {&f.Attempts, o.Attempts}} {
		s := *p.dst + p.v
		if s < *p.dst {
			x.fail(fmt.Errorf("the funnel's sums pass the range of Int64"))
			return
		}
		*p.dst = s
	}
}

// cmpRatio compares a/b with c/d for non-negative counts, a zero
// denominator counting as a ratio of 0.
func cmpRatio(a, b, c, d int64) int {
	if b == 0 || d == 0 {
		switch {
		case b == 0 && d == 0:
			return 0
		case b == 0:
			return -1
		default:
			return 1
		}
	}
	return decimal.NewFromInt(a).Mul(decimal.NewFromInt(d)).Cmp(decimal.NewFromInt(c).Mul(decimal.NewFromInt(b)))
}

// The bounds of workcycle_cost_distribution's buckets, USD: 0, then a
// 1-2-5 series from $0.001 to $1,000.
var (
	firstBound = decimal.New(1, -3)
	lastBound  = decimal.NewFromInt(1000)
)

// nextBound is the lower bound of the bucket after the one that starts at
// from; ok is false for the last bucket.
func nextBound(from decimal.Decimal) (next decimal.Decimal, ok bool) {
	switch {
	case from.IsZero():
		return firstBound, true
	case from.GreaterThanOrEqual(lastBound):
		return decimal.Zero, false
	}
	exp := int32(len(from.Coefficient().String())) - 1 + from.Exponent() // from = m × 10^exp, m in [1, 10)
	switch from.Shift(-exp).String() {
	case "1":
		return decimal.New(2, exp), true
	case "2":
		return decimal.New(5, exp), true
	default:
		return decimal.New(1, exp+1), true
	}
}

// fillBuckets adds the empty buckets between the first and the last one
// listed (the query lists none), so the histogram's bars are evenly spaced
// on the series.
func fillBuckets(bs []CostBucket) []CostBucket {
	if len(bs) == 0 {
		return bs
	}
	out := []CostBucket{}
	i := 0
	for from := bs[0].From; ; {
		if i < len(bs) && bs[i].From.Equal(from) {
			out = append(out, bs[i])
			i++
		} else {
			out = append(out, CostBucket{From: from})
		}
		if i == len(bs) {
			return out
		}
		next, ok := nextBound(from)
		if !ok || next.GreaterThan(bs[i].From) {
			// A bound off the series: keep the rest as listed.
			return append(out, bs[i:]...)
		}
		from = next
	}
}

// fillDays adds the days without AWUs from the first of the month to the
// last day listed, so a quiet day shows as zero, not as a gap.
func fillDays(month string, days []Day) []Day {
	if len(days) == 0 {
		return days
	}
	first, err := time.Parse("2006-01", month)
	if err != nil {
		return days
	}
	last, err := time.Parse(time.DateOnly, days[len(days)-1].Day)
	if err != nil {
		return days
	}
	byDay := make(map[string]Day, len(days))
	for _, d := range days {
		byDay[d.Day] = d
	}
	var out []Day
	for t := first; !t.After(last); t = t.AddDate(0, 0, 1) {
		d, ok := byDay[t.Format(time.DateOnly)]
		if !ok {
			d = Day{Day: t.Format(time.DateOnly), TokenCost: decimal.Zero, ListCost: decimal.Zero}
		}
		out = append(out, d)
	}
	return out
}
