package decode

import (
	"encoding/binary"
	"math"
	"strconv"
	"sync"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/awumeter/awumeter/pipeline/event"
)

// otlpProtoDecoder decodes the OpenTelemetry Collector Kafka exporter's
// default otlp_proto encoding: a protobuf ExportTraceServiceRequest.
//
// ExportTraceServiceRequest and TracesData are wire-identical (field 1,
// repeated ResourceSpans), so the record is read as TracesData.
//
// # Why a walker
//
// The decoder walks the protobuf wire format with protowire instead of
// unmarshalling into the generated OTLP types. Reflection-based
// proto.Unmarshal allocated every message, string and attribute of the
// record (80 allocations per event of the agent-trace fixture) and was
// most of the decoder's CPU, while the mapping reads a handful of fields
// per span. The walker reads those fields in place, checks the rest, and
// allocates nothing but the events' strings.
//
// # Same inputs, same answers
//
// The walker accepts exactly the records proto.Unmarshal accepts with
// DiscardUnknown (google.golang.org/protobuf v1.36, OTLP v1.11.1) and reads
// the same values from them. The tests hold it to that against the
// reflection-based decoder it replaced (FuzzOTLPProtoMatchesReference,
// TestOTLPProtoMatchesReferenceOnRandomRecords), and its knowledge of the
// schema to the OTLP descriptors (TestOTLPProtoWalkerKnowsTheSchema), so
// that an OTLP upgrade adding a field fails a test. The proto3 rules it
// honours:
//
//   - Every message reachable from TracesData is walked to the end, not
//     only the fields that are mapped, because proto.Unmarshal fails on a
//     bad value anywhere: in a span event, a link, a scope, an entity ref,
//     an attribute nested in an array or key-value list.
//   - Fields may come in any order and any number of times. For a scalar,
//     bytes or string field, and for a oneof (AnyValue.value), the last
//     occurrence wins. A singular message field that occurs more than once
//     (resource, status, an attribute's value) merges, which for these
//     messages is the same as reading the occurrences one after another: a
//     resource's attributes are those of all its resource fields, in order;
//     a span's status code is the last code in any of its status fields.
//     So a ResourceSpans is walked twice: first for its resource, which may
//     come after its scope_spans, then for its spans.
//   - A known field whose wire type differs from its declaration is not an
//     error: proto.Unmarshal treats it as an unknown field, and unknown
//     fields are skipped (DiscardUnknown). A oneof member with the wrong
//     wire type therefore leaves the oneof as it was. (OTLP traces have no
//     repeated scalar fields, so packed/unpacked encodings do not arise.)
//   - Values, known or unknown, are consumed with protowire (unknown ones
//     with ConsumeFieldValue, as proto.Unmarshal does), so a truncated
//     value, an unterminated or mismatched group, a stray end-group tag or
//     the reserved wire types 6 and 7 fail alike. Field numbers must be
//     between 1 and 2^29-1.
//   - proto3 string fields must be valid UTF-8, wherever they are.
//   - Messages nest at most protowire.DefaultRecursionLimit (10000) deep,
//     TracesData being level 1, as proto.Unmarshal allows. The values the
//     mapping never reads (arrays, key-value lists, events, links, scopes,
//     entity refs), the only place deep nesting can occur, are checked by
//     an iterative walk with an explicit, bounded stack (validate), so no
//     record recurses on the Go stack.
//
// A record fails as a whole, as proto.Unmarshal fails before anything is
// mapped: events of spans mapped before the error are dropped and the
// record is rejected as not_otlp. The detail names the byte offset of the
// error instead of quoting the protobuf library's message.
//
// # Memory
//
// Attribute keys and string values, trace and span ids point into
// rec.Value (b2s) and live only while Decode runs: otlpMapper copies what
// an event keeps (strs.copyOut) and rejection details quote copies (clip,
// hex), as for otlp_json, whose strings point into the parser's buffer.
// The walker's scratch slices are pooled, since one decoder serves many
// goroutines.
type otlpProtoDecoder struct{ otlpMapper }

