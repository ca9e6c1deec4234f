package gen

import (
	"context"
	"errors"
	"time"

	"github.com/segmentio/kafka-go"
)

// unknownTopicPatience is how long kafka-go keeps retrying records refused
// because the brokers do not know the topic yet, as happens for a moment
// after it was created.
const unknownTopicPatience = 15 * time.Second

// kafkaGoProducer produces with segmentio/kafka-go. WriteMessages returns
// once its messages are acknowledged, so each chunk is acknowledged before
// the next is sent.
type kafkaGoProducer struct {
	w     *kafka.Writer
	acked func(int)
	buf   []kafka.Message
}

func newKafkaGoProducer(cfg ProduceConfig, acked func(int)) *kafkaGoProducer {
	return &kafkaGoProducer{
		w: &kafka.Writer{
			Addr:  kafka.TCP(cfg.Brokers...),
			Topic: cfg.Topic,
			// A transport of its own, refreshing metadata every second: the
			// shared default one would not see a new topic for 6s.
			Transport: &kafka.Transport{MetadataTopics: []string{cfg.Topic}, MetadataTTL: time.Second},
			// Hash uses FNV-1a, not Kafka's murmur2: see ClientKafkaGo.
			Balancer:     &kafka.Hash{},
			BatchSize:    1000,
			BatchBytes:   1 << 20,
			BatchTimeout: 5 * time.Millisecond,
			RequiredAcks: kafka.RequireAll,
			MaxAttempts:  10,
		},
		acked: acked,
	}
}

func (p *kafkaGoProducer) send(ctx context.Context, msgs []Message) error {
	p.buf = p.buf[:0]
	for i := range msgs {
		m := &msgs[i]
		km := kafka.Message{Key: m.Key, Value: m.Value}
		if len(m.Headers) > 0 {
			km.Headers = make([]kafka.Header, len(m.Headers))
			for j, h := range m.Headers {
				km.Headers[j] = kafka.Header{Key: h.Key, Value: h.Value}
			}
		}
		p.buf = append(p.buf, km)
	}
	pending := p.buf
	deadline := time.Now().Add(unknownTopicPatience)
	for delay := 100 * time.Millisecond; ; delay = min(2*delay, time.Second) {
		err := p.w.WriteMessages(ctx, pending...)
		if err == nil {
			p.acked(len(pending))
			return nil
		}
		failed, retry := unknownTopicFailures(pending, err)
		if !retry || time.Now().After(deadline) {
			return err
		}
		// A partition's records fail together, so re-sending the failed
		// ones in order keeps each workcycle's order.
		p.acked(len(pending) - len(failed))
		pending = failed
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
	}
}

// unknownTopicFailures returns the messages that failed, and whether they
// all failed only because the topic is not known yet.
func unknownTopicFailures(msgs []kafka.Message, err error) ([]kafka.Message, bool) {
	var werrs kafka.WriteErrors
	if !errors.As(err, &werrs) {
		return msgs, errors.Is(err, kafka.UnknownTopicOrPartition)
	}
	var failed []kafka.Message
	for i, e := range werrs {
		if e == nil {
			continue
		}
		if !errors.Is(e, kafka.UnknownTopicOrPartition) {
			return nil, false
		}
		failed = append(failed, msgs[i])
	}
	return failed, len(failed) > 0
}

func (p *kafkaGoProducer) flush(context.Context) error { return nil }

func (p *kafkaGoProducer) close() { p.w.Close() }
