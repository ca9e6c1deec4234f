package engine

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/pipeline/event"
	"github.com/awumeter/awumeter/pipeline/price"
)

// Settings is what code, not the user, provides to an engine.
type Settings struct {
	// Prices prices tokens and list prices; nil means price.Default().
	Prices *price.Book
	// History is the events ledger consulted for workcycles not held in
	// memory; nil means no ledger (every such workcycle is new), which is
	// right only for a stream read from its very beginning.
	History History
}

// ErrOffsetOrder is returned by Apply for an event whose source offset is
// lower than one already applied: one engine reads one partition in order.
var ErrOffsetOrder = errors.New("event offset is lower than an offset already applied")

// Engine groups one partition's events into AWUs and workcycles. It is pure
// and deterministic: no clock, no I/O besides History, no goroutines. It is
// not safe for concurrent use; run one engine per partition.
type Engine struct {
	cfg     config
	prices  *price.Book
	history History
	// maxAWUs is prices.MaxAWUsPerWorkcycle(), read once: it bounds every
	// workcycle's credits.
	maxAWUs int64

	workcycles map[wcKey]*workcycle
	ids        idSet
	strings    stringPool
	// Recycled arrays of workcycle.awus and workcycle.ids.
	awuArrays arrayPool[awu]
	idArrays  arrayPool[idKey]

	// frontier is how far corroborated event time has got (watermark.go);
	// advancedTo is the latest time given to AdvanceTo (unix nanoseconds;
	// math.MinInt64 when none).
	frontier   frontier
	advancedTo int64

	// held is the estimate of the bytes the held workcycles own, without
	// the string pool's (memory.go); retained lists emitted workcycles in
	// order of emission, from retainedHead.
	held         int64
	stale        []*workcycle // folded into since their estimate was settled
	retained     []retainedItem
	retainedHead int
	retainSeq    uint64
	// provisional lists the open workcycles emitted provisionally, in order
	// of emission, from provisionalHead: under memory pressure they are
	// closed early and evicted, as pending ones are.
	provisional     []retainedItem
	provisionalHead int
	// workcyclesPeak is the most workcycles held since the map was last
	// rebuilt (shrinkWorkcycles).
	workcyclesPeak int

	schedule schedule
	reemit   []*workcycle
	pending  offsetQueue
	// lastOffset is the highest source offset applied; -1 before any.
	lastOffset int64

	creditsMemo map[creditsKey]decimal.Decimal
	scratch     []int32 // for changedAWUs
	// For appendModelRows: the time each of an AWU's model rows' provider
	// was seen.
	modelProviderAt []int64

	stats Stats
}

// config is Config in nanoseconds.
type config struct {
	settle, idle, maxDuration, lateness, retention, corroboration int64
	maxBytes                                                      int64
}

// New returns an engine for one partition. cfg is validated first.
func New(cfg Config, set Settings) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid engine configuration: %w", err)
	}
	prices := set.Prices
	if prices == nil {
		prices = price.Default()
	}
	return &Engine{
		cfg: config{
			settle:        int64(cfg.SettleDelay),
			idle:          int64(cfg.IdleTimeout),
			maxDuration:   int64(cfg.MaxDuration),
			lateness:      int64(cfg.AllowedLateness),
			retention:     int64(cfg.ClosedRetention),
			corroboration: int64(cfg.CorroborationWindow),
			maxBytes:      cfg.MaxStateBytes,
		},
		prices:      prices,
		maxAWUs:     prices.MaxAWUsPerWorkcycle(),
		history:     set.History,
		workcycles:  map[wcKey]*workcycle{},
		frontier:    newFrontier(),
		advancedTo:  math.MinInt64,
		lastOffset:  -1,
		awuArrays:   arrayPool[awu]{minCap: 2},
		idArrays:    arrayPool[idKey]{minCap: 8},
		creditsMemo: map[creditsKey]decimal.Decimal{},
	}, nil
}

