package decode

import (
	"bytes"
	"maps"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/awumeter/awumeter/pipeline/event"
)

// The wire walker (otlp_proto.go) against the reflection-based reference
// (otlp_proto_ref_test.go): same events, rejections and ignored counts for
// every input, and a record rejected as not_otlp exactly when proto.Unmarshal
// fails.

// Wire-format builders for records proto.Marshal cannot produce: fields out
// of order, repeated, of the wrong wire type, unknown or malformed.

func pbMsgOf(fields ...[]byte) []byte { return bytes.Join(fields, nil) }

func pbLen(num protowire.Number, v []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), v)
}

func pbStr(num protowire.Number, s string) []byte { return pbLen(num, []byte(s)) }

func pbVarint(num protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(nil, num, protowire.VarintType), v)
}

func pbFixed64(num protowire.Number, v uint64) []byte {
	return protowire.AppendFixed64(protowire.AppendTag(nil, num, protowire.Fixed64Type), v)
}

func pbFixed32(num protowire.Number, v uint32) []byte {
	return protowire.AppendFixed32(protowire.AppendTag(nil, num, protowire.Fixed32Type), v)
}

func pbGroup(num protowire.Number, fields ...[]byte) []byte {
	b := protowire.AppendTag(nil, num, protowire.StartGroupType)
	b = append(b, pbMsgOf(fields...)...)
	return protowire.AppendTag(b, num, protowire.EndGroupType)
}

// pbKV is a KeyValue field numbered num (attributes: 9 in a span, 1 in a
// resource) whose value holds the given AnyValue fields.
func pbKV(num protowire.Number, key string, value ...[]byte) []byte {
	return pbLen(num, pbMsgOf(pbStr(1, key), pbLen(2, pbMsgOf(value...))))
}

func pbKVStr(num protowire.Number, key, v string) []byte { return pbKV(num, key, pbStr(1, v)) }
func pbKVInt(num protowire.Number, key string, v int64) []byte {
	return pbKV(num, key, pbVarint(3, uint64(v)))
}

var (
	wireTraceID = mustHex(agentTraceID)
	wireSpanID  = mustHex("00f067aa0ba902b7")
	wireEnd     = uint64(traceStart.UnixNano())
)

// wireChat is the fields of a chat span that maps to one event with the
// resource's tenant; extra fields follow.
func wireChat(extra ...[]byte) []byte {
	return pbMsgOf(append([][]byte{
		pbLen(1, wireTraceID), pbLen(2, wireSpanID), pbFixed64(8, wireEnd),
		pbKVStr(9, attrOperationName, "chat"), pbKVStr(9, attrRequestModel, "gpt-4o"),
		pbKVInt(9, attrInputTokens, 10), pbKVInt(9, attrOutputTokens, 5),
	}, extra...)...)
}

// wireTool is the fields of an execute_tool span; extra fields follow.
func wireTool(extra ...[]byte) []byte {
	return pbMsgOf(append([][]byte{
		pbLen(1, wireTraceID), pbLen(2, wireSpanID), pbFixed64(8, wireEnd),
		pbKVStr(9, attrOperationName, "execute_tool"), pbKVStr(9, attrToolName, "lookup"),
	}, extra...)...)
}

var wireResource = pbLen(1, pbKVStr(1, "tenant.id", "acme"))

// wireRecord is a TracesData with one ResourceSpans of the given fields.
func wireRecord(resourceSpans ...[]byte) []byte { return pbLen(1, pbMsgOf(resourceSpans...)) }

// wireSpans is a TracesData with the acme resource and one ScopeSpans of
// the given spans.
func wireSpans(spans ...[]byte) []byte {
	var ss [][]byte
	for _, s := range spans {
		ss = append(ss, pbLen(2, s))
	}
	return wireRecord(wireResource, pbLen(2, pbMsgOf(ss...)))
}

// wireDeepValue is an AnyValue nesting levels messages, itself included:
// arrays of one value each, or key-value lists of one KeyValue each.
func wireDeepValue(levels int, kvlist bool) []byte {
	cycle := []string{"any", "array"}
	if kvlist {
		cycle = []string{"any", "kvlist", "kv"}
	}
	var cur []byte
	for j := levels - 2; j >= 0; j-- {
		switch cycle[j%len(cycle)] {
		case "any":
			if kvlist {
				cur = pbLen(6, cur) // kvlist_value
			} else {
				cur = pbLen(5, cur) // array_value
			}
		case "array", "kvlist":
			cur = pbLen(1, cur) // values
		case "kv":
			cur = pbMsgOf(pbStr(1, "k"), pbLen(2, cur))
		}
	}
	return cur
}

func invalidFieldNumber() []byte {
	b := protowire.AppendVarint(nil, uint64(protowire.MaxValidNumber+1)<<3|uint64(protowire.VarintType))
	return protowire.AppendVarint(b, 1)
}

type wireCase struct {
	name   string
	in     []byte
	events int
	reason Reason // of the only rejection, "" for none
}

