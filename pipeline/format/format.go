// Package format names the record formats a topic can be in
// (kafka.topics[i].format) and the CloudEvents type names of the v1 events.
//
// It imports nothing of awumeter, so the decoders (package decode), the
// configuration and the load generator (internal/gen), which writes the
// decoders' input, share one spelling of every name without depending on
// each other.
package format

// Record formats; kafka.topics[i].format names one.
const (
	JSON        = "json"        // native v1 JSON, one event per record
	CloudEvents = "cloudevents" // CloudEvents 1.0, structured or binary mode
	OTLPProto   = "otlp_proto"  // OTLP ExportTraceServiceRequest, protobuf
	OTLPJSON    = "otlp_json"   // OTLP ExportTraceServiceRequest, OTLP/JSON
)

// All returns every record format, in documentation order. The decoder
// registry of package decode holds exactly these; its tests say so.
func All() []string {
	return []string{JSON, CloudEvents, OTLPProto, OTLPJSON}
}

// CloudEvents type names of the v1 event types.
const (
	CloudEventTypeTokenUsage     = "io.awumeter.token_usage.v1"
	CloudEventTypeToolInvocation = "io.awumeter.tool_invocation.v1"
	CloudEventTypeWorkcycle      = "io.awumeter.workcycle.v1"
)
