package engine

import (
	"unsafe"

	"github.com/awumeter/awumeter/pipeline/event"
)

// The engine's held state is bounded in bytes by engine.max_state_bytes.
// What a workcycle holds is estimated incrementally, in constant time per
// event, from the sizes of the structures it owns; the string pool counts
// the shared strings once. When an Emit finds the estimate above the
// budget it makes room, in this order:
//
//  1. it evicts emitted workcycles retained for stragglers
//     (engine.closed_retention), the earliest emitted first, including the
//     ones this Emit emits;
//  2. it emits the open workcycles with the oldest unemitted events early
//     and evicts them;
//  3. it does the same with open workcycles whose rows are stored
//     (emitted provisionally and unchanged since, or restored), the
//     earliest emitted first.
//
// Both are safe because an evicted workcycle is rebuilt from History when
// its next event comes, and a row's content depends only on the events
// folded in, never on why it was emitted: an early row is an ordinary
// version, replaced by a higher one when more events come, so the final
// rows are the same. The price is extra History lookups and re-emissions.
// Nothing is evicted between Emits, so the service's per-poll read of the
// ledger stays valid; between two Emits the state may grow by one batch.

// wcMem is a workcycle's share of the memory accounting.
type wcMem struct {
	// bytes is the workcycle's estimate as last added to Engine.held.
	bytes int64
	// extra counts what the estimate cannot see from sizes alone: its AWU
	// ids, further rates of an AWU, attempts above 64, values too many to
	// intern.
	extra int64
	// strs and keys are the pool values it references, in strBuf and
	// keyBuf until they outgrow them: most workcycles reference a few
	// values, and this keeps taking references free of allocations.
	strs   []*internedString
	keys   []*sharedKey
	strBuf [6]*internedString
	keyBuf [3]*sharedKey
	// retained is the sequence number of its latest emission, matching its
	// entry in Engine.retained, or in Engine.provisional while it is open.
	retained uint64
	// stale is set while the workcycle is in Engine.stale: folded into
	// since its estimate was last brought up to date.
	stale bool
}

// Estimated sizes, in bytes. A workcycle's fixed part covers its struct,
// its map entry, and its entries in the schedule and queues; an event's
// covers its 16-byte fingerprint in the workcycle and its slot in the id
// set (32 bytes at a load between 3/8 and 3/4); an AWU index entry is a
// map slot of a string and an int32.
const (
	workcycleBytes  = int64(unsafe.Sizeof(workcycle{})) + 160
	eventBytes      = 16 + 64
	awuBytes        = int64(unsafe.Sizeof(awu{}))
	awuIndexBytes   = 40
	rateUsageBytes  = int64(unsafe.Sizeof(rateUsage{}))
	attemptBytes    = 4
	poolRefBytes    = 8
	idArrayElemSize = int64(unsafe.Sizeof(idKey{}))
)

// estimate is wc's held bytes, from what it holds now. Every term is
// constant time: lengths and capacities, and sums kept as they grow.
func estimate(wc *workcycle) int64 {
	n := workcycleBytes + int64(len(wc.key.id)+len(wc.conversation)) +
		int64(cap(wc.ids))*idArrayElemSize + int64(len(wc.ids))*(eventBytes-idArrayElemSize) +
		int64(cap(wc.awus))*awuBytes +
		refBytes(cap(wc.mem.strs), len(wc.mem.strBuf)) + refBytes(cap(wc.mem.keys), len(wc.mem.keyBuf)) + wc.mem.extra
	if wc.awuIndex != nil {
		n += int64(len(wc.awus)) * awuIndexBytes
	}
	return n
}

// refBytes is the size of a reference array of capacity c beyond the
// workcycle's own buffer of n.
func refBytes(c, n int) int64 {
	if c <= n {
		return 0
	}
	return int64(c) * poolRefBytes
}

// account brings wc's estimate up to date after a fold; from is the number
// of AWUs it had before.
func (e *Engine) account(wc *workcycle, from int) {
	for i := from; i < len(wc.awus); i++ {
		wc.mem.extra += int64(len(wc.awus[i].id))
	}
	n := estimate(wc)
	e.held += n - wc.mem.bytes
	wc.mem.bytes = n
}

// heldBytes is the estimate of everything the engine holds.
func (e *Engine) heldBytes() int64 {
	e.settle()
	return e.held + e.strings.bytes
}

// retainedItem is an emitted workcycle in order of emission.
type retainedItem struct {
	wc  *workcycle
	seq uint64
}

// retain records the emission of out, in order, for eviction under memory
// pressure; entries of workcycles emitted again or evicted since are
// skipped when they reach the front.
func (e *Engine) retain(out []*workcycle) {
	for _, wc := range out {
		if wc.evicted {
			continue
		}
		e.retainSeq++
		wc.mem.retained = e.retainSeq
		if wc.closed {
			e.retained = append(e.retained, retainedItem{wc: wc, seq: e.retainSeq})
		} else {
			e.provisional = append(e.provisional, retainedItem{wc: wc, seq: e.retainSeq})
		}
	}
	e.dropStaleRetained()
	e.provisional, e.provisionalHead = dropStale(e.provisional, e.provisionalHead, e.liveProvisional)
}

// liveProvisional: the entry is the workcycle's latest emission, and it is
// still open.
func (e *Engine) liveProvisional(it retainedItem) bool {
	return !it.wc.evicted && !it.wc.closed && it.wc.mem.retained == it.seq
}