// wireCases are records that exercise one proto3 rule each. A span's
// attribute AnyValue is at level 6 (TracesData 1, ResourceSpans 2,
// ScopeSpans 3, Span 4, KeyValue 5), a resource attribute's at 5.
func wireCases() []wireCase {
	deepSpanAttr := func(levels int, kvlist bool) []byte {
		return wireSpans(wireChat(pbLen(9, pbMsgOf(pbStr(1, "deep"), pbLen(2, wireDeepValue(levels, kvlist))))))
	}
	return []wireCase{
		{"chat span", wireSpans(wireChat()), 1, ""},
		{"empty record", nil, 0, ""},
		{"resource after its scope_spans", wireRecord(pbLen(2, pbLen(2, wireChat())), wireResource), 1, ""},
		{"two resource fields merge", wireRecord(pbLen(1, pbKVStr(1, "service.name", "x")), pbLen(2, pbLen(2, wireChat())), pbLen(1, pbKVStr(1, "tenant.id", "acme"))), 1, ""},
		{"a later resource attribute wins", wireRecord(wireResource, pbLen(1, pbKVStr(1, "tenant.id", "")), pbLen(2, pbLen(2, wireChat()))), 0, ReasonMissingField},
		{"two resource spans", pbMsgOf(wireSpans(wireChat()), wireRecord(pbLen(2, pbLen(2, wireChat())))), 1, ReasonMissingField},
		{"attributes before ids", wireSpans(pbMsgOf(pbKVStr(9, attrOperationName, "execute_tool"), pbKVStr(9, attrToolName, "t"), pbFixed64(8, wireEnd), pbLen(2, wireSpanID), pbLen(1, wireTraceID))), 1, ""},
		{"last trace id wins", wireSpans(wireChat(pbLen(1, []byte{0}))), 0, ReasonBadID},
		{"last end time wins", wireSpans(wireChat(pbFixed64(8, 0))), 0, ReasonMissingField},
		{"statuses merge", wireSpans(wireTool(pbLen(15, pbVarint(3, statusCodeError)), pbLen(15, pbStr(2, "later")))), 1, ""},
		{"last status code wins", wireSpans(wireTool(pbLen(15, pbVarint(3, statusCodeError)), pbLen(15, pbVarint(3, 0)))), 1, ""},
		{"status code truncated to int32", wireSpans(wireTool(pbLen(15, pbVarint(3, 1<<32|statusCodeError)))), 1, ""},
		{"status code beyond the enum", wireSpans(wireTool(pbLen(15, pbVarint(3, 1<<8|statusCodeError)))), 1, ""},
		{"status code of the wrong wire type", wireSpans(wireTool(pbLen(15, pbVarint(3, statusCodeError)), pbLen(15, pbFixed64(3, 0)))), 1, ""},
		{"last oneof member wins", wireSpans(wireChat(pbKV(9, attrInputTokens, pbStr(1, "many"), pbVarint(3, 12)))), 1, ""},
		{"string after int", wireSpans(wireChat(pbKV(9, attrInputTokens, pbVarint(3, 12), pbStr(1, "many")))), 0, ReasonBadInteger},
		{"attribute values merge", wireSpans(wireChat(pbLen(9, pbMsgOf(pbStr(1, attrInputTokens), pbLen(2, pbVarint(3, 12)), pbLen(2, nil))))), 1, ""},
		{"attribute value merged with another member", wireSpans(wireChat(pbLen(9, pbMsgOf(pbStr(1, attrInputTokens), pbLen(2, pbVarint(3, 12)), pbLen(2, pbFixed64(4, math.Float64bits(1.5))))))), 0, ReasonBadInteger},
		{"last key wins", wireSpans(wireChat(pbLen(9, pbMsgOf(pbStr(1, attrInputTokens), pbStr(1, "other"), pbLen(2, pbStr(1, "x")))))), 1, ""},
		{"oneof member of the wrong wire type is skipped", wireSpans(wireChat(pbKV(9, attrInputTokens, pbVarint(3, 12), pbVarint(1, 7), pbFixed64(3, 9)))), 1, ""},
		{"double value", wireSpans(wireChat(pbKV(9, attrInputTokens, pbFixed64(4, math.Float64bits(12))))), 1, ""},
		{"fractional double value", wireSpans(wireChat(pbKV(9, attrInputTokens, pbFixed64(4, math.Float64bits(12.5))))), 0, ReasonBadInteger},
		{"bool value", wireSpans(wireChat(pbKV(9, attrInputTokens, pbVarint(2, 1)))), 0, ReasonBadInteger},
		{"bytes value", wireSpans(wireChat(pbKV(9, attrInputTokens, pbLen(7, []byte{0xff})))), 0, ReasonBadInteger},
		{"string_value_strindex", wireSpans(wireChat(pbKV(9, attrInputTokens, pbVarint(8, 3)))), 0, ReasonBadInteger},
		{"array value", wireSpans(wireChat(pbKV(9, attrInputTokens, pbLen(5, pbLen(1, pbVarint(3, 1)))))), 0, ReasonBadInteger},
		{"kvlist value", wireSpans(wireChat(pbKV(9, attrInputTokens, pbLen(6, pbLen(1, pbStr(1, "k")))))), 0, ReasonBadInteger},
		{"attribute without a value", wireSpans(wireChat(pbLen(9, pbStr(1, attrInputTokens)))), 0, ReasonBadInteger},
		{"key_strindex", wireSpans(wireChat(pbLen(9, pbMsgOf(pbVarint(3, 4), pbStr(1, attrAgentID), pbLen(2, pbStr(1, "bot")))))), 1, ""},
		{"known fields of the wrong wire type are skipped",
			wireRecord(pbVarint(1, 1), pbFixed32(2, 1), wireResource, pbLen(2, pbMsgOf(pbFixed64(1, 1), pbVarint(2, 7), pbLen(2, wireChat(pbVarint(9, 1), pbVarint(15, 1), pbLen(16, nil)))))), 1, ""},
		{"resource_spans of the wrong wire type", pbVarint(1, 5), 0, ""},
		{"end time of the wrong wire type", wireSpans(pbMsgOf(pbLen(1, wireTraceID), pbLen(2, wireSpanID), pbVarint(8, wireEnd), pbKVStr(9, attrOperationName, "execute_tool"), pbKVStr(9, attrToolName, "t"))), 0, ReasonMissingField},
		{"unknown fields", pbMsgOf(pbVarint(99, 1), pbGroup(7, pbVarint(1, 2), pbGroup(3)), wireRecord(pbFixed32(50, 1), wireResource, pbLen(2, pbMsgOf(pbLen(2, wireChat(pbVarint(1000, 5), pbLen(17, []byte{0xff}), pbGroup(20, pbLen(1, []byte{0xff})))), pbFixed64(9, 1))))), 1, ""},
		{"other span fields", wireSpans(wireChat(pbStr(3, "ts"), pbLen(4, wireSpanID), pbStr(5, "chat"), pbVarint(6, 3), pbFixed64(7, 1), pbVarint(10, 1), pbVarint(12, 1), pbVarint(14, 1), pbFixed32(16, 1),
			pbLen(11, pbMsgOf(pbFixed64(1, 1), pbStr(2, "ev"), pbKVStr(3, "a", "b"), pbVarint(4, 1))),
			pbLen(13, pbMsgOf(pbLen(1, wireTraceID), pbLen(2, wireSpanID), pbStr(3, "ts"), pbKVStr(4, "a", "b"), pbVarint(5, 1), pbFixed32(6, 1))))), 1, ""},
		{"scope and schema urls", wireRecord(wireResource, pbStr(3, "https://x"), pbLen(2, pbMsgOf(pbLen(1, pbMsgOf(pbStr(1, "n"), pbStr(2, "v"), pbKVStr(3, "a", "b"), pbVarint(4, 1))), pbLen(2, wireChat()), pbStr(3, "https://y")))), 1, ""},
		{"entity refs", wireRecord(pbLen(1, pbMsgOf(pbKVStr(1, "tenant.id", "acme"), pbVarint(2, 1), pbLen(3, pbMsgOf(pbStr(1, "s"), pbStr(2, "t"), pbStr(3, "a"), pbStr(3, "b"), pbStr(4, "c"))))), pbLen(2, pbLen(2, wireChat()))), 1, ""},
		{"invalid UTF-8 in bytes fields", wireSpans(wireChat(pbKV(9, "b", pbLen(7, []byte{0xff})), pbLen(4, []byte{0xff}))), 1, ""},
		{"invalid UTF-8 in an unknown field", wireSpans(wireChat(pbLen(30, []byte{0xff}))), 1, ""},
		{"invalid UTF-8 in a known field of the wrong wire type", wireSpans(wireChat(pbGroup(5, pbLen(1, []byte{0xff})))), 1, ""},

		// Deep nesting: the deepest message at level 10000 is accepted,
		// at 10001 rejected, as by proto.Unmarshal.
		{"arrays 10000 deep", deepSpanAttr(protoDepthLimit-5, false), 1, ""},
		{"arrays 10001 deep", deepSpanAttr(protoDepthLimit-4, false), 0, ReasonNotOTLP},
		{"key-value lists 10000 deep", deepSpanAttr(protoDepthLimit-5, true), 1, ""},
		{"key-value lists 10001 deep", deepSpanAttr(protoDepthLimit-4, true), 0, ReasonNotOTLP},
		{"resource attribute 10001 deep", wireRecord(pbLen(1, pbLen(1, pbMsgOf(pbStr(1, "deep"), pbLen(2, wireDeepValue(protoDepthLimit-3, false))))), pbLen(2, pbLen(2, wireChat()))), 0, ReasonNotOTLP},
		{"resource attribute 10000 deep", wireRecord(wireResource, pbLen(1, pbLen(1, pbMsgOf(pbStr(1, "deep"), pbLen(2, wireDeepValue(protoDepthLimit-4, false))))), pbLen(2, pbLen(2, wireChat()))), 1, ""},
		{"event attribute 10001 deep", wireSpans(wireChat(pbLen(11, pbLen(3, pbMsgOf(pbStr(1, "deep"), pbLen(2, wireDeepValue(protoDepthLimit-5, false))))))), 0, ReasonNotOTLP},
		{"unknown groups 10000 deep", wireSpans(wireChat(bytes.Repeat([]byte{0x0b}, 10000))), 0, ReasonNotOTLP},

		// Records proto.Unmarshal fails on; the span before the error is
		// not mapped either.
		{"invalid UTF-8 in a span attribute key", wireSpans(wireChat(), wireChat(pbKVStr(9, "\xff", "x"))), 0, ReasonNotOTLP},
		{"invalid UTF-8 in a span attribute value", wireSpans(wireChat(pbKVStr(9, "k", "\xc3"))), 0, ReasonNotOTLP},
		{"invalid UTF-8 in a resource attribute", wireRecord(pbLen(1, pbKVStr(1, "k", "\xff")), pbLen(2, pbLen(2, wireChat()))), 0, ReasonNotOTLP},
		{"invalid UTF-8 in a nested key-value list", wireSpans(wireChat(pbKV(9, "k", pbLen(6, pbLen(1, pbStr(1, "\xff")))))), 0, ReasonNotOTLP},
		{"invalid UTF-8 in a nested array", wireSpans(wireChat(pbKV(9, "k", pbLen(5, pbLen(1, pbStr(1, "\xff")))))), 0, ReasonNotOTLP},
		{"invalid UTF-8 in a span name", wireSpans(wireChat(pbStr(5, "\xff"))), 0, ReasonNotOTLP},
		{"invalid UTF-8 in a trace state", wireSpans(wireChat(pbStr(3, "\xff"))), 0, ReasonNotOTLP},
		{"invalid UTF-8 in a status message", wireSpans(wireChat(pbLen(15, pbStr(2, "\xff")))), 0, ReasonNotOTLP},
		{"invalid UTF-8 in an event name", wireSpans(wireChat(pbLen(11, pbStr(2, "\xff")))), 0, ReasonNotOTLP},
		{"invalid UTF-8 in an event attribute", wireSpans(wireChat(pbLen(11, pbKVStr(3, "k", "\xff")))), 0, ReasonNotOTLP},
		{"invalid UTF-8 in a link trace state", wireSpans(wireChat(pbLen(13, pbStr(3, "\xff")))), 0, ReasonNotOTLP},
		{"invalid UTF-8 in a link attribute", wireSpans(wireChat(pbLen(13, pbKVStr(4, "\xff", "v")))), 0, ReasonNotOTLP},
		{"invalid UTF-8 in a scope name", wireRecord(wireResource, pbLen(2, pbMsgOf(pbLen(1, pbStr(1, "\xff")), pbLen(2, wireChat())))), 0, ReasonNotOTLP},
		{"invalid UTF-8 in a scope attribute", wireRecord(wireResource, pbLen(2, pbMsgOf(pbLen(1, pbKVStr(3, "k", "\xff")), pbLen(2, wireChat())))), 0, ReasonNotOTLP},
		{"invalid UTF-8 in a scope schema url", wireRecord(wireResource, pbLen(2, pbMsgOf(pbLen(2, wireChat()), pbStr(3, "\xff")))), 0, ReasonNotOTLP},
		{"invalid UTF-8 in a resource schema url", wireRecord(wireResource, pbLen(2, pbLen(2, wireChat())), pbStr(3, "\xff")), 0, ReasonNotOTLP},
		{"invalid UTF-8 in an entity ref", wireRecord(pbLen(1, pbLen(3, pbMsgOf(pbStr(3, "ok"), pbStr(4, "\xff")))), pbLen(2, pbLen(2, wireChat()))), 0, ReasonNotOTLP},
		{"field number 0", pbMsgOf(wireSpans(wireChat()), []byte{0x02, 0x00}), 0, ReasonNotOTLP},
		{"field number above 2^29-1", pbMsgOf(wireSpans(wireChat()), invalidFieldNumber()), 0, ReasonNotOTLP},
		{"reserved wire type", wireSpans(wireChat([]byte{0x0e})), 0, ReasonNotOTLP},
		{"stray end group", wireSpans(wireChat([]byte{0x0c})), 0, ReasonNotOTLP},
		{"unterminated group", wireSpans(wireChat([]byte{0x0b, 0x08, 0x01})), 0, ReasonNotOTLP},
		{"mismatched group end", wireSpans(wireChat([]byte{0x0b, 0x14})), 0, ReasonNotOTLP},
		{"truncated length", pbMsgOf(wireSpans(wireChat()), []byte{0x0a, 0x05, 0x00}), 0, ReasonNotOTLP},
		{"truncated fixed64", wireSpans(wireChat([]byte{0x41, 0x01, 0x02})), 0, ReasonNotOTLP},
		{"varint overflow", wireSpans(wireChat([]byte{0x30, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02})), 0, ReasonNotOTLP},
		{"truncated tag", pbMsgOf(wireSpans(wireChat()), []byte{0x80}), 0, ReasonNotOTLP},
	}
}

