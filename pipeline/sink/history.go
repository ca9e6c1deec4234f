package sink

import (
	"context"
	"fmt"
	"iter"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/awumeter/awumeter/pipeline/event"
	"github.com/awumeter/awumeter/pipeline/migrate"
	chschema "github.com/awumeter/awumeter/schemas/clickhouse"
)

// WorkcycleKey names one workcycle of the ledger.
type WorkcycleKey struct {
	TenantID, WorkcycleID string
}

// Limits of one query of EventsOf. The keys are sent as literals in the
// query text, which ClickHouse parses whole (max_query_size, 256 KiB by
// default); both limits keep a query well under it.
const (
	keysPerQuery     = 1000
	keyBytesPerQuery = 128 << 10
)

// History reads the events ledger back, for the engine's check of late
// events against workcycles it no longer holds in memory.
//
// The events table is ordered by (tenant_id, workcycle_id, event_id), so
// every query here selects a few index ranges: a condition on both columns,
// or the pair IN a list of tuples (ClickHouse 18.16 uses the primary key for
// both; the tests run the queries with force_primary_key).
type History struct {
	conn   driver.Conn
	schema migrate.Schema
	cols   string // the event columns, after tenant_id and workcycle_id
	query  string // one workcycle
	exists string // which of a list of workcycles have events
	many   string // every event of a list of workcycles
}

// NewHistory reads the ledger of a schema returned by migrate.CheckSchema.
func NewHistory(conn driver.Conn, schema migrate.Schema) *History {
	timeCols := "time"
	if schema.Flavor == chschema.Legacy {
		timeCols = "time, time_ms"
	}
	cols := fmt.Sprintf(`event_id, type, %s, agent_id, conversation_id, awu_id, attempt, model, provider,
       input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens, reasoning_tokens,
       tool, channel, status, phase, outcome, outcome_type, kafka_topic, kafka_partition, kafka_offset`, timeCols)
	return &History{
		conn: conn, schema: schema, cols: cols,
		query: fmt.Sprintf(`SELECT tenant_id, workcycle_id, %s
FROM %s.events FINAL
WHERE tenant_id = ? AND workcycle_id = ?
ORDER BY time, event_id`, cols, schema.Database),
		// Without FINAL: any stored copy of any event says the workcycle
		// exists, and skipping the merge makes the common answer, "none of
		// these", cheap.
		exists: fmt.Sprintf(`SELECT DISTINCT tenant_id, workcycle_id
FROM %s.events
WHERE (tenant_id, workcycle_id) IN (?)`, schema.Database),
		many: fmt.Sprintf(`SELECT tenant_id, workcycle_id, %s
FROM %s.events FINAL
WHERE (tenant_id, workcycle_id) IN (?)
ORDER BY tenant_id, workcycle_id, time, event_id`, cols, schema.Database),
	}
}

// Events returns every distinct event of one workcycle in the ledger, in
// time order. Times are exact to the millisecond.
func (h *History) Events(ctx context.Context, tenantID, workcycleID string) ([]event.Event, error) {
	var out []event.Event
	err := h.read(ctx, h.query, func(e event.Event) { out = append(out, e) }, tenantID, workcycleID)
	if err != nil {
		return nil, fmt.Errorf("cannot read the events of workcycle %s/%s: %w", tenantID, workcycleID, err)
	}
	return out, nil
}

// EventsOf returns the events of many workcycles, each as Events would, in
// few queries: one per chunk of up to 1,000 keys asks which of them have
// any event (for new workcycles, the usual case, that is the only query),
// then one FINAL read per chunk of those that do. Keys without events are
// absent from the map. timeout, if positive, bounds each query.
func (h *History) EventsOf(ctx context.Context, keys []WorkcycleKey, timeout time.Duration) (map[WorkcycleKey][]event.Event, error) {
	out := map[WorkcycleKey][]event.Event{}
	var found []WorkcycleKey
	for chunk := range chunks(keys) {
		err := withTimeout(ctx, timeout, func(ctx context.Context) error {
			rows, err := h.conn.Query(ctx, h.exists, groupSets(chunk))
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var k WorkcycleKey
				if err := rows.Scan(&k.TenantID, &k.WorkcycleID); err != nil {
					return err
				}
				found = append(found, k)
			}
			return rows.Err()
		})
		if err != nil {
			return nil, fmt.Errorf("cannot look up %d workcycles in the events ledger: %w", len(chunk), err)
		}
	}
	for chunk := range chunks(found) {
		err := withTimeout(ctx, timeout, func(ctx context.Context) error {
			return h.read(ctx, h.many, func(e event.Event) {
				k := WorkcycleKey{e.TenantID, e.WorkcycleID}
				out[k] = append(out[k], e)
			}, groupSets(chunk))
		})
		if err != nil {
			return nil, fmt.Errorf("cannot read the events of %d workcycles: %w", len(chunk), err)
		}
	}
	return out, nil
}

