package source

import (
	"context"
	"errors"
	"fmt"

	"go.uber.org/zap"

	"github.com/awumeter/awumeter/internal/backoff"
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
	EventsOf(ctx context.Context, keys []sink.WorkcycleKey) (map[sink.WorkcycleKey][]event.Event, error)
}

// KeyedHistory is a BatchHistory that also knows which workcycles each
// Kafka partition has stored events of; sink.BoundHistory is one. Given one
// as Settings.History, the source loads a partition's keys when it first
// processes the partition, and reads the ledger only for workcycles among
// them: the first event of a new workcycle costs no ledger read.
type KeyedHistory interface {
	BatchHistory
	// StoredKeys returns the sink.KeyHash of every workcycle with stored
	// events from the partition, in any order, possibly with duplicates.
	// Every key stored in a transaction acknowledged before the call must
	// be among them.
	StoredKeys(ctx context.Context, topic string, partition int32) ([]uint64, error)
}

var _ KeyedHistory = sink.BoundHistory{}

// pollHistory is the History of one partition's engine. Before a poll's
// events are applied, prefetch reads the ledger for every workcycle among
// them that the engine does not hold; the engine's History calls during the
// poll are answered from that. Any other call (none is expected: nothing is
// evicted in the middle of a poll) is answered by a query of its own.
type pollHistory struct {
	inflight *inflight
	ledger   engine.History // the ledger alone
	batch    BatchHistory   // nil: no prefetch
	keyed    KeyedHistory   // nil: every workcycle not held is read
	states   StateHistory   // nil: no provisional rows, nothing to restore
	// stored is the partition's key set, loaded on the first poll; nil
	// before, or without a KeyedHistory.
	stored *keySet
	// fresh are the hashes the poll added to stored, for sink.Batch.Keys
	// and detectSplits.
	fresh []uint64
	// known holds, for each prefetched workcycle, its in-flight and stored
	// events (nil: none); it is emptied after every poll.
	known map[sink.WorkcycleKey][]event.Event
	keys  []sink.WorkcycleKey
}

func newPollHistory(f *inflight, ledger engine.History) *pollHistory {
	h := &pollHistory{inflight: f, ledger: ledger, known: map[sink.WorkcycleKey][]event.Event{}}
	h.batch, _ = ledger.(BatchHistory)
	h.keyed, _ = ledger.(KeyedHistory)
	h.states, _ = ledger.(StateHistory)
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

// prefetch answers, before a poll's events are applied, the History
// lookups of every workcycle among them that the engine does not hold.
//
// A workcycle whose key the partition has never stored (keySet) has no
// stored events: its answer is its in-flight events, with no ledger read,
// and its key joins the set and the poll's transaction (fresh). The others
// (late events of workcycles emitted and evicted, replays after a restart)
// are read from the ledger in a few queries, retried with backoff until
// they succeed or ctx ends.
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
	h.fresh = h.fresh[:0] // kept after the poll for detectSplits
	if h.keyed != nil && h.stored == nil {
		loaded, err := retry(ctx, s, st, "cannot read the workcycle keys", func(ctx context.Context) ([]uint64, error) {
			return h.keyed.StoredKeys(ctx, st.topic, st.id)
		})
		if err != nil {
			return err
		}
		h.stored = newKeySet(loaded)
		s.log.Debug("workcycle keys loaded", zap.String("topic", st.topic), zap.Int32("partition", st.id), zap.Int("keys", h.stored.len()))
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
		if h.stored != nil {
			if hash := sink.KeyHash(k.TenantID, k.WorkcycleID); h.stored.add(hash) {
				h.fresh = append(h.fresh, hash)
				continue // never stored: nothing to read
			}
		}
		h.keys = append(h.keys, k)
	}
	s.obs.WorkcycleLookups("local", len(h.fresh))
	if len(h.keys) == 0 {
		return nil
	}
	s.obs.WorkcycleLookups("ledger", len(h.keys))
	stored, err := retry(ctx, s, st, "cannot read the events ledger", func(ctx context.Context) (map[sink.WorkcycleKey][]event.Event, error) {
		return h.batch.EventsOf(ctx, h.keys)
	})
	if err != nil {
		return err
	}
	for k, evs := range stored {
		if pending, ok := h.known[k]; ok {
			h.known[k] = append(evs, pending...)
		}
	}
	return nil
}

// retry calls read with ctx until it succeeds, ctx ends, or it fails with
// sink.ErrQueryTooLarge, which no retry can cure; it backs off between
// attempts (Source.ledgerRetry) and logs each failure as what.
func retry[T any](ctx context.Context, s *Source, st *partition, what string, read func(context.Context) (T, error)) (T, error) {
	for attempt := 0; ; attempt++ {
		v, err := read(ctx)
		if err == nil {
			return v, nil
		}
		if errors.Is(err, sink.ErrQueryTooLarge) {
			return v, fmt.Errorf("%s for %s/%d: %w", what, st.topic, st.id, err)
		}
		d := s.ledgerRetry.Delay(attempt, s.jitter)
		s.log.Warn(what+"; retrying", zap.String("topic", st.topic), zap.Int32("partition", st.id),
			zap.Duration("backoff", d), zap.Error(err))
		if !backoff.Wait(ctx, d) {
			return v, fmt.Errorf("%s for %s/%d: %w", what, st.topic, st.id, err)
		}
	}
}