// checkMatchesReference decodes in with the walker and the reference and
// fails unless they agree. A record the reference rejects as not_otlp must
// be rejected alike, whatever the detail. The walker decodes a copy of in
// after an event already in dst, and the copy is overwritten afterwards,
// so that events aliasing the record, or a dst not restored after a
// rejection, show.
func checkMatchesReference(t *testing.T, d Decoder, ref *refOTLPProtoDecoder, in []byte) ([]event.Event, Result) {
	t.Helper()
	sentinel := event.Event{EventID: "sentinel"}
	rec := &Record{Topic: "otlp", Partition: 3, Offset: 11, Value: bytes.Clone(in)}
	got, gotRes := d.Decode(rec, append(make([]event.Event, 0, 2), sentinel))
	for i := range rec.Value {
		rec.Value[i] = 0xff
	}
	if len(got) == 0 || got[0] != sentinel {
		t.Fatalf("the event already in dst was lost: %+v", got)
	}
	got = got[1:]
	want, wantRes := ref.Decode(&Record{Topic: "otlp", Partition: 3, Offset: 11, Value: in}, nil)
	if len(wantRes.Rejections) > 0 && wantRes.Rejections[0].Reason == ReasonNotOTLP {
		if len(got) != 0 || len(gotRes.Rejections) != 1 || gotRes.Rejections[0].Reason != ReasonNotOTLP || gotRes.Ignored != (Ignored{}) ||
			!strings.HasPrefix(gotRes.Rejections[0].Detail, "record value is not an OTLP ExportTraceServiceRequest: ") {
			t.Fatalf("proto.Unmarshal fails (%v), the walker gave %d events, %+v\nrecord: %x", wantRes.Rejections[0], len(got), gotRes, in)
		}
		return got, gotRes
	}
	if len(got) == 0 {
		got = nil
	}
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotRes, wantRes) {
		t.Fatalf("walker and reference disagree:\nwalker:    %+v\n%+v\nreference: %+v\n%+v\nrecord: %x", got, gotRes, want, wantRes, in)
	}
	return got, gotRes
}

