package metrics

import (
	"strconv"

	"github.com/awumeter/awumeter/pipeline/decode"
)

// Observer reports what the pipeline stages observe as these metrics: it
// implements source.Observer and rekey.Observer (checked in
// internal/service, which wires them), so that those packages need not
// import this one. The series and their labels are the ones named on each
// field of Metrics. It is safe for concurrent use.
type Observer struct{ m *Metrics }

// Observer returns the stages' view of m.
func (m *Metrics) Observer() Observer { return Observer{m} }

// RecordsRead adds to awumeter_records_total{topic}.
func (o Observer) RecordsRead(topic string, n int) { addN(o.m.Records.WithLabelValues(topic), n) }

// EventsDecoded adds to awumeter_events_total{format,type}.
func (o Observer) EventsDecoded(format, eventType string, n int) {
	addN(o.m.Events.WithLabelValues(format, eventType), n)
}

// EventOutcomes adds to awumeter_event_outcomes_total{outcome}.
func (o Observer) EventOutcomes(outcome string, n int) {
	addN(o.m.Outcomes.WithLabelValues(outcome), n)
}

// SpansIgnored adds to awumeter_ignored_spans_total{kind}.
func (o Observer) SpansIgnored(ig decode.Ignored) { o.m.AddIgnoredSpans(ig) }

// DeadLetters adds to awumeter_dead_letters_total{reason}.
func (o Observer) DeadLetters(reason string, n int) {
	addN(o.m.DeadLetters.WithLabelValues(reason), n)
}

// DeadLetterFailed increments awumeter_dead_letter_errors_total.
func (o Observer) DeadLetterFailed() { o.m.DeadLetterErrs.Inc() }

// DeadLetterBuffered moves awumeter_dead_letter_buffered_bytes by delta.
func (o Observer) DeadLetterBuffered(delta int64) { o.m.DeadLetterBytes.Add(float64(delta)) }

// UnpricedTokens adds to awumeter_unpriced_tokens_total.
func (o Observer) UnpricedTokens(input, output int64) {
	AddCounts(o.m.UnpricedTokens, input, output)
}

// RowsEmitted adds to awumeter_rows_emitted_total{table}.
func (o Observer) RowsEmitted(table string, n int) { addN(o.m.RowsEmitted.WithLabelValues(table), n) }

// EngineCounts adds to awumeter_engine_budget_evictions_total,
// awumeter_engine_emitted_early_total and awumeter_provisional_rows_total.
func (o Observer) EngineCounts(budgetEvictions, emittedEarly, provisionalRows int64) {
	AddCounts(o.m.BudgetEvictions, budgetEvictions)
	AddCounts(o.m.EmittedEarly, emittedEarly)
	AddCounts(o.m.ProvisionalRows, provisionalRows)
}

// RestoredWorkcycles adds to awumeter_restored_workcycles_total.
func (o Observer) RestoredWorkcycles(n int) { addN(o.m.RestoredWorkcycles, n) }

// WorkcycleLookups adds to awumeter_workcycle_lookups_total{via}.
func (o Observer) WorkcycleLookups(via string, n int) {
	addN(o.m.WorkcycleLookups.WithLabelValues(via), n)
}

// SplitWorkcycles adds to awumeter_split_workcycles_total{topic}.
func (o Observer) SplitWorkcycles(topic string, n int) {
	addN(o.m.SplitWorkcycles.WithLabelValues(topic), n)
}

// AlertRaised increments awumeter_alerts_total{rule}.
func (o Observer) AlertRaised(rule string) { o.m.Alerts.WithLabelValues(rule).Inc() }

// AlertFailed increments awumeter_alert_errors_total.
func (o Observer) AlertFailed() { o.m.AlertErrors.Inc() }

// Rebalanced increments awumeter_rebalances_total{kind}.
func (o Observer) Rebalanced(kind string) { o.m.Rebalances.WithLabelValues(kind).Inc() }

// PartitionsOwned sets awumeter_assigned_partitions.
func (o Observer) PartitionsOwned(n int) { o.m.AssignedPartitions.Set(float64(n)) }

// OffsetCommitted increments awumeter_commits_total, or
// awumeter_commit_errors_total when err is not nil.
func (o Observer) OffsetCommitted(err error) {
	if err != nil {
		o.m.CommitErrors.Inc()
		return
	}
	o.m.Commits.Inc()
}

// PartitionOffsets sets awumeter_committed_offset and
// awumeter_consumer_lag of the partition.
func (o Observer) PartitionOffsets(topic string, partition int32, committed, lag int64) {
	o.m.SetPartition(topic, partition, committed, lag)
}

// PartitionEngine sets awumeter_open_workcycles, awumeter_held_workcycles
// and awumeter_engine_state_bytes of the partition.
func (o Observer) PartitionEngine(topic string, partition int32, open, held int, stateBytes int64) {
	o.m.SetWorkcycles(topic, partition, open, held, stateBytes)
}

// PartitionKeys sets awumeter_workcycle_keys of the partition.
func (o Observer) PartitionKeys(topic string, partition int32, keys int) {
	o.m.SetWorkcycleKeys(topic, partition, keys)
}

// PartitionForgotten deletes the partition's series.
func (o Observer) PartitionForgotten(topic string, partition int32) {
	o.m.ForgetPartition(topic, partition)
}

// EventsRekeyed adds to awumeter_rekeyed_events_total.
func (o Observer) EventsRekeyed(n int) { addN(o.m.RekeyedEvents, n) }

// RekeyTransaction increments awumeter_rekey_transactions_total{result}.
func (o Observer) RekeyTransaction(result string) {
	o.m.RekeyTransactions.WithLabelValues(result).Inc()
}

// RekeyLag sets awumeter_rekey_lag of an input partition.
func (o Observer) RekeyLag(topic string, partition int32, records int64) {
	o.m.RekeyLag.WithLabelValues(topic, strconv.Itoa(int(partition))).Set(float64(max(records, 0)))
}

// RekeyLagForgotten deletes awumeter_rekey_lag of a partition no longer
// owned.
func (o Observer) RekeyLagForgotten(topic string, partition int32) {
	o.m.RekeyLag.DeleteLabelValues(topic, strconv.Itoa(int(partition)))
}

// addN adds a count; one that is not positive adds nothing.
func addN(c interface{ Add(float64) }, n int) {
	if n > 0 {
		c.Add(float64(n))
	}
}
