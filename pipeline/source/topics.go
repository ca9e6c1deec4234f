package source

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"go.uber.org/zap"
)

// CheckTopics checks that every input topic, the dead-letter topic and,
// with guards, the alerts topic exist. Without it a missing dead-letter topic shows only when the first
// record is rejected, as a produce that retries forever and an offset that
// never moves, and a missing input topic as a member that reads nothing. A
// missing topic is accepted when the brokers create topics on first use
// (auto.create.topics.enable); the client asks them to.
func (s *Source) CheckTopics(ctx context.Context) error {
	var names, keys []string
	for i, t := range s.cfg.Topics {
		names, keys = append(names, t.Name), append(keys, fmt.Sprintf("kafka.topics[%d].name", i))
	}
	if s.cfg.DeadLetterTopic != "" {
		names, keys = append(names, s.cfg.DeadLetterTopic), append(keys, "kafka.dead_letter_topic")
	}
	if g := s.set.Guards; g != nil && g.Enabled() {
		names, keys = append(names, g.Topic), append(keys, "guards.topic")
	}
	adm := kadm.NewClient(s.cl) // not closed: that would close s.cl
	details, err := adm.ListTopics(ctx, names...)
	if err != nil {
		return fmt.Errorf("cannot list the Kafka topics %v: %w", names, err)
	}
	var errs []error
	var missing []int
	for i, name := range names {
		d, ok := details[name]
		switch {
		case !ok || errors.Is(d.Err, kerr.UnknownTopicOrPartition):
			missing = append(missing, i)
		case d.Err != nil:
			errs = append(errs, fmt.Errorf("%s: cannot describe topic %q: %w", keys[i], name, d.Err))
		}
	}
	if len(missing) > 0 && autoCreates(ctx, adm) {
		for _, i := range missing {
			s.log.Info("topic does not exist; the brokers create it on first use",
				zap.String("key", keys[i]), zap.String("topic", names[i]))
		}
		missing = nil
	}
	for _, i := range missing {
		hint := "create it"
		if keys[i] == "kafka.dead_letter_topic" {
			hint = "create it (e.g. with the same partition count as the input)"
		}
		errs = append(errs, fmt.Errorf("%s: topic %q does not exist; %s or set auto-creation (auto.create.topics.enable=true on the brokers)",
			keys[i], names[i], hint))
	}
	return errors.Join(errs...)
}

// autoCreates reports whether the brokers create a topic on first use; no
// answer counts as no.
func autoCreates(ctx context.Context, adm *kadm.Client) bool {
	rcs, err := adm.DescribeBrokerConfigs(ctx)
	if err != nil {
		return false
	}
	for _, rc := range rcs {
		for _, c := range rc.Configs {
			if c.Key == "auto.create.topics.enable" {
				return c.MaybeValue() == "true"
			}
		}
	}
	return false
}
