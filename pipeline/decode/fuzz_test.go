package decode

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/awumeter/awumeter/pipeline/event"
)

// Fuzz targets: go test -fuzz=FuzzJSON ./pipeline/decode (and likewise for
// the others). Plain go test runs only the seeds from testdata/decode.

func addSeeds(f *testing.F, pattern string, extra ...any) {
	files, err := filepath.Glob(filepath.Join(testdataDir, pattern))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds match %s: %v", pattern, err)
	}
	for _, file := range files {
		f.Add(append([]any{readFile(f, file)}, extra...)...)
	}
}

// checkInvariants holds for every decoder and every input.
func checkInvariants(t *testing.T, evs []event.Event, res Result) {
	known := map[Reason]bool{}
	for _, r := range Reasons() {
		known[r] = true
	}
	for _, r := range res.Rejections {
		if !known[r.Reason] || r.Detail == "" {
			t.Fatalf("rejection without a known reason and a detail: %+v", r)
		}
	}
	for _, e := range evs {
		if e.EventID == "" || e.TenantID == "" || e.WorkcycleID == "" || e.Type == event.TypeUnknown || e.Time.IsZero() {
			t.Fatalf("event missing identity: %+v", e)
		}
		if e.InputTokens < 0 || e.OutputTokens < 0 || e.CacheReadInputTokens < 0 || e.CacheCreationInputTokens < 0 || e.ReasoningTokens < 0 {
			t.Fatalf("negative tokens: %+v", e)
		}
		if e.CacheReadInputTokens+e.CacheCreationInputTokens > e.InputTokens || e.ReasoningTokens > e.OutputTokens {
			t.Fatalf("token parts exceed totals: %+v", e)
		}
		if e.Type != event.TypeWorkcycle && (e.Attempt < 1 || e.AWUID == "") {
			t.Fatalf("bad attempt or awu: %+v", e)
		}
		if e.Time.Before(fixedNow.Add(-DefaultPast)) || e.Time.After(fixedNow.Add(DefaultFuture)) {
			t.Fatalf("time out of bounds: %+v", e)
		}
	}
}

func FuzzJSON(f *testing.F) {
	addSeeds(f, "json/*.json")
	f.Add([]byte(typicalEvent))
	d := newDecoder(f, FormatJSON)
	f.Fuzz(func(t *testing.T, in []byte) {
		evs, res := d.Decode(&Record{Value: in}, nil)
		if len(evs)+len(res.Rejections) != 1 {
			t.Fatalf("%d events and %d rejections", len(evs), len(res.Rejections))
		}
		checkInvariants(t, evs, res)
		// The scanner agrees with encoding/json on what is JSON.
		if utf8.Valid(in) && len(in) > 0 && len(in) <= DefaultMaxRecordBytes && strings.Count(string(in), "[")+strings.Count(string(in), "{") < maxDepth {
			notJSON := len(res.Rejections) == 1 && res.Rejections[0].Reason == ReasonNotJSON
			if notJSON == json.Valid(in) {
				t.Fatalf("scanner says not_json=%v, encoding/json says valid=%v: %v", notJSON, json.Valid(in), res.Rejections)
			}
		}
	})
}

func FuzzCloudEvents(f *testing.F) {
	addSeeds(f, "cloudevents/*.json", "")
	f.Add([]byte(ceData), "ce_specversion=1.0;ce_id=1;ce_source=/s;ce_type=io.awumeter.tool_invocation.v1;ce_time=2026-03-01T12:00:00Z;content-type=application/json")
	d := newDecoder(f, FormatCloudEvents)
	f.Fuzz(func(t *testing.T, in []byte, headers string) {
		rec := &Record{Value: in}
		for _, h := range strings.Split(headers, ";") {
			if k, v, ok := strings.Cut(h, "="); ok {
				rec.Headers = append(rec.Headers, Header{Key: k, Value: []byte(v)})
			}
		}
		evs, res := d.Decode(rec, nil)
		if len(evs)+len(res.Rejections) != 1 {
			t.Fatalf("%d events and %d rejections", len(evs), len(res.Rejections))
		}
		checkInvariants(t, evs, res)
	})
}

func FuzzOTLPProto(f *testing.F) {
	addSeeds(f, "otlp/*.binpb")
	d := newDecoder(f, FormatOTLPProto)
	f.Fuzz(func(t *testing.T, in []byte) {
		evs, res := d.Decode(&Record{Value: in}, nil)
		checkInvariants(t, evs, res)
	})
}

func FuzzOTLPJSON(f *testing.F) {
	addSeeds(f, "otlp/*.json")
	d := newDecoder(f, FormatOTLPJSON)
	f.Fuzz(func(t *testing.T, in []byte) {
		evs, res := d.Decode(&Record{Value: in}, nil)
		checkInvariants(t, evs, res)
	})
}
