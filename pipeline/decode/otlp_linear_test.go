//go:build unix

package decode

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// wideRecord is one resource with attrs attributes and spans chat spans. The
// resource's tenant.id comes first, where a backward search of its
// attributes ends, and the others look like the attributes the decoder
// reads (the same length, the same prefix), so that telling them apart
// takes comparing whole keys.
func wideRecord(attrs, spans int) *tracepb.TracesData {
	res := []any{"tenant.id", "acme"}
	read := []string{attrConversationID, attrAgentID, attrAgentName, attrToolCallID, attrResponseModel,
		attrProviderName, attrSystem, "awu.workcycle.id", "awu.attempt"}
	for i := range attrs {
		k := read[i%len(read)]
		res = append(res, fmt.Sprintf("%s%04x", k[:len(k)-4], i), "v")
	}
	var ss []spanSpec
	for i := range spans {
		ss = append(ss, spanSpec{id: fmt.Sprintf("%016x", i+1), endMs: 1, attrs: []any{
			"gen_ai.operation.name", "chat", "gen_ai.request.model", "gpt-4o", attrInputTokens, 10, attrOutputTokens, 5}})
	}
	return request(res, "s", agentTraceID, ss...)
}

// cpuTime is the CPU time the process has used. Unlike the wall clock it
// does not grow while other processes have the CPU.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestOTLPDecodingIsLinear decodes records with n and 4n resource
// attributes and spans (the slow record had thousands of each), and
// one with 4n spans but no other resource attribute. Linear decoding costs
// about 4 times as much for the larger record, and about as much as for the
// one without resource attributes; decoding that multiplies resource
// attributes by spans, 16 times as much. It compares the least CPU time of
// several runs, with the collector off, against ratios of 12 and 3, so that a
// busy machine does not fail it (the larger record outgrows the caches: 8.6
// was seen under load).
func TestOTLPDecodingIsLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("measures decoding time")
	}
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	const n = 1000
	for _, format := range []string{FormatOTLPProto, FormatOTLPJSON} {
		t.Run(format, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.MaxRecordBytes = 8 << 20
			d, err := New(format, cfg, testSettings())
			if err != nil {
				t.Fatal(err)
			}
			cost := func(attrs, spans int) time.Duration {
				td := wideRecord(attrs, spans)
				b, err := proto.Marshal(td)
				if err != nil {
					t.Fatal(err)
				}
				if format == FormatOTLPJSON {
					b = otlpJSON(t, td)
				}
				rec := &Record{Value: b}
				best := time.Duration(1<<63 - 1)
				for range 5 {
					runtime.GC()
					start := cpuTime(t)
					evs, res := d.Decode(rec, nil)
					if c := cpuTime(t) - start; c < best {
						best = c
					}
					if len(evs) != spans || len(res.Rejections) != 0 {
						t.Fatalf("%d spans gave %d events, %v", spans, len(evs), res.Rejections)
					}
				}
				t.Logf("%d resource attributes, %d spans, %d bytes: %v of CPU", attrs, spans, len(b), best)
				return best
			}
			small, large, flat := cost(n, n), cost(4*n, 4*n), cost(0, 4*n)
			if ratio := float64(large) / float64(max(small, time.Microsecond)); ratio > 12 {
				t.Errorf("4 times the resource attributes and spans cost %.1f times as much CPU (%v against %v); linear is 4", ratio, large, small)
			}
			if ratio := float64(large) / float64(max(flat, time.Microsecond)); ratio > 3 {
				t.Errorf("%d resource attributes made %d spans cost %.1f times as much CPU (%v against %v); linear is about 1", 4*n, 4*n, ratio, large, flat)
			}
		})
	}
}
