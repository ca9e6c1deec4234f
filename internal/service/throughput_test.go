package service_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/awumeter/awumeter/internal/gen"
	"github.com/awumeter/awumeter/internal/service"
	"github.com/awumeter/awumeter/internal/service/servicetest"
	"github.com/awumeter/awumeter/internal/testenv"
)

// BenchmarkNewWorkcycles measures how fast the service takes in workcycles
// it has never seen, against the real stack: every one needs the events
// ledger's answer before its first event is folded. "per-poll" is the
// service as it runs (one batched ledger read per poll and partition);
// "per-workcycle" reads the ledger once per workcycle, for comparison.
// It reports numbers, not a verdict:
//
//	go test -run '^$' -bench NewWorkcycles -benchtime 1x ./internal/service/
//
// AWUMETER_BENCH_WORKCYCLES sets the workcycles per run (default 3000).
func BenchmarkNewWorkcycles(b *testing.B) {
	n := 3000
	if v, err := strconv.Atoi(os.Getenv("AWUMETER_BENCH_WORKCYCLES")); err == nil && v > 0 {
		n = v
	}
	for _, mode := range []string{"per-workcycle", "per-poll"} {
		b.Run(mode, func(b *testing.B) {
			var took time.Duration
			var records, queries int
			for range b.N {
				t, r, q := newWorkcycles(b, n, mode == "per-workcycle")
				took, records, queries = took+t, records+r, queries+q
			}
			b.ReportMetric(float64(b.N*n)/took.Seconds(), "workcycles/s")
			b.ReportMetric(float64(records)/took.Seconds(), "records/s")
			b.ReportMetric(float64(queries)/float64(b.N*n), "selects/workcycle")
		})
	}
}

// newWorkcycles runs the service over n new workcycles and returns the time
// it took to process every record, the records, and the SELECT queries the
// server ran meanwhile (all of them, so the stack should be otherwise idle).
func newWorkcycles(b *testing.B, n int, perWorkcycle bool) (time.Duration, int, int) {
	b.StopTimer()
	k := testenv.NewKafka(b)
	ch := testenv.NewClickHouse(b)
	servicetest.Migrate(b, ch)
	const partitions = 6
	topic, dlq, group := k.Topic(b, partitions), k.Topic(b, 1), k.Group(b)
	cfg := gen.DefaultConfig()
	cfg.Workcycles = n
	cfg.Start = time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Hour)
	cfg.Span = 12 * time.Hour
	stream, err := gen.Generate(cfg)
	if err != nil {
		b.Fatal(err)
	}
	servicetest.ProduceFranz(b, k.Brokers, topic, stream.Records)

	scfg := servicetest.Config(k, ch, topic, group, dlq)
	scfg.Engine = servicetest.EngineConfig()
	set := service.Settings{Version: "bench"}
	if perWorkcycle {
		service.HistoryPerWorkcycle(&set)
	}
	svc, err := service.New(scfg, set)
	if err != nil {
		b.Fatal(err)
	}
	ctx := testenv.Context(b, 30*time.Minute)
	selects := func() int64 {
		var v uint64
		if err := ch.Conn.QueryRow(ctx, "SELECT value FROM system.events WHERE event = 'SelectQuery'").Scan(&v); err != nil {
			b.Fatal(err)
		}
		return int64(v)
	}
	before := selects()
	b.StartTimer()
	start := time.Now()
	if err := svc.Start(ctx); err != nil {
		b.Fatal(err)
	}
	for {
		st := svc.Source().Status()
		done := len(st.Partitions) == partitions
		for _, p := range st.Partitions {
			done = done && p.HighWatermark > 0 && p.Next >= p.HighWatermark
		}
		if done {
			break
		}
		if st.Err != nil {
			b.Fatal(st.Err)
		}
		if ctx.Err() != nil {
			b.Fatal("not caught up in time")
		}
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(start)
	b.StopTimer()
	queries := selects() - before - 1 // not counting the read of the counter
	if err := svc.Shutdown(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d workcycles (%d records) in %s, %d SELECT queries", n, len(stream.Records), took.Round(time.Millisecond), queries)
	b.StartTimer()
	return took, len(stream.Records), int(queries)
}
