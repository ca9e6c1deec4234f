package rekey_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/awumeter/awumeter/internal/testenv"
	"github.com/awumeter/awumeter/pipeline/decode"
	"github.com/awumeter/awumeter/pipeline/rekey"
	"github.com/awumeter/awumeter/pipeline/source"
)

// Instances of a new deployment start together (a Deployment's replicas,
// or a rollout): each finds no repartition topic and tries to create it.
// Every one must end up with the topic, not exit on TOPIC_ALREADY_EXISTS.
func TestInstancesStartedTogetherAllCreateOrFindTheRepartitionTopic(t *testing.T) {
	k := testenv.NewKafka(t)
	input, group := k.Topic(t, 4), k.Group(t)
	kcfg := source.DefaultConfig()
	kcfg.Brokers = k.Brokers
	kcfg.Group = group
	tc := source.DefaultTopicConfig()
	tc.Name, tc.Format = input, decode.FormatOTLPJSON // not keyed by default
	kcfg.Topics = []source.TopicConfig{tc}
	t.Cleanup(func() {
		ctx := testenv.Context(t, 30*time.Second)
		k.Admin.DeleteTopics(ctx, source.RepartitionTopic(group))
	})

	const instances = 4
	stages := make([]*rekey.Stage, instances)
	for i := range stages {
		cfg := rekey.DefaultConfig()
		cfg.TransactionalID = fmt.Sprintf("%s-txn-%d", group, i)
		s, err := rekey.New(kcfg, cfg, rekey.Settings{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close(testenv.Context(t, 10*time.Second)) })
		stages[i] = s
	}
	ctx := testenv.Context(t, 30*time.Second)
	var wg sync.WaitGroup
	errs := make([]error, instances)
	counts := make([]int32, instances)
	start := make(chan struct{})
	for i, s := range stages {
		wg.Go(func() {
			<-start
			counts[i], errs[i] = s.EnsureTopic(ctx)
		})
	}
	close(start)
	wg.Wait()
	for i := range stages {
		if errs[i] != nil || counts[i] != 4 {
			t.Errorf("instance %d: %d partitions, %v; want 4, no error", i, counts[i], errs[i])
		}
	}
}
