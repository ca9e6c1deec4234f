// Command rollups measures the latency of the analysts' rollup queries
// before and after migration 0009 (make bench-rollups). For each size N in
// -awus, on the local ClickHouse, it
//
//  1. creates a fresh database migrated to version 8 only (the rollups are
//     views over awus FINAL and awu_models FINAL);
//  2. generates N AWU rows and their per-model rows server side
//     (INSERT … SELECT … FROM numbers(N)), plus superseded versions of a
//     tenth of them, as re-emissions leave them before merges;
//  3. times the rollup queries against the FINAL views (best and median
//     of -runs);
//  4. applies the remaining migrations with migrate.Up (0009: awu_days,
//     the rollup tables, their backfill and the refresh of every slice),
//     timed, with each long statement's time and peak memory;
//  5. times the same queries against the views over the rollup tables, and
//     one incremental refresh of the busiest (tenant, day) slice and its
//     month, as the service runs it after a batch;
//  6. prints the table and writes it to docs/BENCHMARKS.md.
//
// It reports numbers and never passes or fails on them. The definitions
// are in docs/BENCHMARKS.md, "Rollups". Databases carry a bench_rollups_
// prefix and a timestamp and are dropped at the end, also on failure or
// Ctrl-C, unless -keep.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/awumeter/awumeter/internal/bench/benchdoc"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"
)

type options struct {
	sizes      []int64
	clickhouse string
	database   string // prefix of the databases
	runs       int
	beforeQs   int   // how many of the queries are timed before 0009; 0: all
	maxMemory  int64 // max_memory_usage for every query; 0: the server's
	retryMem   int64 // max_memory_usage to retry 0009 with when it runs out of memory
	settle     time.Duration
	docs       string
	keep       bool
}

func main() {
	o := options{}
	awus := flag.String("awus", "10000000", "comma-separated sizes: AWU rows to generate, one run each (e.g. 10000000,100000000; 100M takes over an hour here, see docs/BENCHMARKS.md)")
	flag.StringVar(&o.clickhouse, "clickhouse", "127.0.0.1:"+env("AWUMETER_CH_PORT", "9000"), "ClickHouse native address")
	flag.StringVar(&o.database, "database-prefix", "bench_rollups", "prefix of the databases the benchmark creates")
	flag.IntVar(&o.runs, "runs", 3, "times each query is run (best and median are reported)")
	flag.IntVar(&o.beforeQs, "before-queries", 0, "time only the first N queries against the FINAL views (they take minutes at 100M AWUs); 0: all")
	flag.Int64Var(&o.maxMemory, "max-memory", 0, "max_memory_usage for every query in bytes; 0 keeps the server's (4 GB on the local stack)")
	flag.Int64Var(&o.retryMem, "retry-max-memory", 16_000_000_000, "when migration 0009 runs out of memory, the max_memory_usage to retry it with (its tables dropped first); 0: no retry")
	flag.DurationVar(&o.settle, "settle", 15*time.Minute, "longest wait for background merges before the queries are timed")
	flag.StringVar(&o.docs, "docs", "docs/BENCHMARKS.md", "file whose bench-rollups block gets the table; empty: print only")
	flag.BoolVar(&o.keep, "keep", false, "keep the databases for inspection")
	flag.Parse()

	var err error
	if o.sizes, err = parseSizes(*awus); err != nil {
		fmt.Fprintf(os.Stderr, "bench-rollups: -awus: %v\n", err)
		os.Exit(2)
	}
	if o.runs < 1 {
		o.runs = 1
	}

	benchdoc.Main("bench-rollups", func(ctx context.Context) error { return run(ctx, o) })
}

func env(name, def string) string { return benchdoc.Env(name, def) }

