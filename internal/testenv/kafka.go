package testenv

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Kafka is a reachable Kafka cluster.
type Kafka struct {
	Brokers []string
	Admin   *kadm.Client
}

// KafkaBrokers returns the seed brokers the tests use.
func KafkaBrokers() []string {
	return strings.Split(envOr("AWUMETER_KAFKA_BROKERS", "127.0.0.1:"+envOr("AWUMETER_KAFKA_PORT", "9092")), ",")
}

// NewKafka connects to the stack's Kafka, or skips (fails, if Required) when it is absent.
func NewKafka(t testing.TB) *Kafka {
	t.Helper()
	brokers := KafkaBrokers()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DialTimeout(2*time.Second))
	if err != nil {
		t.Fatalf("kafka client: %v", err)
	}
	adm := kadm.NewClient(cl)
	t.Cleanup(adm.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := adm.BrokerMetadata(ctx); err != nil {
		unavailable(t, "kafka at "+strings.Join(brokers, ","), err)
	}
	return &Kafka{Brokers: brokers, Admin: adm}
}

// Topic creates a uniquely named topic with the given partition count and
// deletes it when the test ends.
func (k *Kafka) Topic(t testing.TB, partitions int32) string {
	t.Helper()
	name := UniqueName(t, "t")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := k.Admin.CreateTopic(ctx, partitions, 1, nil, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", name, err)
	}
	k.waitForLeaders(ctx, t, name, partitions)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := k.Admin.DeleteTopics(ctx, name); err != nil {
			t.Logf("delete topic %s: %v", name, err)
		}
	})
	return name
}

// Group returns a unique consumer group name for this test.
func (k *Kafka) Group(t testing.TB) string { return UniqueName(t, "g") }

// waitForLeaders returns once the brokers' metadata shows every partition of
// a new topic with a leader. CreateTopic returns when the controller has the
// topic; a client that asks a broker before its metadata caught up (kafka-go
// fails at once then) would see "unknown topic".
func (k *Kafka) waitForLeaders(ctx context.Context, t testing.TB, topic string, partitions int32) {
	t.Helper()
	for {
		md, err := k.Admin.ListTopics(ctx, topic)
		if err == nil {
			if d, ok := md[topic]; ok && d.Err == nil && int32(len(d.Partitions)) == partitions && allLed(d) {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("topic %s has no leader for every partition: %v", topic, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func allLed(d kadm.TopicDetail) bool {
	for _, p := range d.Partitions {
		if p.Err != nil || p.Leader < 0 {
			return false
		}
	}
	return true
}
