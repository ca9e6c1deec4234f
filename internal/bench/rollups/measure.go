package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/ext"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/awumeter/awumeter/pipeline/migrate"
	"github.com/awumeter/awumeter/schemas/chschema"
)

// beforeVersion is the last migration with the rollups as FINAL views.
const beforeVersion = 8

// chConn is a native connection; maxMemory is its max_memory_usage (0: the
// server's).
type chConn struct {
	conn      driver.Conn
	maxMemory int64
}

func openCH(ctx context.Context, addr string, maxMemory int64) (*chConn, error) {
	settings := clickhouse.Settings{}
	if maxMemory > 0 {
		settings["max_memory_usage"] = int(maxMemory) // clickhouse-go sends only int and bool settings to servers before 19.x
	}
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr:         []string{addr},
		Auth:         clickhouse.Auth{Database: "default", Username: env("AWUMETER_CLICKHOUSE_USER", "default"), Password: env("AWUMETER_CLICKHOUSE_PASSWORD", "")},
		Settings:     settings,
		DialTimeout:  5 * time.Second,
		ReadTimeout:  4 * time.Hour, // one statement of a 100M backfill runs for many minutes
		MaxOpenConns: 4,
	})
	if err != nil {
		return nil, err
	}
	if err := conn.Ping(ctx); err != nil {
		return nil, fmt.Errorf("clickhouse %s: %w", addr, err)
	}
	return &chConn{conn: conn, maxMemory: maxMemory}, nil
}

func (c *chConn) int(ctx context.Context, sql string, args ...any) (int64, error) {
	var v uint64 // every caller counts: count() is UInt64
	if err := c.conn.QueryRow(ctx, sql, args...).Scan(&v); err != nil {
		return 0, fmt.Errorf("%s: %w", firstLine(sql), err)
	}
	return int64(v), nil
}

func firstLine(sql string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(sql), "\n")
	if len(l) > 100 {
		l = l[:100] + "…"
	}
	return l
}

// timing is the runs of one query.
type timing struct {
	name    string
	runs    []time.Duration
	rows    int
	err     string
	refresh []time.Duration // incremental refresh: the best run's statements
}

func (t timing) best() time.Duration { return slices.Min(t.runs) }

func (t timing) median() time.Duration {
	s := slices.Clone(t.runs)
	slices.Sort(s)
	return s[len(s)/2]
}

// sizeResult is everything measured at one size.
type sizeResult struct {
	n           int64
	db          string
	flavor      chschema.Flavor
	failed      string
	generate    time.Duration
	genRows     map[string]int64 // rows in awus and awu_models, all versions
	final       map[string]int64 // rows with FINAL
	partsPre    map[string]int64 // active parts when the before queries ran
	settlePre   time.Duration
	before      []timing
	migrate     time.Duration
	migErr      string     // the first attempt's error, when 0009 was retried
	migMem      int64      // max_memory_usage of the last attempt (0: server's)
	migErrStmts []stmtStat // the failed first attempt's statements
	stmts       []stmtStat
	settle      time.Duration
	after       []timing
	rollups     map[string]int64 // rows of awu_days and the rollup tables (all rows, and FINAL)
	refresh     timing
	busy        string // the refreshed slice
	busyAWUs    int64
}

