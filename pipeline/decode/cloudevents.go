package decode

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/awumeter/awumeter/pipeline/event"
	"github.com/awumeter/awumeter/pipeline/format"
)

// CloudEvents type names of the v1 event types, spelled in package format.
const (
	CloudEventTypeTokenUsage     = format.CloudEventTypeTokenUsage
	CloudEventTypeToolInvocation = format.CloudEventTypeToolInvocation
	CloudEventTypeWorkcycle      = format.CloudEventTypeWorkcycle
)

func cloudEventType(t []byte) (event.Type, bool) {
	switch string(t) {
	case CloudEventTypeTokenUsage:
		return event.TypeTokenUsage, true
	case CloudEventTypeToolInvocation:
		return event.TypeToolInvocation, true
	case CloudEventTypeWorkcycle:
		return event.TypeWorkcycle, true
	}
	return event.TypeUnknown, false
}

// cloudEventsDecoder decodes CloudEvents 1.0 records in either mode of the
// Kafka protocol binding: binary when a ce_specversion header is present
// (context attributes in ce_* headers, data in the value), structured
// otherwise (the whole event as application/cloudevents+json in the value).
type cloudEventsDecoder struct {
	maxBytes int
	bounds   bounds
	limits   limits
}

func (d *cloudEventsDecoder) Decode(rec *Record, dst []event.Event) ([]event.Event, Result) {
	if rej, ok := checkBytes(rec.Value, d.maxBytes); !ok {
		return dst, single(rej)
	}
	s := getScanner(rec.Value)
	defer putScanner(s)

	var ce ceAttrs
	var raw rawFields
	hs := readHeaders(rec.Headers, &ce)
	if hs.binary {
		if hs.problem != "" {
			return dst, single(reject(ReasonBadCloudEvent, "header %s %s", clip([]byte(hs.problemKey)), hs.problem))
		}
		if hs.haveCT && !isJSONMediaType(hs.contentType) {
			return dst, single(reject(ReasonUnsupportedContent, "content-type %q is not JSON", clip(hs.contentType)))
		}
		if rej, ok := scanTop(s, &raw, "CloudEvents data"); !ok {
			return dst, single(rej)
		}
	} else {
		ce = ceAttrs{} // ce_* headers without ce_specversion do not make binary mode
		if hs.haveCT && !isStructuredMediaType(hs.contentType) {
			return dst, single(reject(ReasonUnsupportedContent,
				"content-type %q is neither application/cloudevents+json nor binary mode (no ce_specversion header)", clip(hs.contentType)))
		}
		data, rej, ok := ce.structured(s)
		if !ok {
			return dst, single(rej)
		}
		// data was validated with the envelope; scan it again for fields.
		s.b, s.i = data, 0
		raw.scanFields(s)
	}

	env, rej, ok := ce.envelope()
	if !ok {
		return dst, single(rej)
	}
	var ev event.Event
	if rej, ok := buildEvent(&raw, &env, d.bounds, d.limits, &ev); !ok {
		return dst, single(rej)
	}
	ev.Source = position(rec)
	return append(dst, ev), Result{}
}

// ceAttrs are the context attributes awumeter reads; others are ignored.
type ceAttrs struct {
	specversion, id, source, typ, time []byte
	haveTime                           bool
}

// structured scans a structured-mode event, reading its context attributes,
// and returns the text of its data object.
func (ce *ceAttrs) structured(s *scanner) ([]byte, Rejection, bool) {
	var dataV, dataB64, dct jvalue
	var bad string // the first attribute of the wrong type
	var badV jvalue
	// The first string attribute that is not a CloudEvents String, and why.
	var badString, problem string
	checkString := func(k, v []byte) {
		if badString == "" && !printableASCII(v) {
			if p := ceStringProblem(v); p != "" {
				badString, problem = string(k), p
			}
		}
	}
	attr := func(name string, v jvalue) []byte {
		if v.kind == jString {
			checkString(s2b(name), v.raw)
			return v.raw
		}
		if v.kind != jNull && bad == "" {
			bad, badV = name, v
		}
		return nil
	}
	members := func(k []byte, v jvalue) {
		switch string(k) {
		case "specversion":
			ce.specversion = attr("specversion", v)
		case "id":
			ce.id = attr("id", v)
		case "source":
			ce.source = attr("source", v)
		case "type":
			ce.typ = attr("type", v)
		case "time":
			ce.time = attr("time", v)
			ce.haveTime = ce.time != nil
		case "datacontenttype":
			dct = v
		case "data":
			dataV = v
		case "data_base64":
			dataB64 = v
		default: // extensions, subject, dataschema: Strings when they are strings
			if v.kind == jString {
				checkString(k, v.raw)
			}
		}
	}
	if rej, ok := scanTopWith(s, "CloudEvent", func(s *scanner) bool { return s.object(0, members) }); !ok {
		return nil, rej, false
	}
	if bad != "" {
		return nil, reject(ReasonBadCloudEvent, "context attribute %s must be a string, got %s", bad, badV.kind), false
	}
	if badString != "" {
		return nil, reject(ReasonBadCloudEvent, "context attribute %s %s", clip([]byte(badString)), problem), false
	}
	if !dct.absent() && (dct.kind != jString || !isJSONMediaType(dct.raw)) {
		return nil, reject(ReasonUnsupportedContent, "datacontenttype %q is not JSON", clip(dct.raw)), false
	}
	if !dataB64.absent() {
		return nil, reject(ReasonUnsupportedContent, "data_base64 is not supported; send data as a JSON object"), false
	}
	if dataV.absent() {
		return nil, reject(ReasonMissingField, "missing CloudEvents data"), false
	}
	if dataV.kind != jObject {
		return nil, reject(ReasonNotObject, "CloudEvents data must be a JSON object, got %s", dataV.kind), false
	}
	return dataV.raw, Rejection{}, true
}

