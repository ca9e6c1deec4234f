package sink

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/awumeter/awumeter/internal/backoff"
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/migrate"
	"github.com/awumeter/awumeter/schemas/chschema"
)

// BatchWriter writes a batch and returns once every row is acknowledged.
type BatchWriter interface {
	Write(ctx context.Context, b Batch) error
}

// BatchWriterFunc adapts a function to BatchWriter.
type BatchWriterFunc func(ctx context.Context, b Batch) error

// Write calls f.
func (f BatchWriterFunc) Write(ctx context.Context, b Batch) error { return f(ctx, b) }

// Settings are what code, not the user, provides.
type Settings struct {
	// Observer gets every insert attempt; nil discards them.
	Observer Observer
	// Now stamps events' ingested_at; nil means time.Now.
	Now func() time.Time
	// Windows checks tenants' spend after every rollup refresh, for the
	// guards' tenant_hour and tenant_day rules; nil checks nothing.
	Windows WindowGuard
}

// Writer inserts batches into one awumeter database.
type Writer struct {
	conn          driver.Conn
	ownConn       bool
	schema        migrate.Schema
	retry         retrier
	insertTimeout time.Duration
	obs           Observer
	now           func() time.Time
	// serialTables inserts a batch's tables one after another instead of
	// at once: what Write did before, kept for the benchmarks.
	serialTables bool

	events, workcycles, awus, awuModels, awuDays, keys, states, alerts string // INSERT statements
	// refresh are the rollup refresh statements; refreshErr is why they
	// could not be rendered, a bug reported by the first refresh.
	refresh    []string
	refreshErr error
	// windows and spend (guards/tenant_spend.sql) check tenants' spend
	// after each refresh; spendErr is why spend could not be rendered.
	windows  WindowGuard
	spend    string
	spendErr error
}

// Open dials ClickHouse, checks that the database is migrated to exactly
// this binary's schema (see migrate.CheckSchema) and returns a Writer that
// owns the connection.
func Open(ctx context.Context, cfg Config, set Settings) (*Writer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	conn, err := Dial(ctx, cfg.ClickHouseConfig)
	if err != nil {
		return nil, err
	}
	schema, err := migrate.CheckSchema(ctx, conn, cfg.Database)
	if err != nil {
		conn.Close()
		return nil, err
	}
	w := NewWriter(conn, schema, cfg, set)
	w.ownConn = true
	return w, nil
}

// NewWriter returns a Writer over an open connection, for a schema returned
// by migrate.CheckSchema. Close does not close conn.
func NewWriter(conn driver.Conn, schema migrate.Schema, cfg Config, set Settings) *Writer {
	w := &Writer{conn: conn, schema: schema, retry: newRetrier(cfg.Retry, backoff.NewRandom()), insertTimeout: cfg.InsertTimeout, obs: set.Observer, now: set.Now}
	if w.obs == nil {
		w.obs = nopObserver{}
	}
	if w.now == nil {
		w.now = time.Now
	}
	w.events = insertSQL(schema, "events", eventColumns)
	w.workcycles = insertSQL(schema, "workcycles", workcycleColumns)
	w.awus = insertSQL(schema, "awus", awuColumns)
	w.awuModels = insertSQL(schema, "awu_models", awuModelColumns)
	w.awuDays = insertSQL(schema, "awu_days", awuDayColumns)
	w.keys = insertSQL(schema, "workcycle_keys", keyColumns)
	w.states = insertSQL(schema, "workcycle_states", stateColumns)
	w.alerts = insertSQL(schema, "alerts", alertColumns)
	w.refresh, w.refreshErr = refreshSQL(schema)
	if set.Windows != nil {
		w.windows = set.Windows
		w.spend, w.spendErr = chschema.TenantSpendQuery(chschema.Params{Database: schema.Database, Flavor: schema.Flavor, Cluster: schema.Cluster})
	}
	return w
}

// insertSQL names every column: 18.16 rejects a batch INSERT without a list.
func insertSQL[R any](s migrate.Schema, table string, cols []column[R]) string {
	var names []string
	for _, c := range forFlavor(cols, s.Flavor) {
		names = append(names, c.name)
	}
	return fmt.Sprintf("INSERT INTO %s.%s (%s)", s.Database, table, strings.Join(names, ", "))
}

// Close closes the connection if Open made it.
func (w *Writer) Close() error {
	if w.ownConn {
		return w.conn.Close()
	}
	return nil
}

// Schema is the schema the Writer writes to.
func (w *Writer) Schema() migrate.Schema { return w.schema }

// Write inserts every row of b and returns nil only once ClickHouse
// acknowledged them all. The workcycle keys go first, so that a key is
// stored no later than the events it covers; then the ledger, the AWU
// rows, the per-model AWU rows and the workcycle rows are inserted at
// once, each table on its own connection of the pool, so that one table
// is encoded while the server stores another (docs/operations.md, "Sink
// pipelining").
//
// Each table is retried on its own: retryable failures (network,
// timeouts, overload, a restarting server) are retried with backoff until
// ctx ends, so while ClickHouse is down Write blocks, and a table already
// written is never written again. A permanent failure of one table stops
// the others. Errors are a *PermanentError (the insert can never succeed)
// or ctx's error; either way the caller must not commit the batch's
// offsets, although some of its tables may have been written.
//
// Then it refreshes the rollups of the days b's AWU rows can change (see
// refreshRollups). Buffer refreshes less often: once for the batches
// written since its last refresh.
func (w *Writer) Write(ctx context.Context, b Batch) error {
	parts := []Batch{b}
	if err := w.writeParts(ctx, parts); err != nil {
		return err
	}
	s := sliceSet{}
	s.addRows(parts)
	return w.refreshRollups(ctx, s)
}