func TestOTLPProtoWireRules(t *testing.T) {
	d := newDecoder(t, FormatOTLPProto)
	ref := newRefOTLPProtoDecoder(DefaultConfig(), testSettings())
	for _, tc := range wireCases() {
		t.Run(tc.name, func(t *testing.T) {
			evs, res := checkMatchesReference(t, d, ref, tc.in)
			var reason Reason
			if len(res.Rejections) == 1 {
				reason = res.Rejections[0].Reason
			}
			if len(evs) != tc.events || len(res.Rejections) > 1 || reason != tc.reason {
				t.Errorf("got %d events and %v, want %d events and reason %q", len(evs), res.Rejections, tc.events, tc.reason)
			}
		})
	}
}

func TestOTLPProtoMatchesReferenceOnFixtures(t *testing.T) {
	d := newDecoder(t, FormatOTLPProto)
	ref := newRefOTLPProtoDecoder(DefaultConfig(), testSettings())
	for _, name := range []string{"agent_trace", "bad_spans"} {
		in := readFile(t, testdataDir+"/otlp/"+name+".binpb")
		checkMatchesReference(t, d, ref, in)
		// Every truncation of a valid record, most of them malformed.
		for i := range in {
			checkMatchesReference(t, d, ref, in[:i])
		}
	}
}

