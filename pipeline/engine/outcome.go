package engine

// Outcome is what Apply did with one event.
type Outcome uint8

const (
	// OutcomeAccepted: a new distinct event, folded into an open workcycle.
	OutcomeAccepted Outcome = iota + 1
	// OutcomeReopened: a new distinct event for a workcycle already closed
	// (held in memory), or rebuilt from History, where it may have been
	// closed: a late event. It is folded in and the workcycle is emitted
	// again with a higher version. Events of open workcycles count as
	// accepted, provisional rows or not.
	OutcomeReopened
	// OutcomeDuplicate: the (tenant_id, event_id) was seen before with the
	// same content. Ignored.
	OutcomeDuplicate
	// OutcomeConflict: the (tenant_id, event_id) was seen before with
	// different content. The first copy stands; this one is ignored and
	// should be logged and counted.
	OutcomeConflict
	// OutcomeInvalid: the event breaks a contract rule the engine relies on
	// (empty ids, unknown type, attempt < 1). Decoders never pass such
	// events; the engine refuses them rather than crash. Refused.
	OutcomeInvalid
	// OutcomeOverflow: folding the event in would take a sum past the int64
	// range (9,223,372,036,854,775,807): its own input_tokens +
	// output_tokens, its workcycle's summed input_tokens + output_tokens
	// (which bounds every token count and unpriced_tokens of the workcycle's
	// rows), or its workcycle's AWUs beyond price.Book.MaxAWUsPerWorkcycle
	// (which bounds its credits). Refused; the state is unchanged. Which of
	// several such events is refused depends on their order, but no sum ever
	// wraps and no count or amount turns negative.
	OutcomeOverflow
)

// Accepted reports whether the event was folded in as a new distinct event.
// Exactly the accepted events belong in the events ledger.
func (o Outcome) Accepted() bool { return o == OutcomeAccepted || o == OutcomeReopened }

func (o Outcome) String() string {
	switch o {
	case OutcomeAccepted:
		return "accepted"
	case OutcomeReopened:
		return "reopened"
	case OutcomeDuplicate:
		return "duplicate"
	case OutcomeConflict:
		return "conflict"
	case OutcomeInvalid:
		return "invalid"
	case OutcomeOverflow:
		return "overflow"
	}
	return "unknown"
}

// Stats are the engine's counters since it was created, for metrics.
type Stats struct {
	Accepted, Reopened, Duplicates, Conflicts, Invalid int64
	// Overflows counts events refused with OutcomeOverflow.
	Overflows int64

	// HistoryLookups counts History.Events calls; HistoryRebuilds those
	// that returned events.
	HistoryLookups, HistoryRebuilds int64
	// Restored counts workcycles rebuilt by Restore; Provisional counts
	// provisional (open) workcycle rows emitted by EmitOpen.
	Restored, Provisional int64

	// Open is the number of workcycles with changes not yet emitted;
	// Held is every workcycle in memory, open or retained after emission.
	Open, Held int
	// EventIDs is the number of event-id fingerprints held for dedup.
	EventIDs int

	// HeldBytes estimates the bytes of the held state, which Emit keeps
	// within engine.max_state_bytes; InternedValues is the number of
	// strings and usage keys shared among held workcycles.
	HeldBytes      int64
	InternedValues int
	// BudgetEvictions counts workcycles evicted before their retention
	// ended to keep within engine.max_state_bytes, EmittedEarly those among
	// them that were open and emitted before a closing rule held.
	BudgetEvictions, EmittedEarly int64
}
