package source

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"

	"github.com/awumeter/awumeter/internal/backoff"
	"github.com/awumeter/awumeter/pipeline/commit"
	"github.com/awumeter/awumeter/pipeline/deadletter"
	"github.com/awumeter/awumeter/pipeline/decode"
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/event"
	"github.com/awumeter/awumeter/pipeline/guard"
	"github.com/awumeter/awumeter/pipeline/sink"
)

// partition is one assigned partition: its engine and offset tracker. A new
// one is made for every assignment.
type partition struct {
	topic  string
	id     int32
	format string
	dec    decode.Decoder
	eng    *engine.Engine
	track  *commit.Partition

	hist *pollHistory // the engine's History; nil without a ledger

	evs  []event.Event  // the poll's decoded events, reused
	recs []polledRecord // the poll's records, reused

	next   int64     // next offset to process; -1 before the first record
	first  int64     // first offset processed; -1 before
	hw     int64     // high watermark last fetched
	hwGrew time.Time // wall time hw last increased
	// drained: the last fetch that returned the partition returned no
	// record for it, so nothing before hw is left to deliver.
	drained bool
	// transactional: the repartition topic. Its offsets below hw that are
	// never delivered (transaction markers, aborted records) leave hw above
	// next for good, and franz-go returns no fetch at all while nothing
	// new is committed, so drained is not always learnt.
	transactional bool
	maxEvent      time.Time // latest event time applied
	progress      time.Time // wall time next last moved (or the assignment)

	published engine.Stats // the engine's counters last added to the metrics

	// provisional: the engine emits provisional rows every
	// engine.emit_interval (it is set and the History is a StateHistory);
	// openEmitted is when it last did.
	provisional bool
	openEmitted time.Time
	// restored: the open workcycles of earlier owners were restored;
	// restoredAny: there were some, so the partition's watermark may need
	// advancing before any record arrives.
	restored, restoredAny bool
	// guard checks the row rules of guards; nil without any.
	guard *guard.Evaluator
}

// polledRecord is one decoded record of a poll: its events are
// partition.evs[lo:hi].
type polledRecord struct {
	rec    decode.Record
	lo, hi int
	res    decode.Result
}