func TestValidUTF8(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	pool := []byte{'a', 0x7f, 0x80, 0xbf, 0xc2, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0xff}
	for range 200000 {
		s := make([]byte, r.IntN(40))
		for i := range s {
			s[i] = 'x'
			if r.IntN(8) == 0 {
				s[i] = pool[r.IntN(len(pool))]
			}
		}
		if validUTF8(s) != utf8.Valid(s) {
			t.Fatalf("validUTF8(%q) = %v", s, validUTF8(s))
		}
	}
}

// TestOTLPProtoAllocations: the walker allocates only the events' strings,
// one block per event.
func TestOTLPProtoAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops walkers under the race detector")
	}
	d := newDecoder(t, FormatOTLPProto)
	rec := &Record{Value: readFile(t, testdataDir+"/otlp/agent_trace.binpb")}
	dst := make([]event.Event, 0, 16)
	evs, _ := d.Decode(rec, dst)
	if n := testing.AllocsPerRun(100, func() { d.Decode(rec, dst) }); n > float64(len(evs)) {
		t.Errorf("%v allocations for %d events", n, len(evs))
	}
}

// TestProtoWalkerLetsGoOfTheRecord: a walker put back in the pool keeps no
// reference into the record, whether it was decoded or rejected.
func TestProtoWalkerLetsGoOfTheRecord(t *testing.T) {
	m := &newDecoder(t, FormatOTLPProto).(*otlpProtoDecoder).otlpMapper
	deep := pbKV(9, "deep", pbLen(5, pbLen(1, pbLen(5, pbLen(1, pbStr(1, "x"))))))
	for _, in := range [][]byte{
		readFile(t, testdataDir+"/otlp/agent_trace.binpb"),
		wireSpans(wireChat(deep), wireChat(deep)),
		wireSpans(wireChat(), wireChat(pbKV(9, "deep", pbLen(5, pbLen(1, pbLen(5, pbLen(1, pbStr(1, "\xff")))))))),
	} {
		w := new(protoWalker)
		rec := &Record{Value: in}
		for range 2 {
			w.m, w.rec, w.dst = m, rec.Value, nil
			w.traces(rec.Value)
			w.release()
		}
		if w.m != nil || w.rec != nil || w.dst != nil || w.res.Rejections != nil {
			t.Fatalf("walker keeps the record's state: %+v", w)
		}
		for _, a := range [][]attr{w.resAttrs[:cap(w.resAttrs)], w.spanAttrs[:cap(w.spanAttrs)]} {
			for _, x := range a {
				if x != (attr{}) {
					t.Fatalf("attribute kept: %+v", x)
				}
			}
		}
		for _, s := range w.scopes[:cap(w.scopes)] {
			if s != nil {
				t.Fatal("scope spans kept")
			}
		}
		for _, f := range w.stack[:cap(w.stack)] {
			if f.r.b != nil {
				t.Fatal("validate frame kept")
			}
		}
	}
}

