// Command e2e is awumeter's end-to-end speed record (make bench-e2e). On the
// local Kafka and ClickHouse, in one run, it
//
//  1. produces a topic of 6 partitions with `awumeter gen` (fixed seed);
//  2. measures how fast a plain franz-go consumer reads it (best of two);
//  3. runs `awumeter run` on a fresh group and database until it has caught
//     up, measuring its time, CPU and peak RSS and ClickHouse's CPU;
//  4. does 3 again against an events ledger pre-filled with older events;
//  5. with -baseline, does 3 and 4 with a second binary too, alternating;
//  6. prints the table and writes it to docs/BENCHMARKS.md;
//  7. the latency phase: runs awumeter idle on a fresh topic while a paced
//     producer writes live telemetry at half the empty-ledger catch-up rate
//     (or -latency-rate), once per engine.emit_interval of
//     -latency-emit-intervals (5s, 1s and 0), and measures the latency from
//     an event's produce to its effect in ClickHouse and from a runaway's
//     crossing attempt to its guard alert, the rows written per event and
//     the committed offsets' trail; that table goes to docs/BENCHMARKS.md
//     too (-latency=false skips it, -latency-only runs only it).
//
// It reports numbers and never passes or fails on them. What "caught up"
// means, and every other definition, is in docs/BENCHMARKS.md, "End to end".
// Everything it creates (topics, groups, databases) carries a bench_ prefix
// and a timestamp and is removed at the end, also on failure or Ctrl-C.
package main

import (
	"context"
	"flag"
	"fmt"
	"github.com/awumeter/awumeter/internal/bench/benchdoc"
	"os"
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

	latency              bool
	latencyOnly          bool
	latencyRate          float64
	latencySeconds       int
	latencyNoEmitSeconds int
	latencyEmitIntervals string
	latencySample        int
	latencyDrain         time.Duration
	latencyGuard         bool
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
	flag.BoolVar(&o.latency, "latency", true, "run the latency phase after the catch-up runs (docs/BENCHMARKS.md, \"Latency\")")
	flag.BoolVar(&o.latencyOnly, "latency-only", false, "run only the latency phase; needs -latency-rate")
	flag.Float64Var(&o.latencyRate, "latency-rate", 0, "records/s of the latency phase's producer; 0: half the records/s of awumeter's empty-ledger catch-up measured in the same run")
	flag.IntVar(&o.latencySeconds, "latency-seconds", 60, "seconds of production in each latency run with provisional rows")
	flag.IntVar(&o.latencyNoEmitSeconds, "latency-noemit-seconds", 150, "seconds of production in the latency run with engine.emit_interval 0, where rows appear only when workcycles close (30s settle delay + 1m allowed lateness after their completed event)")
	flag.StringVar(&o.latencyEmitIntervals, "latency-emit-intervals", "5s,1s,0", "engine.emit_interval of each latency run, comma-separated (0: no provisional rows)")
	flag.IntVar(&o.latencySample, "latency-sample", 50, "measure every event of one realistic workcycle in this many")
	flag.DurationVar(&o.latencyDrain, "latency-drain", 20*time.Second, "after production, how long to wait at most for sampled events and alerts still pending")
	flag.BoolVar(&o.latencyGuard, "latency-guard", true, "configure the runaway guard and produce runaway workcycles in the latency phase (false: no guards, no runaways)")
	flag.Parse()
	if o.latencyOnly && o.latencyRate <= 0 {
		fmt.Fprintln(os.Stderr, "e2e: -latency-only needs -latency-rate (records/s; the issue's rate is half of awumeter's empty-ledger records/s in docs/BENCHMARKS.md)")
		os.Exit(2)
	}
	if o.latencyOnly {
		o.latency = true
	}

	benchdoc.Main("bench-e2e", func(ctx context.Context) error { return run(ctx, o) })
}

func env(name, def string) string { return benchdoc.Env(name, def) }

func run(ctx context.Context, o options) error {
	b, err := newBench(o)
	if err != nil {
		return err
	}
	defer b.cleanup()
	emits, err := parseEmitIntervals(o.latencyEmitIntervals)
	if err != nil {
		return err
	}
	if o.latencyOnly {
		b.noteLoad()
		if err := b.latencyRuns(ctx, emits, o.latencyRate, "set with -latency-rate", 1, len(emits)); err != nil {
			return err
		}
		b.logf("benchmark finished in %s", b.elapsed())
		return nil
	}

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
	if o.latency {
		phases += len(emits)
	}

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

	b.phase(3+len(specs), phases, "report")
	rep := b.report(ctx, results)
	if err := docBlock.Publish(o.docs, rep, b.logf); err != nil {
		return err
	}
	if o.latency {
		rate, how := o.latencyRate, "set with -latency-rate"
		if rate <= 0 {
			for _, r := range results {
				if r.spec.label == "awumeter" && !r.spec.ledger && !r.spec.rekeyed {
					rate = float64(b.records) / r.seconds / 2
					how = fmt.Sprintf("half of the %.0f records/s of awumeter's empty-ledger catch-up in the same run", 2*rate)
				}
			}
		}
		if err := b.latencyRuns(ctx, emits, rate, how, 4+len(specs), phases); err != nil {
			return err
		}
	}
	b.logf("benchmark finished in %s", b.elapsed())
	return nil
}
