// Command e2e is awumeter's end-to-end speed record (make bench-e2e). On the
// local Kafka and ClickHouse, in one run, it
//
//  1. produces a topic of 6 partitions with `awumeter gen` (fixed seed);
//  2. measures how fast a plain franz-go consumer reads it (best of two);
//  3. runs `awumeter run` on a fresh group and database until it has caught
//     up, measuring its time, CPU and peak RSS and ClickHouse's CPU;
//  4. does 3 again against an events ledger pre-filled with older events;
//  5. with -baseline, does 3 and 4 with a second binary too, alternating;
//  6. prints the table and writes it to docs/BENCHMARKS.md.
//
// It reports numbers and never passes or fails on them. What "caught up"
// means, and every other definition, is in docs/BENCHMARKS.md, "End to end".
// Everything it creates (topics, groups, databases) carries a bench_ prefix
// and a timestamp and is removed at the end, also on failure or Ctrl-C.
package main

import (
	"context"
	"flag"
	"github.com/awumeter/awumeter/internal/bench/benchdoc"
	"path/filepath"
	"slices"
	"time"
)

type options struct {
	awumeter, baseline string
	workcycles         int
	tenants            int
	seed               int64
	ledgerEvents       int64
	kafka              string
	clickhouse         string // native protocol, for awumeter
	clickhouseHTTP     string // HTTP interface, for the benchmark's own queries
	chPidfile          string
	kafkaPidfile       string
	timeout            time.Duration
	ledgerTimeout      time.Duration
	docs               string
	dir                string
	keep               bool
	rekeyed            bool
}

func main() {
	local := env("AWUMETER_LOCAL_DIR", ".local")
	o := options{}
	flag.StringVar(&o.awumeter, "awumeter", "bin/awumeter", "the awumeter binary to measure (it also generates the data)")
	flag.StringVar(&o.baseline, "baseline", "", "a second awumeter binary to measure in the same run, alternating with the first")
	flag.IntVar(&o.workcycles, "workcycles", 90000, "workcycles to generate (90,000 make about 900k records)")
	flag.IntVar(&o.tenants, "tenants", 3, "tenants to generate")
	flag.Int64Var(&o.seed, "seed", 7, "generator seed")
	flag.Int64Var(&o.ledgerEvents, "ledger-events", 10_000_000, "events pre-filled into the ledger of the second run (10 per workcycle); 0 skips it")
	flag.StringVar(&o.kafka, "kafka", "127.0.0.1:"+env("AWUMETER_KAFKA_PORT", "9092"), "Kafka broker")
	flag.StringVar(&o.clickhouse, "clickhouse", "127.0.0.1:"+env("AWUMETER_CH_PORT", "9000"), "ClickHouse native address (for awumeter)")
	flag.StringVar(&o.clickhouseHTTP, "clickhouse-http", "127.0.0.1:"+env("AWUMETER_CH_HTTP_PORT", "8123"), "ClickHouse HTTP address (for the benchmark's queries)")
	flag.StringVar(&o.chPidfile, "clickhouse-pidfile", filepath.Join(local, "clickhouse", "clickhouse.pid"), "pid file of the ClickHouse server, whose CPU time is measured")
	flag.StringVar(&o.kafkaPidfile, "kafka-pidfile", filepath.Join(local, "kafka", "kafka.pid"), "pid file of the Kafka broker, whose CPU time is measured")
	flag.DurationVar(&o.timeout, "timeout", 15*time.Minute, "longest an empty-ledger run may take to catch up")
	flag.DurationVar(&o.ledgerTimeout, "ledger-timeout", 45*time.Minute, "longest a pre-filled-ledger run may take to catch up")
	flag.StringVar(&o.docs, "docs", "docs/BENCHMARKS.md", "file whose bench-e2e block gets the table; empty: print only")
	flag.StringVar(&o.dir, "dir", filepath.Join(local, "bench-e2e"), "directory for configs and awumeter logs")
	flag.BoolVar(&o.keep, "keep", false, "keep the topics, groups and databases for inspection")
	flag.BoolVar(&o.rekeyed, "rekeyed", true, "also measure the topic declared not keyed by workcycle, through the re-key stage (empty ledger)")
	flag.Parse()

	benchdoc.Main("bench-e2e", func(ctx context.Context) error { return run(ctx, o) })
}

func env(name, def string) string { return benchdoc.Env(name, def) }

func run(ctx context.Context, o options) error {
	b, err := newBench(o)
	if err != nil {
		return err
	}
	defer b.cleanup()

	runs := []runSpec{{label: "awumeter", bin: o.awumeter}}
	if o.baseline != "" {
		runs = append(runs, runSpec{label: "baseline", bin: o.baseline})
	}
	var specs []runSpec // alternating binaries: empty ledgers first, then pre-filled
	for _, ledger := range []bool{false, true} {
		if ledger && o.ledgerEvents == 0 {
			continue
		}
		for _, r := range runs {
			r.ledger = ledger
			specs = append(specs, r)
		}
	}
	if o.rekeyed {
		// The same records through the re-key stage, after the direct
		// empty-ledger run of the same binary.
		at := slices.IndexFunc(specs, func(s runSpec) bool { return s.ledger })
		if at < 0 {
			at = len(specs)
		}
		specs = slices.Insert(specs, at, runSpec{label: "awumeter", bin: o.awumeter, rekeyed: true})
	}
	phases := 3 + len(specs)

	b.noteLoad()
	b.phase(1, phases, "generate %d workcycles to topic %s (6 partitions), seed %d", o.workcycles, b.topic, o.seed)
	if err := b.generate(ctx); err != nil {
		return err
	}
	b.logf("%d records, %d distinct valid events", b.records, b.events)

	b.phase(2, phases, "consume-only: a plain franz-go consumer reads the topic, twice")
	for i := range 2 {
		d, err := b.consumeOnly(ctx)
		if err != nil {
			return err
		}
		b.logf("read %d records in %s: %.0f records/s", b.records, d.Round(time.Millisecond), float64(b.records)/d.Seconds())
		if i == 0 || d < b.consume {
			b.consume = d
		}
	}

	var results []result
	for i, s := range specs {
		b.phase(3+i, phases, "%s", s.name(o.ledgerEvents))
		r, err := b.measure(ctx, s)
		if err != nil {
			return err
		}
		results = append(results, r)
		b.noteLoad()
	}

	b.phase(phases, phases, "report")
	rep := b.report(ctx, results)
	if err := docBlock.Publish(o.docs, rep, b.logf); err != nil {
		return err
	}
	b.logf("benchmark finished in %s", b.elapsed())
	return nil
}