func FuzzOTLPProtoMatchesReference(f *testing.F) {
	addOTLPProtoSeeds(f)
	for _, tc := range wireCases() {
		if len(tc.in) < 4<<10 { // not the deep ones: large seeds slow mutation down
			f.Add(tc.in)
		}
	}
	d := newDecoder(f, FormatOTLPProto)
	ref := newRefOTLPProtoDecoder(DefaultConfig(), testSettings())
	f.Fuzz(func(t *testing.T, in []byte) {
		evs, res := checkMatchesReference(t, d, ref, in)
		checkInvariants(t, evs, res)
	})
}

// TestOTLPProtoWalkerKnowsTheSchema compares what the walker knows about
// the OTLP messages with their descriptors in go.opentelemetry.io/proto/otlp,
// so that a new OTLP version that adds a string or message field (which
// proto.Unmarshal would check, and the walker would skip) fails here
// rather than in production. Only length-delimited fields matter: any other
// field need only be well-formed, which the walker checks for every field.
func TestOTLPProtoWalkerKnowsTheSchema(t *testing.T) {
	const (
		common = "opentelemetry.proto.common.v1."
		trace  = "opentelemetry.proto.trace.v1."
		res    = "opentelemetry.proto.resource.v1."
	)
	// The string ("string") and message fields of every message, as the
	// walker handles them: the read messages in code, the checked ones in
	// pbSchema.
	walker := map[string]map[protowire.Number]string{
		trace + "TracesData":    {1: trace + "ResourceSpans"},
		trace + "ResourceSpans": {1: res + "Resource", 2: trace + "ScopeSpans", 3: "string"},
		res + "Resource":        {1: common + "KeyValue", 3: common + "EntityRef"},
		trace + "ScopeSpans":    {1: common + "InstrumentationScope", 2: trace + "Span", 3: "string"},
		trace + "Span":          {3: "string", 5: "string", 9: common + "KeyValue", 11: trace + "Span.Event", 13: trace + "Span.Link", 15: trace + "Status"},
		trace + "Status":        {2: "string"},
	}
	names := map[pbMsg]string{
		msgAnyValue: common + "AnyValue", msgArrayValue: common + "ArrayValue", msgKeyValueList: common + "KeyValueList",
		msgKeyValue: common + "KeyValue", msgScope: common + "InstrumentationScope", msgEntityRef: common + "EntityRef",
		msgEvent: trace + "Span.Event", msgLink: trace + "Span.Link",
	}
	for m := msgAnyValue; m < numPBMsgs; m++ {
		fields := map[protowire.Number]string{}
		for num, k := range pbSchema[m] {
			switch k {
			case 0:
			case pbString:
				fields[protowire.Number(num)] = "string"
			default:
				fields[protowire.Number(num)] = names[k]
			}
		}
		walker[names[m]] = fields
	}

	seen := map[protoreflect.FullName]bool{}
	var visit func(md protoreflect.MessageDescriptor)
	visit = func(md protoreflect.MessageDescriptor) {
		if seen[md.FullName()] {
			return
		}
		seen[md.FullName()] = true
		want, ok := walker[string(md.FullName())]
		if !ok {
			t.Errorf("the walker does not know message %s", md.FullName())
		}
		got := map[protowire.Number]string{}
		fields := md.Fields()
		for i := range fields.Len() {
			fd := fields.Get(i)
			switch fd.Kind() {
			case protoreflect.StringKind:
				got[fd.Number()] = "string"
			case protoreflect.MessageKind, protoreflect.GroupKind:
				got[fd.Number()] = string(fd.Message().FullName())
				visit(fd.Message())
			default:
				if fd.IsList() && fd.Kind() != protoreflect.BytesKind {
					t.Errorf("%s is a repeated scalar, which may be packed", fd.FullName())
				}
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: string and message fields are %v, the walker knows %v", md.FullName(), got, want)
		}
	}
	visit((&tracepb.TracesData{}).ProtoReflect().Descriptor())
	if len(seen) != len(walker) {
		t.Errorf("the walker knows %d messages, TracesData reaches %d", len(walker), len(seen))
	}
}

// TestOTLPProtoMatchesReferenceOnRandomRecords builds random records from
// the OTLP schema, with what producers and mutations put there: fields in
// any order, repeated, of the wrong wire type or unknown, invalid UTF-8,
// nested values, the attributes the mapping reads, and now and then a
// malformed byte. Byte-level fuzzing rarely gets that far into the
// structure.
func TestOTLPProtoMatchesReferenceOnRandomRecords(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 2000
	}
	d := newDecoder(t, FormatOTLPProto)
	ref := newRefOTLPProtoDecoder(DefaultConfig(), testSettings())
	g := recordGen{rand.New(rand.NewPCG(1, 2))}
	var stats [2]int // records accepted, rejected as not_otlp
	var events, ignored int
	reasons := map[Reason]int{}
	for range n {
		in := g.traces()
		evs, res := checkMatchesReference(t, d, ref, in)
		if len(res.Rejections) == 1 && res.Rejections[0].Reason == ReasonNotOTLP {
			stats[1]++
		} else {
			stats[0]++
		}
		events += len(evs)
		ignored += res.Ignored.Total()
		for _, r := range res.Rejections {
			reasons[r.Reason]++
		}
	}
	t.Logf("%d records decoded, %d not OTLP; %d events, %d spans ignored, rejections %v", stats[0], stats[1], events, ignored, reasons)
	if stats[0] < n/4 || stats[1] < n/20 || events < n/20 || len(reasons) < 8 {
		t.Errorf("the generator should make records of every kind")
	}
}

