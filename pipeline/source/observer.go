package source

import "github.com/awumeter/awumeter/pipeline/decode"

// Observer receives what the source counts, so that the service can export
// it as metrics (internal/metrics.Observer is the implementation) without
// this package depending on any. Calls come from the polling goroutine,
// the partition workers, the rebalance callbacks and franz-go's produce
// callbacks, several at once: an Observer must be safe for concurrent use
// and must not block. Counts (n) are never negative.
//
// Embed NopObserver to implement only some methods.
type Observer interface {
	// RecordsRead counts Kafka records read from topic.
	RecordsRead(topic string, n int)
	// EventsDecoded counts decoded events by wire format and event type.
	EventsDecoded(format, eventType string, n int)
	// EventOutcomes counts what the engine did with events (engine.Outcome).
	EventOutcomes(outcome string, n int)
	// SpansIgnored counts OTLP spans the decoders deliberately skipped.
	SpansIgnored(ig decode.Ignored)
	// DeadLetters counts records dead-lettered for reason: acknowledged by
	// the dead-letter topic, or dropped when none is configured.
	DeadLetters(reason string, n int)
	// DeadLetterFailed counts one failed produce of a dead letter; it is
	// retried.
	DeadLetterFailed()
	// DeadLetterBuffered adds delta (negative once acknowledged) to the
	// bytes of dead letters produced but not yet acknowledged.
	DeadLetterBuffered(delta int64)
	// UnpricedTokens counts the tokens of accepted token_usage events
	// whose model has no price.
	UnpricedTokens(input, output int64)
	// RowsEmitted counts the rows the engines emitted into table
	// (workcycles, awus, awu_models, events).
	RowsEmitted(table string, n int)
	// EngineCounts counts workcycles evicted over engine.max_state_bytes,
	// the open ones among them emitted early, and provisional rows.
	EngineCounts(budgetEvictions, emittedEarly, provisionalRows int64)
	// RestoredWorkcycles counts open workcycles rebuilt from state rows.
	RestoredWorkcycles(n int)
	// WorkcycleLookups counts workcycles the engine did not hold, by how
	// their stored events were found: "local" or "ledger".
	WorkcycleLookups(via string, n int)
	// SplitWorkcycles counts workcycles met on a second partition.
	SplitWorkcycles(topic string, n int)
	// AlertRaised counts one alert of rule acknowledged by the alerts topic.
	AlertRaised(rule string)
	// AlertFailed counts one failed produce of an alert; it is retried.
	AlertFailed()
	// Rebalanced counts one rebalance callback: assigned, revoked or lost.
	Rebalanced(kind string)
	// PartitionsOwned is the number of partitions now assigned.
	PartitionsOwned(n int)
	// OffsetCommitted counts one partition's offset commit; err is nil
	// on success.
	OffsetCommitted(err error)
	// PartitionOffsets sets a partition's committed offset (-1: none yet)
	// and its lag behind the high watermark.
	PartitionOffsets(topic string, partition int32, committed, lag int64)
	// PartitionEngine sets a partition's open and held workcycles and the
	// engine's estimated state bytes.
	PartitionEngine(topic string, partition int32, open, held int, stateBytes int64)
	// PartitionKeys sets the size of a partition's stored-workcycle set.
	PartitionKeys(topic string, partition int32, keys int)
	// PartitionForgotten drops every series of a partition no longer
	// owned.
	PartitionForgotten(topic string, partition int32)
}

// NopObserver discards everything; the default when Settings.Observer is
// nil.
type NopObserver struct{}

var _ Observer = NopObserver{}

func (NopObserver) RecordsRead(string, int)                        {}
func (NopObserver) EventsDecoded(string, string, int)              {}
func (NopObserver) EventOutcomes(string, int)                      {}
func (NopObserver) SpansIgnored(decode.Ignored)                    {}
func (NopObserver) DeadLetters(string, int)                        {}
func (NopObserver) DeadLetterFailed()                              {}
func (NopObserver) DeadLetterBuffered(int64)                       {}
func (NopObserver) UnpricedTokens(int64, int64)                    {}
func (NopObserver) RowsEmitted(string, int)                        {}
func (NopObserver) EngineCounts(int64, int64, int64)               {}
func (NopObserver) RestoredWorkcycles(int)                         {}
func (NopObserver) WorkcycleLookups(string, int)                   {}
func (NopObserver) SplitWorkcycles(string, int)                    {}
func (NopObserver) AlertRaised(string)                             {}
func (NopObserver) AlertFailed()                                   {}
func (NopObserver) Rebalanced(string)                              {}
func (NopObserver) PartitionsOwned(int)                            {}
func (NopObserver) OffsetCommitted(error)                          {}
func (NopObserver) PartitionOffsets(string, int32, int64, int64)   {}
func (NopObserver) PartitionEngine(string, int32, int, int, int64) {}
func (NopObserver) PartitionKeys(string, int32, int)               {}
func (NopObserver) PartitionForgotten(string, int32)               {}
