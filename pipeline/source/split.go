package source

import (
	"time"

	"go.uber.org/zap"

	"github.com/awumeter/awumeter/pipeline/sink"
)

// splitWarnEvery is how often a topic's split workcycles are logged; the
// metric counts every one.
const splitWarnEvery = time.Minute

// detectSplits checks the workcycles st's last poll met for the first time
// against the other partitions this instance owns, of any topic the
// engines read. One found there means records of a workcycle reach two
// engines: two partitions of a topic wrongly declared keyed_by_workcycle,
// or two topics (say lifecycle events on a json topic and spans on an OTLP
// one, re-keyed). Each engine then folds a part of it, and its rows may
// keep either part. Each such meeting is counted in
// awumeter_split_workcycles_total{topic} (st's topic) and, at most once a
// minute per topic, logged with the ids. Partitions owned by other
// instances are not seen, so the count is a sample: with N instances a
// random split is seen about once in N. s.mu must be held and no
// partition processed.
func (s *Source) detectSplits(st *partition, now time.Time) {
	if st.hist == nil || len(st.hist.fresh) == 0 {
		return
	}
	var others []*partition
	for _, o := range s.parts {
		if o != st && o.hist != nil && o.hist.stored != nil {
			others = append(others, o)
		}
	}
	if len(others) == 0 {
		return
	}
	n := 0
	for _, h := range st.hist.fresh {
		for _, o := range others {
			if !o.hist.stored.has(h) {
				continue
			}
			n++
			if now.Sub(s.splitWarned[st.topic]) >= splitWarnEvery {
				s.splitWarned[st.topic] = now
				tenant, workcycle := st.keyOf(h)
				s.log.Warn("a workcycle reached two partitions; each engine folds only its part, and its rows may be incomplete. "+
					"Key its records by workcycle_id with one partitioner, or set keyed_by_workcycle: false on every topic that carries its events "+
					"(further cases are counted in awumeter_split_workcycles_total and logged at most once a minute)",
					zap.String("topic", st.topic), zap.Int32("partition", st.id),
					zap.String("also_on_topic", o.topic), zap.Int32("also_on_partition", o.id),
					zap.String("tenant_id", tenant), zap.String("workcycle_id", workcycle))
			}
			break
		}
	}
	if n > 0 {
		s.obs.SplitWorkcycles(st.topic, n)
	}
}

// keyOf finds the ids of a workcycle of the last poll by its hash.
func (st *partition) keyOf(h uint64) (tenant, workcycle string) {
	for i := range st.evs {
		ev := &st.evs[i]
		if sink.KeyHash(ev.TenantID, ev.WorkcycleID) == h {
			return ev.TenantID, ev.WorkcycleID
		}
	}
	return "", ""
}
