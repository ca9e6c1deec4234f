package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/awumeter/awumeter/pipeline/deadletter"
	"github.com/awumeter/awumeter/pipeline/decode"
	"github.com/awumeter/awumeter/pipeline/event"
)

// The inputs under testdata/process-formats hold one workcycle of tenant
// acme in each format: a model call (claude-sonnet-4.6, 12,000 input tokens
// of which 2,000 cache reads, 2,000 output tokens) and a succeeded text tool
// call (crm.refund). The OTLP record also holds an HTTP span and the
// invoke_agent span around both, which are ignored. expected.ndjson holds
// the final rows, written by hand:
//
//	token cost = (12,000 − 2,000) × $3/M + 2,000 × $0.30/M + 2,000 × $15/M
//	           = $0.03 + $0.0006 + $0.03 = $0.0606
//	credits    = 20 (one text action; prompt AWUs cost 0)
//	list cost  = 20 × $500 / 100,000 credits = $0.10
//
// versions: the workcycle holds 2 distinct events, each AWU 2^32 + 1.
const formatsDir = "testdata/process-formats"

var formatInputs = map[string]string{
	decode.FormatJSON:        "json.ndjson",
	decode.FormatCloudEvents: "cloudevents.ndjson",
	decode.FormatOTLPJSON:    "otlp_json.ndjson",
	decode.FormatOTLPProto:   "otlp_proto.b64",
}

func TestProcessEveryFormatGivesTheHandWrittenRows(t *testing.T) {
	want, err := os.ReadFile(filepath.Join(formatsDir, "expected.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range decode.Formats() {
		t.Run(format, func(t *testing.T) {
			dl := filepath.Join(t.TempDir(), "dl.ndjson")
			out, stderr, err := run(t, "", "process", "--format", format, "--input", filepath.Join(formatsDir, formatInputs[format]),
				"--final-only", "--dead-letter", dl, "--now", goldenNow)
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			if out != string(want) {
				t.Errorf("rows:\n%s\nwant:\n%s", out, want)
			}
			if n := countLines(t, dl); n != 0 {
				t.Errorf("%d dead letters, want none", n)
			}
			records, ignored := "2 records", ""
			if isOTLP(format) {
				// One record, two metered spans.
				records, ignored = "1 records", "; 2 spans ignored (not_gen_ai 1, invoke_agent 1)"
			}
			wantSum := "awumeter process: " + records + ", 0 rejected; 2 events accepted (0 late into emitted workcycles), " +
				"0 duplicates, 0 conflicts and 0 refused, of 2 events decoded" + ignored +
				"; wrote 1 workcycle rows, 2 AWU rows and 1 AWU model rows\n"
			if stderr != wantSum {
				t.Errorf("summary\n%q, want\n%q", stderr, wantSum)
			}
		})
	}
}

// otlpRequest is the OTLP record of testdata/process-formats; withTenant
// puts tenant.id on its resource.
func otlpRequest(withTenant bool) *coltracepb.ExportTraceServiceRequest {
	s := func(k, v string) *commonpb.KeyValue {
		return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
	}
	i := func(k string, v int64) *commonpb.KeyValue {
		return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: v}}}
	}
	id := func(h string) []byte {
		b, err := hex.DecodeString(h)
		if err != nil {
			panic(err)
		}
		return b
	}
	at := func(clock string) uint64 {
		tm, err := time.Parse(time.RFC3339Nano, "2026-11-26T"+clock+"Z")
		if err != nil {
			panic(err)
		}
		return uint64(tm.UnixNano())
	}
	trace := id("5b8aa5a2d2c872e8321cf37308d69df2")
	res := []*commonpb.KeyValue{s("service.name", "support-agent")}
	if withTenant {
		res = append(res, s("tenant.id", "acme"))
	}
	res = append(res, s("awu.workcycle.id", "wc-1"))
	client, internal := tracepb.Span_SPAN_KIND_CLIENT, tracepb.Span_SPAN_KIND_INTERNAL
	return &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
		Resource: &resourcepb.Resource{Attributes: res},
		ScopeSpans: []*tracepb.ScopeSpans{{
			Scope: &commonpb.InstrumentationScope{Name: "support-agent"},
			Spans: []*tracepb.Span{
				{
					TraceId: trace, SpanId: id("051581bf3cb55c13"), ParentSpanId: id("2222222222222222"),
					Name: "chat claude-sonnet-4.6", Kind: client,
					StartTimeUnixNano: at("09:00:00"), EndTimeUnixNano: at("09:00:02"),
					Attributes: []*commonpb.KeyValue{
						s("gen_ai.operation.name", "chat"), s("gen_ai.provider.name", "anthropic"),
						s("gen_ai.request.model", "claude-sonnet-4.6"), s("gen_ai.response.model", "claude-sonnet-4.6"),
						i("gen_ai.usage.input_tokens", 12000), i("gen_ai.usage.cache_read.input_tokens", 2000),
						i("gen_ai.usage.output_tokens", 2000),
						s("gen_ai.agent.id", "support-bot"), s("gen_ai.conversation.id", "conv-1"), s("awu.id", "prompt-1"),
					},
				},
				{
					TraceId: trace, SpanId: id("1111111111111111"), ParentSpanId: id("0a1b2c3d4e5f6071"),
					Name: "POST /refunds", Kind: client,
					StartTimeUnixNano: at("09:00:03"), EndTimeUnixNano: at("09:00:04.5"),
					Attributes: []*commonpb.KeyValue{s("http.request.method", "POST"), i("http.response.status_code", 201)},
				},
				{
					TraceId: trace, SpanId: id("0a1b2c3d4e5f6071"), ParentSpanId: id("2222222222222222"),
					Name: "execute_tool crm.refund", Kind: internal,
					StartTimeUnixNano: at("09:00:02.5"), EndTimeUnixNano: at("09:00:05"),
					Attributes: []*commonpb.KeyValue{
						s("gen_ai.operation.name", "execute_tool"), s("gen_ai.tool.name", "crm.refund"),
						s("gen_ai.tool.call.id", "refund-1"),
						s("gen_ai.agent.id", "support-bot"), s("gen_ai.conversation.id", "conv-1"),
					},
				},
				{
					TraceId: trace, SpanId: id("2222222222222222"),
					Name: "invoke_agent support-bot", Kind: internal,
					StartTimeUnixNano: at("09:00:00"), EndTimeUnixNano: at("09:00:06"),
					Attributes: []*commonpb.KeyValue{
						s("gen_ai.operation.name", "invoke_agent"), s("gen_ai.agent.id", "support-bot"),
						i("gen_ai.usage.input_tokens", 12000), i("gen_ai.usage.output_tokens", 2000),
					},
				},
			},
		}},
	}}}
}

