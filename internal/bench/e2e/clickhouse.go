package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// clickhouse runs the benchmark's own queries over the HTTP interface.
type clickhouse struct {
	url string
	hc  *http.Client
}

func newClickHouse(addr string) *clickhouse {
	return &clickhouse{url: "http://" + addr + "/", hc: &http.Client{}}
}

// query runs sql and returns its output, trimmed; params are extra URL
// parameters (query_id, settings) as name, value pairs.
func (c *clickhouse) query(ctx context.Context, sql string, params ...string) (string, error) {
	v := url.Values{}
	for i := 0; i+1 < len(params); i += 2 {
		v.Set(params[i], params[i+1])
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url+"?"+v.Encode(), strings.NewReader(sql))
	if err != nil {
		return "", err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("clickhouse: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("HTTP %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	if err != nil {
		first, _, _ := strings.Cut(strings.TrimSpace(sql), "\n")
		return "", fmt.Errorf("clickhouse: %s: %w", first, err)
	}
	return strings.TrimSpace(string(body)), nil
}

func (c *clickhouse) int(ctx context.Context, sql string) (int64, error) {
	s, err := c.query(ctx, sql)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("clickhouse: %s: not a number: %q", sql, s)
	}
	return n, nil
}

// columns returns the column names of db.table; none if it does not exist.
func (c *clickhouse) columns(ctx context.Context, db, table string) (map[string]bool, error) {
	s, err := c.query(ctx, fmt.Sprintf("SELECT name FROM system.columns WHERE database = %s AND table = %s",
		quote(db), quote(table)))
	if err != nil {
		return nil, err
	}
	cols := map[string]bool{}
	for name := range strings.FieldsSeq(s) {
		cols[name] = true
	}
	return cols, nil
}

// quote is a ClickHouse string literal.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// insertWithProgress runs an INSERT ... SELECT ... FROM numbers(total)
// and shows how many of the total rows it has read, from
// system.processes. Cancelling ctx kills the query.
func (b *bench) insertWithProgress(ctx context.Context, what, sql string, total int64) error {
	id := fmt.Sprintf("bench_e2e_%s_%d", b.stamp, time.Now().UnixNano())
	done := make(chan error, 1)
	go func() {
		_, err := b.ch.query(context.WithoutCancel(ctx), sql, "query_id", id, "wait_end_of_query", "1")
		done <- err
	}()
	st := b.status()
	defer st.Done()
	start := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return err
		case <-ctx.Done():
			kctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			_, _ = b.ch.query(kctx, "KILL QUERY WHERE query_id = "+quote(id)+" SYNC")
			cancel()
			<-done
			return ctx.Err()
		case <-tick.C:
			read, err := b.ch.int(ctx, "SELECT sum(read_rows) FROM system.processes WHERE query_id = "+quote(id))
			if err == nil {
				read = min(read, total) // numbers() is read in whole blocks
				st.Show("%s: %d of %d rows (%.0f%%) in %s", what, read, total,
					100*float64(read)/float64(total), time.Since(start).Round(time.Second))
			}
		}
	}
}

// ledgerShape places the pre-filled workcycles among gen's. Gen names
// workcycle i "wc-%06d-%08x" (six decimal digits, eight hex digits) for
// tenants "tenant-%02d". Pre-filled workcycle k is "wc-<i>-p<s>" with
// i = k mod W and s = k div W, for tenant s mod T + 1: it sorts after gen's
// workcycle i ('p' follows every hex digit) and before workcycle i+1, so
// within each tenant the new ids fall between stored ones, as real ids
// would, instead of after all of them.
type ledgerShape struct {
	db, topic   string
	events      int64 // pre-filled events, 10 per workcycle
	workcycles  int   // gen's W
	tenants     int   // gen's T
	before      time.Time
	legacyTimes bool // the events table has a time_ms column (ClickHouse before 21.8)
}

const eventsPerWorkcycle = 10

// keyExprs are the tenant and workcycle id of pre-filled workcycle k.
func (s ledgerShape) keyExprs(k string) (tenant, workcycle string) {
	tenant = fmt.Sprintf("concat('tenant-', substring(toString(101 + intDiv(%s, %d) %% %d), 2))", k, s.workcycles, s.tenants)
	workcycle = fmt.Sprintf("concat('wc-', substring(toString(1000000 + %s %% %d), 2), '-p', toString(intDiv(%s, %d)))",
		k, s.workcycles, k, s.workcycles)
	return tenant, workcycle
}

