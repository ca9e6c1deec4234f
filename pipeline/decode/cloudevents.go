package decode

import (
	"bytes"
	"strings"

	"github.com/awumeter/awumeter/pipeline/event"
)

// CloudEvents type names of the v1 event types.
const (
	CloudEventTypeTokenUsage     = "io.awumeter.token_usage.v1"
	CloudEventTypeToolInvocation = "io.awumeter.tool_invocation.v1"
	CloudEventTypeWorkcycle      = "io.awumeter.workcycle.v1"
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
}

func (d *cloudEventsDecoder) Decode(rec *Record, dst []event.Event) ([]event.Event, Result) {
	if rej, ok := checkBytes(rec.Value, d.maxBytes); !ok {
		return dst, single(rej)
	}
	s := getScanner(rec.Value)
	defer putScanner(s)

	var ce ceAttrs
	var raw rawFields
	if sv, binary := rec.Header("ce_specversion"); binary {
		ce.specversion = sv
		ce.id, _ = rec.Header("ce_id")
		ce.source, _ = rec.Header("ce_source")
		ce.typ, _ = rec.Header("ce_type")
		ce.time, ce.haveTime = rec.Header("ce_time")
		if ct, ok := rec.Header("content-type"); ok && !isJSONMediaType(ct) {
			return dst, single(reject(ReasonUnsupportedContent, "content-type %q is not JSON", clip(ct)))
		}
		if rej, ok := scanTop(s, &raw, "CloudEvents data"); !ok {
			return dst, single(rej)
		}
	} else {
		if ct, ok := rec.Header("content-type"); ok && !isStructuredMediaType(ct) {
			return dst, single(reject(ReasonUnsupportedContent,
				"content-type %q is neither application/cloudevents+json nor binary mode (no ce_specversion header)", clip(ct)))
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
	if rej, ok := buildEvent(&raw, &env, d.bounds, &ev); !ok {
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
	var bad string
	var badV jvalue
	attr := func(name string, v jvalue) []byte {
		if v.kind == jString {
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
		}
	}
	if rej, ok := scanTopWith(s, "CloudEvent", func(s *scanner) bool { return s.object(0, members) }); !ok {
		return nil, rej, false
	}
	if bad != "" {
		return nil, reject(ReasonBadCloudEvent, "context attribute %s must be a string, got %s", bad, badV.kind), false
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
