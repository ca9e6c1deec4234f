package rekey

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"go.uber.org/zap"

	"github.com/awumeter/awumeter/internal/backoff"
)

// EnsureTopic creates the repartition topic if it does not exist, with
// rekey.partitions partitions (by default the largest partition count of
// the topics re-keyed), rekey.replication_factor and rekey.retention. An
// existing topic is kept as it is: changing its partition count would move
// workcycles to other partitions, so a rekey.partitions that differs from
// it is an error. It returns the topic's partition count.
func (s *Stage) EnsureTopic(ctx context.Context) (int32, error) {
	adm := kadm.NewClient(s.sess.Client()) // not closed: that would close the client
	inputs := make([]string, 0, len(s.decoders))
	for t := range s.decoders {
		inputs = append(inputs, t)
	}
	details, err := adm.ListTopics(ctx, append(inputs, s.topic)...)
	if err != nil {
		return 0, fmt.Errorf("cannot describe the repartition topic %q: %w", s.topic, err)
	}
	if d, ok := details[s.topic]; ok && !errors.Is(d.Err, kerr.UnknownTopicOrPartition) {
		if d.Err != nil {
			return 0, fmt.Errorf("cannot describe the repartition topic %q: %w", s.topic, d.Err)
		}
		n := int32(len(d.Partitions))
		if s.cfg.Partitions != 0 && s.cfg.Partitions != n {
			return 0, fmt.Errorf("rekey.partitions: the repartition topic %q has %d partitions, not %d; a different count would move workcycles between partitions, so awumeter never changes it (set rekey.partitions to %d or 0, or use a new kafka.group)",
				s.topic, n, s.cfg.Partitions, n)
		}
		s.log.Info("repartition topic found", zap.String("topic", s.topic), zap.Int32("partitions", n))
		return n, nil
	}
	n := s.cfg.Partitions
	if n == 0 {
		for _, t := range inputs {
			if d, ok := details[t]; ok && d.Err == nil {
				n = max(n, int32(len(d.Partitions)))
			}
		}
		if n == 0 {
			return 0, fmt.Errorf("rekey.partitions: none of the topics to re-key %v exists yet, so the repartition topic's partition count cannot be derived; create them first or set rekey.partitions", inputs)
		}
	}
	retention := strconv.FormatInt(s.cfg.Retention.Milliseconds(), 10)
	resp, err := adm.CreateTopic(ctx, n, s.cfg.ReplicationFactor, map[string]*string{
		"cleanup.policy": ptr("delete"),
		"retention.ms":   &retention,
	}, s.topic)
	if err == nil {
		err = resp.Err
	}
	if errors.Is(err, kerr.TopicAlreadyExists) {
		// Another instance created it meanwhile (replicas started
		// together); the brokers' metadata lists it once its partitions
		// have leaders.
		return s.awaitTopic(ctx, adm)
	}
	if err != nil {
		return 0, fmt.Errorf("cannot create the repartition topic %q (%d partitions): %w", s.topic, n, err)
	}
	s.log.Info("repartition topic created", zap.String("topic", s.topic), zap.Int32("partitions", n),
		zap.Int16("replication_factor", s.cfg.ReplicationFactor), zap.Duration("retention", s.cfg.Retention))
	return n, nil
}

// awaitTopic waits, within ctx, until the repartition topic another
// instance just created is listed with a leader for every partition, and
// checks it as EnsureTopic checks an existing one.
func (s *Stage) awaitTopic(ctx context.Context, adm *kadm.Client) (int32, error) {
	for attempt := 0; ; attempt++ {
		details, err := adm.ListTopics(ctx, s.topic)
		if err == nil {
			if d, ok := details[s.topic]; ok && d.Err == nil && len(d.Partitions) > 0 && leaders(d) {
				n := int32(len(d.Partitions))
				if s.cfg.Partitions != 0 && s.cfg.Partitions != n {
					return 0, fmt.Errorf("rekey.partitions: another instance created the repartition topic %q with %d partitions, not %d; give every instance the same rekey.partitions", s.topic, n, s.cfg.Partitions)
				}
				s.log.Info("repartition topic created by another instance", zap.String("topic", s.topic), zap.Int32("partitions", n))
				return n, nil
			}
		}
		if !backoff.Wait(ctx, s.awaitRetry.Delay(attempt, s.jitter)) {
			return 0, fmt.Errorf("the repartition topic %q exists but is not listed with leaders: %w", s.topic, ctx.Err())
		}
	}
}

func leaders(d kadm.TopicDetail) bool {
	for _, p := range d.Partitions {
		if p.Leader < 0 || p.Err != nil {
			return false
		}
	}
	return true
}

func ptr[T any](v T) *T { return &v }
