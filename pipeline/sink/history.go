package sink

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/awumeter/awumeter/pipeline/event"
	"github.com/awumeter/awumeter/pipeline/migrate"
	"github.com/awumeter/awumeter/schemas/chschema"
)

// WorkcycleKey names one workcycle of the ledger.
type WorkcycleKey struct {
	TenantID, WorkcycleID string
}

// keysPerQuery bounds the keys of one query of EventsOf; the bytes of its
// text are bounded by clickhouse.max_query_bytes.
const keysPerQuery = 1000

// ErrQueryTooLarge means a single workcycle's key is so long that no query
// naming it fits in clickhouse.max_query_bytes. It is permanent: retrying
// cannot help. The decoders' id limits make it unreachable with the
// defaults.
var ErrQueryTooLarge = errors.New("the key does not fit in a query of clickhouse.max_query_bytes")

// History reads the events ledger back, for the engine's check of late
// events against workcycles it no longer holds in memory.
//
// The events table is ordered by (tenant_id, workcycle_id, event_id), so
// every query here selects a few index ranges: a condition on both columns,
// or the pair IN a list of tuples (ClickHouse 18.16 uses the primary key for
// both; the tests run the queries with force_primary_key).
//
// The keys are written into the query text as escaped string literals, and
// ClickHouse parses a query's text whole and refuses one longer than its
// max_query_size (262144 bytes by default). Every query here is therefore
// rendered in full and measured: lists of keys are split so that each text
// is at most maxQueryBytes long, however long the ids are.
type History struct {
	conn          driver.Conn
	schema        migrate.Schema
	maxQueryBytes int
	// Each query is the text before the keys and the text after them.
	query  [2]string // one workcycle: tenant, then workcycle literal
	exists [2]string // which of a list of workcycles have events
	many   [2]string // every event of a list of workcycles
	keys   string    // the workcycle keys of one partition
	open   string    // the open workcycles of one partition
}

// ledgerQueryTextBytes bounds the text of a ledger read besides the
// database name and the key list: SELECT, the column list, FROM, WHERE
// and ORDER BY of either schema flavor.
const ledgerQueryTextBytes = 1024

// KeyQueryBytes is the most bytes a ledger read naming one workcycle can
// take when its tenant and workcycle ids are at most maxIDBytes each (the
// decoders' max_id_bytes): each id may double when escaped. A
// clickhouse.max_query_bytes below it could refuse a valid workcycle with
// ErrQueryTooLarge, so the service configuration rejects that pairing.
func KeyQueryBytes(database string, maxIDBytes int) int {
	return ledgerQueryTextBytes + len(database) + len("('', '')") + 4*maxIDBytes
}

// NewHistory reads the ledger of a schema returned by migrate.CheckSchema.
// maxQueryBytes bounds the text of every query it sends, in bytes
// (clickhouse.max_query_bytes; DefaultMaxQueryBytes).
func NewHistory(conn driver.Conn, schema migrate.Schema, maxQueryBytes int) *History {
	timeCols := "time"
	if schema.Flavor == chschema.Legacy {
		timeCols = "time, time_ms"
	}
	cols := fmt.Sprintf(`event_id, type, %s, agent_id, conversation_id, awu_id, attempt, model, provider,
       input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens, reasoning_tokens,
       tool, channel, status, phase, outcome, outcome_type, human_millis, csat, resolved_by, reported_by,
       kafka_topic, kafka_partition, kafka_offset`, timeCols)
	return &History{
		conn: conn, schema: schema, maxQueryBytes: maxQueryBytes,
		query: [2]string{fmt.Sprintf(`SELECT tenant_id, workcycle_id, %s
FROM %s.events FINAL
WHERE (tenant_id, workcycle_id) IN (`, cols, schema.Database), `)
ORDER BY time, event_id`},
		// Without FINAL: any stored copy of any event says the workcycle
		// exists, and skipping the merge makes the common answer, "none of
		// these", cheap.
		exists: [2]string{fmt.Sprintf(`SELECT DISTINCT tenant_id, workcycle_id
FROM %s.events
WHERE (tenant_id, workcycle_id) IN (`, schema.Database), `)`},
		many: [2]string{fmt.Sprintf(`SELECT tenant_id, workcycle_id, %s
FROM %s.events FINAL
WHERE (tenant_id, workcycle_id) IN (`, cols, schema.Database), `)
ORDER BY tenant_id, workcycle_id, time, event_id`},
		keys: fmt.Sprintf(`SELECT key_hash FROM %s.workcycle_keys WHERE kafka_topic = ? AND kafka_partition = ?`, schema.Database),
		// argMax, not FINAL: the state is not in the sort key, and a
		// version names one state, so there are no ties to break.
		open: fmt.Sprintf(`SELECT tenant_id, workcycle_id FROM %s.workcycle_states
WHERE kafka_topic = ? AND kafka_partition = ?
GROUP BY tenant_id, workcycle_id
HAVING argMax(state, version) = 'open'`, schema.Database),
	}
}

