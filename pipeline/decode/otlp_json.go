package decode

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/valyala/fastjson"

	"github.com/awumeter/awumeter/pipeline/event"
)

// otlpJSONDecoder decodes the collector Kafka exporter's otlp_json encoding:
// an ExportTraceServiceRequest in the OTLP/JSON encoding.
//
// OTLP/JSON is the proto3 JSON mapping with one difference that protojson
// cannot read: trace and span ids are hex strings, not base64. The decoder
// therefore walks the JSON itself and reads only what the mapping needs. It
// accepts hex ids (what the collector writes) and base64 ids (what protojson
// writes), which cannot be confused because their lengths differ, and
// 64-bit integers as strings or numbers.
type otlpJSONDecoder struct{ otlpMapper }

// parsers are shared by the OTLP/JSON decoders; values live until their
// parser is put back, so strings are copied out first (see strs).
var parsers fastjson.ParserPool

func (d *otlpJSONDecoder) Decode(rec *Record, dst []event.Event) ([]event.Event, Result) {
	if rej, ok := checkBytes(rec.Value, d.maxBytes); !ok {
		return dst, single(rej)
	}
	// fastjson's parser is lenient (it takes NaN and bad escapes), so the
	// strict scanner validates first.
	s := getScanner(rec.Value)
	v, ok := s.value(0)
	ok = ok && s.end()
	err := s.err
	putScanner(s)
	if !ok {
		return dst, single(reject(ReasonNotJSON, "record value is not JSON: %s", err))
	}
	if v.kind != jObject {
		return dst, single(reject(ReasonNotObject, "record value must be a JSON object, got %s", v.kind))
	}
	p := parsers.Get()
	defer parsers.Put(p)
	root, err := p.ParseBytes(rec.Value)
	if err != nil { // not expected after validation
		return dst, single(reject(ReasonNotJSON, "record value is not JSON: %s", clip([]byte(err.Error()))))
	}
	resourceSpans, err := optArray(root.Get("resourceSpans"), "resourceSpans")
	if err != nil {
		return dst, single(reject(ReasonNotOTLP, "record value is not an OTLP ExportTraceServiceRequest: %s", err))
	}
	var res Result
	pos := position(rec)
	var resAttrs, spanAttrs attrs
	for i, rsV := range resourceSpans {
		scopeSpans, err := d.resource(rsV, &resAttrs)
		if err != nil {
			res.Rejections = append(res.Rejections, reject(ReasonNotOTLP, "resourceSpans[%d]: %s", i, err))
			continue
		}
		for j, ssV := range scopeSpans {
			spans, err := optArray(objectGet(ssV, "spans"), "spans")
			if err == nil && ssV.Type() != fastjson.TypeObject {
				err = fmt.Errorf("must be an object, got %s", ssV.Type())
			}
			if err != nil {
				res.Rejections = append(res.Rejections, reject(ReasonNotOTLP, "resourceSpans[%d].scopeSpans[%d]: %s", i, j, err))
				continue
			}
			for k, spV := range spans {
				var sv spanView
				var trace [16]byte
				var span [8]byte
				if err := readSpan(spV, &sv, trace[:], span[:], &spanAttrs); err != nil {
					res.Rejections = append(res.Rejections, reject(ReasonNotOTLP, "resourceSpans[%d].scopeSpans[%d].spans[%d]: %s", i, j, k, err))
					continue
				}
				sv.res = resAttrs
				dst = d.span(&sv, pos, dst, &res)
			}
		}
	}
	return dst, res
}

// resource reads a ResourceSpans object's resource attributes into *ra and
// returns its scopeSpans.
func (d *otlpJSONDecoder) resource(rsV *fastjson.Value, ra *attrs) ([]*fastjson.Value, error) {
	if rsV.Type() != fastjson.TypeObject {
		return nil, fmt.Errorf("must be an object, got %s", rsV.Type())
	}
	var err error
	*ra, err = jsonAttrs((*ra)[:0], objectGet(rsV.Get("resource"), "attributes"))
	if err != nil {
		return nil, fmt.Errorf("resource: %w", err)
	}
	return optArray(rsV.Get("scopeSpans"), "scopeSpans")
}

