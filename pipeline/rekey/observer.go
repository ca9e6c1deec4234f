package rekey

import "github.com/awumeter/awumeter/pipeline/decode"

// Observer receives what the re-key stage counts, once per committed
// transaction (and once per ended transaction for its result), so that
// the service can export it as metrics (internal/metrics.Observer is the
// implementation) without this package depending on any. The methods it
// shares with source.Observer mean the same. It must be safe for
// concurrent use and must not block. Counts (n) are never negative.
type Observer interface {
	// RecordsRead counts records read from an input topic.
	RecordsRead(topic string, n int)
	// EventsDecoded counts decoded events by wire format and event type.
	EventsDecoded(format, eventType string, n int)
	// EventOutcomes counts events refused before the engine, by outcome
	// (invalid).
	EventOutcomes(outcome string, n int)
	// SpansIgnored counts OTLP spans the decoders deliberately skipped.
	SpansIgnored(ig decode.Ignored)
	// DeadLetters counts records dead-lettered for reason.
	DeadLetters(reason string, n int)
	// EventsRekeyed counts events produced to the repartition topic.
	EventsRekeyed(n int)
	// RekeyTransaction counts one ended transaction by result: committed
	// or aborted.
	RekeyTransaction(result string)
	// RekeyLag sets an input partition's records between its last
	// committed transaction and its high watermark.
	RekeyLag(topic string, partition int32, records int64)
	// RekeyLagForgotten drops the lag of a partition no longer owned.
	RekeyLagForgotten(topic string, partition int32)
}

// NopObserver discards everything; the default when Settings.Observer is
// nil.
type NopObserver struct{}

var _ Observer = NopObserver{}

func (NopObserver) RecordsRead(string, int)           {}
func (NopObserver) EventsDecoded(string, string, int) {}
func (NopObserver) EventOutcomes(string, int)         {}
func (NopObserver) SpansIgnored(decode.Ignored)       {}
func (NopObserver) DeadLetters(string, int)           {}
func (NopObserver) EventsRekeyed(int)                 {}
func (NopObserver) RekeyTransaction(string)           {}
func (NopObserver) RekeyLag(string, int32, int64)     {}
func (NopObserver) RekeyLagForgotten(string, int32)   {}