func (d *otlpProtoDecoder) Decode(rec *Record, dst []event.Event) ([]event.Event, Result) {
	if len(rec.Value) > d.maxBytes {
		return dst, single(reject(ReasonRecordTooLarge, "record value is %d bytes, more than max_record_bytes %d", len(rec.Value), d.maxBytes))
	}
	n := len(dst)
	w := getProtoWalker(&d.otlpMapper, rec, dst)
	err := w.traces(rec.Value)
	dst, res := w.dst, w.res
	putProtoWalker(w)
	if err != nil {
		clear(dst[n:]) // the events of spans mapped before the error
		return dst[:n], single(reject(ReasonNotOTLP, "record value is not an OTLP ExportTraceServiceRequest: %s", err))
	}
	return dst, res
}

// protoDepthLimit is how deeply proto.Unmarshal lets messages nest.
const protoDepthLimit = protowire.DefaultRecursionLimit

// Wire types, as the low bits of a field's tag (pbReader.tag).
const (
	varintT  = uint32(protowire.VarintType)
	fixed64T = uint32(protowire.Fixed64Type)
	bytesT   = uint32(protowire.BytesType)
)

// protoWalker walks one record. It holds the record's mapping state and
// scratch slices reused from record to record. What a record used is
// cleared when it is let go (release), so that a pooled walker pins no
// record: between records, entries of the scratch slices are all zero.
type protoWalker struct {
	m   *otlpMapper
	pos event.Position
	dst []event.Event
	res Result
	rec []byte // the record value, to locate errors
	hex hexIDs // the current span's ids in hex, for the mapping

	resAttrs  attrs     // the current resource's attributes
	resIx     attrIndex // their index
	spanAttrs attrs     // the current span's attributes
	scopes    [][]byte  // the current resource's scope_spans, walked once its resource is known
	stack     []pbFrame // validate's messages in progress
}

var protoWalkers = sync.Pool{New: func() any { return new(protoWalker) }}

func getProtoWalker(m *otlpMapper, rec *Record, dst []event.Event) *protoWalker {
	w := protoWalkers.Get().(*protoWalker)
	w.m, w.pos, w.dst, w.res, w.rec = m, position(rec), dst, Result{}, rec.Value
	return w
}

func putProtoWalker(w *protoWalker) {
	w.release()
	protoWalkers.Put(w)
}

// release drops every reference into the record and the caller's events,
// so that a pooled walker pins neither, and scratch slices grown by an
// unusually large record.
func (w *protoWalker) release() {
	w.m, w.dst, w.res, w.rec = nil, nil, Result{}, nil
	w.resAttrs = reuse(w.resAttrs)
	w.spanAttrs = reuse(w.spanAttrs)
	w.scopes = reuse(w.scopes)
	if cap(w.stack) > 64 { // validate clears what it used
		w.stack = nil
	}
}

// maxScratch is how many entries a pooled scratch slice keeps room for.
const maxScratch = 1024

// reuse clears s for the next use, or drops it if it has grown large.
// It clears all of s's capacity, since within a record a scratch slice may
// be truncated (s[:0]) without clearing, for the next span.
func reuse[S ~[]E, E any](s S) S {
	if cap(s) > maxScratch {
		return nil
	}
	clear(s[:cap(s)])
	return s[:0]
}

// pbReader reads the fields of one message, b. next consumes the field at
// i and leaves its tag and value in the reader, which lives on the caller's
// stack. It keeps offsets rather than slices so that next stores no
// pointers.
type pbReader struct {
	b   []byte // the message
	i   int    // where its next field starts
	tag uint32 // the field's number << 3 | its wire type
	v0  int    // where a length-delimited field's contents start in b; they end at i
	x   uint64 // the value of a varint or fixed64 field
}

func (r *pbReader) more() bool { return r.i < len(r.b) }

// v is the contents of a length-delimited field.
func (r *pbReader) v() []byte { return r.b[r.v0:r.i] }

// next consumes the field at r.i. It checks the tag as proto.Unmarshal
// does, which rejects field numbers above 2^29-1 as well as 0
// (protowire.ConsumeTag reads numbers up to 2^31-1).
//
// Nearly every field of a trace has a one-byte tag (field numbers up to
// 15) and, if it is length-delimited or a varint, a one-byte length or
// value (below 128). next reads those without a call, as protobuf's own
// runtime does; anything else, including every error, goes to nextSlow. The fast path accepts
// only what nextSlow would accept alike: a tag byte of 8 or more and below
// 0x80 is a field number from 1 to 15, and a byte below 0x80 is a whole
// varint.
func (w *protoWalker) next(r *pbReader) error {
	if b, i := r.b, r.i; i+1 < len(b) {
		t, l := b[i], b[i+1]
		// t&5 == 0: wire type 0 (varint) or 2 (bytes), the latter's
		// length counting towards the field's end.
		end := i + 2 + int(l&-(t>>1&1))
		if t >= 8 && t|l < 0x80 && t&5 == 0 && end <= len(b) {
			r.tag, r.x, r.v0, r.i = uint32(t), uint64(l), i+2, end
			return nil
		}
	}
	return w.nextSlow(r)
}