// eventsSQL fills the ledger: workcycle k has a started event, four tool
// AWUs of a model call and a succeeded tool call each, and a completed
// event. Workcycles are spread over the year before s.before, so the
// ledger spans a dozen monthly partitions; each names the benchmark topic
// and a partition 0-5.
func (s ledgerShape) eventsSQL() string {
	wcs := s.events / eventsPerWorkcycle
	step := max(int64(360*24*3600)/max(wcs, 1), 1) // seconds between workcycle starts
	t0 := s.before.Unix()
	tenant, workcycle := s.keyExprs("k")
	cols := []string{
		tenant + " AS tenant_id",
		workcycle + " AS workcycle_id",
		"concat('evt-p', toString(n)) AS event_id",
		"multiIf(j = 0 OR j = 9, 'workcycle', j % 2 = 1, 'token_usage', 'tool_invocation') AS type",
		fmt.Sprintf("toDateTime(%d - k * %d + j * 5) AS time", t0, step),
	}
	if s.legacyTimes {
		cols = append(cols, "toUInt16(0) AS time_ms")
	}
	cols = append(cols,
		"'agent-01' AS agent_id",
		"'' AS conversation_id",
		"if(j = 0 OR j = 9, '', concat('awu-p', toString(k), '-', toString(intDiv(j - 1, 2)))) AS awu_id",
		"toInt32(if(j = 0 OR j = 9, 0, 1)) AS attempt",
		"if(type = 'token_usage', 'gemini-3-flash', '') AS model",
		"if(type = 'token_usage', 'google', '') AS provider",
		"toInt64(if(type = 'token_usage', 1000 + n % 5000, 0)) AS input_tokens",
		"toInt64(if(type = 'token_usage', 100 + n % 500, 0)) AS output_tokens",
		"toInt64(0) AS cache_read_input_tokens",
		"toInt64(0) AS cache_creation_input_tokens",
		"toInt64(0) AS reasoning_tokens",
		"if(type = 'tool_invocation', 'kb.search', '') AS tool",
		"if(type = 'tool_invocation', 'text', '') AS channel",
		"if(type = 'tool_invocation', 'succeeded', '') AS status",
		"multiIf(j = 0, 'started', j = 9, 'completed', '') AS phase",
		"if(j = 9, 'resolved', '') AS outcome",
		"if(j = 9, 'case', '') AS outcome_type",
		quote(s.topic)+" AS kafka_topic",
		fmt.Sprintf("toInt32(k %% %d) AS kafka_partition", partitions),
		fmt.Sprintf("toInt64(intDiv(k, %d) * %d + j) AS kafka_offset", partitions, eventsPerWorkcycle),
		fmt.Sprintf("toDateTime(%d - k * %d + 60) AS ingested_at", t0, step),
	)
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c[strings.LastIndex(c, " AS ")+4:]
	}
	return fmt.Sprintf("INSERT INTO %s.events (%s)\nSELECT\n    %s\nFROM (SELECT number AS n, intDiv(number, %d) AS k, number %% %d AS j FROM numbers(%d))",
		s.db, strings.Join(names, ", "), strings.Join(cols, ",\n    "), eventsPerWorkcycle, eventsPerWorkcycle, s.events)
}

// keysSQL fills workcycle_keys with one row per pre-filled (topic,
// partition, workcycle), as awumeter would have written with the events.
func (s ledgerShape) keysSQL() string {
	tenant, workcycle := s.keyExprs("k")
	return fmt.Sprintf(`INSERT INTO %s.workcycle_keys (kafka_topic, kafka_partition, key_hash)
SELECT %s, toInt32(k %% %d), cityHash64(concat(%s, '\0', %s))
FROM (SELECT number AS k FROM numbers(%d))`,
		s.db, quote(s.topic), partitions, tenant, workcycle, s.events/eventsPerWorkcycle)
}

// prefill fills db's ledger (and workcycle_keys, when the schema has it).
func (b *bench) prefill(ctx context.Context, db string) (keys int64, err error) {
	cols, err := b.ch.columns(ctx, db, "events")
	if err != nil {
		return 0, err
	}
	s := ledgerShape{
		db: db, topic: b.topic, events: b.o.ledgerEvents, workcycles: b.o.workcycles, tenants: b.o.tenants,
		before: b.genStart.Add(-24 * time.Hour), legacyTimes: cols["time_ms"],
	}
	if err := b.insertWithProgress(ctx, "events", s.eventsSQL(), s.events); err != nil {
		return 0, fmt.Errorf("cannot pre-fill %s.events: %w", db, err)
	}
	kcols, err := b.ch.columns(ctx, db, "workcycle_keys")
	if err != nil || len(kcols) == 0 {
		return 0, err
	}
	keys = s.events / eventsPerWorkcycle
	if err := b.insertWithProgress(ctx, "workcycle_keys", s.keysSQL(), keys); err != nil {
		return 0, fmt.Errorf("cannot pre-fill %s.workcycle_keys: %w", db, err)
	}
	return keys, nil
}
