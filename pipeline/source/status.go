package source

import (
	"sort"
	"time"
)

// PartitionStatus is a snapshot of one assigned partition, for readiness
// and for tests.
type PartitionStatus struct {
	Topic     string
	Partition int32
	// Next is the next offset to process; -1 before the first record.
	Next int64
	// HighWatermark is the partition's end offset as last fetched.
	HighWatermark int64
	// Committed is the last committed offset; -1 before the first commit.
	Committed int64
	// Progress is the wall time Next last moved, or the assignment.
	Progress time.Time
	// OpenWorkcycles have changes not yet emitted.
	OpenWorkcycles int
	// CaughtUp: every record the brokers had was processed (see
	// partition.caughtUp); offsets below the high watermark that are never
	// delivered (transaction markers, aborted records) wait for nothing.
	CaughtUp bool
}

// Pending is the number of records fetched-ready but not yet processed,
// as far as the last fetch knew: 0 once the partition is caught up.
func (p PartitionStatus) Pending() int64 {
	if p.CaughtUp {
		return 0
	}
	next := p.Next
	if next < 0 {
		next = p.Committed
	}
	if next < 0 {
		next = 0
	}
	return max(p.HighWatermark-next, 0)
}

// Status is a snapshot of the member. It never waits for a poll in
// progress, so a probe can read it while the sink blocks.
type Status struct {
	Partitions []PartitionStatus
	// BlockedSince is when the sink started refusing rows (its queue is
	// full), or zero.
	BlockedSince time.Time
	// Err is the fatal error, once there is one.
	Err error
}

// Status returns the current snapshot.
func (s *Source) Status() Status {
	s.statusMu.Lock()
	out := Status{BlockedSince: s.blocked}
	for _, p := range s.status {
		out.Partitions = append(out.Partitions, p)
	}
	s.statusMu.Unlock()
	out.Err = s.Err()
	sort.Slice(out.Partitions, func(i, j int) bool {
		a, b := out.Partitions[i], out.Partitions[j]
		if a.Topic != b.Topic {
			return a.Topic < b.Topic
		}
		return a.Partition < b.Partition
	})
	return out
}

// setBlocked records that a partition's sink.Add started (t) or ended
// (zero); BlockedSince is when the oldest Add still waiting started.
func (s *Source) setBlocked(t time.Time) {
	s.statusMu.Lock()
	if t.IsZero() {
		if s.adding--; s.adding == 0 {
			s.blocked = time.Time{}
		}
	} else if s.adding++; s.adding == 1 {
		s.blocked = t
	}
	s.statusMu.Unlock()
}

// publish copies a partition's state into the snapshot and the metrics.
// Called with s.mu held.
func (s *Source) publish(st *partition) {
	stats := st.eng.Stats()
	ps := PartitionStatus{
		Topic: st.topic, Partition: st.id, Next: st.next, HighWatermark: st.hw,
		Committed: st.track.LastCommitted(), Progress: st.progress, OpenWorkcycles: stats.Open,
		CaughtUp: st.caughtUp(),
	}
	s.statusMu.Lock()
	s.status[topicPartition{st.topic, st.id}] = ps
	s.statusMu.Unlock()
	base := ps.Committed
	if base < 0 {
		base = st.first
	}
	if base >= 0 {
		s.obs.PartitionOffsets(st.topic, st.id, ps.Committed, st.hw-base)
	}
	s.obs.PartitionEngine(st.topic, st.id, stats.Open, stats.Held, stats.HeldBytes)
	if st.hist != nil && st.hist.stored != nil {
		s.obs.PartitionKeys(st.topic, st.id, st.hist.stored.len())
	}
	evicted := max(stats.BudgetEvictions-st.published.BudgetEvictions, 0)
	early := max(stats.EmittedEarly-st.published.EmittedEarly, 0)
	provisional := max(stats.Provisional-st.published.Provisional, 0)
	if evicted > 0 || early > 0 || provisional > 0 {
		s.obs.EngineCounts(evicted, early, provisional)
	}
	st.published = stats
}
