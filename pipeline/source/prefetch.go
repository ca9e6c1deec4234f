package source

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/event"
	"github.com/awumeter/awumeter/pipeline/sink"
)

// BatchHistory is a History that can also read many workcycles at once;
// sink.BoundHistory is one. Given one as Settings.History, the source reads
// the ledger once per poll and partition for every workcycle the poll's
// events need, instead of once per workcycle.
type BatchHistory interface {
	engine.History
	// EventsOf returns the stored events of every key that has any; keys
	// without events are absent. The answer for each key must be what
	// Events would return.
	EventsOf(keys []sink.WorkcycleKey) (map[sink.WorkcycleKey][]event.Event, error)
}

var _ BatchHistory = sink.BoundHistory{}

// pollHistory is the History of one partition's engine. Before a poll's
// events are applied, prefetch reads the ledger for every workcycle among
// them that the engine does not hold; the engine's History calls during the
// poll are answered from that. Any other call (none is expected: nothing is
// evicted in the middle of a poll) is answered by a query of its own.
type pollHistory struct {
	inflight *inflight
	ledger   engine.History // the ledger alone
	batch    BatchHistory   // nil: no prefetch
	// known holds, for each prefetched workcycle, its in-flight and stored
	// events (nil: none); it is emptied after every poll.
	known map[sink.WorkcycleKey][]event.Event
	keys  []sink.WorkcycleKey
}

func newPollHistory(f *inflight, ledger engine.History) *pollHistory {
	h := &pollHistory{inflight: f, ledger: ledger, known: map[sink.WorkcycleKey][]event.Event{}}
	h.batch, _ = ledger.(BatchHistory)
	return h
}

// Events answers the engine from the prefetched events, or asks the ledger.
func (h *pollHistory) Events(tenant, workcycle string) ([]event.Event, error) {
	if evs, ok := h.known[sink.WorkcycleKey{TenantID: tenant, WorkcycleID: workcycle}]; ok {
		return evs, nil
	}
	return h.inflight.history(h.ledger).Events(tenant, workcycle)
}

// reset forgets the poll's prefetched events.
func (h *pollHistory) reset() {
	clear(h.known)
	clear(h.keys)
	h.keys = h.keys[:0]
}

// prefetch reads the ledger for the workcycles of evs that the engine does
// not hold, retrying with backoff until it succeeds or ctx ends.
//
// The in-flight events of those workcycles are read before the ledger, as
// inflight.history does for one: an event acknowledged after that read was
// inserted before the ledger query began, so every event is in one of the
// two. Nothing of this partition enters the sink between here and the end
// of the poll's Apply calls, so the answer is still complete when the
// engine asks.
func (s *Source) prefetch(ctx context.Context, st *partition, evs []event.Event) error {
	h := st.hist
	if h == nil || h.batch == nil {
		return nil
	}
	for i := range evs {
		ev := &evs[i]
		if ev.TenantID == "" || ev.WorkcycleID == "" {
			continue // the engine refuses it without a lookup
		}
		k := sink.WorkcycleKey{TenantID: ev.TenantID, WorkcycleID: ev.WorkcycleID}
		if _, dup := h.known[k]; dup || st.eng.Holds(k.TenantID, k.WorkcycleID) {
			continue
		}
		h.known[k] = s.inflight.events(k.TenantID, k.WorkcycleID)
		h.keys = append(h.keys, k)
	}
	if len(h.keys) == 0 {
		return nil
	}
	backoff := 100 * time.Millisecond
	for {
		stored, err := h.batch.EventsOf(h.keys)
		if err == nil {
			for k, evs := range stored {
				if pending, ok := h.known[k]; ok {
					h.known[k] = append(evs, pending...)
				}
			}
			return nil
		}
		if errors.Is(err, sink.ErrQueryTooLarge) {
			// Permanent: no retry can shorten an id.
			return fmt.Errorf("cannot read the events ledger for %s/%d: %w", st.topic, st.id, err)
		}
		s.log.Warn("cannot read the events ledger; retrying", zap.String("topic", st.topic), zap.Int32("partition", st.id),
			zap.Int("workcycles", len(h.keys)), zap.Duration("backoff", backoff), zap.Error(err))
		select {
		case <-ctx.Done():
			return fmt.Errorf("cannot read the events ledger for %s/%d: %w", st.topic, st.id, err)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}