// parseSizes reads "10000000,100000000"; "10M" and "1e8" forms are
// accepted too.
func parseSizes(s string) ([]int64, error) {
	var out []int64
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		mult := int64(1)
		switch {
		case strings.HasSuffix(f, "M"):
			mult, f = 1_000_000, strings.TrimSuffix(f, "M")
		case strings.HasSuffix(f, "k"):
			mult, f = 1_000, strings.TrimSuffix(f, "k")
		}
		var n int64
		if v, err := strconv.ParseInt(strings.ReplaceAll(f, "_", ""), 10, 64); err == nil {
			n = v * mult
		} else if v, err := strconv.ParseFloat(f, 64); err == nil && v >= 1 {
			n = int64(v) * mult
		} else {
			return nil, fmt.Errorf("%q is not a number of AWUs", f)
		}
		if n < 1000 {
			return nil, fmt.Errorf("%d AWUs: at least 1000", n)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("no sizes")
	}
	return out, nil
}

func run(ctx context.Context, o options) error {
	b, err := newBench(ctx, o)
	if err != nil {
		return err
	}
	defer b.cleanup()

	var results []*sizeResult
	for i, n := range o.sizes {
		b.phase("size %d of %d: %s AWUs", i+1, len(o.sizes), commas(n))
		r, err := b.measureSize(ctx, n)
		if r != nil {
			results = append(results, r)
		}
		if err != nil {
			if ctx.Err() != nil {
				// Interrupted: print what was measured, write nothing.
				b.ch.conn.Close()
				if ch, cerr := openCH(context.Background(), o.clickhouse, o.maxMemory); cerr == nil {
					b.ch = ch
					fmt.Print(b.report(context.Background(), results))
				}
				return err
			}
			// Report what was measured, and go on with the next size.
			b.logf("size %s: %v", commas(n), err)
			if r == nil {
				results = append(results, &sizeResult{n: n, failed: err.Error()})
			}
		}
		if !o.keep {
			b.dropDB(r)
		}
	}

	b.phase("report")
	rep := b.report(ctx, results)
	if err := docBlock.Publish(o.docs, rep, b.logf); err != nil {
		return err
	}
	b.logf("benchmark finished in %s", b.elapsed())
	return nil
}

// bench is one run of the benchmark.
type bench struct {
	o     options
	start time.Time
	stamp string
	tty   bool
	ch    *chConn
	dbs   []string
}

func newBench(ctx context.Context, o options) (*bench, error) {
	now := time.Now().UTC()
	b := &bench{
		o:     o,
		start: time.Now(),
		stamp: fmt.Sprintf("%s_%d", now.Format("20060102_150405"), os.Getpid()),
		tty:   term.IsTerminal(int(os.Stderr.Fd())),
	}
	ch, err := openCH(ctx, o.clickhouse, o.maxMemory)
	if err != nil {
		return nil, err
	}
	b.ch = ch
	return b, nil
}

func (b *bench) cleanup() {
	if b.o.keep {
		if len(b.dbs) > 0 {
			b.logf("kept databases %s (-keep)", strings.Join(b.dbs, ", "))
		}
	} else {
		for _, db := range b.dbs {
			b.dropName(db)
		}
	}
	b.ch.conn.Close()
}

func (b *bench) dropDB(r *sizeResult) {
	if r == nil || r.db == "" {
		return
	}
	b.dropName(r.db)
	for i, db := range b.dbs {
		if db == r.db {
			b.dbs = append(b.dbs[:i], b.dbs[i+1:]...)
			break
		}
	}
}

func (b *bench) dropName(db string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := b.ch.conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db); err != nil {
		b.logf("warning: cannot drop database %s: %v", db, err)
	}
}

func (b *bench) elapsed() string { return time.Since(b.start).Round(time.Second).String() }

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%6s] %s\n", b.elapsed(), fmt.Sprintf(format, args...))
}

func (b *bench) phase(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "\n== [%s] %s\n", b.elapsed(), fmt.Sprintf(format, args...))
}

// status is the progress line of a long step.
func (b *bench) status() *benchdoc.Status {
	return &benchdoc.Status{TTY: b.tty, Elapsed: b.elapsed, Logf: b.logf}
}
