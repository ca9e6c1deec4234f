// Package deadletter defines what is written for a record the decoders
// reject: a Letter, the Kafka headers it carries to the dead-letter topic, and
// the NDJSON file written in offline mode (awumeter process --dead-letter FILE).
//
// A record goes to the dead letters once, however many of its items were
// rejected (an OTLP record can hold many spans). Its key and value bytes are
// kept untouched so that it can be fixed and replayed; replayed records that
// decoded fine the first time are deduplicated by event_id downstream.
//
// Kafka headers of a letter, after the original record's headers:
//
//	awumeter.dlq.reason            reason code of the first rejection, e.g. missing_field
//	awumeter.dlq.detail            its human detail, e.g. "missing field tenant_id"
//	awumeter.dlq.rejections        number of rejections in the record (decimal)
//	awumeter.dlq.source.topic      topic the record was read from
//	awumeter.dlq.source.partition  its partition (decimal)
//	awumeter.dlq.source.offset     its offset (decimal)
//	awumeter.dlq.source.timestamp  its Kafka timestamp, RFC 3339 in UTC with milliseconds
//
// Original headers whose names start with "awumeter.dlq." are dropped, so a
// replayed letter that fails again carries only the latest reason.
//
// Producing to the dead-letter topic is the service's job; this package only
// says what is sent.
package deadletter