// dropStale drops the entries of q from head that live reports stale, and
// reclaims their space once they are the larger part of q.
func dropStale(q []retainedItem, head int, live func(retainedItem) bool) ([]retainedItem, int) {
	for head < len(q) && !live(q[head]) {
		q[head] = retainedItem{}
		head++
	}
	if head == len(q) {
		return q[:0], 0
	}
	if head > 1024 && head > len(q)/2 {
		n := copy(q, q[head:])
		clear(q[n:])
		return q[:n], 0
	}
	return q, head
}

func (e *Engine) liveRetained(it retainedItem) bool {
	return !it.wc.evicted && it.wc.mem.retained == it.seq
}

// dropStaleRetained drops stale entries from the front and reclaims their
// space once they are the larger part of the queue.
func (e *Engine) dropStaleRetained() {
	e.retained, e.retainedHead = dropStale(e.retained, e.retainedHead, e.liveRetained)
}

// evictRetained evicts emitted workcycles without unemitted changes, the
// earliest emitted first, until the state fits the budget.
func (e *Engine) evictRetained() {
	for e.heldBytes() > e.cfg.maxBytes && e.retainedHead < len(e.retained) {
		it := e.retained[e.retainedHead]
		e.retained[e.retainedHead] = retainedItem{}
		e.retainedHead++
		if !e.liveRetained(it) || it.wc.dirty {
			continue // a dirty one is emitted again and queued anew
		}
		e.evict(it.wc)
		e.stats.BudgetEvictions++
	}
	e.dropStaleRetained()
}

// emitWithinBudget emits out (the workcycles due at the watermark) and, when
// the state is over engine.max_state_bytes, makes room as described at the
// top of this file.
func (e *Engine) emitWithinBudget(out []*workcycle) Rows {
	defer e.shrinkWorkcycles()
	if e.heldBytes() <= e.cfg.maxBytes {
		return e.emit(out)
	}
	e.evictRetained()
	var early []*workcycle
	if over := e.heldBytes() - e.cfg.maxBytes; over > 0 {
		// Everything closed now can be evicted after it is emitted.
		for _, wc := range out {
			wc.listed = true
			if wc.closed {
				over -= wc.mem.bytes
			}
		}
		closeEarly := func(wc *workcycle) {
			wc.closed = true
			if !wc.listed { // else a provisional row of EmitOpen's
				wc.listed = true
				out = append(out, wc)
			}
			early = append(early, wc)
			over -= wc.mem.bytes
		}
		e.pending.each(func(wc *workcycle) bool {
			if over <= 0 {
				return false
			}
			if !wc.closed {
				closeEarly(wc)
			}
			return true
		})
		// Then the open workcycles emitted provisionally and unchanged
		// since, the earliest emitted first: their rows are stored, so
		// closing them writes only their closed rows.
		for over > 0 && e.provisionalHead < len(e.provisional) {
			it := e.provisional[e.provisionalHead]
			e.provisional[e.provisionalHead] = retainedItem{}
			e.provisionalHead++
			if e.liveProvisional(it) {
				closeEarly(it.wc)
			}
		}
		for _, wc := range out {
			wc.listed = false
		}
	}
	rows := e.emit(out)
	for _, wc := range early {
		e.evict(wc)
	}
	e.stats.EmittedEarly += int64(len(early))
	e.stats.BudgetEvictions += int64(len(early))
	e.evictRetained()
	return rows
}

// shrinkWorkcycles rebuilds the workcycles map once it holds less than an
// eighth of its peak: Go maps do not shrink, and the map of a burst of
// workcycles would otherwise keep its size after they are evicted.
func (e *Engine) shrinkWorkcycles() {
	n := len(e.workcycles)
	if e.workcyclesPeak < 4096 || n > e.workcyclesPeak/8 {
		return
	}
	m := make(map[wcKey]*workcycle, n)
	for k, wc := range e.workcycles {
		m[k] = wc
	}
	e.workcycles, e.workcyclesPeak = m, n
}

// release gives back what an evicted workcycle held.
func (e *Engine) release(wc *workcycle) {
	e.held -= wc.mem.bytes
	wc.mem.bytes = 0
	e.strings.release(wc)
	e.frontier.detach(wc)
}

// newHeld creates the state of a workcycle, holding its strings.
func (e *Engine) newHeld(tenantID, workcycleID string) *workcycle {
	wc := newWorkcycle(wcKey{})
	e.strings.owner = wc
	wc.key = wcKey{tenant: e.strings.intern(tenantID), id: e.strings.clone(workcycleID)}
	e.strings.owner = nil
	e.account(wc, 0)
	e.workcyclesPeak = max(e.workcyclesPeak, len(e.workcycles)+1)
	return wc
}

// foldHeld folds ev into wc, with wc holding the strings it interns, and
// updates wc's memory estimate.
func (e *Engine) foldHeld(wc *workcycle, ev *event.Event, t int64) {
	from := len(wc.awus)
	e.strings.owner = wc
	e.fold(wc, ev, t)
	e.strings.owner = nil
	if ev.Attempt > 64 {
		wc.mem.extra += attemptBytes
	}
	for i := from; i < len(wc.awus); i++ {
		wc.mem.extra += int64(len(wc.awus[i].id))
	}
	// The estimate itself is brought up to date once per workcycle and
	// Emit, not once per event (settle).
	if !wc.mem.stale {
		wc.mem.stale = true
		e.stale = append(e.stale, wc)
	}
}

// settle brings the estimates of the workcycles folded into since the last
// call up to date, and with them Engine.held.
func (e *Engine) settle() {
	for _, wc := range e.stale {
		wc.mem.stale = false
		if wc.evicted { // release took its last estimate out of held
			continue
		}
		n := estimate(wc)
		e.held += n - wc.mem.bytes
		wc.mem.bytes = n
	}
	clear(e.stale)
	e.stale = e.stale[:0]
}