// Apply folds one event into its workcycle and reports what it did. Only
// events with Outcome.Accepted belong in the events ledger. Rows are not
// produced here; call Emit.
//
// The error is non-nil only when History fails (retryable: the state is
// unchanged, apply the same event again) or the event's offset goes
// backwards (ErrOffsetOrder, a bug in the caller).
func (e *Engine) Apply(ev *event.Event) (Outcome, error) {
	if off := ev.Source.Offset; off < e.lastOffset {
		return 0, fmt.Errorf("%w: %d after %d", ErrOffsetOrder, off, e.lastOffset)
	}
	if !valid(ev) {
		e.lastOffset = ev.Source.Offset
		e.stats.Invalid++
		return OutcomeInvalid, nil
	}
	if o := usageOutcome(ev); o != 0 {
		return e.refuse(ev, o), nil
	}
	id := fingerprint(ev.TenantID, ev.EventID)
	if o, seen := e.seen(id, ev); seen {
		e.lastOffset = ev.Source.Offset
		return o, nil
	}
	wc, ok := e.workcycles[wcKey{ev.TenantID, ev.WorkcycleID}]
	if !ok {
		var err error
		if wc, err = e.load(ev); err != nil {
			return 0, err
		}
		if o, seen := e.seen(id, ev); seen {
			// A duplicate of a stored event: the rebuilt workcycle is
			// emitted again with the same version and identical rows.
			e.lastOffset = ev.Source.Offset
			e.markPending(wc, ev.Source.Offset)
			return o, nil
		}
	}

	if e.mayOverflow(wc, ev) && !e.fits(wc, ev) {
		return e.refuse(ev, OutcomeOverflow), nil
	}

	t := ev.Time.UnixNano()
	e.ids.add(id, ev.ContentHash())
	wc.ids = e.idArrays.appendTo(wc.ids, id)
	e.foldHeld(wc, ev, t)
	wc.fresh = true
	e.lastOffset = ev.Source.Offset
	e.frontier.observe(wc, t, e.cfg.corroboration)
	e.markPending(wc, ev.Source.Offset)

	outcome := OutcomeAccepted
	// Provisional rows do not make a workcycle reopened: only its closing
	// does, or a rebuild from History, where it may have been closed.
	if wc.closed || wc.maybeOpen && !wc.openState {
		outcome = OutcomeReopened
		e.stats.Reopened++
	} else {
		e.stats.Accepted++
	}
	if !wc.closed {
		e.schedule.at(wc, e.closeDeadline(wc))
	}
	return outcome, nil
}

// seen checks the id set: a duplicate or conflict, or not seen.
func (e *Engine) seen(id idKey, ev *event.Event) (Outcome, bool) {
	content, ok := e.ids.get(id)
	if !ok {
		return 0, false
	}
	if content == ev.ContentHash() {
		e.stats.Duplicates++
		return OutcomeDuplicate, true
	}
	e.stats.Conflicts++
	return OutcomeConflict, true
}

// load creates the state of a workcycle not held in memory, rebuilt from
// History when the ledger has events of it.
func (e *Engine) load(ev *event.Event) (*workcycle, error) {
	var stored []event.Event
	if e.history != nil {
		e.stats.HistoryLookups++
		var err error
		stored, err = e.history.Events(ev.TenantID, ev.WorkcycleID)
		if err != nil {
			return nil, fmt.Errorf("cannot read the history of workcycle %q of tenant %q: %w", ev.WorkcycleID, ev.TenantID, err)
		}
	}
	wc := e.newHeld(ev.TenantID, ev.WorkcycleID)
	e.workcycles[wc.key] = wc
	if len(stored) > 0 {
		e.stats.HistoryRebuilds++
		e.rebuild(wc, stored)
	}
	return wc, nil
}

// rebuild folds a workcycle's stored events into its new state. Stored
// times do not move this partition's watermark.
func (e *Engine) rebuild(wc *workcycle, stored []event.Event) {
	wc.emitted, wc.maybeOpen = true, true
	for i := range stored {
		s := &stored[i]
		if !valid(s) || usageOutcome(s) != 0 || s.TenantID != wc.key.tenant || s.WorkcycleID != wc.key.id || !e.fits(wc, s) {
			continue
		}
		id := fingerprint(s.TenantID, s.EventID)
		if _, dup := e.ids.get(id); dup {
			continue // the ledger holds one copy per id; be safe anyway
		}
		e.ids.add(id, s.ContentHash())
		wc.ids = e.idArrays.appendTo(wc.ids, id)
		e.foldHeld(wc, s, s.Time.UnixNano())
	}
	e.schedule.at(wc, e.closeDeadline(wc))
}

// Restore rebuilds, from its stored events, a workcycle that an earlier
// owner of the partition emitted open (its latest StateRow is open), so
// that its closing rule still runs although the committed offset is past
// its events. The stored events must be what History would return. It
// does nothing when the workcycle is held or stored is empty, and reports
// whether it restored. Call it before applying the partition's first
// events; restored workcycles have no pending changes, so they do not hold
// ResumeOffset back, and their closing emits every row again.
func (e *Engine) Restore(tenantID, workcycleID string, stored []event.Event) bool {
	if len(stored) == 0 || e.Holds(tenantID, workcycleID) {
		return false
	}
	wc := e.newHeld(tenantID, workcycleID)
	e.workcycles[wc.key] = wc
	e.rebuild(wc, stored)
	if wc.events == 0 { // nothing valid: forget it
		e.evict(wc)
		return false
	}
	wc.openState = true
	e.retain([]*workcycle{wc}) // closed early under memory pressure, like provisional rows
	e.stats.Restored++
	return true
}

