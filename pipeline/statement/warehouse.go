package statement

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Warehouse reads the rows statements are computed from, and the ledger they
// are reconciled with, from an awumeter ClickHouse database, and keeps the
// closed statements there.
//
// Versioned tables are read with FINAL, and a period filter on a column that
// can change between versions (first_seen, started_at) is applied outside
// the FINAL subquery, so an old version is never seen in the month it has
// moved out of.
type Warehouse struct {
	conn driver.Conn
	db   string
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// NewWarehouse returns a Warehouse over database on conn.
func NewWarehouse(conn driver.Conn, database string) (*Warehouse, error) {
	if !identifier.MatchString(database) {
		return nil, fmt.Errorf("database %q: must match [A-Za-z_][A-Za-z0-9_]*", database)
	}
	return &Warehouse{conn: conn, db: database}, nil
}

// sql replaces {db} in q with the database name.
func (w *Warehouse) sql(q string) string { return strings.ReplaceAll(q, "{db}", w.db) }

// unix is how instants are passed to queries: toDateTime(?, 'UTC').
func unix(t time.Time) int64 { return t.Unix() }

// Tenants returns, sorted, the tenants that have usage beginning before the
// end of their period, or a closed statement. end gives a tenant's period
// end, which depends on its time zone.
func (w *Warehouse) Tenants(ctx context.Context, end func(tenantID string) time.Time) ([]string, error) {
	seen := map[string]bool{}
	for _, q := range []string{
		"SELECT tenant_id, min(started_at) FROM {db}.workcycles GROUP BY tenant_id",
		"SELECT tenant_id, min(first_seen) FROM {db}.awus GROUP BY tenant_id",
		"SELECT tenant_id, min(period_start) FROM {db}.statements GROUP BY tenant_id",
	} {
		rows, err := w.conn.Query(ctx, w.sql(q))
		if err != nil {
			return nil, fmt.Errorf("cannot list tenants: %w", err)
		}
		for rows.Next() {
			var id string
			var first time.Time
			if err := rows.Scan(&id, &first); err != nil {
				rows.Close()
				return nil, fmt.Errorf("cannot list tenants: %w", err)
			}
			if first.Before(end(id)) {
				seen[id] = true
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("cannot list tenants: %w", err)
		}
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}

// Tally feeds a tenant's rollups for p to a new tally: the latest snapshots
// of the daily rollup tables (usage_daily and model_usage_daily) for the
// UTC days wholly inside p, and for a day p starts or ends within (a time
// zone other than UTC), the AWUs of that day's slice whose first event is
// in p; and its conversations by their first event. A sum that cannot be
// stated is a *SumError.
func (w *Warehouse) Tally(ctx context.Context, tenantID string, p Period) (*Tally, error) {
	t := NewTally(p)
	t.TenantID = tenantID
	t.Models = map[string]*ModelTally{}
	src, args := usageSource.query(tenantID, p)
	if err := w.each(ctx, `
SELECT kind, channel, sum(awus), sum(awus_succeeded), sum(awus_failed), sum(awus_validated), sum(awus_rolled_back),
       sum(actions), sum(voice_actions), sum(attempts), sum(input_tokens), sum(output_tokens),
       sum(cache_read_input_tokens), sum(cache_creation_input_tokens), sum(reasoning_tokens),
       sum(token_cost), sum(credits), sum(unpriced_tokens)
FROM (`+src+`)
GROUP BY kind, channel`, args, func(s scanner) error {
		var r UsageRow
		if err := s.Scan(&r.Kind, &r.Channel, &r.AWUs, &r.Succeeded, &r.Failed, &r.Validated, &r.RolledBack,
			&r.Actions, &r.VoiceActions, &r.Attempts, &r.InputTokens, &r.OutputTokens,
			&r.CacheReadInputTokens, &r.CacheCreationInputTokens, &r.ReasoningTokens,
			&r.TokenCost, &r.Credits, &r.UnpricedTokens); err != nil {
			return err
		}
		return t.AddUsage(&r)
	}); err != nil {
		return nil, fmt.Errorf("cannot read the rollups of tenant %s for %s: %w", tenantID, p.Month, err)
	}
	src, args = modelSource.query(tenantID, p)
	if err := w.each(ctx, `
SELECT model, sum(input_tokens), sum(output_tokens), sum(cache_read_input_tokens),
       sum(cache_creation_input_tokens), sum(reasoning_tokens), sum(token_cost), sum(unpriced_tokens)
FROM (`+src+`)
GROUP BY model`, args, func(s scanner) error {
		var r ModelUsageRow
		if err := s.Scan(&r.Model, &r.InputTokens, &r.OutputTokens, &r.CacheReadInputTokens,
			&r.CacheCreationInputTokens, &r.ReasoningTokens, &r.TokenCost, &r.UnpricedTokens); err != nil {
			return err
		}
		return t.AddModelUsage(&r)
	}); err != nil {
		return nil, fmt.Errorf("cannot read the per-model rollups of tenant %s for %s: %w", tenantID, p.Month, err)
	}
	if err := w.each(ctx, `
SELECT conversation_id, min(started_at) AS first_event
FROM (SELECT conversation_id, started_at FROM {db}.workcycles FINAL WHERE tenant_id = ?)
WHERE conversation_id != ''
GROUP BY conversation_id
HAVING first_event >= toDateTime(?, 'UTC') AND first_event < toDateTime(?, 'UTC')`,
		[]any{tenantID, unix(p.Start), unix(p.End)},
		func(s scanner) error {
			var id string
			var first time.Time
			if err := s.Scan(&id, &first); err != nil {
				return err
			}
			t.AddConversation(id, first)
			return nil
		}); err != nil {
		return nil, fmt.Errorf("cannot read conversations of tenant %s for %s: %w", tenantID, p.Month, err)
	}
	return t, nil
}

// utcDays splits p into the UTC days wholly inside it, [from, to), and the
// days it starts or ends within, when its time zone is not UTC's.
func utcDays(p Period) (from, to time.Time, edges []time.Time) {
	from, to = p.Start.Truncate(24*time.Hour), p.End.Truncate(24*time.Hour)
	if from.Before(p.Start) {
		edges = append(edges, from)
		from = from.Add(24 * time.Hour)
	}
	if to.Before(p.End) {
		edges = append(edges, to)
	}
	return from, to, edges
}

func date(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// rollupSource is a query of a tenant's usage in p from one daily rollup
// table: the latest snapshot of each day wholly inside p, then the rows of
// the edge days whose AWU's first event is in p, summed from their latest
// rows in awu_days. Sums of Int64 columns are Decimal(38, 0). GLOBAL IN
// builds the set of latest snapshots once, which a Distributed table needs
// and a single server allows.
type rollupSource struct {
	table string // rollup_usage_daily or rollup_model_usage_daily
	part  string // the awu_days rows of the edge days: awu or model
	// cols are the table's columns read; edgeCols the same values from an
	// awu_days row.
	cols, edgeCols string
}

var (
	// usageSource is by (kind, channel).
	usageSource = rollupSource{table: "rollup_usage_daily", part: "awu",
		cols: `kind, channel, awus, awus_succeeded, awus_failed, awus_validated, awus_rolled_back, actions, voice_actions,
           attempts, input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens, reasoning_tokens,
           token_cost, credits, unpriced_tokens`,
		edgeCols: `kind, channel, toUInt64(1), toUInt64(status = 'succeeded'), toUInt64(status = 'failed'), toUInt64(validated),
           toUInt64(rolled_back), toUInt64(kind = 'tool' AND status = 'succeeded'),
           toUInt64(kind = 'tool' AND status = 'succeeded' AND channel = 'voice'),
           toDecimal128(attempts, 0), toDecimal128(input_tokens, 0), toDecimal128(output_tokens, 0),
           toDecimal128(cache_read_input_tokens, 0), toDecimal128(cache_creation_input_tokens, 0),
           toDecimal128(reasoning_tokens, 0), token_cost, toDecimal128(credits, 0), toDecimal128(unpriced_tokens, 0)`}
	// modelSource is by model.
	modelSource = rollupSource{table: "rollup_model_usage_daily", part: "model",
		cols: `model, input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens, reasoning_tokens,
           token_cost, unpriced_tokens`,
		edgeCols: `model, toDecimal128(input_tokens, 0), toDecimal128(output_tokens, 0),
           toDecimal128(cache_read_input_tokens, 0), toDecimal128(cache_creation_input_tokens, 0),
           toDecimal128(reasoning_tokens, 0), token_cost, toDecimal128(unpriced_tokens, 0)`}
)

// query returns the query and its arguments.
func (r rollupSource) query(tenantID string, p Period) (string, []any) {
	from, to, edges := utcDays(p)
	q := `
    SELECT ` + r.cols + `
    FROM {db}.` + r.table + ` FINAL
    WHERE tenant_id = ? AND day >= toDate(?) AND day < toDate(?) AND slice_marker = 0
      AND (tenant_id, day, slice_version) GLOBAL IN (
          SELECT tenant_id, day, max(slice_version) FROM {db}.` + r.table + `
          WHERE tenant_id = ? AND day >= toDate(?) AND day < toDate(?) GROUP BY tenant_id, day)`
	args := []any{tenantID, date(from), date(to), tenantID, date(from), date(to)}
	for _, d := range edges {
		q += `
    UNION ALL
    SELECT ` + r.edgeCols + `
    FROM (SELECT * FROM {db}.awu_days FINAL WHERE tenant_id = ? AND day = toDate(?) AND part = '` + r.part + `')
    WHERE toDate(first_seen) = day AND first_seen >= toDateTime(?, 'UTC') AND first_seen < toDateTime(?, 'UTC')`
		args = append(args, tenantID, date(d), unix(p.Start), unix(p.End))
	}
	return q, args
}

// Cutoff returns what the ledger holds for a tenant now: the highest offset
// of every partition, the latest ingestion time and the number of distinct
// events.
func (w *Warehouse) Cutoff(ctx context.Context, tenantID string) (Cutoff, error) {
	var c Cutoff
	err := w.each(ctx, `
SELECT kafka_topic, kafka_partition, max(kafka_offset), max(ingested_at)
FROM {db}.events WHERE tenant_id = ?
GROUP BY kafka_topic, kafka_partition
ORDER BY kafka_topic, kafka_partition`, []any{tenantID}, func(s scanner) error {
		var po PartitionOffset
		var ingested time.Time
		if err := s.Scan(&po.Topic, &po.Partition, &po.Offset, &ingested); err != nil {
			return err
		}
		c.Offsets = append(c.Offsets, po)
		if ingested.After(c.IngestedAt) {
			c.IngestedAt = ingested.UTC()
		}
		return nil
	})
	if err == nil {
		var n uint64
		err = w.conn.QueryRow(ctx, w.sql("SELECT count() FROM {db}.events FINAL WHERE tenant_id = ?"), tenantID).Scan(&n)
		c.LedgerEvents = int64(n)
	}
	if err != nil {
		return Cutoff{}, fmt.Errorf("cannot read the ledger cutoff of tenant %s: %w", tenantID, err)
	}
	if c.IngestedAt.IsZero() {
		c.IngestedAt = time.Unix(0, 0).UTC()
	}
	return c, nil
}

type scanner interface{ Scan(dest ...any) error }

// each runs a query and calls f for every row.
func (w *Warehouse) each(ctx context.Context, query string, args []any, f func(scanner) error) error {
	rows, err := w.conn.Query(ctx, w.sql(query), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := f(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