type recordGen struct{ r *rand.Rand }

func (g recordGen) chance(p float64) bool { return g.r.Float64() < p }

func (g recordGen) pick(s ...string) string { return s[g.r.IntN(len(s))] }

// str is a string field's value, now and then not UTF-8.
func (g recordGen) str(s string) []byte {
	if g.chance(0.01) {
		return append([]byte(s), 0xff)
	}
	return []byte(s)
}

// fields joins the fields made by gen, each zero to a few times, in a
// random order, with now and then an unknown field, a known field of the
// wrong wire type or a malformed byte.
func (g recordGen) fields(gen map[protowire.Number]func() []byte) []byte {
	var fs [][]byte
	for _, num := range slices.Sorted(maps.Keys(gen)) { // not map order: the same records every run
		f := gen[num]
		k := g.r.IntN(3)
		if g.chance(0.7) {
			k = 1
		}
		for range k {
			fs = append(fs, f())
		}
		if g.chance(0.02) {
			fs = append(fs, pbVarint(num, 1)) // wrong wire type, unless a varint field
		}
	}
	if g.chance(0.05) {
		fs = append(fs, pbLen(protowire.Number(20+g.r.IntN(200)), []byte{0xff}), pbGroup(99, pbVarint(1, 1)), pbFixed32(50, 7))
	}
	g.r.Shuffle(len(fs), func(i, j int) { fs[i], fs[j] = fs[j], fs[i] })
	b := pbMsgOf(fs...)
	if g.chance(0.003) && len(b) > 0 {
		b[g.r.IntN(len(b))] ^= byte(1 + g.r.IntN(255))
	}
	return b
}

func (g recordGen) traces() []byte {
	return g.fields(map[protowire.Number]func() []byte{1: func() []byte { return pbLen(1, g.resourceSpans()) }})
}

func (g recordGen) resourceSpans() []byte {
	return g.fields(map[protowire.Number]func() []byte{
		1: func() []byte {
			return pbLen(1, g.fields(map[protowire.Number]func() []byte{
				1: func() []byte {
					if g.chance(0.8) {
						return pbKVStr(1, "tenant.id", "acme")
					}
					return pbLen(1, g.keyValue(4, "tenant.id", "service.name", "awu.workcycle.id", "awu.attempt", attrAgentID))
				},
				2: func() []byte { return pbVarint(2, 3) },
				3: func() []byte { return pbLen(3, pbMsgOf(pbLen(1, g.str("s")), pbLen(3, g.str("k")))) },
			}))
		},
		2: func() []byte { return pbLen(2, g.scopeSpans()) },
		3: func() []byte { return pbLen(3, g.str("https://opentelemetry.io/schemas/1.37.0")) },
	})
}

func (g recordGen) scopeSpans() []byte {
	return g.fields(map[protowire.Number]func() []byte{
		1: func() []byte { return pbLen(1, pbMsgOf(pbLen(1, g.str("scope")), pbLen(3, g.keyValue(5, "k")))) },
		2: func() []byte { return pbLen(2, g.span()) },
		3: func() []byte { return pbLen(3, g.str("https://x")) },
	})
}