// process decodes one partition's records from one poll, reads the ledger
// for the workcycles they need, applies them, hands the resulting rows to
// the sink as one transaction, and marks the engine's resume offset.
func (s *Source) process(ctx context.Context, st *partition, recs []*kgo.Record, now time.Time) error {
	st.evs, st.recs = st.evs[:0], st.recs[:0]
	defer func() {
		clear(st.recs) // the records' bytes belong to the poll
		if st.hist != nil {
			st.hist.reset()
		}
	}()
	for _, r := range recs {
		if st.next >= 0 && r.Offset < st.next {
			continue // re-delivered after a fetch reset; already applied
		}
		// Decoded in place: a Record of its own would escape to the heap.
		st.recs = append(st.recs, polledRecord{rec: decode.Record{
			Topic: r.Topic, Partition: r.Partition, Offset: r.Offset,
			Key: r.Key, Value: r.Value, Timestamp: r.Timestamp,
		}})
		pr := &st.recs[len(st.recs)-1]
		if len(r.Headers) > 0 {
			pr.rec.Headers = make([]decode.Header, len(r.Headers))
			for i, h := range r.Headers {
				pr.rec.Headers[i] = decode.Header{Key: h.Key, Value: h.Value}
			}
		}
		pr.lo = len(st.evs)
		st.evs, pr.res = st.dec.Decode(&pr.rec, st.evs)
		pr.hi = len(st.evs)
	}
	s.obs.RecordsRead(st.topic, len(st.recs))
	if err := s.restore(ctx, st); err != nil {
		return err
	}
	if err := s.prefetch(ctx, st, st.evs); err != nil {
		return err
	}

	tx := sink.Batch{Events: make([]event.Event, 0, len(st.evs))}
	if st.hist != nil && len(st.hist.fresh) > 0 {
		tx.Keys = make([]sink.KeyRow, len(st.hist.fresh))
		for i, h := range st.hist.fresh {
			tx.Keys[i] = sink.KeyRow{Topic: st.topic, Partition: st.id, Hash: h}
		}
	}
	// Counted per poll: a labelled counter costs a lookup per call.
	var types [event.TypeWorkcycle + 1]int
	var outcomes [engine.OutcomeOverflow + 1]int
	defer func() {
		for t, n := range types {
			// Events of the repartition topic were counted, with their
			// format, by the re-key stage.
			if n > 0 && st.format != "" {
				s.obs.EventsDecoded(st.format, event.Type(t).String(), n)
			}
		}
		for o, n := range outcomes {
			if n > 0 {
				s.obs.EventOutcomes(engine.Outcome(o).String(), n)
			}
		}
	}()
	for i := range st.recs {
		pr := &st.recs[i]
		rec, res := &pr.rec, pr.res
		rejs := res.Rejections
		for j := pr.lo; j < pr.hi; j++ {
			ev := &st.evs[j]
			if int(ev.Type) < len(types) {
				types[ev.Type]++
			}
			o, err := s.apply(ctx, st, ev)
			if err != nil {
				return err
			}
			if int(o) < len(outcomes) {
				outcomes[o]++
			}
			if ev.Time.After(st.maxEvent) {
				st.maxEvent = ev.Time
			}
			switch o {
			case engine.OutcomeAccepted, engine.OutcomeReopened:
				tx.Events = append(tx.Events, *ev)
				s.countUnpriced(ev)
			case engine.OutcomeConflict:
				s.log.Warn("event id re-sent with different content; the first copy stands",
					zap.String("tenant_id", ev.TenantID), zap.String("event_id", ev.EventID),
					zap.String("topic", rec.Topic), zap.Int32("partition", rec.Partition), zap.Int64("offset", rec.Offset))
			}
			if r, refused := deadletter.Refusal(o, ev); refused {
				rejs = append(slices.Clip(rejs), r)
			}
		}
		s.obs.SpansIgnored(res.Ignored)
		if len(rejs) > 0 {
			if err := s.deadLetter(ctx, st, rec, rejs); err != nil {
				return err
			}
		}
		if st.first < 0 {
			st.first = rec.Offset
		}
		st.next = rec.Offset + 1
	}
	st.progress = now
	return s.emit(ctx, st, tx, now)
}

// emit adds the engine's due rows (and every engine.emit_interval its
// provisional rows) to tx with the alerts they raise, hands tx to the sink
// and marks the resume offset.
func (s *Source) emit(ctx context.Context, st *partition, tx sink.Batch, now time.Time) error {
	rows := s.emitDue(st, now)
	tx.Workcycles, tx.AWUs, tx.AWUModels = rows.Workcycles, rows.AWUs, rows.AWUModels
	tx.States = st.stateRows(rows.States)
	if st.guard != nil {
		tx.Alerts = st.guard.Rows(rows.Workcycles, rows.AWUs)
	}
	if n := len(tx.Workcycles); n > 0 {
		s.obs.RowsEmitted("workcycles", n)
	}
	if n := len(tx.AWUs); n > 0 {
		s.obs.RowsEmitted("awus", n)
	}
	if n := len(tx.AWUModels); n > 0 {
		s.obs.RowsEmitted("awu_models", n)
	}
	if n := len(tx.Events); n > 0 {
		s.obs.RowsEmitted("events", n)
	}
	if tx.Rows() > 0 {
		// Alerts before the batch's ticket: each has a ticket of its own.
		s.raise(st, tx.Alerts)
		t := st.track.Begin()
		id := s.inflight.add(tx.Events)
		s.setBlocked(s.set.Now())
		err := s.set.Sink.Add(ctx, tx, func(err error) {
			if err != nil {
				s.fail(fmt.Errorf("ClickHouse did not acknowledge a batch: %w", err))
				return
			}
			s.inflight.done(id)
			t.Done()
		})
		s.setBlocked(time.Time{})
		if err != nil {
			return fmt.Errorf("cannot hand rows to the sink: %w", err)
		}
	}
	st.track.Mark(st.resumeOffset())
	return nil
}

