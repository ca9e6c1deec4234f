package decode

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/awumeter/awumeter/pipeline/event"
	"github.com/awumeter/awumeter/pipeline/format"
)

// Formats a topic's records can be in; kafka.topics[i].format names one.
// The names are spelled in package format, which imports nothing of
// awumeter; these are the same constants.
const (
	FormatJSON        = format.JSON        // native v1 JSON, one event per record
	FormatCloudEvents = format.CloudEvents // CloudEvents 1.0, structured or binary mode
	FormatOTLPProto   = format.OTLPProto   // OTLP ExportTraceServiceRequest, protobuf
	FormatOTLPJSON    = format.OTLPJSON    // OTLP ExportTraceServiceRequest, OTLP/JSON
)

// makeDecoder makes the decoder of one format from a validated Config, its
// time bounds and its limits.
type makeDecoder func(cfg Config, b bounds, lim limits) Decoder

// decoders is the registry of formats: New, ValidateFormat and Formats read
// it and nothing else, so a format is either here, with its constructor, or
// refused. Its keys are exactly format.All(); a test checks that.
var decoders = map[string]makeDecoder{
	format.JSON: func(cfg Config, b bounds, lim limits) Decoder {
		return &jsonDecoder{maxBytes: cfg.MaxRecordBytes, bounds: b, limits: lim}
	},
	format.CloudEvents: func(cfg Config, b bounds, lim limits) Decoder {
		return &cloudEventsDecoder{maxBytes: cfg.MaxRecordBytes, bounds: b, limits: lim}
	},
	format.OTLPProto: func(cfg Config, b bounds, lim limits) Decoder {
		return &otlpProtoDecoder{newOTLPMapper(cfg, b, lim)}
	},
	format.OTLPJSON: func(cfg Config, b bounds, lim limits) Decoder {
		return &otlpJSONDecoder{newOTLPMapper(cfg, b, lim)}
	},
}

func newOTLPMapper(cfg Config, b bounds, lim limits) otlpMapper {
	return otlpMapper{maxBytes: cfg.MaxRecordBytes, bounds: b, limits: lim, cfg: cfg.OTLP, profiles: resolveProfiles(cfg.OTLP.Conventions)}
}

// formats is the registry's keys in documentation order: the order of
// format.All(), then any other key by name.
var formats = func() []string {
	rank := func(f string) int {
		if i := slices.Index(format.All(), f); i >= 0 {
			return i
		}
		return len(decoders)
	}
	fs := slices.Collect(maps.Keys(decoders))
	slices.SortFunc(fs, func(a, b string) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a, b))
	})
	return fs
}()

// Formats returns every format name New accepts, in documentation order:
// json, cloudevents, otlp_proto, otlp_json.
func Formats() []string { return slices.Clone(formats) }

// ValidateFormat returns an error naming the allowed formats if name is not
// one of them; the service prefixes it with the YAML key.
func ValidateFormat(name string) error {
	if _, ok := decoders[name]; !ok {
		return fmt.Errorf("must be one of %s, got %q", strings.Join(formats, ", "), name)
	}
	return nil
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

// New returns the decoder for format name, one of Formats(). cfg is
// validated first; a zero Settings uses the wall clock.
func New(name string, cfg Config, set Settings) (Decoder, error) {
	mk, ok := decoders[name]
	if !ok {
		return nil, fmt.Errorf("format: %w", ValidateFormat(name))
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid decoder configuration: %w", err)
	}
	now := set.Now
	if now == nil {
		now = time.Now
	}
	return mk(cfg, bounds{past: cfg.TimeBounds.Past, future: cfg.TimeBounds.Future, now: now}, newLimits(cfg)), nil
}

// TimePrecision is the resolution event times keep. The ClickHouse ledger
// stores milliseconds on every supported server, and a workcycle rebuilt
// from the ledger must equal the one built from the stream, so decoders
// truncate every event time to it.
const TimePrecision = time.Millisecond

// bounds checks event times against the configured window around now.
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
