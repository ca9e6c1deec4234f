package sink

import (
	"context"
	"fmt"

	"github.com/awumeter/awumeter/pipeline/engine"
)

// StateRow is a row of table workcycle_states: an engine.StateRow of the
// engine of one Kafka partition.
type StateRow struct {
	Topic     string
	Partition int32
	engine.StateRow
}

// stateVersion orders a workcycle's state rows: 2 × its version, plus 1
// when closed, so a closed row replaces the open rows of its version and
// below, and an open row after a reopening (a higher version) replaces it.
func stateVersion(r *StateRow) uint64 {
	v := 2 * r.Version
	if !r.Open {
		v++
	}
	return v
}

func stateName(r *StateRow) string {
	if r.Open {
		return engine.StateOpen
	}
	return engine.StateClosed
}

var stateColumns = concat[StateRow](
	strCol("kafka_topic", func(r *StateRow) string { return r.Topic }),
	i32Col("kafka_partition", func(r *StateRow) int32 { return r.Partition }),
	strCol("tenant_id", func(r *StateRow) string { return r.TenantID }),
	strCol("workcycle_id", func(r *StateRow) string { return r.WorkcycleID }),
	dimCol("state", stateName),
	u64Col("version", stateVersion),
)

// OpenWorkcycles returns the workcycles whose latest row in table
// workcycle_states, for one Kafka partition, says open: those the
// partition's earlier owners emitted open and have not closed. The new
// owner restores them (engine.Engine.Restore) before it applies the
// partition's first records. It reads the partition's state rows, about
// one per workcycle ever emitted open once merged.
func (h *History) OpenWorkcycles(ctx context.Context, topic string, partition int32) ([]WorkcycleKey, error) {
	rows, err := h.conn.Query(ctx, h.open, topic, partition)
	if err != nil {
		return nil, fmt.Errorf("cannot read the open workcycles of %s/%d: %w", topic, partition, err)
	}
	defer rows.Close()
	var out []WorkcycleKey
	for rows.Next() {
		var k WorkcycleKey
		if err := rows.Scan(&k.TenantID, &k.WorkcycleID); err != nil {
			return nil, fmt.Errorf("cannot read the open workcycles of %s/%d: %w", topic, partition, err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read the open workcycles of %s/%d: %w", topic, partition, err)
	}
	return out, nil
}

// OpenWorkcycles is History.OpenWorkcycles bounded by the timeout.
func (b BoundHistory) OpenWorkcycles(ctx context.Context, topic string, partition int32) ([]WorkcycleKey, error) {
	var out []WorkcycleKey
	err := withTimeout(ctx, b.timeout, func(ctx context.Context) error {
		var err error
		out, err = b.h.OpenWorkcycles(ctx, topic, partition)
		return err
	})
	return out, err
}
