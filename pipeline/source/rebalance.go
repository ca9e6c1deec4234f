package source

import (
	"context"
	"fmt"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"github.com/awumeter/awumeter/pipeline/commit"
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/guard"
)

// onAssigned gives every new partition a fresh engine and tracker. The
// engine rebuilds open workcycles by replaying from the committed offset,
// and restores those emitted open before it (restore) on the partition's
// first poll.
func (s *Source) onAssigned(_ context.Context, _ *kgo.Client, assigned map[string][]int32) {
	s.obs.Rebalanced("assigned")
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.set.Now()
	for topic, ps := range assigned {
		td := s.decoders[topic]
		for _, p := range ps {
			var hist *pollHistory
			set := engine.Settings{Prices: s.set.Prices}
			if s.set.History != nil {
				hist = newPollHistory(s.inflight, s.set.History)
				set.History = hist
			}
			eng, err := engine.New(s.set.Engine, set)
			if err != nil {
				s.fail(fmt.Errorf("cannot start the engine of %s/%d: %w", topic, p, err))
				return
			}
			dec, err := td.new()
			if err != nil {
				s.fail(fmt.Errorf("cannot start the decoder of %s/%d: %w", topic, p, err))
				return
			}
			st := &partition{
				topic: topic, id: p, format: td.format, dec: dec, eng: eng, hist: hist,
				track: commit.NewPartition(-1), next: -1, first: -1, progress: now,
				transactional: topic == s.repartition,
				// Provisional rows move the committed offset past open
				// workcycles: only when they can be restored.
				provisional: s.set.Engine.EmitInterval > 0 && hist != nil && hist.states != nil && hist.batch != nil,
				openEmitted: now,
			}
			if s.set.Guards != nil && s.set.Guards.HasRowRules() {
				if st.guard, err = guard.New(*s.set.Guards); err != nil {
					s.fail(fmt.Errorf("cannot start the guards of %s/%d: %w", topic, p, err))
					return
				}
			}
			s.parts[topicPartition{topic, p}] = st
		}
	}
	s.log.Info("partitions assigned", zap.String("partitions", describe(assigned)), zap.Int("owned", len(s.parts)))
	s.obs.PartitionsOwned(len(s.parts))
	for _, st := range s.parts {
		s.publish(st)
	}
}

// onRevoked flushes and commits the revoked partitions before they are
// handed over, then drops their state. If the flush does not finish within
// half the rebalance timeout, nothing more is committed for them and their
// next owner replays from the last commit: duplicates, never loss.
func (s *Source) onRevoked(ctx context.Context, _ *kgo.Client, revoked map[string][]int32) {
	s.obs.Rebalanced("revoked")
	if len(revoked) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RebalanceTimeout/2)
	defer cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.drain(ctx, revoked); err != nil {
		s.log.Warn("revoked partitions were not fully flushed; their next owner replays from the last commit", zap.Error(err))
	} else {
		s.commit(ctx, revoked)
	}
	s.drop(revoked)
	s.log.Info("partitions revoked", zap.String("partitions", describe(revoked)), zap.Int("owned", len(s.parts)))
}

// onLost drops partitions that another member may already own, without
// committing: a commit now could move offsets under the new owner.
func (s *Source) onLost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	s.obs.Rebalanced("lost")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drop(lost)
	s.log.Warn("partitions lost; their next owner replays from the last commit", zap.String("partitions", describe(lost)))
}

func (s *Source) drop(ps map[string][]int32) {
	for topic, ids := range ps {
		for _, p := range ids {
			delete(s.parts, topicPartition{topic, p})
			s.obs.PartitionForgotten(topic, p)
			s.statusMu.Lock()
			delete(s.status, topicPartition{topic, p})
			s.statusMu.Unlock()
		}
	}
	s.obs.PartitionsOwned(len(s.parts))
}

// commit commits the committable offset of the given partitions (all, if
// nil). s.mu must be held. Failures are logged and counted; the next commit
// covers them.
func (s *Source) commit(ctx context.Context, only map[string][]int32) {
	offsets := map[string]map[int32]kgo.EpochOffset{}
	tracks := map[topicPartition]*partition{}
	for k, st := range s.parts {
		if only != nil && !contains(only[k.topic], k.partition) {
			continue
		}
		off, ok := st.track.Committable()
		if !ok {
			continue
		}
		if offsets[k.topic] == nil {
			offsets[k.topic] = map[int32]kgo.EpochOffset{}
		}
		offsets[k.topic][k.partition] = kgo.EpochOffset{Epoch: -1, Offset: off}
		tracks[k] = st
	}
	if len(offsets) == 0 {
		return
	}
	s.cl.CommitOffsetsSync(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			s.obs.OffsetCommitted(err)
			s.log.Warn("offset commit failed; the next commit covers it", zap.Error(err))
			return
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				k := topicPartition{t.Topic, p.Partition}
				st := tracks[k]
				if st == nil {
					continue
				}
				if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
					s.obs.OffsetCommitted(err)
					s.log.Warn("offset commit failed; the next commit covers it",
						zap.String("topic", t.Topic), zap.Int32("partition", p.Partition), zap.Error(err))
					continue
				}
				off := offsets[t.Topic][p.Partition].Offset
				st.track.Committed(off)
				s.obs.OffsetCommitted(nil)
				s.log.Debug("offset committed", zap.String("topic", t.Topic), zap.Int32("partition", p.Partition), zap.Int64("offset", off))
			}
		}
	})
	for _, st := range tracks {
		s.publish(st)
	}
}

func describe(ps map[string][]int32) string {
	topics := make([]string, 0, len(ps))
	for t := range ps {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	out := ""
	for _, t := range topics {
		ids := append([]int32(nil), ps[t]...)
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		if out != "" {
			out += " "
		}
		out += fmt.Sprintf("%s%v", t, ids)
	}
	return out
}
