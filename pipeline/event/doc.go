// Package event defines the v1 telemetry contract as the pipeline sees it
// after decoding: one Event per Kafka record, whatever the wire format.
//
// Every stage after the decoder speaks only this type, so the wire formats
// (native JSON, CloudEvents, OTLP spans) can change without touching the
// work-unit engine, the price book or the sink.
package event