// writeParts is Write of the rows of every part, as if merged: Buffer
// hands over the transactions of a batch as they were added, so that
// their rows are never copied.
func (w *Writer) writeParts(ctx context.Context, parts []Batch) error {
	if err := writeTable(ctx, w, "workcycle_keys", w.keys, keyColumns, rowsOf(parts, func(b *Batch) []KeyRow { return b.Keys })); err != nil {
		return err
	}
	n := 0
	for i := range parts {
		n += len(parts[i].Events)
	}
	var events []ledgerEvent
	if n > 0 {
		now := w.now().UTC().Truncate(time.Second)
		events = make([]ledgerEvent, 0, n)
		for i := range parts {
			for j := range parts[i].Events {
				events = append(events, ledgerEvent{Event: &parts[i].Events[j], ingestedAt: now})
			}
		}
	}
	tables := [...]func(context.Context) error{
		func(ctx context.Context) error {
			return writeTable(ctx, w, "events", w.events, eventColumns, [][]ledgerEvent{events})
		},
		func(ctx context.Context) error {
			return writeTable(ctx, w, "awu_models", w.awuModels, awuModelColumns, rowsOf(parts, func(b *Batch) []AWUModelRow { return b.AWUModels }))
		},
		func(ctx context.Context) error {
			return writeTable(ctx, w, "awus", w.awus, awuColumns, rowsOf(parts, func(b *Batch) []engine.AWURow { return b.AWUs }))
		},
		func(ctx context.Context) error {
			return writeTable(ctx, w, "awu_days", w.awuDays, awuDayColumns, [][]awuDay{awuDaysOf(parts)})
		},
		func(ctx context.Context) error {
			return writeTable(ctx, w, "workcycles", w.workcycles, workcycleColumns, rowsOf(parts, func(b *Batch) []engine.WorkcycleRow { return b.Workcycles }))
		},
		func(ctx context.Context) error {
			return writeTable(ctx, w, "workcycle_states", w.states, stateColumns, rowsOf(parts, func(b *Batch) []StateRow { return b.States }))
		},
		func(ctx context.Context) error {
			return writeTable(ctx, w, "alerts", w.alerts, alertColumns, [][]alertRow{alertRows(parts, w.now().UTC().Truncate(time.Second))})
		},
	}
	if w.serialTables {
		for _, t := range tables {
			if err := t(ctx); err != nil {
				return err
			}
		}
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var errs [len(tables)]error
	var wg sync.WaitGroup
	for i, t := range tables {
		wg.Go(func() {
			if errs[i] = t(ctx); errs[i] != nil {
				cancel() // the batch has failed: stop retrying the others
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if IsPermanent(err) {
			return err
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// rowsOf is one table's rows of every part.
func rowsOf[R any](parts []Batch, table func(*Batch) []R) [][]R {
	out := make([][]R, 0, len(parts))
	for i := range parts {
		if rows := table(&parts[i]); len(rows) > 0 {
			out = append(out, rows)
		}
	}
	return out
}

func writeTable[R any](ctx context.Context, w *Writer, table, insert string, cols []column[R], rows [][]R) error {
	n := 0
	for _, p := range rows {
		n += len(p)
	}
	if n == 0 {
		return nil
	}
	cols = forFlavor(cols, w.schema.Flavor)
	for _, c := range cols {
		if c.check == nil {
			continue
		}
		if err := c.check(rows); err != nil {
			err := &PermanentError{Table: table, Err: fmt.Errorf("column %s: %w", c.name, err)}
			w.obs.InsertDone(table, n, 0, err) // an attempt that failed before sending
			return err
		}
	}
	for attempt := 0; ; attempt++ {
		start := time.Now()
		err := insertOnce(ctx, w, insert, cols, rows)
		w.obs.InsertDone(table, n, time.Since(start), err)
		if err == nil {
			return nil
		}
		if IsPermanent(err) || permanent(err) {
			var p *PermanentError
			if errors.As(err, &p) {
				p.Table = table
				return p
			}
			return &PermanentError{Table: table, Err: err}
		}
		if ctx.Err() != nil || !sleep(ctx, w.retry.backoff(attempt)) {
			return fmt.Errorf("cannot insert %s batch after %d attempts: %w (last error: %w)", table, attempt+1, ctx.Err(), err)
		}
	}
}

// insertOnce sends one native INSERT with one column append per column.
func insertOnce[R any](ctx context.Context, w *Writer, insert string, cols []column[R], rows [][]R) error {
	ctx, cancel := context.WithTimeout(ctx, w.insertTimeout)
	defer cancel()
	if w.schema.Cluster != "" {
		// Distributed inserts are acknowledged only once every shard has them.
		ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"insert_distributed_sync": 1}))
	}
	batch, err := w.conn.PrepareBatch(ctx, insert)
	if err != nil {
		return err
	}
	defer batch.Close() // releases the connection however the batch ends
	s := getScratch()
	defer putScratch(s)
	for i, c := range cols {
		if err := batch.Column(i).Append(c.values(rows, s)); err != nil {
			_ = batch.Abort()
			return &PermanentError{Err: fmt.Errorf("column %s: %w", c.name, err)}
		}
	}
	return batch.Send()
}
