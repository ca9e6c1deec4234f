package statement

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/awumeter/awumeter/pipeline/engine"
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

// Tally feeds a tenant's final rows for p to a new tally: its AWUs and
// their per-model split by first_seen, and its conversations by their first
// event. A row that cannot be summed is a *SumError.
func (w *Warehouse) Tally(ctx context.Context, tenantID string, p Period) (*Tally, error) {
	t := NewTally(p)
	t.TenantID = tenantID
	t.Models = map[string]*ModelTally{}
	if err := w.each(ctx, `
SELECT kind, channel, status, validated, rolled_back, attempts, first_seen,
       input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens, reasoning_tokens,
       token_cost, credits, unpriced_tokens
FROM (SELECT * FROM {db}.awus FINAL WHERE tenant_id = ?)
WHERE first_seen >= toDateTime(?, 'UTC') AND first_seen < toDateTime(?, 'UTC')`,
		[]any{tenantID, unix(p.Start), unix(p.End)},
		func(s scanner) error {
			var r engine.AWURow
			var validated, rolledBack uint8
			if err := s.Scan(&r.Kind, &r.Channel, &r.Status, &validated, &rolledBack, &r.Attempts, &r.FirstSeen,
				&r.InputTokens, &r.OutputTokens, &r.CacheReadInputTokens, &r.CacheCreationInputTokens, &r.ReasoningTokens,
				&r.TokenCost, &r.Credits, &r.UnpricedTokens); err != nil {
				return err
			}
			r.Validated, r.RolledBack = validated == 1, rolledBack == 1
			_, err := t.AddAWU(&r)
			return err
		}); err != nil {
		return nil, fmt.Errorf("cannot read awus of tenant %s for %s: %w", tenantID, p.Month, err)
	}
	if err := w.each(ctx, `
SELECT model, first_seen,
       input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens, reasoning_tokens,
       token_cost, unpriced_tokens
FROM (SELECT * FROM {db}.awu_models FINAL WHERE tenant_id = ?)
WHERE first_seen >= toDateTime(?, 'UTC') AND first_seen < toDateTime(?, 'UTC')`,
		[]any{tenantID, unix(p.Start), unix(p.End)},
		func(s scanner) error {
			var m ModelRow
			if err := s.Scan(&m.Model, &m.FirstSeen,
				&m.InputTokens, &m.OutputTokens, &m.CacheReadInputTokens, &m.CacheCreationInputTokens, &m.ReasoningTokens,
				&m.TokenCost, &m.UnpricedTokens); err != nil {
				return err
			}
			_, err := t.AddModel(&m)
			return err
		}); err != nil {
		return nil, fmt.Errorf("cannot read awu_models of tenant %s for %s: %w", tenantID, p.Month, err)
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
