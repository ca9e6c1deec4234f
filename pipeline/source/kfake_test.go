package source_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/awumeter/awumeter/pipeline/engine"
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

// runSource starts a source with set (the test engine configuration and a
// short fetch wait unless set says otherwise). stop cancels it, checks that
// Run returned without an error and closes it; stopped reports an early
// end of Run.
func runSource(t *testing.T, cfg source.Config, set source.Settings) (src *source.Source, stopped <-chan error, stop func()) {
	t.Helper()
	if set.Engine == (engine.Config{}) {
		set.Engine = engineConfig()
	}
	if set.ClientOpts == nil {
		set.ClientOpts = []kgo.Opt{kgo.FetchMaxWait(50 * time.Millisecond)}
	}
	src, err := source.New(cfg, set)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx) }()
	return src, done, func() {
		t.Helper()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer ccancel()
		if err := src.Close(cctx); err != nil {
			t.Errorf("close: %v", err)
		}
	}
}

// waitCommitted polls the group's committed offset of telemetry/0 until it
// reaches want, Run ends, or timeout passes, and returns the last seen.
func waitCommitted(t *testing.T, adm *kadm.Client, group string, want int64, stopped <-chan error, timeout time.Duration) int64 {
	t.Helper()
	var at int64
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-stopped:
			t.Fatalf("the source stopped: %v", err)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		offs, err := adm.FetchOffsets(ctx, group)
		cancel()
		if err == nil {
			if o, ok := offs.Lookup("telemetry", 0); ok {
				at = o.At
			}
		}
		if at >= want {
			break
		}
	}
	return at
}