// read runs a query selecting tenant_id, workcycle_id and h.cols and calls
// add with every event.
func (h *History) read(ctx context.Context, query string, add func(event.Event), args ...any) error {
	rows, err := h.conn.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var e event.Event
		var typ, channel, status, phase string
		var ms uint16
		dest := []any{&e.TenantID, &e.WorkcycleID, &e.EventID, &typ, &e.Time}
		if h.schema.Flavor == chschema.Legacy {
			dest = append(dest, &ms)
		}
		dest = append(dest, &e.AgentID, &e.ConversationID, &e.AWUID, &e.Attempt, &e.Model, &e.Provider,
			&e.InputTokens, &e.OutputTokens, &e.CacheReadInputTokens, &e.CacheCreationInputTokens, &e.ReasoningTokens,
			&e.Tool, &channel, &status, &phase, &e.Outcome, &e.OutcomeType,
			&e.Source.Topic, &e.Source.Partition, &e.Source.Offset)
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		e.Time = joinTime(e.Time, ms)
		e.Type, _ = event.ParseType(typ)
		e.Channel, _ = event.ParseChannel(channel)
		e.Status, _ = event.ParseToolStatus(status)
		e.Phase, _ = event.ParsePhase(phase)
		add(e)
	}
	return rows.Err()
}

// chunks splits keys into runs of at most keysPerQuery keys and about
// keyBytesPerQuery bytes of literals.
func chunks(keys []WorkcycleKey) iter.Seq[[]WorkcycleKey] {
	return func(yield func([]WorkcycleKey) bool) {
		start, size := 0, 0
		for i, k := range keys {
			n := len(k.TenantID) + len(k.WorkcycleID) + 8 // quotes, comma, parentheses, space
			if i > start && (i-start == keysPerQuery || size+n > keyBytesPerQuery) {
				if !yield(keys[start:i]) {
					return
				}
				start, size = i, 0
			}
			size += n
		}
		if start < len(keys) {
			yield(keys[start:])
		}
	}
}

// groupSets binds keys as a list of (tenant_id, workcycle_id) tuples,
// quoted and escaped by the driver like any other string argument.
func groupSets(keys []WorkcycleKey) []clickhouse.GroupSet {
	out := make([]clickhouse.GroupSet, len(keys))
	for i, k := range keys {
		out[i] = clickhouse.GroupSet{Value: []any{k.TenantID, k.WorkcycleID}}
	}
	return out
}

func withTimeout(ctx context.Context, timeout time.Duration, f func(context.Context) error) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	return f(ctx)
}

// Bound fixes the context and an optional per-query timeout, for callers
// whose interface has no context, such as the engine's history lookup.
func (h *History) Bound(ctx context.Context, timeout time.Duration) BoundHistory {
	return BoundHistory{h: h, ctx: ctx, timeout: timeout}
}

// BoundHistory is a History with its context fixed. It satisfies
//
//	interface{ Events(tenantID, workcycleID string) ([]event.Event, error) }
//
// and the source's batch interface with EventsOf.
type BoundHistory struct {
	h       *History
	ctx     context.Context
	timeout time.Duration
}

// Events is History.Events under the bound context.
func (b BoundHistory) Events(tenantID, workcycleID string) ([]event.Event, error) {
	var out []event.Event
	err := withTimeout(b.ctx, b.timeout, func(ctx context.Context) error {
		var err error
		out, err = b.h.Events(ctx, tenantID, workcycleID)
		return err
	})
	return out, err
}

// EventsOf is History.EventsOf under the bound context.
func (b BoundHistory) EventsOf(keys []WorkcycleKey) (map[WorkcycleKey][]event.Event, error) {
	return b.h.EventsOf(b.ctx, keys, b.timeout)
}