// nextSlow is next for any field. Varints are read by
// protowire.ConsumeVarint; a length-delimited value is located here rather
// than by protowire.ConsumeBytes, which would cost a call and a slice.
func (w *protoWalker) nextSlow(r *pbReader) error {
	b := r.b[r.i:]
	tag, n := protowire.ConsumeVarint(b)
	if n < 0 || tag>>3 < uint64(protowire.MinValidNumber) || tag>>3 > uint64(protowire.MaxValidNumber) {
		return w.malformed(b)
	}
	r.tag = uint32(tag)
	var k int
	switch typ := protowire.Type(tag & 7); typ {
	case protowire.BytesType:
		var m uint64
		if m, k = protowire.ConsumeVarint(b[n:]); k >= 0 {
			if m > uint64(len(b)-n-k) {
				k = -1 // truncated
			} else {
				r.v0 = r.i + n + k
				k += int(m)
			}
		}
	case protowire.VarintType:
		r.x, k = protowire.ConsumeVarint(b[n:])
	case protowire.Fixed64Type:
		r.x, k = protowire.ConsumeFixed64(b[n:])
	default: // fixed32 (read by nothing), groups (unknown fields), invalid types
		k = protowire.ConsumeFieldValue(protowire.Number(tag>>3), typ, b[n:])
	}
	if k < 0 {
		return w.malformed(b[n:])
	}
	r.i += n + k
	return nil
}

// protoError is why a record is not protobuf TracesData, and where.
type protoError struct {
	what   string
	offset int
}

func (e *protoError) Error() string { return e.what + " at byte " + strconv.Itoa(e.offset) }

// fail reports what went wrong at the start of b, a part of the record.
// Every slice the walker takes of the record keeps the capacity up to the
// record's end, so capacities give the offset.
func (w *protoWalker) fail(what string, b []byte) error {
	return &protoError{what: what, offset: cap(w.rec) - cap(b)}
}

func (w *protoWalker) malformed(b []byte) error { return w.fail("invalid protobuf wire format", b) }

func (w *protoWalker) badUTF8(s []byte) error {
	return w.fail("string field that is not valid UTF-8", s)
}

// validUTF8 is utf8.Valid with a shortcut for ASCII, which nearly every
// key and value is: it ORs the bytes eight at a time, the last eight
// overlapping, and leaves anything else to utf8.Valid. utf8.Valid goes
// byte by byte through the tail of a short string, which made it an
// eighth of the walker's instructions.
func validUTF8(s []byte) bool { return isASCII(s) || utf8.Valid(s) }

// isASCII reports whether every byte of s is below 0x80.
func isASCII(s []byte) bool {
	const hi = 0x8080808080808080
	var or uint64
	if n := len(s); n >= 8 {
		for i := 0; i+8 <= n; i += 8 {
			or |= binary.LittleEndian.Uint64(s[i:])
		}
		or |= binary.LittleEndian.Uint64(s[n-8:])
	} else {
		for _, c := range s {
			or |= uint64(c)
		}
	}
	return or&hi == 0
}

// traces walks TracesData (level 1): resource_spans = 1.
func (w *protoWalker) traces(b []byte) error {
	r := pbReader{b: b}
	for r.more() {
		if err := w.next(&r); err != nil {
			return err
		}
		if r.tag == 1<<3|bytesT {
			if err := w.resourceSpans(r.v()); err != nil {
				return err
			}
		}
	}
	return nil
}

