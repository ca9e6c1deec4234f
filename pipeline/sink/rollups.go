package sink

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/ext"
	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/migrate"
	"github.com/awumeter/awumeter/schemas/chschema"
)

// The rollup tables (usage_daily, usage_monthly, model_usage_daily and
// model_usage_monthly) are refreshed by slice, a tenant's UTC day. Every
// version of an AWU row is written to awu_days once per day it has events
// on, so a refresh of a slice reads one range of awu_days and finds every
// AWU whose row can change the slice's rollup; see 0009_rollup_tables.sql
// and DESIGN.md, "Rollups".

// slice is a daily rollup slice.
type slice struct {
	tenant string
	day    int32 // days since 1970-01-01, UTC
}

// sliceSet is a set of slices to refresh.
type sliceSet map[slice]struct{}

// addRows adds the slices the AWU rows of parts can change: every day of
// each row's events.
func (s sliceSet) addRows(parts []Batch) {
	for i := range parts {
		for j := range parts[i].AWUs {
			r := &parts[i].AWUs[j]
			if len(r.EventDays) == 0 {
				s[slice{r.TenantID, dayNumber(r.FirstSeen)}] = struct{}{}
				continue
			}
			for _, d := range r.EventDays {
				s[slice{r.TenantID, d}] = struct{}{}
			}
		}
	}
}

// awuDay is one row of awu_days: an AWU row, or one of its per-model rows,
// on one day of the AWU's events.
type awuDay struct {
	awu   *engine.AWURow
	model *AWUModelRow
	day   time.Time
}

// dayNumber is t's UTC day, counted from 1970-01-01.
func dayNumber(t time.Time) int32 {
	u := t.Unix()
	d := u / 86400
	if u%86400 < 0 {
		d--
	}
	return int32(d)
}

func dayTime(d int32) time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// awuDaysOf expands the AWU and per-model rows of parts into awu_days rows:
// each on every day of its AWU's events. A part's per-model rows come with
// their AWU's row, both sorted by (tenant_id, workcycle_id, awu_id).
func awuDaysOf(parts []Batch) []awuDay {
	n := 0
	for i := range parts {
		n += len(parts[i].AWUs) + len(parts[i].AWUModels)
	}
	if n == 0 {
		return nil
	}
	out := make([]awuDay, 0, n)
	expand := func(r awuDay, days []int32) {
		if len(days) == 0 {
			out = append(out, r)
			return
		}
		for _, d := range days {
			r.day = dayTime(d)
			out = append(out, r)
		}
	}
	for i := range parts {
		awus, models := parts[i].AWUs, parts[i].AWUModels
		k := 0
		for j := range awus {
			a := &awus[j]
			expand(awuDay{awu: a, day: utcDay(a.FirstSeen)}, a.EventDays)
			for ; k < len(models) && !sameAWU(&models[k], a) && modelBefore(&models[k], a); k++ {
				m := &models[k] // no AWU row in this part: its first day
				out = append(out, awuDay{model: m, day: utcDay(m.FirstSeen)})
			}
			for ; k < len(models) && sameAWU(&models[k], a); k++ {
				expand(awuDay{model: &models[k], day: utcDay(models[k].FirstSeen)}, a.EventDays)
			}
		}
		for ; k < len(models); k++ {
			out = append(out, awuDay{model: &models[k], day: utcDay(models[k].FirstSeen)})
		}
	}
	return out
}

func sameAWU(m *AWUModelRow, a *engine.AWURow) bool {
	return m.TenantID == a.TenantID && m.WorkcycleID == a.WorkcycleID && m.AWUID == a.AWUID
}

// modelBefore reports whether m's AWU sorts before a.
func modelBefore(m *AWUModelRow, a *engine.AWURow) bool {
	return cmp.Or(cmp.Compare(m.TenantID, a.TenantID), cmp.Compare(m.WorkcycleID, a.WorkcycleID), cmp.Compare(m.AWUID, a.AWUID)) < 0
}

