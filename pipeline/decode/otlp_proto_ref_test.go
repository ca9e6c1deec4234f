package decode

import (
	"google.golang.org/protobuf/proto"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/awumeter/awumeter/pipeline/event"
)

// refOTLPProtoDecoder is the otlp_proto decoder as it was before the wire
// walker (otlp_proto.go): reflection-based proto.Unmarshal into the
// generated OTLP types, then the shared mapping. It is kept, in test code
// only, as the reference the walker must agree with on every input
// (FuzzOTLPProtoMatchesReference): its accept/reject decision is
// proto.Unmarshal's by construction.
type refOTLPProtoDecoder struct{ otlpMapper }

func newRefOTLPProtoDecoder(cfg Config, set Settings) *refOTLPProtoDecoder {
	d, err := New(FormatOTLPProto, cfg, set)
	if err != nil {
		panic(err)
	}
	return &refOTLPProtoDecoder{d.(*otlpProtoDecoder).otlpMapper}
}

var refUnmarshalOptions = proto.UnmarshalOptions{DiscardUnknown: true}

func (d *refOTLPProtoDecoder) Decode(rec *Record, dst []event.Event) ([]event.Event, Result) {
	if len(rec.Value) > d.maxBytes {
		return dst, single(reject(ReasonRecordTooLarge, "record value is %d bytes, more than max_record_bytes %d", len(rec.Value), d.maxBytes))
	}
	var td tracepb.TracesData
	if err := refUnmarshalOptions.Unmarshal(rec.Value, &td); err != nil {
		return dst, single(reject(ReasonNotOTLP, "record value is not an OTLP ExportTraceServiceRequest: %s", clip([]byte(err.Error()))))
	}
	var res Result
	pos := position(rec)
	var resAttrs, spanAttrs attrs
	var resIx attrIndex
	for _, rs := range td.ResourceSpans {
		resAttrs = protoAttrs(resAttrs[:0], rs.GetResource().GetAttributes())
		resIx = d.index(resAttrs)
		for _, ss := range rs.ScopeSpans {
			for _, sp := range ss.Spans {
				spanAttrs = protoAttrs(spanAttrs[:0], sp.Attributes)
				sv := spanView{
					traceID:    sp.TraceId,
					spanID:     sp.SpanId,
					endNanos:   sp.EndTimeUnixNano,
					statusCode: int32(sp.GetStatus().GetCode()),
					attrs:      spanAttrs,
					res:        resAttrs,
					resIx:      &resIx,
				}
				dst = d.span(&sv, pos, dst, &res)
			}
		}
	}
	return dst, res
}

func protoAttrs(dst attrs, kvs []*commonpb.KeyValue) attrs {
	for _, kv := range kvs {
		a := attr{key: kv.GetKey()}
		switch v := kv.GetValue().GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			a.kind, a.s = kindString, v.StringValue
		case *commonpb.AnyValue_IntValue:
			a.kind, a.i, a.ist = kindInt, v.IntValue, intOK
		case *commonpb.AnyValue_DoubleValue:
			doubleAttr(&a, v.DoubleValue)
		case *commonpb.AnyValue_BoolValue:
			a.kind = kindBool
		case nil:
			a.kind = kindNone
		default:
			a.kind = kindOther
		}
		dst = append(dst, a)
	}
	return dst
}
