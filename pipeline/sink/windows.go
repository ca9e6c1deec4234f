package sink

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/pipeline/guard"
)

// WindowGuard checks tenants' spend for the guards' tenant_hour and
// tenant_day rules. The Writer calls it after every rollup refresh, with
// the spend of the refreshed days, and before the batches the refresh
// covers are acknowledged, so a crash before the alerts are delivered
// replays those batches and checks again.
type WindowGuard interface {
	// CheckSpend returns the alerts the sums raise (guard.Evaluator.Windows).
	CheckSpend(sums []guard.WindowSum) []guard.Alert
	// Raise delivers alerts, returning once they are acknowledged.
	Raise(ctx context.Context, alerts []guard.Alert) error
	// Forget is called with alerts that could not be written or raised:
	// the next CheckSpend must return them again (guard.Evaluator.Forget).
	Forget(alerts []guard.Alert)
}

// checkWindows reads the spend per tenant and UTC hour of the slices just
// refreshed, passes it, and each day's sum of it, to the WindowGuard,
// writes the alerts it returns to table alerts and raises them.
func (w *Writer) checkWindows(ctx context.Context, s sliceSet) error {
	if w.windows == nil || len(s) == 0 {
		return nil
	}
	if w.spendErr != nil {
		return &PermanentError{Table: "alerts", Err: w.spendErr}
	}
	days, _, err := sliceTables(s)
	if err != nil {
		return &PermanentError{Table: "alerts", Err: err}
	}
	qctx, cancel := context.WithTimeout(ctx, w.insertTimeout)
	defer cancel()
	rows, err := w.conn.Query(clickhouse.Context(qctx, clickhouse.WithExternalTable(days)), w.spend)
	if err != nil {
		return fmt.Errorf("cannot read the tenants' spend for the guards: %w", err)
	}
	defer rows.Close()
	type dayKey struct {
		tenant string
		day    time.Time
	}
	var sums []guard.WindowSum
	daily := map[dayKey]int{}
	for rows.Next() {
		var tenant string
		var hour time.Time
		var token, list decimal.Decimal
		if err := rows.Scan(&tenant, &hour, &token, &list); err != nil {
			return fmt.Errorf("cannot read the tenants' spend for the guards: %w", err)
		}
		hour = hour.UTC()
		sums = append(sums, guard.WindowSum{TenantID: tenant, On: guard.OnTenantHour, Start: hour, TokenCost: token, ListCost: list})
		k := dayKey{tenant, utcDay(hour)}
		if i, ok := daily[k]; ok {
			sums[i].TokenCost = sums[i].TokenCost.Add(token)
			sums[i].ListCost = sums[i].ListCost.Add(list)
			continue
		}
		daily[k] = len(sums)
		sums = append(sums, guard.WindowSum{TenantID: tenant, On: guard.OnTenantDay, Start: k.day, TokenCost: token, ListCost: list})
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("cannot read the tenants' spend for the guards: %w", err)
	}
	alerts := w.windows.CheckSpend(sums)
	if len(alerts) == 0 {
		return nil
	}
	now := w.now().UTC().Truncate(time.Second)
	// Raised first, so that a row in alerts means the topic has it too:
	// WindowAlertIDs seeds the next run's memory from the table.
	err = w.windows.Raise(ctx, alerts)
	if err == nil {
		err = writeTable(ctx, w, "alerts", w.alerts, alertColumns, [][]alertRow{alertRows([]Batch{{Alerts: alerts}}, now)})
	}
	if err != nil {
		w.windows.Forget(alerts)
		return fmt.Errorf("cannot raise %d tenant spend alerts: %w", len(alerts), err)
	}
	return nil
}

// WindowAlertIDs returns the ids of the tenant_hour and tenant_day alerts
// in table alerts whose window starts at or after since. Each was
// produced to the alerts topic before it was written (checkWindows), so a
// starting service may remember them instead of raising them again.
func (w *Writer) WindowAlertIDs(ctx context.Context, since time.Time) ([]string, error) {
	rows, err := w.conn.Query(ctx, fmt.Sprintf(`SELECT DISTINCT alert_id FROM %s.alerts
WHERE rule_on IN ('tenant_hour', 'tenant_day') AND window_start >= toDateTime(%d)`, w.schema.Database, since.Unix()))
	if err != nil {
		return nil, fmt.Errorf("cannot read the tenant window alerts: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("cannot read the tenant window alerts: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
