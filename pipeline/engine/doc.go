// Package engine is the work-unit engine: it groups one Kafka partition's
// events into agentic work units (AWUs) and workcycles and turns them into
// versioned, priced rows (WorkcycleRow, AWURow).
//
// The engine is pure and deterministic: events in, rows out. It reads no
// clock (time comes only from event times, through a per-partition
// watermark), starts no goroutines and does no I/O except asking History
// for the stored events of a workcycle it does not hold.
//
// Use, per partition, in offset order:
//
//	e, err := engine.New(cfg, engine.Settings{Prices: book, History: ledger})
//	for each decoded event ev:
//		outcome, err := e.Apply(&ev)    // err: History failed, retry
//		if outcome.Accepted() { write ev to the events ledger }
//	rows := e.Emit()                    // after each batch
//	offset, ok := e.ResumeOffset()      // commit once rows are acknowledged
//
// The invariant: the last version of every row is a function of the set of
// distinct valid events only, never of their order, duplication, partition
// assignment, restarts or timing. A workcycle row's Version is the number
// of distinct events folded into the workcycle; an AWU row's is 2^32 plus
// the number of the AWU's, and an emission writes only the AWUs that
// changed. No sum wraps: an event that would take one past int64 is
// refused (OutcomeOverflow). docs/engine.md states the semantics, the
// closing rules and the memory bound, with a worked example.
//
// Files: config.go (Config, defaults, Validate), engine.go (Engine, Apply,
// watermarks), workcycle.go (the state and the fold of one event),
// emit.go (closing, eviction, rows), schedule.go (deadline heap and
// pending-offset queue), ids.go (event-id fingerprints), intern.go (the
// reference-counted string pool and shared usage keys), memory.go (the
// held-bytes estimate and engine.max_state_bytes), watermark.go (the
// corroborated event-time frontier), history.go (History, MemoryHistory),
// outcome.go (Outcome, Stats), rows.go (the row contract).
package engine