// b64Line is req as an otlp_proto input line.
func b64Line(t *testing.T, req *coltracepb.ExportTraceServiceRequest) string {
	t.Helper()
	b, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// The otlp_proto input is the request built above, as `base64 -w0` writes
// it; -update rewrites it.
func TestProcessOTLPProtoInputIsTheRequest(t *testing.T) {
	path := filepath.Join(formatsDir, formatInputs[decode.FormatOTLPProto])
	if *update {
		if err := os.WriteFile(path, []byte(b64Line(t, otlpRequest(true))+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(string(b), "\n"))
	if err != nil {
		t.Fatal(err)
	}
	var got coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(&got, otlpRequest(true)) {
		t.Errorf("%s is not the request otlpRequest builds; rerun with -update", path)
	}
}

// The hand-written inputs carry the same events: the OTLP ones exactly
// (OTLP/JSON hex ids are the protobuf ids), the others but for event ids.
func TestProcessFormatInputsHoldTheSameEvents(t *testing.T) {
	now := func() time.Time { return time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC) }
	decodeAll := func(format string) []event.Event {
		dec, err := decode.New(format, decode.DefaultConfig(), decode.Settings{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(filepath.Join(formatsDir, formatInputs[format]))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		values := lineValues{format: format}
		var evs []event.Event
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			v, rej, ok := values.value(sc.Bytes())
			if !ok {
				t.Fatalf("%s: %v", format, rej)
			}
			var res decode.Result
			evs, res = dec.Decode(&decode.Record{Value: v}, evs)
			if len(res.Rejections) > 0 {
				t.Fatalf("%s: %v", format, res.Rejections)
			}
		}
		for i := range evs {
			evs[i].Source = event.Position{}
		}
		return evs
	}
	protoEvs, jsonEvs := decodeAll(decode.FormatOTLPProto), decodeAll(decode.FormatOTLPJSON)
	if len(protoEvs) != 2 {
		t.Fatalf("otlp_proto: %d events, want 2", len(protoEvs))
	}
	if want := "5b8aa5a2d2c872e8321cf37308d69df2-051581bf3cb55c13"; protoEvs[0].EventID != want {
		t.Errorf("event id %q, want %q", protoEvs[0].EventID, want)
	}
	for _, format := range []string{decode.FormatOTLPJSON, decode.FormatJSON, decode.FormatCloudEvents} {
		evs := jsonEvs
		if format != decode.FormatOTLPJSON {
			evs = decodeAll(format)
		}
		if len(evs) != len(protoEvs) {
			t.Fatalf("%s: %d events, want %d", format, len(evs), len(protoEvs))
		}
		for i := range evs {
			a, b := evs[i], protoEvs[i]
			if format != decode.FormatOTLPJSON {
				a.EventID, b.EventID = "", ""
			}
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			if !bytes.Equal(ja, jb) {
				t.Errorf("%s event %d:\n%s\nwant (otlp_proto):\n%s", format, i, ja, jb)
			}
		}
	}
}

// readLetters reads a dead-letter file.
func readLetters(t *testing.T, path string) []deadletter.Line {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []deadletter.Line
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if l == "" {
			continue
		}
		var ln deadletter.Line
		if err := json.Unmarshal([]byte(l), &ln); err != nil {
			t.Fatalf("dead letter %q: %v", l, err)
		}
		out = append(out, ln)
	}
	return out
}

// A line that is not base64 is a rejected record whose bytes the dead
// letter keeps; the run goes on. Unpadded base64 and surrounding spaces are
// read, blank lines are skipped uncounted, and a letter of a base64 line
// that is not OTLP holds that line, not the decoded bytes.
func TestProcessOTLPProtoDeadLettersBadLinesAndGoesOn(t *testing.T) {
	good := b64Line(t, otlpRequest(true))
	unpadded := strings.TrimRight(good, "=")
	notProto := base64.StdEncoding.EncodeToString([]byte{0xff, 0xff, 0xff, 0x07})
	lines := []string{
		"not base64!",      // 1
		good,               // 2
		"",                 // 3: blank
		" \t",              // 4: blank
		"\xff\xfeQUJD",     // 5: not UTF-8, not base64
		notProto,           // 6: base64, but not protobuf
		"  " + good + "\r", // 7: spaces and CRLF around a duplicate
		"QUJD=",            // 8: bad padding
	}
	if unpadded != good {
		lines = append(lines, unpadded) // 9: another duplicate
	}
	dir := t.TempDir()
	in, dl := filepath.Join(dir, "spans.b64"), filepath.Join(dir, "dl.ndjson")
	if err := os.WriteFile(in, []byte(strings.Join(lines, "\n")), 0o644); err != nil { // no final newline
		t.Fatal(err)
	}
	out, stderr, err := run(t, "", "process", "--format", "otlp_proto", "--input", in, "--final-only", "--dead-letter", dl, "--now", goldenNow)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	want, err := os.ReadFile(filepath.Join(formatsDir, "expected.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Errorf("rows:\n%s\nwant:\n%s", out, want)
	}
	dups := len(lines) - 7
	wantSum := "awumeter process: " + itoa(len(lines)-2) + " records, 4 rejected; 2 events accepted (0 late into emitted workcycles), " +
		itoa(2*dups) + " duplicates, 0 conflicts and 0 refused, of " + itoa(2+2*dups) + " events decoded; " +
		itoa(2+2*dups) + " spans ignored"
	if !strings.HasPrefix(stderr, wantSum) {
		t.Errorf("summary\n%q, want it to start\n%q", stderr, wantSum)
	}

	letters := readLetters(t, dl)
	wantLetters := []struct {
		offset int64
		detail string
	}{{1, "base64"}, {5, "base64"}, {6, ""}, {8, "base64"}}
	if len(letters) != len(wantLetters) {
		t.Fatalf("%d dead letters, want %d: %+v", len(letters), len(wantLetters), letters)
	}
	for i, w := range wantLetters {
		ln := letters[i]
		got, err := ln.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		if ln.Offset == nil || *ln.Offset != w.offset || ln.Reason != string(decode.ReasonNotOTLP) ||
			!strings.Contains(ln.Detail, w.detail) || string(got) != lines[w.offset-1] || ln.Topic != in {
			t.Errorf("dead letter %d: %+v (record %q), want line %d's bytes %q, reason not_otlp, detail naming %q",
				i, ln, got, w.offset, lines[w.offset-1], w.detail)
		}
	}
	if letters[0].Detail != "an otlp_proto line must be a protobuf ExportTraceServiceRequest in standard base64 (RFC 4648, padded or not, on one line): illegal base64 data at input byte 3" {
		t.Errorf("detail %q", letters[0].Detail)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// Records and events are counted apart: two OTLP records, the second with
// one good model-call span and one that breaks a rule, give three events and
// one rejected record, whose good span still counts.
func TestProcessCountsOTLPRecordsAndEventsApart(t *testing.T) {
	second := otlpRequest(true)
	spans := second.ResourceSpans[0].ScopeSpans[0].Spans
	ok, bad := proto.Clone(spans[0]).(*tracepb.Span), proto.Clone(spans[0]).(*tracepb.Span)
	ok.SpanId, bad.SpanId = []byte{0, 0, 0, 0, 0, 0, 0, 0xa1}, []byte{0, 0, 0, 0, 0, 0, 0, 0xa2}
	for _, s := range []*tracepb.Span{ok, bad} {
		for _, a := range s.Attributes {
			if a.Key == "awu.id" {
				a.Value = &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: "prompt-2"}}
			}
		}
	}
	// More cache reads than input tokens.
	bad.Attributes = append(bad.Attributes, &commonpb.KeyValue{Key: "gen_ai.usage.cache_read.input_tokens",
		Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: 99999}}})
	second.ResourceSpans[0].ScopeSpans[0].Spans = []*tracepb.Span{ok, bad}

	in := b64Line(t, otlpRequest(true)) + "\n" + b64Line(t, second) + "\n"
	dl := filepath.Join(t.TempDir(), "dl.ndjson")
	out, stderr, err := run(t, in, "process", "--format", "otlp_proto", "--final-only", "--dead-letter", dl, "--now", goldenNow)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	want := "awumeter process: 2 records, 1 rejected; 3 events accepted (0 late into emitted workcycles), 0 duplicates, 0 conflicts and 0 refused, of 3 events decoded; 2 spans ignored (not_gen_ai 1, invoke_agent 1); wrote 1 workcycle rows, 3 AWU rows and 2 AWU model rows\n"
	if stderr != want {
		t.Errorf("summary\n%q, want\n%q", stderr, want)
	}
	// prompt-2 is a second copy of the model call: 0.0606 more.
	if !strings.Contains(out, `"token_cost":"0.1212","credits":20`) {
		t.Errorf("workcycle row without token cost 0.1212:\n%s", out)
	}
	letters := readLetters(t, dl)
	if len(letters) != 1 || letters[0].Reason != string(decode.ReasonCacheInput) || *letters[0].Offset != 2 ||
		letters[0].Record != b64Line(t, second) {
		t.Errorf("dead letters %+v, want line 2 as cache_exceeds_input", letters)
	}
}

// Spans without tenant.id are rejected unless --otlp-default-tenant-id
// (decode.otlp.default_tenant_id) names their tenant.
func TestProcessOTLPDefaultTenant(t *testing.T) {
	in := b64Line(t, otlpRequest(false)) + "\n"
	dl := filepath.Join(t.TempDir(), "dl.ndjson")
	out, stderr, err := run(t, in, "process", "--format", "otlp_proto", "--final-only", "--dead-letter", dl, "--now", goldenNow)
	if err != nil {
		t.Fatal(err)
	}
	if out != "" || !strings.Contains(stderr, "1 records, 1 rejected; 0 events accepted") {
		t.Errorf("without a default tenant: rows %q, summary %q", out, stderr)
	}
	if l := readLetters(t, dl); len(l) != 1 || l[0].Reason != string(decode.ReasonMissingField) || l[0].Rejections != 2 {
		t.Errorf("dead letters %+v, want one missing_field letter for both metered spans", l)
	}

	want, err := os.ReadFile(filepath.Join(formatsDir, "expected.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	for _, flag := range []string{"--otlp-default-tenant-id"} {
		out, stderr, err := run(t, in, "process", "--format", "otlp_proto", "--final-only", flag, "acme", "--now", goldenNow)
		if err != nil {
			t.Fatal(err)
		}
		if out != string(want) {
			t.Errorf("%s acme: rows\n%s\nwant\n%s\n%s", flag, out, want, stderr)
		}
	}
	// The other identity attributes are read from the named attributes.
	out, stderr, err = run(t, b64Line(t, otlpRequest(true))+"\n", "process", "--format", "otlp_proto", "--final-only", "--now", goldenNow,
		"--otlp-tenant-attribute", "service.name", "--otlp-awu-attribute", "gen_ai.agent.id",
		"--otlp-workcycle-attribute", "gen_ai.conversation.id", "--otlp-attempt-attribute", "no.such.attribute")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `{"table":"awus","tenant_id":"support-agent","workcycle_id":"conv-1","awu_id":"support-bot",`) {
		t.Errorf("rows do not use the named attributes:\n%s\n%s", out, stderr)
	}
}

func TestProcessRefusesUnknownFormatsAndMisplacedFlags(t *testing.T) {
	outPath := filepath.Join(t.TempDir(), "rows.ndjson")
	_, _, err := run(t, "", "process", "--format", "protobuf", "--output", outPath)
	if err == nil || err.Error() != `--format: must be one of json, cloudevents, otlp_proto, otlp_json, got "protobuf"` {
		t.Errorf("got %v, want an error naming the allowed formats", err)
	}
	if fileExists(outPath) {
		t.Error("the output was created before --format was checked")
	}
	_, _, err = run(t, "", "process", "--otlp-default-tenant-id", "acme")
	if err == nil || !strings.Contains(err.Error(), "--otlp-default-tenant-id applies to --format otlp_proto and otlp_json only, not json") {
		t.Errorf("got %v, want --otlp-default-tenant-id refused with --format json", err)
	}
	_, _, err = run(t, "", "process", "--format", "otlp_json", "--otlp-tenant-attribute", "")
	if err == nil || !strings.Contains(err.Error(), "otlp.tenant_attribute") {
		t.Errorf("got %v, want an error naming otlp.tenant_attribute", err)
	}
}

// Blank lines are skipped in every format, and a line of Unicode spaces is
// a record the decoder rejects.
func TestProcessSkipsBlankLinesInEveryFormat(t *testing.T) {
	for _, format := range decode.Formats() {
		t.Run(format, func(t *testing.T) {
			_, stderr, err := run(t, "\n \t\n\r\n\u00a0\n", "process", "--format", format, "--now", goldenNow)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(stderr, "awumeter process: 1 records, 1 rejected; 0 events accepted") {
				t.Errorf("summary %q", stderr)
			}
		})
	}
}

// The help says how to check a captured record without Kafka.
func TestProcessHelpExplainsFormats(t *testing.T) {
	out, _, err := run(t, "", "process", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		"awumeter process --format otlp_proto --input spans.b64", "base64 -w0 record.bin",
		"Binary mode keeps the context attributes in ce_*", "--otlp-default-tenant-id",
		"json, cloudevents, otlp_proto, otlp_json",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("help does not say %q", s)
		}
	}
}

