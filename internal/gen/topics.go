package gen

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TopicAction says what PrepareTopics did to one topic.
type TopicAction struct {
	Topic      string
	Partitions int32
	Created    bool // false: it existed and was kept
}

// PrepareTopics makes sure each topic exists, creating missing ones with
// partitions partitions and the brokers' default replication factor. With
// reset it deletes them first, records and all, so that a run starts from
// empty topics. It returns once every partition has a leader.
func PrepareTopics(ctx context.Context, brokers []string, partitions int32, reset bool, topics ...string) ([]TopicAction, error) {
	if partitions < 1 {
		return nil, fmt.Errorf("partitions: must be at least 1, got %d", partitions)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return nil, err
	}
	adm := kadm.NewClient(cl)
	defer adm.Close()

	if reset {
		resp, err := adm.DeleteTopics(ctx, topics...)
		if err != nil {
			return nil, fmt.Errorf("cannot delete topics: %w", err)
		}
		for _, r := range resp.Sorted() {
			if r.Err != nil && !errors.Is(r.Err, kerr.UnknownTopicOrPartition) {
				return nil, fmt.Errorf("cannot delete topic %s: %w", r.Topic, r.Err)
			}
		}
	}
	var out []TopicAction
	for _, t := range topics {
		a, err := ensureTopic(ctx, adm, t, partitions, reset)
		if err != nil {
			return out, err
		}
		out = append(out, a)
	}
	return out, nil
}

// ensureTopic creates one topic, retrying while a deletion is in progress,
// and waits until it is usable.
func ensureTopic(ctx context.Context, adm *kadm.Client, topic string, partitions int32, reset bool) (TopicAction, error) {
	a := TopicAction{Topic: topic, Partitions: partitions}
	for delay := 100 * time.Millisecond; ; delay = min(2*delay, 2*time.Second) {
		resp, err := adm.CreateTopic(ctx, partitions, -1, nil, topic)
		if err == nil {
			err = resp.Err
		}
		if err == nil {
			a.Created = true
			break
		}
		if !errors.Is(err, kerr.TopicAlreadyExists) {
			return a, fmt.Errorf("cannot create topic %s: %w", topic, err)
		}
		if !reset {
			break // it exists; keep it
		}
		select { // the deletion is still going on
		case <-ctx.Done():
			return a, fmt.Errorf("cannot create topic %s: deleting its previous incarnation did not finish: %w", topic, ctx.Err())
		case <-time.After(delay):
		}
	}
	for delay := 50 * time.Millisecond; ; delay = min(2*delay, time.Second) {
		md, err := adm.ListTopics(ctx, topic)
		if err == nil {
			if d, ok := md[topic]; ok && d.Err == nil && len(d.Partitions) > 0 && allLed(d) {
				a.Partitions = int32(len(d.Partitions))
				return a, nil
			}
		}
		select {
		case <-ctx.Done():
			return a, fmt.Errorf("topic %s has no leader for every partition yet: %w", topic, ctx.Err())
		case <-time.After(delay):
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
