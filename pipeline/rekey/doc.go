// Package rekey is the re-key stage of `awumeter run`. It makes results
// independent of how producers partition their records.
//
// The engines need every event of a workcycle on one partition. Topics not
// declared kafka.topics[i].keyed_by_workcycle (by default the OTLP ones:
// the OpenTelemetry Collector keys by trace id or not at all) are consumed
// here instead, by the consumer group "<group>-rekey". Each record is
// decoded; its events are produced to the repartition topic
// "<group>-rekey-repartition" in event.AppendBinary's encoding, keyed by
// (tenant_id, workcycle_id), and the engines consume that topic.
//
// Each poll, with the polls that follow it at once (up to four, or 200ms),
// is one Kafka transaction (franz-go's GroupTransactSession):
// the re-keyed events, the poll's dead letters and the input offsets commit
// together or not at all, so a crash neither loses nor duplicates a
// re-keyed event, and the engines read the repartition topic read_committed.
// Rejected records, and events the engine would refuse on their own
// (engine.Check), are dead-lettered here, with their original bytes, and
// never reach the repartition topic. Only a refusal that depends on a
// workcycle's state (a sum past int64) happens in the engines, whose letter
// holds the repartition record; its awumeter.rekey.source.* headers name
// the original.
//
//	input ──decode──▶ events ──engine.Check──▶ repartition topic (key: tenant, workcycle)
//	        └── rejections ──────────────────▶ dead-letter topic
//	input offsets ─────────────────────────────▶ committed in the same transaction
package rekey
