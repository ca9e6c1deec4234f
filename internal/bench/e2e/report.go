package main

import (
	"context"
	"fmt"
	"github.com/awumeter/awumeter/internal/bench/benchdoc"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// report is the markdown record of the run: a heading with the date and
// the machine, what was measured, and the table.
func (b *bench) report(ctx context.Context, results []result) string {
	var w strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&w, format, args...) }
	p("### %s, %s\n\n", time.Now().UTC().Format("2006-01-02"), b.machine(ctx))
	p("N = %s records: %s workcycles of `awumeter gen --seed %d --tenants %d` (5%% duplicates, 0.5%% malformed records), "+
		"%s distinct valid events, on a topic of %d partitions.",
		commas(b.records), commas(int64(b.o.workcycles)), b.o.seed, b.o.tenants, commas(b.events), partitions)
	seen := map[string]bool{}
	for _, r := range results {
		if !seen[r.spec.label] {
			seen[r.spec.label] = true
			p(" %s: `%s`, %s.", r.spec.label, r.spec.bin, r.version)
		}
	}
	p(" 1-minute load average at the start and after each run: %s.\n\n", strings.Join(b.loads, ", "))

	p("| run | records | seconds | records/s | %% of consume-only | awumeter CPU-s | Kafka CPU-s | ClickHouse CPU-s | ClickHouse CPU-ms per 1k events | peak RSS MiB | inserts |\n")
	p("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	cs := b.consume.Seconds()
	consumeRate := float64(b.records) / cs
	p("| consume-only (franz-go, best of 2) | %s | %.1f | %s | 100%% | | | | | | |\n",
		commas(b.records), cs, commas(int64(consumeRate)))
	rows := slices.Clone(results)
	slices.SortStableFunc(rows, func(x, y result) int { return strings.Compare(x.spec.label, y.spec.label) })
	rate := map[runSpec]float64{}
	for _, r := range rows {
		rr := float64(b.records) / r.seconds
		rate[runSpec{label: r.spec.label, ledger: r.spec.ledger, rekeyed: r.spec.rekeyed}] = rr
		ch, chPer := "?", "?"
		if r.chCPU >= 0 {
			ch = fmt.Sprintf("%.1f", r.chCPU)
			chPer = fmt.Sprintf("%.1f", r.chCPU*1000/(float64(b.events)/1000))
		}
		kafka := "?"
		if r.kafkaCPU >= 0 {
			kafka = fmt.Sprintf("%.1f", r.kafkaCPU)
		}
		p("| %s | %s | %.1f | %s | %.1f%% | %.1f | %s | %s | %s | %.0f | %s |\n",
			r.spec.name(b.o.ledgerEvents), commas(b.records), r.seconds, commas(int64(rr)), 100*rr/consumeRate,
			r.awumeterCPU, kafka, ch, chPer, float64(r.peakRSS)/(1<<20), commas(int64(sum(r.inserts))))
	}
	p("\n")

	var ratios, prefills, inserts, lookups, emitted []string
	for _, label := range []string{"awumeter", "baseline"} {
		empty, full := rate[runSpec{label: label}], rate[runSpec{label: label, ledger: true}]
		if empty > 0 && full > 0 {
			ratios = append(ratios, fmt.Sprintf("%s %.2f", label, full/empty))
		}
	}
	if len(ratios) > 0 {
		p("%s-event ledger rate / empty-ledger rate: %s.\n", short(b.o.ledgerEvents), strings.Join(ratios, ", "))
	}
	for _, ledger := range []bool{false, true} {
		cur, base := rate[runSpec{label: "awumeter", ledger: ledger}], rate[runSpec{label: "baseline", ledger: ledger}]
		if cur > 0 && base > 0 {
			p("awumeter / baseline rate, %s: %.2f.\n", ledgerName(ledger, b.o.ledgerEvents), cur/base)
		}
	}
	if direct, rekeyed := rate[runSpec{label: "awumeter"}], rate[runSpec{label: "awumeter", rekeyed: true}]; direct > 0 && rekeyed > 0 {
		p("Re-keyed rate / direct rate, empty ledger: %.2f.", rekeyed/direct)
		for _, r := range rows {
			if r.spec.rekeyed && r.rekeyTxns > 0 {
				p(" The re-key stage committed %s transactions.", commas(int64(r.rekeyTxns)))
			}
		}
		p("\n")
	}
	for _, r := range rows {
		if r.spec.ledger {
			s := fmt.Sprintf("%s %s", r.spec.label, r.prefill.Round(time.Second))
			if r.keys > 0 {
				s += fmt.Sprintf(" (with %s workcycle_keys rows)", commas(r.keys))
			}
			prefills = append(prefills, s)
		}
		inserts = append(inserts, fmt.Sprintf("%s: %s", r.spec.name(b.o.ledgerEvents), byLabel(r.inserts)))
		if r.emitted != nil {
			emitted = append(emitted, fmt.Sprintf("%s: %s", r.spec.name(b.o.ledgerEvents), byLabel(r.emitted)))
		}
		if r.lookups != nil {
			lookups = append(lookups, fmt.Sprintf("%s: %s", r.spec.name(b.o.ledgerEvents), byLabel(r.lookups)))
		}
	}
	if len(prefills) > 0 {
		p("Pre-filling the ledger (not timed): %s.\n", strings.Join(prefills, ", "))
	}
	p("Inserts by table: %s.\n", strings.Join(inserts, "; "))
	if len(emitted) > 0 {
		p("Rows emitted (`awumeter_rows_emitted_total`; above the distinct rows when workcycles were emitted again): %s.\n", strings.Join(emitted, "; "))
	}
	if len(lookups) > 0 {
		p("Workcycle lookups (`awumeter_workcycle_lookups_total`): %s.\n", strings.Join(lookups, "; "))
	}
	return w.String()
}

func sum(m map[string]float64) float64 {
	var s float64
	for _, v := range m {
		s += v
	}
	return s
}

// byLabel renders label values and counts, sorted: "events 40, workcycles 38".
func byLabel(m map[string]float64) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%s %s", k, commas(int64(v))))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// commas renders n with thousands separators.
func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// short renders a count as 10M, 500k or 1234.
func short(n int64) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return commas(n)
}

// machine describes where the run ran.
func (b *bench) machine(ctx context.Context) string {
	chv, err := b.ch.query(ctx, "SELECT version()")
	if err != nil {
		chv = "?"
	}
	return benchdoc.Machine("ClickHouse "+chv, "Kafka "+b.kafkaVersion(ctx))
}

// kafkaVersion is the local stack's Kafka version (deploy/local/env.sh
// exports it), else franz-go's guess from the broker's API versions.
func (b *bench) kafkaVersion(ctx context.Context) string {
	if v := os.Getenv("AWUMETER_KAFKA_VERSION"); v != "" {
		return v
	}
	adm, closeAdm, err := b.admin()
	if err != nil {
		return "?"
	}
	defer closeAdm()
	vs, err := adm.ApiVersions(ctx)
	if err != nil {
		return "?"
	}
	for _, v := range vs.Sorted() {
		if v.Err == nil {
			return v.VersionGuess()
		}
	}
	return "?"
}

// docBlock is this benchmark's table in docs/BENCHMARKS.md.
var docBlock = benchdoc.Block{Name: "bench-e2e", First: true,
	Section: "## End to end\n\n`make bench-e2e` writes its latest table here."}

var beginMarker, endMarker = docBlock.Begin(), docBlock.End()

func replaceBlock(doc, block string) (string, error) { return docBlock.Replace(doc, block) }