func (b *bench) measureSize(ctx context.Context, n int64) (*sizeResult, error) {
	r := &sizeResult{n: n, db: fmt.Sprintf("%s_%s_%s", b.o.database, short(n), b.stamp)}
	r.db = strings.ToLower(r.db)
	b.dbs = append(b.dbs, r.db)

	// 1. Version 8.
	b.logf("create %s migrated to version %d (the FINAL views)", r.db, beforeVersion)
	flavor, err := b.migrateTo(ctx, r.db, beforeVersion)
	if err != nil {
		return r, err
	}
	r.flavor = flavor

	// 2. Data.
	s := shape{db: r.db, n: n, legacy: flavor == chschema.Legacy}
	start := time.Now()
	steps := []struct {
		what, sql string
		total     int64
	}{
		{"awus", s.awusSQL(false), n},
		{"awu_models", s.modelsSQL(false), n},
		{"awus, superseded versions", s.awusSQL(true), n},
		{"awu_models, superseded versions", s.modelsSQL(true), n},
	}
	for _, st := range steps {
		if _, err := b.execWatched(ctx, b.ch, st.what, st.sql, st.total); err != nil {
			return r, fmt.Errorf("cannot generate %s: %w", st.what, err)
		}
	}
	r.generate = time.Since(start)
	b.logf("generated in %s", r.generate.Round(time.Second))

	r.genRows, r.final = map[string]int64{}, map[string]int64{}
	for _, t := range []string{"awus", "awu_models"} {
		if r.genRows[t], err = b.ch.int(ctx, "SELECT count() FROM "+r.db+"."+t); err != nil {
			return r, err
		}
	}

	// 3. Before.
	r.settlePre = b.settle(ctx, r.db)
	if r.partsPre, err = b.parts(ctx, r.db); err != nil {
		return r, err
	}
	for _, t := range []string{"awus", "awu_models"} {
		if r.final[t], err = b.ch.int(ctx, "SELECT count() FROM "+r.db+"."+t+" FINAL"); err != nil {
			return r, err
		}
	}
	b.logf("awus: %s rows, %s with FINAL; awu_models: %s rows, %s with FINAL; active parts %v",
		commas(r.genRows["awus"]), commas(r.final["awus"]), commas(r.genRows["awu_models"]), commas(r.final["awu_models"]), r.partsPre)
	before := queries(r.db)
	if k := b.o.beforeQs; k > 0 && k < len(before) {
		before = before[:k]
	}
	r.before = b.timeQueries(ctx, "before", append(before, rawQuery(r.db)))

	// 4. Migration 0009.
	if err := b.migrateUp(ctx, r); err != nil {
		return r, err
	}

	// 5. After.
	r.settle = b.settle(ctx, r.db)
	r.rollups = map[string]int64{}
	for _, t := range []string{"awu_days", "rollup_usage_daily", "rollup_usage_monthly", "rollup_model_usage_daily", "rollup_model_usage_monthly"} {
		if r.rollups[t], err = b.ch.int(ctx, "SELECT count() FROM "+r.db+"."+t); err != nil {
			return r, err
		}
		if r.rollups[t+" FINAL"], err = b.ch.int(ctx, "SELECT count() FROM "+r.db+"."+t+" FINAL"); err != nil {
			return r, err
		}
	}
	b.logf("rollup rows: %v", r.rollups)
	r.after = b.timeQueries(ctx, "after", queries(r.db))
	r.refresh = b.timeRefresh(ctx, r)
	return r, nil
}

// migrateTo creates db migrated up to version, as an earlier release left
// it, so that a later migrate.Up applies only the rest.
func (b *bench) migrateTo(ctx context.Context, db string, version int) (chschema.Flavor, error) {
	if _, err := migrate.Up(ctx, b.ch.conn, migrate.Options{Database: db, To: version}); err != nil {
		return "", err
	}
	applied, err := migrate.List(ctx, b.ch.conn, db)
	if err != nil {
		return "", err
	}
	if len(applied) != version {
		return "", fmt.Errorf("%s: %d migrations recorded, want %d", db, len(applied), version)
	}
	return applied[0].Flavor, nil
}

// migrateUp applies the remaining migrations with migrate.Up, timed and
// watched. If it runs out of memory it reports the error, drops what 0009
// created and retries with -retry-max-memory.
func (b *bench) migrateUp(ctx context.Context, r *sizeResult) error {
	conn := b.ch
	for attempt := 0; ; attempt++ {
		mem := "the server's max_memory_usage"
		if conn.maxMemory > 0 {
			mem = fmt.Sprintf("max_memory_usage %s", commas(conn.maxMemory))
		}
		b.logf("migrate.Up %s to the latest version (0009: awu_days, the rollup tables, backfill, refresh of every slice), %s", r.db, mem)
		w := b.watch(ctx, r.db, "migrate", 0)
		start := time.Now()
		done, err := migrate.Up(ctx, conn.conn, migrate.Options{Database: r.db})
		d := time.Since(start)
		stmts := w.stop()
		if err == nil {
			r.migrate, r.stmts, r.migMem = d, stmts, conn.maxMemory
			names := make([]string, len(done))
			for i, a := range done {
				names[i] = fmt.Sprintf("%04d_%s", a.Version, a.Name)
			}
			b.logf("applied %s in %s", strings.Join(names, ", "), d.Round(100*time.Millisecond))
			if conn != b.ch {
				conn.conn.Close()
			}
			return nil
		}
		b.logf("migrate.Up failed after %s: %v", d.Round(100*time.Millisecond), err)
		var ex *clickhouse.Exception
		if attempt > 0 || b.o.retryMem <= 0 || !errors.As(err, &ex) || ex.Code != 241 || ctx.Err() != nil {
			return fmt.Errorf("migrate.Up: %w", err)
		}
		r.migErr = fmt.Sprintf("%s, after %s: %v", mem, d.Round(time.Second), err)
		r.migErrStmts, r.migMem = stmts, b.o.retryMem
		for _, t := range []string{"awu_days", "rollup_usage_daily", "rollup_usage_monthly", "rollup_model_usage_daily", "rollup_model_usage_monthly"} {
			if err := b.ch.conn.Exec(ctx, "DROP TABLE IF EXISTS "+r.db+"."+t); err != nil {
				return err
			}
		}
		if conn, err = openCH(ctx, b.o.clickhouse, b.o.retryMem); err != nil {
			return err
		}
		b.logf("dropped the tables of 0009; retrying with max_memory_usage %s", commas(b.o.retryMem))
	}
}

