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
	resourceSpans, err := optArray(member(root, "resourceSpans"), "resourceSpans")
	if err != nil {
		return dst, single(reject(ReasonNotOTLP, "record value is not an OTLP ExportTraceServiceRequest: %s", err))
	}
	var res Result
	pos := position(rec)
	var resAttrs, spanAttrs attrs
	var resIx attrIndex
	for i, rsV := range resourceSpans {
		scopeSpans, err := d.resource(rsV, &resAttrs)
		if err != nil {
			res.Rejections = append(res.Rejections, reject(ReasonNotOTLP, "resourceSpans[%d]: %s", i, err))
			continue
		}
		resIx = d.index(resAttrs)
		for j, ssV := range scopeSpans {
			var spans []*fastjson.Value
			err := fmt.Errorf("must be an object, got %s", ssV.Type())
			if ssV.Type() == fastjson.TypeObject {
				spans, err = optArray(member(ssV, "spans"), "spans")
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
				sv.res, sv.resIx = resAttrs, &resIx
				dst = d.span(&sv, pos, dst, &res)
			}
		}
	}
	return dst, res
}

// member returns the value of v's last member named key, or nil when v is
// not an object or has no such member. Like encoding/json and the native
// decoders, a repeated key's last value wins (fastjson's Get would return
// the first).
func member(v *fastjson.Value, key string) *fastjson.Value {
	if v == nil || v.Type() != fastjson.TypeObject {
		return nil
	}
	var found *fastjson.Value
	o, _ := v.Object()
	o.Visit(func(k []byte, x *fastjson.Value) {
		if string(k) == key {
			found = x
		}
	})
	return found
}

// resource reads a ResourceSpans object's resource attributes into *ra and
// returns its scopeSpans.
func (d *otlpJSONDecoder) resource(rsV *fastjson.Value, ra *attrs) ([]*fastjson.Value, error) {
	if rsV.Type() != fastjson.TypeObject {
		return nil, fmt.Errorf("must be an object, got %s", rsV.Type())
	}
	var resource, scopeSpans *fastjson.Value
	o, _ := rsV.Object()
	o.Visit(func(k []byte, x *fastjson.Value) {
		switch string(k) {
		case "resource":
			resource = x
		case "scopeSpans":
			scopeSpans = x
		}
	})
	var err error
	*ra, err = jsonAttrs((*ra)[:0], member(resource, "attributes"))
	if err != nil {
		return nil, fmt.Errorf("resource: %w", err)
	}
	return optArray(scopeSpans, "scopeSpans")
}

func readSpan(v *fastjson.Value, sv *spanView, trace, span []byte, sa *attrs) error {
	if v.Type() != fastjson.TypeObject {
		return fmt.Errorf("must be an object, got %s", v.Type())
	}
	var traceV, spanV, endV, statusV, attrsV *fastjson.Value
	o, _ := v.Object()
	o.Visit(func(k []byte, x *fastjson.Value) {
		switch string(k) {
		case "traceId":
			traceV = x
		case "spanId":
			spanV = x
		case "endTimeUnixNano":
			endV = x
		case "status":
			statusV = x
		case "attributes":
			attrsV = x
		}
	})
	var err error
	sv.traceID = jsonID(traceV, trace)
	sv.spanID = jsonID(spanV, span)
	if sv.endNanos, err = jsonUint64(endV); err != nil {
		return fmt.Errorf("endTimeUnixNano: %w", err)
	}
	sv.statusCode = jsonStatusCode(member(statusV, "code"))
	if *sa, err = jsonAttrs((*sa)[:0], attrsV); err != nil {
		return err
	}
	sv.attrs = *sa
	return nil
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
		// Unpadded text of that length decodes to more bytes than buf
		// holds (24 characters to 18, not 16), so it is decoded into a
		// buffer with room for DecodedLen, not into buf.
		var tmp [24]byte
		if base64.StdEncoding.DecodedLen(len(s)) <= len(tmp) {
			if n, err := base64.StdEncoding.Decode(tmp[:], s); err == nil && n == len(buf) {
				copy(buf, tmp[:n])
				return buf
			}
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

// jsonInt reads an OTLP/JSON intValue or doubleValue as an integer: a JSON
// number or a string whose decimal text is an exact integer (parseInt), so
// that the text, not a float64 rounding of it, decides.
func jsonInt(x *fastjson.Value) (int64, intStatus) {
	switch x.Type() {
	case fastjson.TypeString:
		return parseInt(x.GetStringBytes())
	case fastjson.TypeNumber:
		var buf [32]byte
		return parseInt(x.MarshalTo(buf[:0])) // a number marshals as its original text
	}
	return 0, intSyntax
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
		var keyV, valV *fastjson.Value
		o, _ := kv.Object()
		o.Visit(func(k []byte, x *fastjson.Value) {
			switch string(k) {
			case "key":
				keyV = x
			case "value":
				valV = x
			}
		})
		var a attr
		if keyV != nil && keyV.Type() == fastjson.TypeString {
			a.key = b2s(keyV.GetStringBytes())
		}
		if valV != nil && valV.Type() == fastjson.TypeObject {
			o, _ := valV.Object()
			o.Visit(func(k []byte, x *fastjson.Value) {
				switch string(k) {
				case "stringValue":
					if x.Type() == fastjson.TypeString {
						a.kind, a.s = kindString, b2s(x.GetStringBytes())
					}
				case "intValue":
					a.kind = kindInt
					a.i, a.ist = jsonInt(x)
				case "doubleValue":
					a.kind = kindDouble
					a.i, a.ist = jsonInt(x)
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