// FuzzProcessLines feeds arbitrary lines to every format. Whatever the
// bytes: process does not fail or panic, every non-blank line is one
// record, and every rejected record has one dead letter holding the line's
// exact bytes at its line number.
func FuzzProcessLines(f *testing.F) {
	var good strings.Builder
	for _, name := range formatInputs {
		b, err := os.ReadFile(filepath.Join(formatsDir, name))
		if err != nil {
			f.Fatal(err)
		}
		good.Write(b)
	}
	for i := range decode.Formats() {
		f.Add(uint8(i), good.String())
		f.Add(uint8(i), "not base64!\n\n \t\n\xff\xfe\r\nQUJD=\n/w==\n{}\n{\"resourceSpans\":[{}]}\n\u00a0")
	}
	f.Fuzz(func(t *testing.T, which uint8, input string) {
		formats := decode.Formats()
		format := formats[int(which)%len(formats)]
		dir := t.TempDir()
		in, dl := filepath.Join(dir, "in"), filepath.Join(dir, "dl.ndjson")
		if err := os.WriteFile(in, []byte(input), 0o644); err != nil {
			t.Fatal(err)
		}
		_, stderr, err := run(t, "", "process", "--format", format, "--input", in, "--output", filepath.Join(dir, "rows"),
			"--dead-letter", dl, "--now", goldenNow)
		if err != nil {
			t.Fatalf("process failed on data: %v\n%s", err, stderr)
		}
		m := summaryRE.FindStringSubmatch(stderr)
		if m == nil {
			t.Fatalf("no summary in %q", stderr)
		}
		lines := strings.Split(strings.TrimSuffix(input, "\n"), "\n")
		records := 0
		for i := range lines {
			lines[i] = strings.TrimRight(lines[i], "\r\n")
			if strings.Trim(lines[i], " \t\r\n") != "" {
				records++
			}
		}
		if input == "" {
			records = 0
		}
		if m[1] != itoa(records) {
			t.Errorf("%s records counted, want %d", m[1], records)
		}
		letters := readLetters(t, dl)
		if itoa(len(letters)) != m[2] {
			t.Errorf("%d dead letters, want one per rejected record (%s)", len(letters), m[2])
		}
		for _, ln := range letters {
			got, err := ln.Bytes()
			if err != nil || ln.Offset == nil || *ln.Offset < 1 || int(*ln.Offset) > len(lines) || string(got) != lines[*ln.Offset-1] {
				t.Errorf("dead letter %+v does not hold its line's bytes", ln)
			}
		}
	})
}