func utcDay(t time.Time) time.Time { return dayTime(dayNumber(t)) }

// Accessors of an awu_days row: the AWU's own fields, or the model row's.
func (r *awuDay) tokens() *engine.TokenCounts {
	if r.awu != nil {
		return &r.awu.TokenCounts
	}
	return &r.model.TokenCounts
}

func (r *awuDay) str(awu func(*engine.AWURow) string, model func(*AWUModelRow) string) string {
	if r.awu != nil {
		return awu(r.awu)
	}
	if model == nil {
		return ""
	}
	return model(r.model)
}

type ad = awuDay

var awuDayColumns = concat[ad](
	dimCol("tenant_id", func(r *ad) string {
		return r.str(func(a *engine.AWURow) string { return a.TenantID }, func(m *AWUModelRow) string { return m.TenantID })
	}),
	column[ad]{name: "day", typ: fixed("Date"), values: func(rows [][]ad, s *scratch) any {
		return build(&s.times, rows, func(r *ad) time.Time { return r.day })
	}},
	strCol("workcycle_id", func(r *ad) string {
		return r.str(func(a *engine.AWURow) string { return a.WorkcycleID }, func(m *AWUModelRow) string { return m.WorkcycleID })
	}),
	strCol("awu_id", func(r *ad) string {
		return r.str(func(a *engine.AWURow) string { return a.AWUID }, func(m *AWUModelRow) string { return m.AWUID })
	}),
	dimCol("part", func(r *ad) string {
		if r.awu != nil {
			return "awu"
		}
		return "model"
	}),
	dimCol("model", func(r *ad) string {
		return r.str(func(*engine.AWURow) string { return "" }, func(m *AWUModelRow) string { return m.Model })
	}),
	dimCol("provider", func(r *ad) string {
		return r.str(func(*engine.AWURow) string { return "" }, func(m *AWUModelRow) string { return m.Provider })
	}),
	dimCol("agent_id", func(r *ad) string {
		return r.str(func(a *engine.AWURow) string { return a.AgentID }, func(m *AWUModelRow) string { return m.AgentID })
	}),
	dimCol("kind", func(r *ad) string {
		return r.str(func(a *engine.AWURow) string { return string(a.Kind) }, func(m *AWUModelRow) string { return string(m.Kind) })
	}),
	dimCol("tool", func(r *ad) string {
		return r.str(func(a *engine.AWURow) string { return a.Tool }, func(m *AWUModelRow) string { return m.Tool })
	}),
	dimCol("channel", func(r *ad) string { return r.str(func(a *engine.AWURow) string { return string(a.Channel) }, nil) }),
	dimCol("status", func(r *ad) string { return r.str(func(a *engine.AWURow) string { return string(a.Status) }, nil) }),
	boolCol("validated", func(r *ad) bool { return r.awu != nil && r.awu.Validated }),
	boolCol("rolled_back", func(r *ad) bool { return r.awu != nil && r.awu.RolledBack }),
	i64Col("attempts", func(r *ad) int64 {
		if r.awu != nil {
			return r.awu.Attempts
		}
		return 0
	}),
	column[ad]{name: "first_seen", typ: fixed("DateTime('UTC')"), values: func(rows [][]ad, s *scratch) any {
		return build(&s.times, rows, func(r *ad) time.Time {
			if r.awu != nil {
				return r.awu.FirstSeen.UTC()
			}
			return r.model.FirstSeen.UTC()
		})
	}},
	tokenCols(func(r *ad) *engine.TokenCounts { return r.tokens() }),
	decCol("token_cost", func(r *ad) decimal.Decimal {
		if r.awu != nil {
			return r.awu.TokenCost
		}
		return r.model.TokenCost
	}),
	i64Col("credits", func(r *ad) int64 {
		if r.awu != nil {
			return r.awu.Credits
		}
		return 0
	}),
	decCol("list_cost", func(r *ad) decimal.Decimal {
		if r.awu != nil {
			return r.awu.ListCost
		}
		return decimal.Zero
	}),
	i64Col("unpriced_tokens", func(r *ad) int64 {
		if r.awu != nil {
			return r.awu.UnpricedTokens
		}
		return r.model.UnpricedTokens
	}),
	u64Col("version", func(r *ad) uint64 {
		if r.awu != nil {
			return r.awu.Version
		}
		return r.model.Version
	}),
)

