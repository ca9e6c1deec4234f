// Package sink writes awumeter's output to ClickHouse: the events ledger,
// workcycle and AWU rows, and per-model AWU rows.
//
// Writer.Write inserts one Batch with native-protocol column appends, the
// workcycle keys first and then the other tables at once on pooled
// connections, and returns only after ClickHouse acknowledged every row;
// retryable failures are retried, table by table, with capped exponential
// backoff for as long as the context lives, so nothing is dropped. While ClickHouse is down Write blocks, and so
// does Buffer.Add once max_pending_batches sealed batches wait: the consumer
// stops polling, Kafka keeps the records, and memory stays bounded.
//
// Buffer merges many small transactions into large inserts, flushed by row
// count, byte size or interval. Each transaction carries its own AckFunc,
// called after the inserts holding its rows were acknowledged, in the order the
// transactions were added. The caller commits Kafka offsets from the ack, so
// an offset is committed only after every row derived from the records
// before it is in ClickHouse.
//
// Every table is a ReplacingMergeTree keyed by the row's identity, so a
// retried or replayed insert is absorbed and reading with FINAL never counts
// a row twice. See docs/clickhouse.md.
package sink
