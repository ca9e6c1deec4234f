// Package offline runs the decode stage and the work-unit engine over
// records in order, with an in-memory ledger as the engine's History: what
// one partition of the service does, without Kafka and ClickHouse.
// `awumeter process` runs on it, and so do the tests that need the rows a
// stream must produce.
//
//	r, err := offline.New(dec, engineConfig, book)
//	for each record {
//		res, err := r.Record(&rec)  // res.Events, res.Outcomes, res.Rejections
//		rows := r.Emit()            // when the caller wants rows: per record, per poll
//	}
//	rows := r.Flush()
package offline

import (
	"fmt"

	"github.com/awumeter/awumeter/pipeline/deadletter"
	"github.com/awumeter/awumeter/pipeline/decode"
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/event"
	"github.com/awumeter/awumeter/pipeline/price"
)

// Runner decodes records and folds their events into one engine. Events
// the engine accepts go to its in-memory ledger, as the service's go to the
// events table, so a workcycle it evicts and meets again is rebuilt
// exactly. A Runner is not safe for concurrent use.
type Runner struct {
	dec    decode.Decoder
	eng    *engine.Engine
	ledger *engine.MemoryHistory
	evs    []event.Event
	outs   []engine.Outcome
}

// New returns a Runner decoding with dec into an engine of cfg that prices
// with book (nil: the default price book).
func New(dec decode.Decoder, cfg engine.Config, book *price.Book) (*Runner, error) {
	if book == nil {
		book = price.Default()
	}
	ledger := engine.NewMemoryHistory()
	eng, err := engine.New(cfg, engine.Settings{Prices: book, History: ledger})
	if err != nil {
		return nil, err
	}
	return &Runner{dec: dec, eng: eng, ledger: ledger}, nil
}

// Result is what became of one record. Its slices are valid until the next
// call of Record.
type Result struct {
	// Events are the record's decoded events, and Outcomes what the engine
	// did with each.
	Events   []event.Event
	Outcomes []engine.Outcome
	// Rejections are the decoder's, then the engine's refusals (as the
	// service dead-letters them: invalid_event, sum_overflow). A record
	// with any goes to the dead letters once.
	Rejections []decode.Rejection
	// Ignored counts the OTLP spans with nothing to meter.
	Ignored decode.Ignored
}

// Record decodes rec and applies its events in order. An error is a bug
// of the engine's contract (an event the decoder should have rejected),
// not bad input.
func (r *Runner) Record(rec *decode.Record) (Result, error) {
	var res decode.Result
	r.evs, res = r.dec.Decode(rec, r.evs[:0])
	out := Result{Events: r.evs, Rejections: res.Rejections, Ignored: res.Ignored}
	r.outs = r.outs[:0]
	for i := range r.evs {
		o, err := r.eng.Apply(&r.evs[i])
		if err != nil {
			return out, fmt.Errorf("offset %d: %w", rec.Offset, err)
		}
		r.outs = append(r.outs, o)
		if o.Accepted() {
			r.ledger.Add(&r.evs[i])
		}
		if rej, refused := deadletter.Refusal(o, &r.evs[i]); refused {
			out.Rejections = append(out.Rejections[:len(out.Rejections):len(out.Rejections)], rej)
		}
	}
	out.Outcomes = r.outs
	return out, nil
}

// Emit returns the rows of the workcycles that changed and are due (see
// engine.Engine.Emit).
func (r *Runner) Emit() engine.Rows { return r.eng.Emit() }

// Flush returns the rows of every workcycle with changes not yet emitted:
// the end of the input.
func (r *Runner) Flush() engine.Rows { return r.eng.Flush() }

// Run folds records in order, emitting after each, and returns the last
// version of every row.
func Run(dec decode.Decoder, cfg engine.Config, book *price.Book, recs []decode.Record) (engine.Rows, error) {
	r, err := New(dec, cfg, book)
	if err != nil {
		return engine.Rows{}, err
	}
	final := engine.NewFinal()
	for i := range recs {
		if _, err := r.Record(&recs[i]); err != nil {
			return engine.Rows{}, err
		}
		final.Add(r.Emit())
	}
	final.Add(r.Flush())
	return final.Rows(), nil
}
