package gen

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/awumeter/awumeter/pipeline/event"
	"github.com/awumeter/awumeter/pipeline/format"
)

// Wire formats a Stream can be encoded in. Each is read by the decoder of
// the same name, except FormatCloudEventsBinary, which the cloudevents
// decoder reads too: it tells the two modes apart by the ce_specversion
// header.
const (
	FormatJSON              = format.JSON          // native v1 JSON, one event per record
	FormatCloudEvents       = format.CloudEvents   // CloudEvents 1.0 structured mode
	FormatCloudEventsBinary = "cloudevents-binary" // CloudEvents 1.0 binary mode: ce_* headers, data in the value
	FormatOTLPProto         = format.OTLPProto     // OTLP ExportTraceServiceRequest, protobuf, one span per record
	FormatOTLPJSON          = format.OTLPJSON      // OTLP ExportTraceServiceRequest, OTLP/JSON, one span per record
)

// CloudEventsSource is the source attribute of generated CloudEvents. The
// decoder's event_id is source + " " + id.
const CloudEventsSource = "/awumeter/gen"

// Formats returns every format NewEncoder accepts.
func Formats() []string {
	return []string{FormatJSON, FormatCloudEvents, FormatCloudEventsBinary, FormatOTLPProto, FormatOTLPJSON}
}

// DecoderFormat returns the kafka.topics[].format that reads records encoded
// in format name.
func DecoderFormat(name string) string {
	if name == FormatCloudEventsBinary {
		return FormatCloudEvents
	}
	return name
}

// Header is one Kafka record header.
type Header struct {
	Key   string
	Value []byte
}

// Message is one encoded Kafka record.
type Message struct {
	// Key is the workcycle id, so that every record of a workcycle lands on
	// one partition; nil for malformed records.
	Key     []byte
	Value   []byte
	Headers []Header
	Kind    Kind
}

// Size is the bytes the message carries: key, value and headers.
func (m *Message) Size() int {
	n := len(m.Key) + len(m.Value)
	for _, h := range m.Headers {
		n += len(h.Key) + len(h.Value)
	}
	return n
}

// Encoder turns generated records into Kafka records of one format.
//
// Native JSON and CloudEvents carry every event. OTLP carries model calls
// and tool calls only: a span has no way to say that a workcycle started or
// completed, or that an earlier tool call was validated or rolled back, so
// those events are skipped. Project tells what a consumer of the format sees.
type Encoder struct {
	format string
}

// NewEncoder returns the encoder of format name, one of Formats().
func NewEncoder(name string) (*Encoder, error) {
	if slices.Contains(Formats(), name) {
		return &Encoder{format: name}, nil
	}
	return nil, fmt.Errorf("format: must be one of %s, got %q", strings.Join(Formats(), ", "), name)
}

// Format is the encoder's format.
func (e *Encoder) Format() string { return e.format }

// Encode returns r as a Kafka record, and false when the format cannot carry
// r's event. Malformed records are always encoded: they break the rules of
// the format so that the decoder rejects them.
func (e *Encoder) Encode(r *Record) (Message, bool) {
	if r.Kind == KindMalformed {
		return e.malformed(r.Line), true
	}
	ev := r.Event
	if !e.carries(ev) {
		return Message{}, false
	}
	m := Message{Key: []byte(ev.WorkcycleID), Kind: r.Kind}
	switch e.format {
	case FormatJSON:
		m.Value = r.Line
		m.Headers = []Header{{"content-type", []byte("application/json")}}
	case FormatCloudEvents:
		m.Value = marshal(structuredOf(ev, marshal(dataOf(ev), ev.EventID)), ev.EventID)
		m.Headers = []Header{{"content-type", []byte("application/cloudevents+json")}}
	case FormatCloudEventsBinary:
		m.Value = marshal(dataOf(ev), ev.EventID)
		m.Headers = []Header{
			{"ce_specversion", []byte("1.0")},
			{"ce_id", []byte(ev.EventID)},
			{"ce_source", []byte(CloudEventsSource)},
			{"ce_type", []byte(cloudEventType(ev.Type))},
			{"ce_time", []byte(rfc3339(ev.Time))},
			{"content-type", []byte("application/json")},
		}
	case FormatOTLPProto:
		m.Value = spanOf(ev).proto()
		m.Headers = []Header{{"content-type", []byte("application/x-protobuf")}}
	case FormatOTLPJSON:
		m.Value = spanOf(ev).json()
		m.Headers = []Header{{"content-type", []byte("application/json")}}
	}
	return m, true
}

