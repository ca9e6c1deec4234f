package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/awumeter/awumeter/internal/bench/benchdoc"
)

// latencyBlock is the latency phase's table in docs/BENCHMARKS.md.
var latencyBlock = benchdoc.Block{Name: "bench-e2e-latency",
	Section: "## Latency\n\n`make bench-e2e` writes its latest latency table here."}

// parseEmitIntervals reads -latency-emit-intervals: durations, "0" for none.
func parseEmitIntervals(s string) ([]time.Duration, error) {
	var out []time.Duration
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		d, err := time.ParseDuration(f)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("-latency-emit-intervals: %q is not a duration of at least 0", f)
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-latency-emit-intervals: none given")
	}
	return out, nil
}

// latencyRuns runs the latency phase once per emit interval, as phases
// first.. of n, and publishes its table.
func (b *bench) latencyRuns(ctx context.Context, emits []time.Duration, rate float64, how string, first, n int) error {
	if rate <= 0 {
		return fmt.Errorf("latency phase: no rate (the catch-up runs were skipped; set -latency-rate)")
	}
	var results []latencyResult
	for i, emit := range emits {
		secs := b.o.latencySeconds
		if emit == 0 {
			secs = b.o.latencyNoEmitSeconds
		}
		b.phase(first+i, n, "latency: live telemetry at %.0f records/s for %d s, engine.emit_interval %s", rate, secs, emit)
		r, err := b.latencyPhase(ctx, emit, rate, time.Duration(secs)*time.Second)
		if err != nil {
			return err
		}
		results = append(results, r)
		b.noteLoad()
	}
	return latencyBlock.Publish(b.o.docs, b.latencyReport(ctx, results, rate, how), b.logf)
}

// latencyReport is the markdown record of the latency phase.
func (b *bench) latencyReport(ctx context.Context, results []latencyResult, rate float64, how string) string {
	var w strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&w, format, args...) }
	p("### %s, %s\n\n", time.Now().UTC().Format("2006-01-02"), b.machine(ctx))
	p("Rate: %s records/s, %s. awumeter: `%s`, %s. Every event of one realistic workcycle in %d sampled; "+
		"a runaway workcycle every 2 s; ClickHouse polled every %s. 1-minute load average at the start and after each run: %s.\n\n",
		commas(int64(rate)), how, b.o.awumeter, binaryVersion(b.o.awumeter), b.o.latencySample, latencyPoll, strings.Join(b.loads, ", "))

	p("| engine.emit_interval | produced | records/s | visible: p50 | p99 | max | samples | not visible | alert: p50 | p99 | max | alerts | missing |\n")
	p("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range results {
		p("| %s | %s in %.0f s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			emitName(r.emitInterval), commas(r.produced), r.seconds, commas(int64(float64(r.produced)/r.seconds)),
			statCell(r.visible.p50, r.visible.n), statCell(r.visible.p99, r.visible.n), statCell(r.visible.max, r.visible.n),
			commas(int64(r.visible.n)), commas(int64(r.unresolved)),
			statCell(r.alert.p50, r.alert.n), statCell(r.alert.p99, r.alert.n), statCell(r.alert.max, r.alert.n),
			commas(int64(r.alert.n)), commas(int64(r.missing)))
	}
	p("\n")
	p("| engine.emit_interval | workcycles rows / event | awus rows / event | awu_models rows / event | events rows / event | trail max | trail at end of production | trail after drain | awumeter CPU-s | ClickHouse CPU-s |\n")
	p("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range results {
		ev := float64(max(r.produced, 1))
		ch := "?"
		if r.chCPU >= 0 {
			ch = fmt.Sprintf("%.1f", r.chCPU)
		}
		p("| %s | %.3f | %.3f | %.3f | %.3f | %s | %s | %s | %.1f | %s |\n",
			emitName(r.emitInterval), r.rows["workcycles"]/ev, r.rows["awus"]/ev, r.rows["awu_models"]/ev, r.rows["events"]/ev,
			commas(r.trailMax), commas(r.trailEnd), commas(r.trailLast), r.awumeterCPU, ch)
	}
	p("\n")
	for _, r := range results {
		p("- emit_interval %s: %s workcycles started (%s sampled, %s runaways crossed the rule); "+
			"drain %.1f s%s; awumeter had read %s of the %s records at the end of production; "+
			"median poll %s; %d alerts of other workcycles; %d produce errors; "+
			"%.0f rollup refreshes finished, %.1f s in all; `awumeter_consumer_lag` summed at the end %s; "+
			"`awumeter_provisional_rows_total` grew by %s.\n",
			emitName(r.emitInterval), commas(int64(r.workcycles)), commas(int64(r.sampledWCs)), commas(int64(r.runaways)),
			r.drain.Seconds(), map[bool]string{true: " (everything resolved)", false: " (timed out with samples or alerts pending)"}[r.caughtUp],
			commas(int64(r.readAtEnd)), commas(r.produced), r.pollMedian.Round(time.Millisecond), r.otherAlerts, r.produceErrs,
			r.refreshes, r.refreshSecs, commas(int64(r.metricLag)), commas(int64(r.provisional)))
	}
	return w.String()
}

func emitName(d time.Duration) string {
	if d == 0 {
		return "0 (off)"
	}
	return d.String()
}

// statCell is a latency in seconds, or a dash without samples.
func statCell(d time.Duration, n int) string {
	if n == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", d.Seconds())
}