// markPending records that wc has changes to emit, first from offset off.
func (e *Engine) markPending(wc *workcycle, off int64) {
	wc.dirty = true
	if wc.pendingAt < 0 {
		wc.pendingAt = off
		e.pending.push(off, wc)
	}
	if wc.closed && !wc.queued {
		wc.queued = true
		e.reemit = append(e.reemit, wc)
	}
}

// valid checks the contract rules the engine relies on.
// Check is the part of Apply's refusals that depends on ev alone:
// OutcomeInvalid for an event that breaks a contract rule the engine relies
// on, OutcomeOverflow for token usage whose input plus output tokens exceed
// int64, and 0 for an event Apply may accept. The re-key stage dead-letters
// with it, so that such records leave with their original bytes.
func Check(ev *event.Event) Outcome {
	if !valid(ev) {
		return OutcomeInvalid
	}
	return usageOutcome(ev)
}

func valid(ev *event.Event) bool {
	if ev.TenantID == "" || ev.WorkcycleID == "" || ev.EventID == "" {
		return false
	}
	switch ev.Type {
	case event.TypeWorkcycle:
		return true
	case event.TypeTokenUsage, event.TypeToolInvocation:
		return ev.AWUID != "" && ev.Attempt >= 1
	}
	return false
}

// closeDeadline is the watermark at which an open workcycle is emitted.
func (e *Engine) closeDeadline(wc *workcycle) int64 {
	d := satAdd(wc.ended, e.cfg.idle)
	d = min(d, satAdd(wc.started, e.cfg.maxDuration))
	if wc.completedAt != never {
		d = min(d, satAdd(wc.completedAt, e.cfg.settle))
	}
	return d
}

func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// watermark is the event time up to which the partition is considered
// complete: the frontier of event time (the latest event time, unless one
// workcycle is ahead of all others by more than
// engine.corroboration_window; see frontier) minus engine.allowed_lateness,
// or the time given to AdvanceTo if later. ok is false before events of two
// workcycles or an AdvanceTo.
func (e *Engine) watermark() (int64, bool) {
	wm := e.advancedTo
	if e.frontier.at != math.MinInt64 {
		wm = max(wm, e.frontier.at-e.cfg.lateness)
	}
	return wm, wm != math.MinInt64
}

// Watermark returns the partition's event-time watermark; the zero time
// before it is set (events of two workcycles, or AdvanceTo).
func (e *Engine) Watermark() time.Time {
	wm, ok := e.watermark()
	if !ok {
		return time.Time{}
	}
	return time.Unix(0, wm).UTC()
}

// Frontier returns how far the partition's event time has got, the latest
// event time no single outlier can drag forward (engine.corroboration_window);
// the watermark is this minus engine.allowed_lateness. It is the zero time
// until events of two workcycles were applied. AdvanceTo does not move it.
func (e *Engine) Frontier() time.Time {
	if e.frontier.at == math.MinInt64 {
		return time.Time{}
	}
	return time.Unix(0, e.frontier.at).UTC()
}

// AdvanceTo raises the watermark to t if t is later. A service may call it
// for a partition that has gone quiet, so that its workcycles still close;
// that makes emission timing depend on the caller's clock, never the rows'
// final content.
func (e *Engine) AdvanceTo(t time.Time) {
	e.advancedTo = max(e.advancedTo, t.UnixNano())
}

// ResumeOffset returns the smallest source offset still needed to rebuild
// the state not yet emitted: the first unemitted offset of any workcycle
// with pending changes, else the offset after the last one applied. The
// service commits it once ClickHouse has acknowledged everything emitted
// before. ok is false before any event was applied.
func (e *Engine) ResumeOffset() (offset int64, ok bool) {
	if off, ok := e.pending.min(); ok {
		return off, true
	}
	if e.lastOffset < 0 {
		return 0, false
	}
	return e.lastOffset + 1, true
}

// Stats returns the engine's counters.
func (e *Engine) Stats() Stats {
	s := e.stats
	s.Held = len(e.workcycles)
	s.Open = e.pending.live
	s.EventIDs = e.ids.len()
	s.HeldBytes = e.heldBytes()
	s.InternedValues = e.strings.len()
	return s
}
