package sink

import (
	"math"
	"time"

	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/pipeline/guard"
)

// alertRow is an alert with the time the sink wrote it.
type alertRow struct {
	*guard.Alert
	writtenAt time.Time
}

// epoch stands for an absent time in a DateTime column.
var epoch = time.Unix(0, 0).UTC()

func orEpoch(t time.Time) time.Time {
	if t.IsZero() {
		return epoch
	}
	return t.UTC()
}

var alertColumns = concat[alertRow](
	strCol("alert_id", func(r *alertRow) string { return r.ID }),
	dimCol("rule", func(r *alertRow) string { return r.Rule }),
	dimCol("rule_on", func(r *alertRow) string { return r.On }),
	dimCol("metric", func(r *alertRow) string { return r.Metric }),
	decCol("threshold", func(r *alertRow) decimal.Decimal { return r.Threshold }),
	decCol("value", func(r *alertRow) decimal.Decimal { return r.Value }),
	dimCol("tenant_id", func(r *alertRow) string { return r.TenantID }),
	dimCol("agent_id", func(r *alertRow) string { return r.AgentID }),
	strCol("workcycle_id", func(r *alertRow) string { return r.WorkcycleID }),
	strCol("awu_id", func(r *alertRow) string { return r.AWUID }),
	column[alertRow]{name: "window_start", typ: fixed("DateTime('UTC')"), values: func(rows [][]alertRow, s *scratch) any {
		return build(&s.times, rows, func(r *alertRow) time.Time { return orEpoch(r.WindowStart) })
	}},
	timeCols("event_time", func(r *alertRow) time.Time { return orEpoch(r.EventTime) }),
	column[alertRow]{name: "written_at", typ: fixed("DateTime('UTC')"), values: func(rows [][]alertRow, s *scratch) any {
		return build(&s.times, rows, func(r *alertRow) time.Time { return r.writtenAt })
	}},
	column[alertRow]{name: "precedence", typ: fixed("UInt32"), values: func(rows [][]alertRow, s *scratch) any {
		return build(&s.u32s, rows, precedence)
	}},
)

// precedence makes FINAL keep an alert's earliest copy: the highest
// precedence wins, and it falls as written_at grows.
func precedence(r *alertRow) uint32 {
	return math.MaxUint32 - uint32(r.writtenAt.Unix())
}

// alertRows pairs the alerts of parts with the time they are written.
func alertRows(parts []Batch, now time.Time) []alertRow {
	var out []alertRow
	for i := range parts {
		for j := range parts[i].Alerts {
			out = append(out, alertRow{Alert: &parts[i].Alerts[j], writtenAt: now})
		}
	}
	return out
}
