package source

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"

	"github.com/awumeter/awumeter/pipeline/commit"
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/event"
	"github.com/awumeter/awumeter/pipeline/guard"
	"github.com/awumeter/awumeter/pipeline/sink"
)

// StateHistory is a History that also knows which workcycles each Kafka
// partition's engine last emitted open; sink.BoundHistory is one. Only
// with one does the source emit provisional rows (engine.emit_interval):
// they let the committed offset move past open workcycles, which the
// partition's next owner must then restore.
type StateHistory interface {
	// OpenWorkcycles returns the workcycles whose latest stored state row
	// (engine.StateRow) of the partition is open. Every state row stored
	// in a transaction acknowledged before the call must count.
	OpenWorkcycles(ctx context.Context, topic string, partition int32) ([]sink.WorkcycleKey, error)
}

var _ StateHistory = sink.BoundHistory{}

// restore rebuilds, once per assignment and before the partition's first
// events are applied, the workcycles its earlier owners emitted open: the
// committed offset may be past their events, so no replay would bring them
// back, and their closing rules must still run. Their events are read from
// the ledger, as a poll's prefetch reads them, with their in-flight events
// first.
func (s *Source) restore(ctx context.Context, st *partition) error {
	if st.restored {
		return nil
	}
	h := st.hist
	if h == nil || h.states == nil || h.batch == nil {
		st.restored = true
		return nil
	}
	keys, err := retry(ctx, s, st, "cannot read the open workcycles", func(ctx context.Context) ([]sink.WorkcycleKey, error) {
		return h.states.OpenWorkcycles(ctx, st.topic, st.id)
	})
	if err != nil {
		return err
	}
	if len(keys) > 0 {
		known := make(map[sink.WorkcycleKey][]event.Event, len(keys))
		for _, k := range keys {
			known[k] = s.inflight.events(k.TenantID, k.WorkcycleID)
		}
		stored, err := retry(ctx, s, st, "cannot read the events ledger", func(ctx context.Context) (map[sink.WorkcycleKey][]event.Event, error) {
			return h.batch.EventsOf(ctx, keys)
		})
		if err != nil {
			return err
		}
		n := 0
		for _, k := range keys {
			if st.eng.Restore(k.TenantID, k.WorkcycleID, append(stored[k], known[k]...)) {
				n++
			}
		}
		st.restoredAny = n > 0
		s.obs.RestoredWorkcycles(n)
		s.log.Info("open workcycles restored", zap.String("topic", st.topic), zap.Int32("partition", st.id),
			zap.Int("workcycles", n), zap.Int("state_rows_open", len(keys)))
	}
	st.restored = true
	return nil
}

// emitDue returns the engine's rows: EmitOpen's, provisional rows
// included, once engine.emit_interval has passed since the partition's
// last provisional rows, else Emit's.
func (s *Source) emitDue(st *partition, now time.Time) engine.Rows {
	if !st.provisional || now.Sub(st.openEmitted) < s.set.Engine.EmitInterval {
		return st.eng.Emit()
	}
	st.openEmitted = now
	return st.eng.EmitOpen()
}

// stateRows are the engine's state rows of one emission, for the sink.
func (st *partition) stateRows(rows []engine.StateRow) []sink.StateRow {
	if len(rows) == 0 {
		return nil
	}
	out := make([]sink.StateRow, len(rows))
	for i, r := range rows {
		out[i] = sink.StateRow{Topic: st.topic, Partition: st.id, StateRow: r}
	}
	return out
}

// raise produces each alert to guards.topic with a ticket of its own, so
// that the offsets of the rows that raised it are committed only after the
// broker acknowledged it; the alerts also go to the alerts table with the
// rows.
func (s *Source) raise(st *partition, alerts []guard.Alert) {
	for i := range alerts {
		a := &alerts[i]
		s.log.Info("guard alert", zap.String("rule", a.Rule), zap.String("alert_id", a.ID), zap.String("tenant_id", a.TenantID),
			zap.String("workcycle_id", a.WorkcycleID), zap.String("awu_id", a.AWUID), zap.String("value", a.Value.String()))
		value, contentType, err := a.Encode(s.set.Guards.Format)
		if err != nil { // a format Validate accepted: a bug
			s.fail(err)
			return
		}
		kr := kgo.Record{Topic: s.set.Guards.Topic, Key: a.Key(), Value: value,
			Headers: []kgo.RecordHeader{{Key: "content-type", Value: []byte(contentType)}}}
		s.produceAlert(kr, a.Rule, st.track.Begin())
	}
}

// produceAlert produces until the broker acknowledges, backing off between
// attempts, and then finishes the ticket. It gives up only at Close: the
// rows' offsets are then not committed, and a replay raises the alert
// again, with the same id.
func (s *Source) produceAlert(kr kgo.Record, rule string, t commit.Ticket) {
	s.produceAcked(kr, "an alert", 0, func() {
		s.obs.AlertRaised(rule)
		t.Done()
	}, s.obs.AlertFailed, func() {})
}
