// Package decode turns Kafka records into v1 events (package event), or into
// rejections that say why not. It is the pipeline's decode stage.
//
// The API is small:
//
//	d, err := decode.New(format, cfg, decode.Settings{})   // format: one of Formats()
//	events, res := d.Decode(rec, events[:0])               // rec: *decode.Record
//	for _, r := range res.Rejections { ... }               // r.Reason, r.Detail
//
// Formats, chosen per topic (kafka.topics[i].format):
//
//   - json: the native v1 contract, one event object per record.
//   - cloudevents: CloudEvents 1.0 in structured mode
//     (application/cloudevents+json) or binary mode (ce_* headers, the event
//     object in the value). event_id is source + " " + id.
//   - otlp_proto, otlp_json: OTLP trace exports as the OpenTelemetry
//     Collector's Kafka exporter writes them, read under the GenAI
//     conventions the topic lists (Conventions: otel-genai, openinference,
//     openllmetry, each a table from attributes to event fields in
//     conventions.go). Model-call, embeddings and tool spans become
//     token_usage and tool_invocation events; spans with token counts but
//     no priced operation are priced by their model, or rejected
//     (usage_without_operation) without one; other spans are counted in
//     Result.Ignored.
//
// A rejected record never stops the pipeline: the caller counts
// Result.Rejections by Reason and sends the record to the dead letters once
// (package deadletter), while the events decoded from its other items go on.
// Reasons are stable codes (see Reasons); details are for people.
//
// Every event, whatever its format, is held to size bounds: token counts to
// Config.MaxTokensPerEvent (so no per-event sum can wrap int64), ids and
// labels to Config.MaxIDBytes and MaxLabelBytes bytes. Integers must be exact
// in their decimal text, and a repeated JSON key's last value wins in every
// JSON format.
//
// The native JSON and CloudEvents decoders read records with a strict
// single-pass scanner that validates RFC 8259 while it picks out the known
// fields and copies an event's strings out with one allocation, so events
// never alias the record's memory. docs/contract.md documents the contract,
// the field mappings and the configuration keys.
package decode
