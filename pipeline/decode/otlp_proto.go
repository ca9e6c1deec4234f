package decode

import (
	"google.golang.org/protobuf/proto"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/awumeter/awumeter/pipeline/event"
)

// otlpProtoDecoder decodes the OpenTelemetry Collector Kafka exporter's
// default otlp_proto encoding: a protobuf ExportTraceServiceRequest.
//
// ExportTraceServiceRequest and TracesData are wire-identical (field 1,
// repeated ResourceSpans), so the record is read as TracesData. That avoids
// depending on the collector's gRPC service package for one message type.
type otlpProtoDecoder struct{ otlpMapper }

var unmarshalOptions = proto.UnmarshalOptions{DiscardUnknown: true}

func (d *otlpProtoDecoder) Decode(rec *Record, dst []event.Event) ([]event.Event, Result) {
	if len(rec.Value) > d.maxBytes {
		return dst, single(reject(ReasonRecordTooLarge, "record value is %d bytes, more than max_record_bytes %d", len(rec.Value), d.maxBytes))
	}
	var td tracepb.TracesData
	if err := unmarshalOptions.Unmarshal(rec.Value, &td); err != nil {
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
