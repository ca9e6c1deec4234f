package engine

import "github.com/awumeter/awumeter/pipeline/event"

// History returns the stored events of a workcycle: in the service, the
// ClickHouse events ledger; offline, a MemoryHistory.
//
// The engine calls Events once for each workcycle it does not hold in
// memory, before folding that workcycle's first event. Events must return
// every accepted event of the workcycle that the ledger has, in any order,
// and nil for a workcycle it has never seen. Most calls are for new
// workcycles, so an implementation should answer "never seen" cheaply (for
// example from a filter of the ledger's workcycle keys) before it queries.
//
// An error is returned to the caller of Apply unchanged in kind (wrapped);
// the engine's state is untouched, so the caller may retry the same event.
type History interface {
	Events(tenantID, workcycleID string) ([]event.Event, error)
}

// HistoryFunc adapts a function to History.
type HistoryFunc func(tenantID, workcycleID string) ([]event.Event, error)

// Events calls f.
func (f HistoryFunc) Events(tenantID, workcycleID string) ([]event.Event, error) {
	return f(tenantID, workcycleID)
}

// MemoryHistory is an in-memory events ledger: the offline stand-in for the
// ClickHouse events table. Add every accepted event to it. It is not safe
// for concurrent use.
type MemoryHistory struct {
	events map[wcKey][]event.Event
}

// NewMemoryHistory returns an empty ledger.
func NewMemoryHistory() *MemoryHistory {
	return &MemoryHistory{events: map[wcKey][]event.Event{}}
}

// Add stores an accepted event.
func (h *MemoryHistory) Add(ev *event.Event) {
	k := wcKey{tenant: ev.TenantID, id: ev.WorkcycleID}
	h.events[k] = append(h.events[k], *ev)
}

// Events returns the stored events of the workcycle. The slice is shared;
// callers must not modify it.
func (h *MemoryHistory) Events(tenantID, workcycleID string) ([]event.Event, error) {
	return h.events[wcKey{tenant: tenantID, id: workcycleID}], nil
}

// Len is the number of stored events.
func (h *MemoryHistory) Len() int {
	n := 0
	for _, evs := range h.events {
		n += len(evs)
	}
	return n
}
