package engine_test

import (
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/awumeter/awumeter/internal/gen"
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/event"
)

// BenchmarkApply measures the engine on decoded events: generated telemetry
// with retries, duplicates and reordering, emitted every 1000 events as the
// service does per batch. It reports ns/event and allocs/event.
func BenchmarkApply(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("workcycles=%d", n), func(b *testing.B) { benchApply(b, n, false) })
	}
}

// BenchmarkApplyEmitOpen is BenchmarkApply with provisional rows at every
// emission (EmitOpen every 1000 events, far more often than the service's
// engine.emit_interval at any real rate): the cost of provisional rows at
// their worst, and rows/event, the write amplification they bring.
func BenchmarkApplyEmitOpen(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("workcycles=%d", n), func(b *testing.B) { benchApply(b, n, true) })
	}
}

func benchApply(b *testing.B, n int, open bool) {
	cfg := gen.DefaultConfig()
	cfg.Workcycles = n
	cfg.MalformedRate = 0
	cfg.Span = time.Duration(n) * 2 * time.Second
	s, err := gen.Generate(cfg)
	if err != nil {
		b.Fatal(err)
	}
	evs := withOffsets(s.Events())
	b.ResetTimer()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	rows := 0
	for b.Loop() {
		e, err := engine.New(engine.DefaultConfig(), engine.Settings{})
		if err != nil {
			b.Fatal(err)
		}
		for i := range evs {
			if _, err := e.Apply(&evs[i]); err != nil {
				b.Fatal(err)
			}
			if i%1000 == 999 {
				if open {
					rows += e.EmitOpen().Len()
				} else {
					rows += e.Emit().Len()
				}
			}
		}
		rows += e.Flush().Len()
	}
	runtime.ReadMemStats(&ms1)
	events := float64(b.N) * float64(len(evs))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/events, "ns/event")
	b.ReportMetric(events/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/events, "allocs/event")
	b.ReportMetric(float64(len(evs))/float64(n), "events/workcycle")
	b.ReportMetric(float64(rows)/events, "rows/event")
}

// BenchmarkApplyNoEmit isolates Apply, the per-event hot path: the events
// of open workcycles, no rows built.
func BenchmarkApplyNoEmit(b *testing.B) {
	cfg := gen.DefaultConfig()
	cfg.Workcycles = 10000
	cfg.MalformedRate = 0
	s, err := gen.Generate(cfg)
	if err != nil {
		b.Fatal(err)
	}
	evs := withOffsets(s.Events())
	for b.Loop() {
		e, _ := engine.New(engine.DefaultConfig(), engine.Settings{})
		for i := range evs {
			e.Apply(&evs[i])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/event")
}

// typicalWorkcycle feeds one open workcycle of nine events to e: a started
// event, a prompt AWU, a validated tool call, and a tool call that succeeded
// on its second attempt. Event strings are built fresh, as a decoder does,
// so only what the engine keeps stays reachable.
func typicalWorkcycle(e *engine.Engine, i int, off *int64) {
	wc := "wc-" + strconv.Itoa(i) + "-4f1c9a2e"
	t := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC).Add(time.Duration(i%1000) * time.Millisecond)
	n := 0
	apply := func(ev event.Event) {
		n++
		ev.EventID = wc + "-evt-" + strconv.Itoa(n) + "-5b0e2d7a1c3f"
		ev.TenantID = "tenant-" + strconv.Itoa(i%50)
		ev.WorkcycleID = wc
		ev.AgentID = "agent-" + strconv.Itoa(i%200)
		ev.ConversationID = "conv-" + strconv.Itoa(i) + "-8c2d"
		ev.Time = t.Add(time.Duration(n) * time.Second)
		ev.Source.Offset = *off
		*off++
		e.Apply(&ev)
	}
	awu := func(k int) string { return wc + "-awu-" + strconv.Itoa(k) }
	apply(event.Event{Type: event.TypeWorkcycle, Phase: event.PhaseStarted})
	apply(event.Event{Type: event.TypeTokenUsage, AWUID: awu(1), Attempt: 1, Model: "gemini-3-flash", InputTokens: 4000, OutputTokens: 800})
	apply(event.Event{Type: event.TypeTokenUsage, AWUID: awu(2), Attempt: 1, Model: "claude-sonnet-4.6", InputTokens: 9000, OutputTokens: 300, CacheReadInputTokens: 6000})
	apply(event.Event{Type: event.TypeToolInvocation, AWUID: awu(2), Attempt: 1, Tool: "crm.update_case", Status: event.StatusSucceeded})
	apply(event.Event{Type: event.TypeToolInvocation, AWUID: awu(2), Attempt: 1, Tool: "crm.update_case", Status: event.StatusValidated})
	apply(event.Event{Type: event.TypeTokenUsage, AWUID: awu(3), Attempt: 1, Model: "gemini-3-pro", InputTokens: 12000, OutputTokens: 2000})
	apply(event.Event{Type: event.TypeToolInvocation, AWUID: awu(3), Attempt: 1, Tool: "billing.refund", Channel: event.ChannelVoice, Status: event.StatusFailed})
	apply(event.Event{Type: event.TypeTokenUsage, AWUID: awu(3), Attempt: 2, Model: "gemini-3-pro", InputTokens: 12500, OutputTokens: 1800})
	apply(event.Event{Type: event.TypeToolInvocation, AWUID: awu(3), Attempt: 2, Tool: "billing.refund", Channel: event.ChannelVoice, Status: event.StatusSucceeded})
}

// BenchmarkOpenWorkcycleMemory holds one million open workcycles of nine
// events each and reports the live heap per workcycle.
func BenchmarkOpenWorkcycleMemory(b *testing.B) {
	const open = 1_000_000
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		e, err := engine.New(engine.DefaultConfig(), engine.Settings{})
		if err != nil {
			b.Fatal(err)
		}
		var off int64
		for i := range open {
			typicalWorkcycle(e, i, &off)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if st := e.Stats(); st.Open != open {
			b.Fatalf("%d open workcycles, want %d", st.Open, open)
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/open, "bytes/workcycle")
		runtime.KeepAlive(e)
	}
}
