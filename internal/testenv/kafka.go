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