func (g recordGen) span() []byte {
	id := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(g.r.IntN(256))
		}
		if g.chance(0.05) {
			return b[:g.r.IntN(n)]
		}
		return b
	}
	// The attributes of a model call or tool span, each usually there
	// and usually right, plus one of the others.
	attrs := func() []byte {
		var kvs [][]byte
		for _, a := range []struct {
			key string
			p   float64
			v   func() []byte
		}{
			{attrOperationName, 0.95, func() []byte {
				return pbStr(1, g.pick("chat", "chat", "execute_tool", "execute_tool", "invoke_agent", "embeddings"))
			}},
			{attrRequestModel, 0.9, func() []byte { return pbStr(1, "gpt-4o") }},
			{attrInputTokens, 0.9, func() []byte { return pbVarint(3, 10) }},
			{attrOutputTokens, 0.9, func() []byte { return pbVarint(3, 5) }},
			{attrCacheRead, 0.3, func() []byte { return pbFixed64(4, math.Float64bits(3)) }},
			{attrToolName, 0.9, func() []byte { return pbStr(1, "lookup") }},
			{attrErrorType, 0.1, func() []byte { return pbStr(1, "timeout") }},
			{"awu.attempt", 0.2, func() []byte { return pbStr(1, "2") }},
		} {
			if !g.chance(a.p) {
				continue
			}
			v := a.v()
			if g.chance(0.1) {
				v = g.anyValue(6)
			}
			kvs = append(kvs, pbLen(9, g.fields(map[protowire.Number]func() []byte{
				1: func() []byte { return pbLen(1, g.str(a.key)) },
				2: func() []byte { return pbLen(2, v) },
			})))
		}
		kvs = append(kvs, pbLen(9, g.keyValue(5, attrResponseModel, attrPromptTokens, attrReasoning, attrToolCallID, attrChannel, "tenant.id", "awu.id")))
		g.r.Shuffle(len(kvs), func(i, j int) { kvs[i], kvs[j] = kvs[j], kvs[i] })
		return pbMsgOf(kvs...)
	}
	return g.fields(map[protowire.Number]func() []byte{
		1:  func() []byte { return pbLen(1, id(16)) },
		2:  func() []byte { return pbLen(2, id(8)) },
		3:  func() []byte { return pbLen(3, g.str("ts")) },
		5:  func() []byte { return pbLen(5, g.str("chat")) },
		6:  func() []byte { return pbVarint(6, 3) },
		8:  func() []byte { return pbFixed64(8, wireEnd+uint64(g.r.IntN(1e9))) },
		9:  attrs,
		10: func() []byte { return pbVarint(10, 1) },
		11: func() []byte { return pbLen(11, pbMsgOf(pbLen(2, g.str("ev")), pbLen(3, g.keyValue(6, "k")))) },
		13: func() []byte {
			return pbLen(13, pbMsgOf(pbLen(3, g.str("ts")), pbLen(4, g.keyValue(6, "k")), pbFixed32(6, 1)))
		},
		15: func() []byte {
			return pbLen(15, g.fields(map[protowire.Number]func() []byte{
				2: func() []byte { return pbLen(2, g.str("m")) },
				3: func() []byte { return pbVarint(3, uint64(g.r.IntN(4))) },
			}))
		},
	})
}

// keyValue is a KeyValue at level with one of keys.
func (g recordGen) keyValue(level int, keys ...string) []byte {
	return g.fields(map[protowire.Number]func() []byte{
		1: func() []byte { return pbLen(1, g.str(g.pick(keys...))) },
		2: func() []byte { return pbLen(2, g.anyValue(level+1)) },
		3: func() []byte { return pbVarint(3, 1) },
	})
}

func (g recordGen) anyValue(level int) []byte {
	members := map[protowire.Number]func() []byte{
		1: func() []byte {
			return pbLen(1, g.str(g.pick("chat", "execute_tool", "invoke_agent", "embeddings", "gpt-4o", "acme", "", "12", "1.5", "voice", "x")))
		},
		2: func() []byte { return pbVarint(2, 1) },
		3: func() []byte { return pbVarint(3, uint64(g.pick3(10, 1<<40, math.MaxUint64))) },
		4: func() []byte { return pbFixed64(4, math.Float64bits(g.pickF(12, 1.5, 1e300))) },
		7: func() []byte { return pbLen(7, []byte{0xff}) },
		8: func() []byte { return pbVarint(8, 2) },
	}
	if level < 12 && g.chance(0.3) {
		members[5] = func() []byte { return pbLen(5, pbLen(1, g.anyValue(level+2))) }
		members[6] = func() []byte { return pbLen(6, pbLen(1, g.keyValue(level+2, "k"))) }
	}
	// A oneof: usually one member, sometimes several (the last wins).
	var fs [][]byte
	nums := []protowire.Number{1, 2, 3, 4, 5, 6, 7, 8}
	for range 1 + g.r.IntN(2) {
		if f, ok := members[nums[g.r.IntN(len(nums))]]; ok {
			fs = append(fs, f())
		}
	}
	return pbMsgOf(fs...)
}

func (g recordGen) pick3(a, b, c uint64) uint64 { return []uint64{a, a, a, b, c}[g.r.IntN(5)] }

func (g recordGen) pickF(a, b, c float64) float64 { return []float64{a, a, b, c}[g.r.IntN(4)] }