// A record captured from OpenInference's anthropic instrumentation
// (pipeline/decode/testdata/capture), checked offline: its Claude call,
// 11,407 input tokens of which 9,800 cache writes and 100 output tokens,
// costs 1,607 × $3/M + 9,800 × $3.75/M + 100 × $15/M = $0.043071. Read as
// counting cache apart from the input, the same record would add the
// 9,800 again: 11,407 + 9,800 = 21,207 input tokens.
func TestProcessACapturedRecord(t *testing.T) {
	in := filepath.Join("..", "..", "pipeline", "decode", "testdata", "capture", "openinference.b64")
	claude := func(out string) map[string]any {
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var row map[string]any
			if err := json.Unmarshal([]byte(line), &row); err != nil {
				t.Fatal(err)
			}
			if row["table"] == "awu_models" && row["model"] == "claude-sonnet-4.6" {
				return row
			}
		}
		t.Fatalf("no claude-sonnet-4.6 row in\n%s", out)
		return nil
	}
	out, stderr, err := run(t, "", "process", "--format", "otlp_proto", "--input", in, "--final-only", "--now", "2026-12-01T00:00:00Z")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if row := claude(out); row["token_cost"] != "0.043071" || row["input_tokens"] != 11407.0 || row["cache_creation_input_tokens"] != 9800.0 {
		t.Errorf("claude row %v", row)
	}
	out, stderr, err = run(t, "", "process", "--format", "otlp_proto", "--input", in, "--final-only", "--now", "2026-12-01T00:00:00Z",
		"--otlp-conventions", "openinference", "--otlp-input-includes-cache=false")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if row := claude(out); row["input_tokens"] != 21207.0 {
		t.Errorf("claude row read as cache apart %v", row)
	}
}

func TestProcessRefusesBadConventionFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--otlp-conventions="}, "--otlp-conventions is empty"},
		{[]string{"--otlp-conventions", "otel"}, `unknown convention "otel"`},
		{[]string{"--otlp-input-includes-cache", "maybe"}, `--otlp-input-includes-cache must be true or false, not "maybe"`},
	} {
		_, _, err := run(t, "", append([]string{"process", "--format", "otlp_json", "--input", os.DevNull}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
}