// Events returns every distinct event of one workcycle in the ledger, in
// time order. Times are exact to the millisecond. A key too long for
// clickhouse.max_query_bytes is refused with ErrQueryTooLarge, unsent.
func (h *History) Events(ctx context.Context, tenantID, workcycleID string) ([]event.Event, error) {
	var out []event.Event
	var err error
	for q, qerr := range h.queries(h.query, []WorkcycleKey{{tenantID, workcycleID}}) {
		if err = qerr; err == nil {
			err = h.read(ctx, q.text, func(e event.Event) { out = append(out, e) })
		}
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the events of workcycle %s/%s: %w", tenantID, workcycleID, err)
	}
	return out, nil
}

// EventsOf returns the events of many workcycles, each as Events would, in
// few queries: one per chunk of up to 1,000 keys and at most
// clickhouse.max_query_bytes of text asks which of them have any event (for
// new workcycles, the usual case, that is the only query), then one FINAL
// read per chunk of those that do. Keys without events are absent from the
// map. timeout, if positive, bounds each query. A key too long for any
// query fails the call with ErrQueryTooLarge before anything is sent.
func (h *History) EventsOf(ctx context.Context, keys []WorkcycleKey, timeout time.Duration) (map[WorkcycleKey][]event.Event, error) {
	out := map[WorkcycleKey][]event.Event{}
	var found []WorkcycleKey
	for q, err := range h.queries(h.exists, keys) {
		if err != nil {
			return nil, err
		}
		err := withTimeout(ctx, timeout, func(ctx context.Context) error {
			rows, err := h.conn.Query(ctx, q.text)
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
			return nil, fmt.Errorf("cannot look up %d workcycles in the events ledger: %w", q.keys, err)
		}
	}
	for q, err := range h.queries(h.many, found) {
		if err != nil {
			return nil, err
		}
		err := withTimeout(ctx, timeout, func(ctx context.Context) error {
			return h.read(ctx, q.text, func(e event.Event) {
				k := WorkcycleKey{e.TenantID, e.WorkcycleID}
				out[k] = append(out[k], e)
			})
		})
		if err != nil {
			return nil, fmt.Errorf("cannot read the events of %d workcycles: %w", q.keys, err)
		}
	}
	return out, nil
}

// read runs a query selecting tenant_id, workcycle_id and the event
// columns and calls add with every event.
func (h *History) read(ctx context.Context, query string, add func(event.Event)) error {
	rows, err := h.conn.Query(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var e event.Event
		var typ, channel, status, phase, resolvedBy, by string
		var ms uint16
		dest := []any{&e.TenantID, &e.WorkcycleID, &e.EventID, &typ, &e.Time}
		if h.schema.Flavor == chschema.Legacy {
			dest = append(dest, &ms)
		}
		dest = append(dest, &e.AgentID, &e.ConversationID, &e.AWUID, &e.Attempt, &e.Model, &e.Provider,
			&e.InputTokens, &e.OutputTokens, &e.CacheReadInputTokens, &e.CacheCreationInputTokens, &e.ReasoningTokens,
			&e.Tool, &channel, &status, &phase, &e.Outcome, &e.OutcomeType, &e.HumanMillis, &e.CSAT, &resolvedBy, &by,
			&e.Source.Topic, &e.Source.Partition, &e.Source.Offset)
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		e.Time = joinTime(e.Time, ms)
		e.Type, _ = event.ParseType(typ)
		e.Channel, _ = event.ParseChannel(channel)
		e.Status, _ = event.ParseToolStatus(status)
		e.Phase, _ = event.ParsePhase(phase)
		e.ResolvedBy, _ = event.ParseResolvedBy(resolvedBy)
		e.By, _ = event.ParseBy(by)
		add(e)
	}
	return rows.Err()
}

// keyQuery is one rendered query and the number of keys it names.
type keyQuery struct {
	text string
	keys int
}

// queries renders query (the text before and after the key list) for keys,
// split into as few texts as keep each at most h.maxQueryBytes long and
// naming at most keysPerQuery keys. If any key does not fit in a query
// alone, it yields only ErrQueryTooLarge naming it.
func (h *History) queries(query [2]string, keys []WorkcycleKey) iter.Seq2[keyQuery, error] {
	return func(yield func(keyQuery, error) bool) {
		fixed := len(query[0]) + len(query[1])
		for _, k := range keys {
			if size := fixed + keyLiteralLen(k); size > h.maxQueryBytes {
				yield(keyQuery{}, fmt.Errorf("workcycle %.64q… of tenant %.64q… (%d and %d bytes): a query naming it would be %d bytes, over clickhouse.max_query_bytes %d: %w",
					k.WorkcycleID, k.TenantID, len(k.WorkcycleID), len(k.TenantID), size, h.maxQueryBytes, ErrQueryTooLarge))
				return
			}
		}
		var b strings.Builder
		n := 0
		flush := func() bool {
			if n == 0 {
				return true
			}
			b.WriteString(query[1])
			q := keyQuery{text: b.String(), keys: n}
			b.Reset()
			n = 0
			return yield(q, nil)
		}
		for _, k := range keys {
			size := keyLiteralLen(k)
			if n > 0 && (n == keysPerQuery || b.Len()+len(", ")+size+len(query[1]) > h.maxQueryBytes) {
				if !flush() {
					return
				}
			}
			if n == 0 {
				b.Grow(h.maxQueryBytes)
				b.WriteString(query[0])
			} else {
				b.WriteString(", ")
			}
			writeKeyLiteral(&b, k)
			n++
		}
		flush()
	}
}

// keyLiteralLen is the length of k as writeKeyLiteral writes it, in bytes.
func keyLiteralLen(k WorkcycleKey) int {
	return len("('', '')") + escapedLen(k.TenantID) + escapedLen(k.WorkcycleID)
}

// writeKeyLiteral writes k as the tuple literal ('tenant', 'workcycle').
func writeKeyLiteral(b *strings.Builder, k WorkcycleKey) {
	b.WriteString("('")
	writeEscaped(b, k.TenantID)
	b.WriteString("', '")
	writeEscaped(b, k.WorkcycleID)
	b.WriteString("')")
}

// writeEscaped writes s for a single-quoted ClickHouse string literal:
// backslash, quote and NUL are escaped, every other byte is itself.
func writeEscaped(b *strings.Builder, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '\\':
			esc = `\\`
		case '\'':
			esc = `\'`
		case 0:
			esc = `\0`
		default:
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(esc)
		last = i + 1
	}
	b.WriteString(s[last:])
}

