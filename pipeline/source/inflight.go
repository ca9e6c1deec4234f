package source

import (
	"sync"

	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/event"
)

// inflight holds the accepted events handed to the sink and not yet
// acknowledged, so that the engine's History sees its own writes. Without
// it, a workcycle evicted while its latest events still wait in the sink's
// buffer would be rebuilt from an incomplete ledger when a late event
// arrives, and its new row would lack those events.
type inflight struct {
	mu   sync.Mutex
	next uint64
	byWC map[wcKey][]pendingEvent
	byTx map[uint64][]wcKey
}

type wcKey struct{ tenant, workcycle string }

// pendingEvent points into the events of a transaction handed to the
// sink; nobody writes to them after the hand-over.
type pendingEvent struct {
	tx uint64
	ev *event.Event
}

func newInflight() *inflight {
	return &inflight{byWC: map[wcKey][]pendingEvent{}, byTx: map[uint64][]wcKey{}}
}

// add registers a transaction's events and returns its id for done. evs
// must not change until then.
func (f *inflight) add(evs []event.Event) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	tx := f.next
	f.next++
	if len(evs) == 0 {
		return tx
	}
	var keys []wcKey
	for i := range evs {
		k := wcKey{evs[i].TenantID, evs[i].WorkcycleID}
		ps := f.byWC[k]
		if len(ps) == 0 || ps[len(ps)-1].tx != tx {
			keys = append(keys, k) // each key once per transaction
		}
		f.byWC[k] = append(ps, pendingEvent{tx: tx, ev: &evs[i]})
	}
	f.byTx[tx] = keys
	return tx
}

// done forgets a transaction once ClickHouse has its events.
func (f *inflight) done(tx uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range f.byTx[tx] {
		evs := f.byWC[k]
		kept := evs[:0]
		for _, p := range evs {
			if p.tx != tx {
				kept = append(kept, p)
			}
		}
		if len(kept) == 0 {
			delete(f.byWC, k)
		} else {
			clear(evs[len(kept):])
			f.byWC[k] = kept
		}
	}
	delete(f.byTx, tx)
}

func (f *inflight) events(tenant, workcycle string) []event.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	ps := f.byWC[wcKey{tenant, workcycle}]
	if len(ps) == 0 {
		return nil
	}
	out := make([]event.Event, len(ps))
	for i, p := range ps {
		out[i] = *p.ev
	}
	return out
}

// history is the ledger plus the events in flight. The in-flight events are
// read first: an event acknowledged after that read was inserted before
// the ledger is queried, so every event is in one of the two (the engine
// ignores an event id it already has).
func (f *inflight) history(ledger engine.History) engine.History {
	return engine.HistoryFunc(func(tenant, workcycle string) ([]event.Event, error) {
		pending := f.events(tenant, workcycle)
		stored, err := ledger.Events(tenant, workcycle)
		if err != nil {
			return nil, err
		}
		if len(pending) == 0 {
			return stored, nil
		}
		return append(append(make([]event.Event, 0, len(stored)+len(pending)), stored...), pending...), nil
	})
}