// stmtStat is one statement seen running in system.processes.
type stmtStat struct {
	label    string
	elapsed  float64 // seconds, as last seen
	peakMem  int64
	readRows int64
}

// watcher polls system.processes for the queries that name a database,
// showing progress and keeping each one's elapsed time and peak memory.
type watcher struct {
	stopCh chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	seen   map[string]*stmtStat
	order  []string
}

// total, when above zero, replaces the server's estimate of the rows to
// read (none for numbers()).
func (b *bench) watch(ctx context.Context, db, what string, total int64) *watcher {
	w := &watcher{stopCh: make(chan struct{}), seen: map[string]*stmtStat{}}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		st := b.status()
		defer st.Done()
		start := time.Now()
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-w.stopCh:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			rows, err := b.ch.conn.Query(ctx, `SELECT query_id, elapsed, read_rows, total_rows_approx, written_rows, peak_memory_usage, query
FROM system.processes WHERE query LIKE ? AND query NOT LIKE '%system.processes%'`, "%"+db+".%")
			if err != nil {
				continue
			}
			line := ""
			for rows.Next() {
				var id, q string
				var elapsed float64
				var read, tot, written uint64
				var peak int64
				if err := rows.Scan(&id, &elapsed, &read, &tot, &written, &peak, &q); err != nil {
					break
				}
				w.mu.Lock()
				s := w.seen[id]
				if s == nil {
					s = &stmtStat{label: label(q, db)}
					w.seen[id] = s
					w.order = append(w.order, id)
				}
				s.elapsed = elapsed
				s.peakMem = max(s.peakMem, peak)
				s.readRows = max(s.readRows, int64(read))
				w.mu.Unlock()
				if total > 0 {
					read, tot = min(read, uint64(total)), uint64(total) // numbers() is read in whole blocks
				}
				line = fmt.Sprintf("%s: %s, %.0fs, read %s of ~%s rows, wrote %s, %s MiB",
					what, s.label, elapsed, commas(int64(read)), commas(int64(tot)), commas(int64(written)), commas(peak>>20))
			}
			rows.Close()
			if line != "" {
				st.Show("%s (%s in all)", line, time.Since(start).Round(time.Second))
			}
		}
	}()
	return w
}

func (w *watcher) stop() []stmtStat {
	close(w.stopCh)
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]stmtStat, 0, len(w.order))
	for _, id := range w.order {
		out = append(out, *w.seen[id])
	}
	return out
}

var (
	targetRE = regexp.MustCompile(`(?i)^(INSERT INTO|CREATE TABLE IF NOT EXISTS|CREATE VIEW IF NOT EXISTS|CREATE TABLE|DROP TABLE IF EXISTS)\s+(\S+?)[\s(]`)
	fromRE   = regexp.MustCompile(`(?i)\bFROM\s+([A-Za-z0-9_.]+)`)
)

// label names a statement: what it does to which table, and for an
// INSERT … SELECT the first table it reads.
func label(q, db string) string {
	q = strings.TrimSpace(q)
	for strings.HasPrefix(q, "--") {
		_, q, _ = strings.Cut(q, "\n")
		q = strings.TrimSpace(q)
	}
	m := targetRE.FindStringSubmatch(q + " ")
	if m == nil {
		return firstLine(q)
	}
	out := strings.ToUpper(strings.Fields(m[1])[0]) + " " + strings.TrimPrefix(m[2], db+".")
	if strings.EqualFold(m[1], "INSERT INTO") {
		if f := fromRE.FindStringSubmatch(q); f != nil {
			out += " ← " + strings.TrimPrefix(f[1], db+".")
		}
	}
	return out
}

// execWatched runs one statement, showing its progress.
func (b *bench) execWatched(ctx context.Context, c *chConn, what, sql string, total int64) (time.Duration, error) {
	db := ""
	if m := targetRE.FindStringSubmatch(sql + " "); m != nil {
		db, _, _ = strings.Cut(m[2], ".")
	}
	w := b.watch(ctx, db, what, total)
	start := time.Now()
	err := c.conn.Exec(ctx, sql)
	d := time.Since(start)
	stats := w.stop()
	if err != nil {
		return d, err
	}
	var peak int64
	for _, s := range stats {
		peak = max(peak, s.peakMem)
	}
	b.logf("%s: %s rows in %s (peak memory seen %s MiB)", what, commas(total), d.Round(100*time.Millisecond), commas(peak>>20))
	return d, nil
}