func escapedLen(s string) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\\' || c == '\'' || c == 0 {
			n++
		}
	}
	return n
}

func withTimeout(ctx context.Context, timeout time.Duration, f func(context.Context) error) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	return f(ctx)
}

// Bound returns the History with every query bounded by timeout (if
// positive), in the shape the source and the engine ask for.
func (h *History) Bound(timeout time.Duration) BoundHistory {
	return BoundHistory{h: h, timeout: timeout}
}

// BoundHistory is a History whose every query is bounded by a timeout. It
// holds no context: each method takes the caller's, except Events, which
// satisfies the engine's
//
//	interface{ Events(tenantID, workcycleID string) ([]event.Event, error) }
//
// whose calls carry none, and so is bounded by the timeout alone. Its
// EventsOf, StoredKeys and OpenWorkcycles are the source's batch, key and
// state interfaces.
type BoundHistory struct {
	h       *History
	timeout time.Duration
}

// Events is History.Events under the timeout alone: the engine's History
// interface passes no context. The source answers the engine from
// EventsOf, read under its own context, and calls this only for a
// workcycle it did not prefetch.
func (b BoundHistory) Events(tenantID, workcycleID string) ([]event.Event, error) {
	var out []event.Event
	err := withTimeout(context.Background(), b.timeout, func(ctx context.Context) error {
		var err error
		out, err = b.h.Events(ctx, tenantID, workcycleID)
		return err
	})
	return out, err
}

// EventsOf is History.EventsOf with each query bounded by the timeout.
func (b BoundHistory) EventsOf(ctx context.Context, keys []WorkcycleKey) (map[WorkcycleKey][]event.Event, error) {
	return b.h.EventsOf(ctx, keys, b.timeout)
}

// StoredKeys is History.StoredKeys bounded by the timeout.
func (b BoundHistory) StoredKeys(ctx context.Context, topic string, partition int32) ([]uint64, error) {
	var out []uint64
	err := withTimeout(ctx, b.timeout, func(ctx context.Context) error {
		var err error
		out, err = b.h.StoredKeys(ctx, topic, partition)
		return err
	})
	return out, err
}