// resourceSpans walks ResourceSpans (level 2): resource = 1, scope_spans =
// 2, schema_url = 3. The resource's attributes are collected first, since
// every span of the resource reads them and they may come last.
func (w *protoWalker) resourceSpans(b []byte) error {
	w.resAttrs, w.scopes = w.resAttrs[:0], w.scopes[:0] // cleared by release
	r := pbReader{b: b}
	for r.more() {
		err := w.next(&r)
		if err == nil {
			switch r.tag {
			case 1<<3 | bytesT:
				err = w.resource(r.v())
			case 2<<3 | bytesT:
				w.scopes = append(w.scopes, r.v())
			case 3<<3 | bytesT:
				if !validUTF8(r.v()) {
					err = w.badUTF8(r.v())
				}
			}
		}
		if err != nil {
			return err
		}
	}
	w.resIx = w.m.index(w.resAttrs)
	for _, s := range w.scopes {
		if err := w.scopeSpans(s); err != nil {
			return err
		}
	}
	return nil
}

// resource walks Resource (level 3): attributes = 1,
// dropped_attributes_count = 2, entity_refs = 3.
func (w *protoWalker) resource(b []byte) error {
	r := pbReader{b: b}
	for r.more() {
		err := w.next(&r)
		if err == nil {
			switch r.tag {
			case 1<<3 | bytesT:
				err = w.keyValue(r.v(), 4, &w.resAttrs)
			case 3<<3 | bytesT:
				err = w.validate(r.v(), msgEntityRef, 4)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// scopeSpans walks ScopeSpans (level 3): scope = 1, spans = 2, schema_url
// = 3, mapping each span as soon as it is read.
func (w *protoWalker) scopeSpans(b []byte) error {
	r := pbReader{b: b}
	for r.more() {
		err := w.next(&r)
		if err == nil {
			switch r.tag {
			case 1<<3 | bytesT:
				err = w.validate(r.v(), msgScope, 4)
			case 2<<3 | bytesT:
				err = w.span(r.v())
			case 3<<3 | bytesT:
				if !validUTF8(r.v()) {
					err = w.badUTF8(r.v())
				}
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// span walks Span (level 4) and maps it. Read: trace_id = 1, span_id = 2,
// end_time_unix_nano = 8 (fixed64), attributes = 9, status = 15. Checked:
// trace_state = 3 and name = 5 (strings), events = 11, links = 13.
// parent_span_id = 4 (bytes), kind = 6, start_time_unix_nano = 7, the
// dropped counts 10, 12 and 14 and flags = 16 (fixed32) need only be well
// formed, which next checks.
func (w *protoWalker) span(b []byte) error {
	sv := spanView{res: w.resAttrs, resIx: &w.resIx, hex: &w.hex}
	// The previous span's attributes point into this record as well; they
	// are overwritten, not cleared, and release clears them.
	w.spanAttrs = w.spanAttrs[:0]
	r := pbReader{b: b}
	for r.more() {
		err := w.next(&r)
		if err == nil {
			switch r.tag {
			case 1<<3 | bytesT:
				sv.traceID = r.v()
			case 2<<3 | bytesT:
				sv.spanID = r.v()
			case 3<<3 | bytesT, 5<<3 | bytesT:
				if !validUTF8(r.v()) {
					err = w.badUTF8(r.v())
				}
			case 8<<3 | fixed64T:
				sv.endNanos = r.x
			case 9<<3 | bytesT:
				err = w.keyValue(r.v(), 5, &w.spanAttrs)
			case 11<<3 | bytesT:
				err = w.validate(r.v(), msgEvent, 5)
			case 13<<3 | bytesT:
				err = w.validate(r.v(), msgLink, 5)
			case 15<<3 | bytesT:
				err = w.status(r.v(), &sv.statusCode)
			}
		}
		if err != nil {
			return err
		}
	}
	sv.attrs = w.spanAttrs
	w.dst = w.m.span(&sv, w.pos, w.dst, &w.res)
	return nil
}

// status walks Status (level 5): message = 2, code = 3 (an open enum,
// truncated to int32 as proto.Unmarshal does).
func (w *protoWalker) status(b []byte, code *int32) error {
	r := pbReader{b: b}
	for r.more() {
		err := w.next(&r)
		if err == nil {
			switch r.tag {
			case 2<<3 | bytesT:
				if !validUTF8(r.v()) {
					err = w.badUTF8(r.v())
				}
			case 3<<3 | varintT:
				*code = int32(r.x)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// keyValue walks a resource or span attribute, KeyValue at level (4 or
// 5): key = 1, value = 2, key_strindex = 3 (a varint, unused in traces),
// and appends it to *dst.
//
// The value, an AnyValue at level+1, is walked in the same function, which
// saves a call per attribute. It is a oneof, and the last member read wins,
// also across repeated value fields (which merge): string_value = 1,
// bool_value = 2, int_value = 3, double_value = 4 (fixed64), array_value =
// 5, kvlist_value = 6, bytes_value = 7, string_value_strindex = 8
// (varint). The mapping reads only strings and numbers; the others are
// kindOther (kindBool for a bool), and arrays and key-value lists are only
// checked.
func (w *protoWalker) keyValue(b []byte, level int, dst *attrs) error {
	if a, ok := fastKeyValue(b); ok {
		*dst = append(*dst, a)
		return nil
	}
	var key string
	var v attr // the value
	r := pbReader{b: b}
	for r.more() {
		if err := w.next(&r); err != nil {
			return err
		}
		switch r.tag {
		case 1<<3 | bytesT:
			k := r.v()
			if !validUTF8(k) {
				return w.badUTF8(k)
			}
			key = b2s(k)
		case 2<<3 | bytesT:
			val := pbReader{b: r.v()}
			for val.more() {
				if err := w.next(&val); err != nil {
					return err
				}
				switch val.tag {
				case 1<<3 | bytesT:
					s := val.v()
					if !validUTF8(s) {
						return w.badUTF8(s)
					}
					v = attr{kind: kindString, s: b2s(s)}
				case 2<<3 | varintT:
					v = attr{kind: kindBool}
				case 3<<3 | varintT:
					v = attr{kind: kindInt, i: int64(val.x), ist: intOK}
				case 4<<3 | fixed64T:
					v = attr{}
					doubleAttr(&v, math.Float64frombits(val.x))
				case 5<<3 | bytesT:
					if err := w.validate(val.v(), msgArrayValue, level+2); err != nil {
						return err
					}
					v = attr{kind: kindOther}
				case 6<<3 | bytesT:
					if err := w.validate(val.v(), msgKeyValueList, level+2); err != nil {
						return err
					}
					v = attr{kind: kindOther}
				case 7<<3 | bytesT, 8<<3 | varintT:
					v = attr{kind: kindOther}
				}
			}
		}
	}
	v.key = key
	*dst = append(*dst, v)
	return nil
}

// fastKeyValue reads an attribute in the layout SDKs and the collector
// write, if b has it, and reports whether it did: the key field, then the
// value field, whose AnyValue holds one string, int, double or bool field,
// every tag and length one byte, the key (and a string value) ASCII. It
// reads such an attribute as keyValue's general loop would, fields one at
// a time, but it skips three calls of next, and a single ASCII check of
// the whole attribute replaces the UTF-8 checks of key and value: the tags
// and lengths are below 0x80 as well. Anything else, valid or not, is left
// to that loop.
func fastKeyValue(b []byte) (attr, bool) {
	const keyTag, valueTag = 1<<3 | bytesT, 2<<3 | bytesT
	if len(b) < 4 || uint32(b[0]) != keyTag || b[1] >= 0x80 {
		return attr{}, false
	}
	k := 2 + int(b[1]) // where the value field starts
	if k+2 > len(b) || uint32(b[k]) != valueTag || b[k+1] >= 0x80 || k+2+int(b[k+1]) != len(b) {
		return attr{}, false
	}
	key, v := b[2:k], b[k+2:] // v: the AnyValue
	if len(v) < 2 {
		return attr{}, false
	}
	var a attr
	switch uint32(v[0]) {
	case 1<<3 | bytesT: // string_value
		if 2+int(v[1]) != len(v) || !isASCII(b) {
			return attr{}, false
		}
		a = attr{kind: kindString, s: b2s(v[2:])}
	case 3<<3 | varintT: // int_value
		x, n := protowire.ConsumeVarint(v[1:])
		if n != len(v)-1 || !isASCII(key) {
			return attr{}, false
		}
		a = attr{kind: kindInt, i: int64(x), ist: intOK}
	case 4<<3 | fixed64T: // double_value
		if len(v) != 9 || !isASCII(key) {
			return attr{}, false
		}
		doubleAttr(&a, math.Float64frombits(binary.LittleEndian.Uint64(v[1:])))
	case 2<<3 | varintT: // bool_value
		if v[1] >= 0x80 || len(v) != 2 || !isASCII(key) {
			return attr{}, false
		}
		a = attr{kind: kindBool}
	default:
		return attr{}, false
	}
	a.key = b2s(key)
	return a, true
}

// pbMsg names a message type that is checked but not read.
type pbMsg uint8

const (
	msgAnyValue pbMsg = iota + 1
	msgArrayValue
	msgKeyValueList
	msgKeyValue
	msgScope     // InstrumentationScope
	msgEntityRef // Resource.entity_refs
	msgEvent     // Span.Event
	msgLink      // Span.Link
	numPBMsgs

	// pbString in pbSchema marks a string field.
	pbString pbMsg = 255
)

// pbSchema lists, per message type and field number, the length-delimited
// fields validate looks into: strings (checked for UTF-8) and messages
// (walked). Every other field, known or not, need only be well-formed
// wire format: bytes fields, the varint, fixed32 and fixed64 fields, and a
// known field with another wire type, which proto.Unmarshal skips as
// unknown. The field numbers are those of OTLP v1.11.1:
//
//	AnyValue:             string_value 1, bool_value 2, int_value 3, double_value 4,
//	                      array_value 5, kvlist_value 6, bytes_value 7, string_value_strindex 8
//	ArrayValue:           values 1
//	KeyValueList:         values 1
//	KeyValue:             key 1, value 2, key_strindex 3
//	InstrumentationScope: name 1, version 2, attributes 3, dropped_attributes_count 4
//	EntityRef:            schema_url 1, type 2, id_keys 3, description_keys 4 (repeated strings)
//	Span.Event:           time_unix_nano 1, name 2, attributes 3, dropped_attributes_count 4
//	Span.Link:            trace_id 1, span_id 2, trace_state 3, attributes 4,
//	                      dropped_attributes_count 5, flags 6
var pbSchema = [numPBMsgs][9]pbMsg{
	msgAnyValue:     {1: pbString, 5: msgArrayValue, 6: msgKeyValueList},
	msgArrayValue:   {1: msgAnyValue},
	msgKeyValueList: {1: msgKeyValue},
	msgKeyValue:     {1: pbString, 2: msgAnyValue},
	msgScope:        {1: pbString, 2: pbString, 3: msgKeyValue},
	msgEntityRef:    {1: pbString, 2: pbString, 3: pbString, 4: pbString},
	msgEvent:        {2: pbString, 3: msgKeyValue},
	msgLink:         {3: pbString, 4: msgKeyValue},
}

// pbFrame is a message validate is in: its reader and its type.
type pbFrame struct {
	r pbReader
	m pbMsg
}

// validate checks that b is a well-formed message of type m at level, and
// everything in it, as proto.Unmarshal would, without reading anything. It
// walks depth-first with an explicit stack, whose frames are the messages
// entered and not yet finished, so nesting costs no Go stack; a message
// deeper than protoDepthLimit fails, as in proto.Unmarshal, which checks
// the depth on entering a message, empty or not.
func (w *protoWalker) validate(b []byte, m pbMsg, level int) error {
	if level > protoDepthLimit {
		return w.tooDeep(b)
	}
	stack := append(w.stack[:0], pbFrame{pbReader{b: b}, m})
	used := 1 // frames to clear afterwards
	var err error
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if !top.r.more() {
			stack = stack[:len(stack)-1]
			continue
		}
		if err = w.next(&top.r); err != nil {
			break
		}
		num := top.r.tag >> 3
		if top.r.tag&7 != bytesT || num >= uint32(len(pbSchema[0])) {
			continue
		}
		switch k := pbSchema[top.m][num]; k {
		case 0:
		case pbString:
			if v := top.r.v(); !validUTF8(v) {
				err = w.badUTF8(v)
			}
		default:
			// The message entered is at level + len(stack).
			if level+len(stack) > protoDepthLimit {
				err = w.tooDeep(top.r.v())
			}
			stack = append(stack, pbFrame{pbReader{b: top.r.v()}, k})
			used = max(used, len(stack))
		}
		if err != nil {
			break
		}
	}
	clear(stack[:used])
	w.stack = stack[:0]
	return err
}

func (w *protoWalker) tooDeep(b []byte) error {
	return w.fail("messages nested more than "+strconv.Itoa(protoDepthLimit)+" deep", b)
}