// settle waits for db's background merges to end, at most -settle, so
// they do not share the 2 cores with the timed queries.
func (b *bench) settle(ctx context.Context, db string) time.Duration {
	start := time.Now()
	st := b.status()
	defer st.Done()
	for {
		n, err := b.ch.int(ctx, "SELECT count() FROM system.merges WHERE database = ?", db)
		if err != nil || n == 0 {
			break
		}
		if time.Since(start) > b.o.settle {
			b.logf("merges still running after %s; timing anyway", b.o.settle)
			break
		}
		st.Show("waiting for %d background merges in %s", n, db)
		select {
		case <-ctx.Done():
			return time.Since(start)
		case <-time.After(time.Second):
		}
	}
	d := time.Since(start)
	st.Done()
	if d > time.Second {
		b.logf("background merges done after %s", d.Round(time.Second))
	}
	return d
}

func (b *bench) parts(ctx context.Context, db string) (map[string]int64, error) {
	rows, err := b.ch.conn.Query(ctx, "SELECT table, count() FROM system.parts WHERE database = ? AND active GROUP BY table", db)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var t string
		var n uint64
		if err := rows.Scan(&t, &n); err != nil {
			return nil, err
		}
		out[t] = int64(n)
	}
	return out, rows.Err()
}

// timeQueries runs each query -runs times, reading every row.
func (b *bench) timeQueries(ctx context.Context, when string, qs []query) []timing {
	var out []timing
	for _, q := range qs {
		t := timing{name: q.name}
		for i := range b.o.runs {
			start := time.Now()
			n, err := b.readAll(ctx, q.sql)
			d := time.Since(start)
			if err != nil {
				t.err = err.Error()
				b.logf("%s: %s: %v", when, q.name, err)
				break
			}
			t.runs, t.rows = append(t.runs, d), n
			b.logf("%s: %s: run %d: %s, %d rows", when, q.name, i+1, d.Round(time.Millisecond), n)
		}
		out = append(out, t)
		if ctx.Err() != nil {
			break
		}
	}
	return out
}

func (b *bench) readAll(ctx context.Context, sql string) (int, error) {
	rows, err := b.ch.conn.Query(ctx, sql)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}

// timeRefresh runs the incremental refresh of the busiest (tenant, day)
// slice and its month -runs times, as the service does after a batch: the
// statements of chschema.RefreshStatements with the slices in the external
// tables rollup_days and rollup_months.
func (b *bench) timeRefresh(ctx context.Context, r *sizeResult) timing {
	t := timing{name: "incremental refresh of one (tenant, day) slice and its month"}
	var tenant string
	var day time.Time
	var awus uint64
	err := b.ch.conn.QueryRow(ctx, "SELECT tenant_id, toDate(first_seen) AS d, count() AS c FROM "+r.db+
		".awus GROUP BY tenant_id, d ORDER BY c DESC, tenant_id, d LIMIT 1").Scan(&tenant, &day, &awus)
	if err != nil {
		t.err = err.Error()
		return t
	}
	r.busy, r.busyAWUs = fmt.Sprintf("%s, %s", tenant, day.Format("2006-01-02")), int64(awus)
	stmts, err := chschema.RefreshStatements(chschema.Params{Database: r.db, Flavor: r.flavor})
	if err != nil {
		t.err = err.Error()
		return t
	}
	month := time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, time.UTC)
	for i := range b.o.runs {
		days, err := ext.NewTable(chschema.RefreshDays, ext.Column("tenant_id", "String"), ext.Column("day", "Date"))
		if err == nil {
			err = days.Append(tenant, day)
		}
		months, err2 := ext.NewTable(chschema.RefreshMonths, ext.Column("tenant_id", "String"), ext.Column("month", "Date"))
		if err2 == nil {
			err2 = months.Append(tenant, month)
		}
		if err = errors.Join(err, err2); err != nil {
			t.err = err.Error()
			return t
		}
		qctx := clickhouse.Context(ctx, clickhouse.WithExternalTable(days, months))
		var per []time.Duration
		start := time.Now()
		for j, stmt := range stmts {
			s := time.Now()
			if err := b.ch.conn.Exec(qctx, stmt); err != nil {
				t.err = fmt.Sprintf("statement %d of %d: %v", j+1, len(stmts), err)
				b.logf("refresh: %s", t.err)
				return t
			}
			per = append(per, time.Since(s))
		}
		d := time.Since(start)
		if len(t.runs) == 0 || d < t.best() {
			t.refresh = per
		}
		t.runs = append(t.runs, d)
		b.logf("refresh of %s (%s AWUs) and its month: run %d: %s (statements: %s)",
			r.busy, commas(r.busyAWUs), i+1, d.Round(time.Millisecond), durations(per))
	}
	return t
}

func durations(ds []time.Duration) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = fmt.Sprintf("%.3f s", d.Seconds())
	}
	return strings.Join(s, ", ")
}