// rollupRefresher is a BatchWriter whose batches change rollup tables that
// must be refreshed before the batches' offsets are committed. Writer is
// one; Buffer drives it.
type rollupRefresher interface {
	// refreshRollups refreshes the given slices and the months they fall
	// in, retrying as writeTable does.
	refreshRollups(ctx context.Context, s sliceSet) error
}

// refreshRollups runs the refresh statements (rollups/refresh.sql) for the
// slices, with the slice lists sent as external tables. It retries
// retryable failures until ctx ends; the refresh is idempotent, so a
// statement that may have run before a failure is simply run again.
func (w *Writer) refreshRollups(ctx context.Context, s sliceSet) error {
	if len(s) == 0 {
		return nil
	}
	if w.refreshErr != nil {
		return &PermanentError{Table: "rollups", Err: w.refreshErr}
	}
	for attempt := 0; ; attempt++ {
		start := time.Now()
		err := w.refreshOnce(ctx, s)
		w.obs.InsertDone("rollups", len(s), time.Since(start), err)
		if err == nil {
			return nil
		}
		if IsPermanent(err) || permanent(err) {
			return &PermanentError{Table: "rollups", Err: err}
		}
		if ctx.Err() != nil || !sleep(ctx, w.retry.backoff(attempt)) {
			return fmt.Errorf("cannot refresh the rollups of %d days after %d attempts: %w (last error: %w)", len(s), attempt+1, ctx.Err(), err)
		}
	}
}

func (w *Writer) refreshOnce(ctx context.Context, s sliceSet) error {
	days, months, err := sliceTables(s)
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, w.insertTimeout)
	defer cancel()
	opts := []clickhouse.QueryOption{clickhouse.WithExternalTable(days, months)}
	if w.schema.Cluster != "" {
		opts = append(opts, clickhouse.WithSettings(clickhouse.Settings{"insert_distributed_sync": 1}))
	}
	rctx = clickhouse.Context(rctx, opts...)
	for i, stmt := range w.refresh {
		if err := w.conn.Exec(rctx, stmt); err != nil {
			return fmt.Errorf("rollup refresh statement %d of %d: %w", i+1, len(w.refresh), err)
		}
	}
	return w.checkWindows(ctx, s)
}

// sliceTables are the external tables listing the slices of s
// (chschema.RefreshDays) and their months (chschema.RefreshMonths).
func sliceTables(s sliceSet) (days, months *ext.Table, err error) {
	days, err = ext.NewTable(chschema.RefreshDays, ext.Column("tenant_id", "String"), ext.Column("day", "Date"))
	if err != nil {
		return nil, nil, err
	}
	months, err = ext.NewTable(chschema.RefreshMonths, ext.Column("tenant_id", "String"), ext.Column("month", "Date"))
	if err != nil {
		return nil, nil, err
	}
	type month struct {
		tenant string
		month  time.Time
	}
	seen := map[month]bool{}
	for sl := range s {
		d := dayTime(sl.day)
		if err := days.Append(sl.tenant, d); err != nil {
			return nil, nil, err
		}
		m := month{sl.tenant, time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)}
		if !seen[m] {
			seen[m] = true
			if err := months.Append(m.tenant, m.month); err != nil {
				return nil, nil, err
			}
		}
	}
	return days, months, nil
}

// refreshSQL renders the refresh statements for the schema.
func refreshSQL(s migrate.Schema) ([]string, error) {
	return chschema.RefreshStatements(chschema.Params{Database: s.Database, Flavor: s.Flavor, Cluster: s.Cluster})
}