// resumeOffset is the offset to resume from: the engine's resume offset
// while workcycles have unemitted changes, else the next record (records
// that only produced dead letters or duplicates need no replay).
func (st *partition) resumeOffset() int64 {
	if st.eng.Stats().Open > 0 {
		if lw, ok := st.eng.ResumeOffset(); ok {
			return min(lw, st.next)
		}
	}
	return st.next
}

// apply folds one event, retrying History failures with backoff: the engine
// leaves its state untouched when History fails.
func (s *Source) apply(ctx context.Context, st *partition, ev *event.Event) (engine.Outcome, error) {
	for attempt := 0; ; attempt++ {
		o, err := st.eng.Apply(ev)
		if err == nil {
			return o, nil
		}
		if errors.Is(err, engine.ErrOffsetOrder) || errors.Is(err, sink.ErrQueryTooLarge) {
			return 0, fmt.Errorf("partition %s/%d: %w", st.topic, st.id, err)
		}
		d := s.ledgerRetry.Delay(attempt, s.jitter)
		s.log.Warn("cannot apply event; retrying", zap.String("topic", st.topic), zap.Int32("partition", st.id),
			zap.Int64("offset", ev.Source.Offset), zap.Duration("backoff", d), zap.Error(err))
		if !backoff.Wait(ctx, d) {
			return 0, fmt.Errorf("cannot apply event at %s/%d@%d: %w", st.topic, st.id, ev.Source.Offset, err)
		}
	}
}

// caughtUp reports whether every record the brokers had was processed: hw
// is not above next, or the last fetch found nothing more to deliver, or,
// on the repartition topic, hw has not grown since the last poll that
// processed records of the partition.
func (st *partition) caughtUp() bool {
	return st.hw <= st.next || st.drained || st.transactional && !st.hwGrew.After(st.progress)
}

// advanceIdle moves the watermark of a caught-up partition that has been
// quiet for kafka.idle_advance to the wall clock (or, if its events are
// ahead of the clock, on from the engine's event-time frontier by the quiet
// time), so that its last workcycles close. Final rows do not depend on it:
// a later event reopens a workcycle and it is emitted again with a higher
// version.
func (s *Source) advanceIdle(ctx context.Context, st *partition, now time.Time) error {
	if s.cfg.IdleAdvance <= 0 || st.maxEvent.IsZero() && !st.restoredAny {
		return nil
	}
	// A partition that delivered no record since its assignment, although
	// quiet for kafka.idle_advance, is caught up too: franz-go need not
	// return a fetch without records, so neither hw nor drained is learnt.
	if !st.caughtUp() && st.next >= 0 {
		return nil
	}
	quiet := now.Sub(st.progress)
	if quiet < s.cfg.IdleAdvance {
		return nil
	}
	// From the engine's frontier, not the latest event time: one event
	// dated far ahead must not close every open workcycle of the partition.
	target := now
	if f := st.eng.Frontier(); !f.IsZero() && f.Add(quiet).After(target) {
		target = f.Add(quiet)
	}
	st.eng.AdvanceTo(target)
	return s.emit(ctx, st, sink.Batch{}, now)
}

func (s *Source) countUnpriced(ev *event.Event) {
	if ev.Type != event.TypeTokenUsage {
		return
	}
	if _, ok := s.set.Prices.Rate(ev.Model, ev.Time, ev.InputTokens); ok {
		return
	}
	// Each count on its own: their int64 sum can wrap negative.
	s.obs.UnpricedTokens(max(ev.InputTokens, 0), max(ev.OutputTokens, 0))
	if s.unknown.Seen(ev.Model) {
		s.log.Warn("model has no price in the price book; its tokens are counted as unpriced",
			zap.String("model", ev.Model), zap.String("tenant_id", ev.TenantID))
	}
}
