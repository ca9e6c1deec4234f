package source

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/awumeter/awumeter/internal/gen"
	"github.com/awumeter/awumeter/pipeline/commit"
	"github.com/awumeter/awumeter/pipeline/decode"
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/sink"
)

// nopSink acknowledges every transaction at once.
type nopSink struct{}

func (nopSink) Add(_ context.Context, _ sink.Batch, ack sink.AckFunc) error { ack(nil); return nil }
func (nopSink) Flush(context.Context) error                                 { return nil }

// BenchmarkPipeline measures the hot path of one partition: decode, apply,
// emit, hand to a no-op sink and mark the offset, in polls of 500 records.
func BenchmarkPipeline(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("workcycles=%d", n), func(b *testing.B) {
			cfg := gen.DefaultConfig()
			cfg.Workcycles = n
			cfg.Start = time.Now().UTC().Add(-48 * time.Hour)
			cfg.MalformedRate = 0
			stream, err := gen.Generate(cfg)
			if err != nil {
				b.Fatal(err)
			}
			recs := make([]*kgo.Record, len(stream.Records))
			for i, r := range stream.Records {
				recs[i] = &kgo.Record{Topic: "telemetry", Offset: int64(i), Value: r.Line}
			}
			scfg := DefaultConfig()
			tc := DefaultTopicConfig()
			tc.Name = "telemetry"
			scfg.Topics = []TopicConfig{tc}
			scfg.Brokers = []string{"127.0.0.1:1"} // never dialled: nothing is polled
			s, err := New(scfg, Settings{Sink: nopSink{}, Engine: engine.DefaultConfig()})
			if err != nil {
				b.Fatal(err)
			}
			defer s.cl.Close()
			ctx := context.Background()
			now := time.Now()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				eng, _ := engine.New(engine.DefaultConfig(), engine.Settings{})
				st := &partition{topic: "telemetry", format: tc.Format, dec: mustDecoder(b, tc), eng: eng,
					track: commit.NewPartition(-1), next: -1, first: -1}
				for j := 0; j < len(recs); j += 500 {
					if err := s.process(ctx, st, recs[j:min(j+500, len(recs))], now); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.StopTimer()
			runtime.ReadMemStats(&after)
			events := float64(b.N * len(recs))
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/events, "ns/event")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/events, "allocs/event")
		})
	}
}

func mustDecoder(tb testing.TB, tc TopicConfig) decode.Decoder {
	tb.Helper()
	dec, err := decode.New(tc.Format, tc.Decode, decode.Settings{})
	if err != nil {
		tb.Fatal(err)
	}
	return dec
}
