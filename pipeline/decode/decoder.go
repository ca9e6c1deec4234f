package decode

import (
	"fmt"
	"strings"
	"time"

	"github.com/awumeter/awumeter/pipeline/event"
)

// Formats a topic's records can be in; kafka.topics[i].format names one.
const (
	FormatJSON        = "json"        // native v1 JSON, one event per record
	FormatCloudEvents = "cloudevents" // CloudEvents 1.0, structured or binary mode
	FormatOTLPProto   = "otlp_proto"  // OTLP ExportTraceServiceRequest, protobuf
	FormatOTLPJSON    = "otlp_json"   // OTLP ExportTraceServiceRequest, OTLP/JSON
)

// Formats returns every format name New accepts, in documentation order.
func Formats() []string {
	return []string{FormatJSON, FormatCloudEvents, FormatOTLPProto, FormatOTLPJSON}
}

// ValidateFormat returns an error naming the allowed formats if format is
// not one of them; the service prefixes it with the YAML key.
func ValidateFormat(format string) error {
	for _, f := range Formats() {
		if f == format {
			return nil
		}
	}
	return fmt.Errorf("must be one of %s, got %q", strings.Join(Formats(), ", "), format)
}

// Header is one Kafka record header.
type Header struct {
	Key   string
	Value []byte
}

// Record is a Kafka record, independent of the client library. Decoders do
// not keep Key, Value or Headers after Decode returns, so the caller may reuse
// their memory.
type Record struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       []byte
	Value     []byte
	Headers   []Header
	Timestamp time.Time
}

// Header returns the value of the last header named key, and whether there is one.
func (r *Record) Header(key string) ([]byte, bool) {
	for i := len(r.Headers) - 1; i >= 0; i-- {
		if r.Headers[i].Key == key {
			return r.Headers[i].Value, true
		}
	}
	return nil, false
}

// Result is what Decode reports besides the events.
type Result struct {
	// Rejections lists why the record, or items in it, did not become
	// events; nil for a clean record. A record with any rejection goes to
	// the dead-letter topic once (see package deadletter); events decoded
	// from its other items are still passed on.
	Rejections []Rejection
	// Ignored counts OTLP spans deliberately not turned into events.
	Ignored Ignored
}

// Ignored counts OTLP spans that are valid but carry nothing to meter. They
// are counted, never dead-lettered.
type Ignored struct {
	NotGenAI        int `json:"not_gen_ai"`        // no operation and no token count of any configured convention: HTTP, database, framework spans
	InvokeAgent     int `json:"invoke_agent"`      // invoke_agent, OpenInference AGENT and CHAIN: totals of child spans, not priced twice
	OtherOperation  int `json:"other_operation"`   // other operations without token counts, e.g. create_agent, RETRIEVER
	FailedModelCall int `json:"failed_model_call"` // model call with an error status and no token usage
}

// Total is the number of ignored spans.
func (i Ignored) Total() int {
	return i.NotGenAI + i.InvokeAgent + i.OtherOperation + i.FailedModelCall
}

// Decoder turns Kafka records into v1 events.
//
// Decode appends the record's events to dst and returns the extended slice.
// Native JSON and CloudEvents records yield at most one event, OTLP records
// one per metered span. Each event's Source is set to the record's position.
// Bad input never panics; it is reported in Result.Rejections.
//
// Decoders are safe for concurrent use.
type Decoder interface {
	Decode(rec *Record, dst []event.Event) ([]event.Event, Result)
}

// New returns the decoder for format, one of Formats(). cfg is validated
// first; a zero Settings uses the wall clock.
func New(format string, cfg Config, set Settings) (Decoder, error) {
	if err := ValidateFormat(format); err != nil {
		return nil, fmt.Errorf("format: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid decoder configuration: %w", err)
	}
	now := set.Now
	if now == nil {
		now = time.Now
	}
	b := bounds{past: cfg.TimeBounds.Past, future: cfg.TimeBounds.Future, now: now}
	lim := newLimits(cfg)
	switch format {
	case FormatJSON:
		return &jsonDecoder{maxBytes: cfg.MaxRecordBytes, bounds: b, limits: lim}, nil
	case FormatCloudEvents:
		return &cloudEventsDecoder{maxBytes: cfg.MaxRecordBytes, bounds: b, limits: lim}, nil
	case FormatOTLPProto:
		return &otlpProtoDecoder{otlpMapper{maxBytes: cfg.MaxRecordBytes, bounds: b, limits: lim, cfg: cfg.OTLP, profiles: resolveProfiles(cfg.OTLP.Conventions)}}, nil
	default:
		return &otlpJSONDecoder{otlpMapper{maxBytes: cfg.MaxRecordBytes, bounds: b, limits: lim, cfg: cfg.OTLP, profiles: resolveProfiles(cfg.OTLP.Conventions)}}, nil
	}
}

// bounds checks event times against the configured window around now.
// TimePrecision is the resolution event times keep. The ClickHouse ledger
// stores milliseconds on every supported server, and a workcycle rebuilt
// from the ledger must equal the one built from the stream, so decoders
// truncate every event time to it.
const TimePrecision = time.Millisecond

type bounds struct {
	past, future time.Duration
	now          func() time.Time
}

func (b bounds) check(t time.Time) (Rejection, bool) {
	now := b.now()
	if t.Before(now.Add(-b.past)) {
		return reject(ReasonTimeBounds, "time %s is more than %s before now", t.Format(time.RFC3339Nano), b.past), false
	}
	if t.After(now.Add(b.future)) {
		return reject(ReasonTimeBounds, "time %s is more than %s after now", t.Format(time.RFC3339Nano), b.future), false
	}
	return Rejection{}, true
}

func single(r Rejection) Result { return Result{Rejections: []Rejection{r}} }
