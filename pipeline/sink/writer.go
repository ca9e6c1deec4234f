package sink

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/awumeter/awumeter/pipeline/migrate"
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
}

// Writer inserts batches into one awumeter database.
type Writer struct {
	conn          driver.Conn
	ownConn       bool
	schema        migrate.Schema
	retry         RetryConfig
	insertTimeout time.Duration
	obs           Observer
	now           func() time.Time

	events, workcycles, awus, awuModels, keys string // INSERT statements
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
	w := &Writer{conn: conn, schema: schema, retry: cfg.Retry, insertTimeout: cfg.InsertTimeout, obs: set.Observer, now: set.Now}
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
	w.keys = insertSQL(schema, "workcycle_keys", keyColumns)
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

// Write inserts every row of b: workcycle keys first, so that a key is
// stored no later than the events it covers, then the ledger, then AWU
// rows, then workcycle rows. It returns nil only once ClickHouse acknowledged them all.
// Retryable failures (network, timeouts, overload, a restarting server) are
// retried with backoff until ctx ends, so while ClickHouse is down Write
// blocks. A table already written is not written again on a retry of a later
// one. Errors are a *PermanentError (the insert can never succeed) or ctx's
// error; either way the caller must not commit the batch's offsets.
func (w *Writer) Write(ctx context.Context, b Batch) error {
	if err := writeTable(ctx, w, "workcycle_keys", w.keys, keyColumns, b.Keys); err != nil {
		return err
	}
	if len(b.Events) > 0 {
		now := w.now().UTC().Truncate(time.Second)
		rows := make([]ledgerEvent, len(b.Events))
		for i := range b.Events {
			rows[i] = ledgerEvent{Event: &b.Events[i], ingestedAt: now}
		}
		if err := writeTable(ctx, w, "events", w.events, eventColumns, rows); err != nil {
			return err
		}
	}
	if err := writeTable(ctx, w, "awu_models", w.awuModels, awuModelColumns, b.AWUModels); err != nil {
		return err
	}
	if err := writeTable(ctx, w, "awus", w.awus, awuColumns, b.AWUs); err != nil {
		return err
	}
	return writeTable(ctx, w, "workcycles", w.workcycles, workcycleColumns, b.Workcycles)
}

func writeTable[R any](ctx context.Context, w *Writer, table, insert string, cols []column[R], rows []R) error {
	if len(rows) == 0 {
		return nil
	}
	cols = forFlavor(cols, w.schema.Flavor)
	for attempt := 0; ; attempt++ {
		start := time.Now()
		err := insertOnce(ctx, w, insert, cols, rows)
		w.obs.InsertDone(table, len(rows), time.Since(start), err)
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
			return fmt.Errorf("cannot insert %s batch after %d attempts: %w (last error: %v)", table, attempt+1, ctx.Err(), err)
		}
	}
}

// insertOnce sends one native INSERT with one column append per column.
func insertOnce[R any](ctx context.Context, w *Writer, insert string, cols []column[R], rows []R) error {
	ctx, cancel := context.WithTimeout(ctx, w.insertTimeout)
	defer cancel()
	if w.schema.Cluster != "" {
		// Distributed inserts are acknowledged only once every shard has them.
		ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"insert_distributed_sync": 1}))
	}
	for _, c := range cols {
		if c.check == nil {
			continue
		}
		if err := c.check(rows); err != nil {
			return &PermanentError{Err: fmt.Errorf("column %s: %w", c.name, err)}
		}
	}
	batch, err := w.conn.PrepareBatch(ctx, insert)
	if err != nil {
		return err
	}
	for i, c := range cols {
		if err := batch.Column(i).Append(c.values(rows)); err != nil {
			_ = batch.Abort()
			return &PermanentError{Err: fmt.Errorf("column %s: %w", c.name, err)}
		}
	}
	return batch.Send()
}