// carries reports whether the format can express ev.
func (e *Encoder) carries(ev *event.Event) bool {
	if e.format != FormatOTLPProto && e.format != FormatOTLPJSON {
		return true
	}
	switch ev.Type {
	case event.TypeTokenUsage:
		return true
	case event.TypeToolInvocation:
		return ev.Status == event.StatusSucceeded || ev.Status == event.StatusFailed
	}
	return false
}

// Project returns ev as the decoder of the format yields it (Source aside),
// and false when the format cannot carry it. Only the event id changes:
// CloudEvents ids become source + " " + id, OTLP ids trace id + "-" + span
// id, both in a one-to-one way, so duplicates stay duplicates and
// conflicting re-sends stay conflicts.
func (e *Encoder) Project(ev *event.Event) (event.Event, bool) {
	if !e.carries(ev) {
		return event.Event{}, false
	}
	p := *ev
	p.Source = event.Position{}
	switch e.format {
	case FormatCloudEvents, FormatCloudEventsBinary:
		p.EventID = CloudEventsSource + " " + ev.EventID
	case FormatOTLPProto, FormatOTLPJSON:
		s := spanOf(ev)
		p.EventID = fmt.Sprintf("%x-%x", s.traceID, s.spanID)
	}
	return p, true
}

// Events returns the events a consumer of the format decodes from s, in
// delivery order, duplicates and conflicting copies included. Truth rows
// for a topic in this format are computed from them.
func (e *Encoder) Events(s *Stream) []event.Event {
	out := make([]event.Event, 0, len(s.Records))
	for _, r := range s.Records {
		if r.Event == nil {
			continue
		}
		if p, ok := e.Project(r.Event); ok {
			out = append(out, p)
		}
	}
	return out
}

// ceStructured is a structured-mode CloudEvent.
type ceStructured struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Time            string          `json:"time,omitempty"`
	DataContentType string          `json:"datacontenttype"`
	Data            json.RawMessage `json:"data"`
}

func structuredOf(ev *event.Event, data []byte) ceStructured {
	return ceStructured{
		SpecVersion: "1.0", ID: ev.EventID, Source: CloudEventsSource, Type: cloudEventType(ev.Type),
		Time: rfc3339(ev.Time), DataContentType: "application/json", Data: data,
	}
}

// dataOf is the CloudEvents data of ev: the native fields that the envelope
// does not carry.
func dataOf(ev *event.Event) wire {
	w := wireOf(ev)
	w.EventID, w.Type, w.Time = "", "", ""
	return w
}

func cloudEventType(t event.Type) string {
	switch t {
	case event.TypeTokenUsage:
		return format.CloudEventTypeTokenUsage
	case event.TypeToolInvocation:
		return format.CloudEventTypeToolInvocation
	case event.TypeWorkcycle:
		return format.CloudEventTypeWorkcycle
	}
	return "io.awumeter." + t.String() + ".v1"
}

// malformed wraps a malformed native line so that it breaks the rules of
// the format rather than merely being foreign to it: CloudEvents get a
// proper envelope around the bad data, OTLP a span with the same kind of
// defect.
func (e *Encoder) malformed(line []byte) Message {
	m := Message{Kind: KindMalformed}
	var fields struct {
		EventID string `json:"event_id"`
		Type    string `json:"type"`
	}
	_ = json.Unmarshal(line, &fields) // malformed lines may not parse; then the fields stay empty
	if fields.EventID == "" {
		fields.EventID = fmt.Sprintf("bad-%08x", hash32(line))
	}
	ceType := format.CloudEventTypeTokenUsage
	if t, ok := event.ParseType(fields.Type); ok {
		ceType = cloudEventType(t)
	} else if fields.Type != "" {
		ceType = "io.awumeter." + fields.Type + ".v1"
	}
	switch e.format {
	case FormatJSON:
		m.Value = line
	case FormatCloudEvents:
		// Bad JSON in data makes the whole value bad JSON, as a broken
		// producer would send it.
		m.Value = fmt.Appendf(nil, `{"specversion":"1.0","id":%q,"source":%q,"type":%q,"datacontenttype":"application/json","data":%s}`,
			fields.EventID, CloudEventsSource, ceType, line)
		m.Headers = []Header{{"content-type", []byte("application/cloudevents+json")}}
	case FormatCloudEventsBinary:
		m.Value = line
		m.Headers = []Header{
			{"ce_specversion", []byte("1.0")},
			{"ce_id", []byte(fields.EventID)},
			{"ce_source", []byte(CloudEventsSource)},
			{"ce_type", []byte(ceType)},
			{"content-type", []byte("application/json")},
		}
	case FormatOTLPProto, FormatOTLPJSON:
		m.Value = malformedOTLP(e.format, line)
	}
	return m
}

func hash32(b []byte) uint32 {
	h := fnv.New32a()
	h.Write(b)
	return h.Sum32()
}
