package main

import (
	"context"
	"fmt"
	"github.com/awumeter/awumeter/internal/bench/benchdoc"
	"slices"
	"strconv"
	"strings"
	"time"
)

// report is the markdown record of the run: a heading with the date and
// the machine, then per size the query table and the migration's numbers.
func (b *bench) report(ctx context.Context, results []*sizeResult) string {
	var w strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&w, format, args...) }
	p("### %s, %s\n\n", time.Now().UTC().Format("2006-01-02"), b.machine(ctx))
	mem := "the server's max_memory_usage (4 GB on the local stack)"
	if b.o.maxMemory > 0 {
		mem = "max_memory_usage " + commas(b.o.maxMemory)
	}
	p("Best of %d runs (median in parentheses), seconds, every row read by the client; queries with %s. "+
		"Before: migrated to 0008, the rollups are views over `awus FINAL` / `awu_models FINAL`. "+
		"After: `migrate.Up` applied 0009 to the same database, the views read the rollup tables.\n\n", b.o.runs, mem)

	for _, r := range results {
		p("#### %s AWUs\n\n", commas(r.n))
		if r.failed != "" && r.before == nil {
			p("Failed: %s\n\n", r.failed)
			continue
		}
		p("| query | rows | before, FINAL views | after, rollup tables | before / after |\n")
		p("| --- | ---: | ---: | ---: | ---: |\n")
		for _, bt := range r.before {
			var at *timing
			for i := range r.after {
				if r.after[i].name == bt.name {
					at = &r.after[i]
				}
			}
			ratio := ""
			if at != nil && at.err == "" && bt.err == "" && len(at.runs) > 0 && len(bt.runs) > 0 {
				ratio = fmt.Sprintf("%.0f×", bt.best().Seconds()/at.best().Seconds())
			}
			rows := bt.rows
			p("| %s | %s | %s | %s | %s |\n", bt.name, commas(int64(rows)), cell(&bt), cell(at), ratio)
		}
		for _, at := range r.after {
			if !slices.ContainsFunc(r.before, func(t timing) bool { return t.name == at.name }) {
				p("| %s | %s | not timed | %s | |\n", at.name, commas(int64(at.rows)), cell(&at))
			}
		}
		if r.refresh.name != "" {
			p("| %s (%s, %s AWUs that day; %s) | | | %s | |\n", r.refresh.name, r.busy, commas(r.busyAWUs),
				"best run's statements: "+durations(r.refresh.refresh), cell(&r.refresh))
		}
		p("\n")
		p("- Data: %s AWU rows and %s per-model rows with FINAL; %s and %s rows stored "+
			"(a tenth of the AWUs also as a superseded version), generated in %s. "+
			"Active parts when the before queries ran: awus %d, awu_models %d (after waiting %s for merges).\n",
			commas(r.final["awus"]), commas(r.final["awu_models"]), commas(r.genRows["awus"]), commas(r.genRows["awu_models"]),
			r.generate.Round(time.Second), r.partsPre["awus"], r.partsPre["awu_models"], r.settlePre.Round(time.Second))
		if r.migErr != "" {
			p("- Migration 0009 first attempt failed: %s. Its statements over 1 s: %s. The tables of 0009 were dropped and it was retried with max_memory_usage %s.\n",
				oneLine(r.migErr), stmtList(r.migErrStmts), commas(r.migMem))
		}
		if r.migrate > 0 {
			p("- Migration 0009 (`migrate.Up`: awu_days backfill, refresh of every slice, views): **%s**. Statements over 1 s (elapsed and peak memory as seen in `system.processes`, every 0.5 s): %s.\n",
				fmtDur(r.migrate), stmtList(r.stmts))
		}
		if r.rollups != nil {
			p("- Rows after: awu_days %s; rollup_usage_daily %s, rollup_usage_monthly %s, rollup_model_usage_daily %s, rollup_model_usage_monthly %s "+
				"(FINAL: %s, %s, %s, %s) — %.4f%% of the AWUs for usage_monthly, %.3f%% for usage_daily.\n",
				commas(r.rollups["awu_days"]), commas(r.rollups["rollup_usage_daily"]), commas(r.rollups["rollup_usage_monthly"]),
				commas(r.rollups["rollup_model_usage_daily"]), commas(r.rollups["rollup_model_usage_monthly"]),
				commas(r.rollups["rollup_usage_daily FINAL"]), commas(r.rollups["rollup_usage_monthly FINAL"]),
				commas(r.rollups["rollup_model_usage_daily FINAL"]), commas(r.rollups["rollup_model_usage_monthly FINAL"]),
				100*float64(r.rollups["rollup_usage_monthly"])/float64(r.final["awus"]),
				100*float64(r.rollups["rollup_usage_daily"])/float64(r.final["awus"]))
		}
		if r.failed != "" {
			p("- Failed: %s\n", oneLine(r.failed))
		}
		p("\n")
	}
	return w.String()
}

func cell(t *timing) string {
	switch {
	case t == nil:
		return ""
	case t.err != "":
		return "error: " + oneLine(t.err)
	case len(t.runs) == 0:
		return ""
	case len(t.runs) == 1:
		return fmt.Sprintf("%.3f", t.best().Seconds())
	}
	return fmt.Sprintf("%.3f (%.3f)", t.best().Seconds(), t.median().Seconds())
}

func stmtList(ss []stmtStat) string {
	var out []string
	for _, s := range ss {
		if s.elapsed < 1 {
			continue
		}
		out = append(out, fmt.Sprintf("%s %.0f s, %s MiB", s.label, s.elapsed, commas(s.peakMem>>20)))
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, "; ")
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return strings.ReplaceAll(s, "|", "\\|")
}

func fmtDur(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return fmt.Sprintf("%s (%.0f s)", d.Round(time.Second), d.Seconds())
}

// commas formats n with thousands separators.
func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// short is 10M for 10,000,000.
func short(n int64) string {
	switch {
	case n%1_000_000 == 0:
		return strconv.FormatInt(n/1_000_000, 10) + "M"
	case n%1_000 == 0:
		return strconv.FormatInt(n/1_000, 10) + "k"
	}
	return strconv.FormatInt(n, 10)
}

func (b *bench) machine(ctx context.Context) string {
	var v string
	if err := b.ch.conn.QueryRow(ctx, "SELECT version()").Scan(&v); err != nil {
		v = "?"
	}
	return benchdoc.Machine("ClickHouse " + v)
}

// docBlock is this benchmark's table in docs/BENCHMARKS.md.
var docBlock = benchdoc.Block{Name: "bench-rollups",
	Section: "## Rollups\n\n`make bench-rollups` writes its latest table here."}

var beginMarker, endMarker = docBlock.Begin(), docBlock.End()

func replaceBlock(doc, block string) (string, error) { return docBlock.Replace(doc, block) }