// envelope checks the required context attributes and maps them: type to the
// event type, source + " " + id to event_id, time to the event time.
func (ce *ceAttrs) envelope() (envelope, Rejection, bool) {
	if len(ce.specversion) == 0 {
		return envelope{}, reject(ReasonBadCloudEvent, "missing context attribute specversion"), false
	}
	if string(ce.specversion) != "1.0" {
		return envelope{}, reject(ReasonUnsupportedVersion, "specversion %q is not supported; expected 1.0", clip(ce.specversion)), false
	}
	for _, a := range [...]struct {
		name string
		v    []byte
	}{{"id", ce.id}, {"source", ce.source}, {"type", ce.typ}} {
		if len(a.v) == 0 {
			return envelope{}, reject(ReasonBadCloudEvent, "missing context attribute %s", a.name), false
		}
	}
	// A URI-reference has no spaces, which keeps source + " " + id unambiguous.
	if bytes.IndexByte(ce.source, ' ') >= 0 {
		return envelope{}, reject(ReasonBadCloudEvent, "context attribute source %q contains a space; it must be a URI-reference", clip(ce.source)), false
	}
	typ, ok := cloudEventType(ce.typ)
	if !ok {
		return envelope{}, reject(ReasonUnknownType, "unknown CloudEvents type %q; expected %s, %s or %s", clip(ce.typ),
			CloudEventTypeTokenUsage, CloudEventTypeToolInvocation, CloudEventTypeWorkcycle), false
	}
	return envelope{typ: typ, source: ce.source, id: ce.id, time: ce.time, haveTime: ce.haveTime}, Rejection{}, true
}

// recordHeaders is what one pass over a record's headers finds.
type recordHeaders struct {
	binary      bool // a ce_specversion header: binary mode
	contentType []byte
	haveCT      bool
	// problem says why the first ce_* header named problemKey is not a
	// CloudEvents String; binary mode holds every ce_* header, extensions
	// included, to the rule structured mode's context attributes follow.
	problem, problemKey string
}

// readHeaders reads the ce_* context attributes into ce and the
// content-type in one pass; a later header overrides an earlier one of the
// same name, as Record.Header does.
func readHeaders(headers []Header, ce *ceAttrs) recordHeaders {
	var hs recordHeaders
	for _, h := range headers {
		switch h.Key {
		case "content-type":
			hs.contentType, hs.haveCT = h.Value, true
			continue
		case "ce_specversion":
			ce.specversion, hs.binary = h.Value, true
		case "ce_id":
			ce.id = h.Value
		case "ce_source":
			ce.source = h.Value
		case "ce_type":
			ce.typ = h.Value
		case "ce_time":
			ce.time, ce.haveTime = h.Value, true
		default:
			if !strings.HasPrefix(h.Key, "ce_") {
				continue
			}
		}
		if hs.problem == "" && !printableASCII(h.Value) {
			if p := ceStringProblem(h.Value); p != "" {
				hs.problem, hs.problemKey = p, h.Key
			}
		}
	}
	return hs
}

// ceStringProblem says what keeps v from being a CloudEvents String
// (CloudEvents 1.0, "Type System"): valid UTF-8 without the control
// characters U+0000–U+001F and U+007F–U+009F. It returns "" for a good one.
func ceStringProblem(v []byte) string {
	if printableASCII(v) {
		return ""
	}
	if !utf8.Valid(v) {
		return "is not valid UTF-8"
	}
	for _, r := range string(v) {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			return fmt.Sprintf("contains the control character %U", r)
		}
	}
	return ""
}

// printableASCII reports whether every byte of v is in 0x20 … 0x7e, the
// common case, eight bytes at a time: a byte below 0x20 sets its high bit
// in (w - 0x20…20) &^ w ("hasless" of Bit Twiddling Hacks), and one at or
// above 0x7f in w | (w + 0x01…01). The last word may overlap the one before.
func printableASCII(v []byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	n := len(v)
	if n < 8 {
		for _, c := range v {
			if c < 0x20 || c >= 0x7f {
				return false
			}
		}
		return true
	}
	var acc uint64
	for i := 0; i < n-8; i += 8 {
		w := binary.LittleEndian.Uint64(v[i:])
		acc |= (w-0x20*ones)&^w | w | (w + ones)
	}
	w := binary.LittleEndian.Uint64(v[n-8:])
	acc |= (w-0x20*ones)&^w | w | (w + ones)
	return acc&highs == 0
}

// isJSONMediaType accepts application/json, text/json and any +json type,
// with parameters such as charset.
func isJSONMediaType(ct []byte) bool {
	mt := mediaType(ct)
	return mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json")
}

func isStructuredMediaType(ct []byte) bool {
	return mediaType(ct) == "application/cloudevents+json"
}

func mediaType(ct []byte) string {
	s := string(ct)
	if i := strings.IndexByte(s, ';'); i >= 0 {
		s = s[:i]
	}
	return strings.ToLower(strings.TrimSpace(s))
}