func readSpan(v *fastjson.Value, sv *spanView, trace, span []byte, sa *attrs) error {
	if v.Type() != fastjson.TypeObject {
		return fmt.Errorf("must be an object, got %s", v.Type())
	}
	var err error
	sv.traceID = jsonID(v.Get("traceId"), trace)
	sv.spanID = jsonID(v.Get("spanId"), span)
	if sv.endNanos, err = jsonUint64(v.Get("endTimeUnixNano")); err != nil {
		return fmt.Errorf("endTimeUnixNano: %w", err)
	}
	if st := v.Get("status"); st != nil && st.Type() == fastjson.TypeObject {
		sv.statusCode = jsonStatusCode(st.Get("code"))
	}
	if *sa, err = jsonAttrs((*sa)[:0], v.Get("attributes")); err != nil {
		return err
	}
	sv.attrs = *sa
	return nil
}

// objectGet returns v[key] when v is an object, else nil.
func objectGet(v *fastjson.Value, key string) *fastjson.Value {
	if v == nil || v.Type() != fastjson.TypeObject {
		return nil
	}
	return v.Get(key)
}

// optArray reads an optional array: absent or null is empty.
func optArray(v *fastjson.Value, name string) ([]*fastjson.Value, error) {
	if v == nil || v.Type() == fastjson.TypeNull {
		return nil, nil
	}
	a, err := v.Array()
	if err != nil {
		return nil, fmt.Errorf("%s must be an array, got %s", name, v.Type())
	}
	return a, nil
}

// jsonID decodes a hex or base64 id into buf, or returns nil (reported as
// bad_id if the span is metered).
func jsonID(v *fastjson.Value, buf []byte) []byte {
	if v == nil || v.Type() != fastjson.TypeString {
		return nil
	}
	s := v.GetStringBytes()
	switch len(s) {
	case 2 * len(buf):
		if _, err := hex.Decode(buf, s); err == nil {
			return buf
		}
	case base64.StdEncoding.EncodedLen(len(buf)):
		if n, err := base64.StdEncoding.Decode(buf, s); err == nil && n == len(buf) {
			return buf
		}
	}
	return nil
}

// jsonUint64 reads a proto3 JSON uint64: a decimal string or a number.
func jsonUint64(v *fastjson.Value) (uint64, error) {
	if v == nil || v.Type() == fastjson.TypeNull {
		return 0, nil
	}
	switch v.Type() {
	case fastjson.TypeString:
		return strconv.ParseUint(b2s(v.GetStringBytes()), 10, 64)
	case fastjson.TypeNumber:
		return v.Uint64()
	}
	return 0, fmt.Errorf("must be a string or number, got %s", v.Type())
}

// jsonStatusCode reads a status code as a number or an enum name.
func jsonStatusCode(v *fastjson.Value) int32 {
	if v == nil {
		return 0
	}
	switch v.Type() {
	case fastjson.TypeNumber:
		n, _ := v.Int()
		return int32(n)
	case fastjson.TypeString:
		if string(v.GetStringBytes()) == "STATUS_CODE_ERROR" {
			return statusCodeError
		}
	}
	return 0
}

// jsonAttrs appends the attributes of an OTLP/JSON KeyValue array. String
// values point into the parser's buffer.
func jsonAttrs(dst attrs, v *fastjson.Value) (attrs, error) {
	list, err := optArray(v, "attributes")
	if err != nil {
		return dst, err
	}
	for i, kv := range list {
		if kv.Type() != fastjson.TypeObject {
			return dst, fmt.Errorf("attributes[%d] must be an object, got %s", i, kv.Type())
		}
		a := attr{key: b2s(kv.GetStringBytes("key"))}
		if val := kv.Get("value"); val != nil && val.Type() == fastjson.TypeObject {
			o, _ := val.Object()
			o.Visit(func(k []byte, x *fastjson.Value) {
				switch string(k) {
				case "stringValue":
					if x.Type() == fastjson.TypeString {
						a.kind, a.s = kindString, b2s(x.GetStringBytes())
					}
				case "intValue":
					var n int64
					var err error
					switch x.Type() {
					case fastjson.TypeString:
						n, err = strconv.ParseInt(b2s(x.GetStringBytes()), 10, 64)
					case fastjson.TypeNumber:
						n, err = x.Int64()
					default:
						err = strconv.ErrSyntax
					}
					if err == nil {
						a.kind, a.i = kindInt, n
					} else {
						a.kind = kindOther
					}
				case "doubleValue":
					if f, err := x.Float64(); err == nil {
						a.kind, a.f = kindDouble, f
					} else {
						a.kind = kindOther
					}
				case "boolValue":
					a.kind = kindBool
				case "arrayValue", "kvlistValue", "bytesValue":
					a.kind = kindOther
				}
			})
		}
		dst = append(dst, a)
	}
	return dst, nil
}
