package source_test

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/awumeter/awumeter/pipeline/source"
)

// newKfake starts an in-process cluster with the topics "telemetry" (of
// the given partitions) and "dlq", and a client producing to "telemetry".
// Both are closed when the test ends.
func newKfake(t *testing.T, partitions int32, opts ...kgo.Opt) (*kfake.Cluster, *kgo.Client) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, "telemetry"), kfake.SeedTopics(1, "dlq"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic("telemetry")}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return c, cl
}

// kfakeConfig is a source reading the json topic "telemetry" of c with
// dead letters to "dlq", committing every 50ms and advancing idle
// partitions after 200ms. tune adjusts the topic's settings.
func kfakeConfig(c *kfake.Cluster, tune ...func(*source.TopicConfig)) source.Config {
	cfg := source.DefaultConfig()
	cfg.Brokers = c.ListenAddrs()
	tc := source.DefaultTopicConfig()
	tc.Name = "telemetry"
	for _, f := range tune {
		f(&tc)
	}
	cfg.Topics = []source.TopicConfig{tc}
	cfg.DeadLetterTopic = "dlq"
	cfg.CommitInterval = 50 * time.Millisecond
	cfg.IdleAdvance = 200 * time.Millisecond
	return cfg
}
