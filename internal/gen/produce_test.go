package gen_test

import (
	"bytes"
	"context"
	"hash/fnv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/awumeter/awumeter/internal/gen"
	"github.com/awumeter/awumeter/internal/testenv"
)

func TestProduceConfigValidate(t *testing.T) {
	good := gen.ProduceConfig{Brokers: []string{"127.0.0.1:9092"}, Topic: "t", Client: gen.ClientFranz}
	if err := good.Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(*gen.ProduceConfig)
		want string
	}{
		{"no brokers", func(c *gen.ProduceConfig) { c.Brokers = nil }, "brokers"},
		{"broker without port", func(c *gen.ProduceConfig) { c.Brokers = []string{"kafka"} }, `"kafka" must be host:port`},
		{"no topic", func(c *gen.ProduceConfig) { c.Topic = "" }, "topic"},
		{"unknown client", func(c *gen.ProduceConfig) { c.Client = "sarama" }, "must be one of franz, kafka-go"},
		{"negative rate", func(c *gen.ProduceConfig) { c.Rate = -1 }, "rate"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := good
			c.edit(&cfg)
			if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

// TestProduceEveryClientAndFormat produces a small stream with each client
// in each format to the real broker and reads it back with franz-go: every
// record arrives with its key, value and headers, each workcycle stays on
// one partition in the order it was produced, and the partition is the one
// the client's partitioner picks.
func TestProduceEveryClientAndFormat(t *testing.T) {
	k := testenv.NewKafka(t)
	cfg := gen.DefaultConfig()
	cfg.Workcycles, cfg.MalformedRate = 40, 0.02
	s, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const partitions = 3
	for _, client := range gen.Clients() {
		for _, format := range gen.Formats() {
			t.Run(client+"/"+format, func(t *testing.T) {
				topic := k.Topic(t, partitions)
				enc, _ := gen.NewEncoder(format)
				var msgs []gen.Message
				for i := range s.Records {
					if m, ok := enc.Encode(&s.Records[i]); ok {
						msgs = append(msgs, m)
					}
				}
				ctx := testenv.Context(t, time.Minute)
				var acked int
				st, err := gen.Produce(ctx, gen.ProduceConfig{Brokers: k.Brokers, Topic: topic, Client: client},
					msgs, func(n int) { acked += n })
				if err != nil {
					t.Fatal(err)
				}
				if st.Records != int64(len(msgs)) || acked != len(msgs) || st.Bytes == 0 {
					t.Fatalf("stats %+v, acked %d, want %d records", st, acked, len(msgs))
				}
				got := consume(t, ctx, k.Brokers, topic, len(msgs))
				checkRecords(t, client, msgs, got, partitions)
			})
		}
	}
}

func consume(t *testing.T, ctx context.Context, brokers []string, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.MetadataMinAge(250*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for len(recs) < n {
		f := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records: %v", len(recs), n, ctx.Err())
		}
		for _, e := range f.Errors() {
			t.Fatalf("fetch %s/%d: %v", e.Topic, e.Partition, e.Err)
		}
		recs = append(recs, f.Records()...)
	}
	if len(recs) != n {
		t.Fatalf("read %d records, want %d", len(recs), n)
	}
	return recs
}

func checkRecords(t *testing.T, client string, sent []gen.Message, got []*kgo.Record, partitions int) {
	t.Helper()
	// Records of one key, in partition order, must be the sent ones in
	// send order.
	sentByKey := map[string][]gen.Message{}
	for _, m := range sent {
		sentByKey[string(m.Key)] = append(sentByKey[string(m.Key)], m)
	}
	gotByKey := map[string][]*kgo.Record{}
	partitionOf := map[string]int32{}
	franz := kgo.StickyKeyPartitioner(nil).ForTopic("t")
	for _, r := range got {
		key := string(r.Key)
		gotByKey[key] = append(gotByKey[key], r)
		if r.Key == nil {
			continue // malformed records carry no key
		}
		if p, ok := partitionOf[key]; ok && p != r.Partition {
			t.Fatalf("workcycle %s is on partitions %d and %d", key, p, r.Partition)
		}
		partitionOf[key] = r.Partition
		want := int32(kafkaGoPartition(r.Key, partitions))
		if client == gen.ClientFranz {
			want = int32(franz.Partition(&kgo.Record{Key: r.Key}, partitions))
		}
		if r.Partition != want {
			t.Fatalf("%s put workcycle %s on partition %d, its partitioner says %d", client, key, r.Partition, want)
		}
	}
	if len(gotByKey) != len(sentByKey) {
		t.Fatalf("%d keys arrived, %d were sent", len(gotByKey), len(sentByKey))
	}
	for key, ms := range sentByKey {
		rs := gotByKey[key]
		if len(rs) != len(ms) {
			t.Fatalf("key %q: %d records arrived, %d were sent", key, len(rs), len(ms))
		}
		if key == "" {
			continue // keyless records may be spread over partitions in any order
		}
		for i := range ms {
			if !bytes.Equal(rs[i].Value, ms[i].Value) || len(rs[i].Headers) != len(ms[i].Headers) {
				t.Fatalf("key %q record %d differs from the one sent", key, i)
			}
			for j, h := range ms[i].Headers {
				if rs[i].Headers[j].Key != h.Key || !bytes.Equal(rs[i].Headers[j].Value, h.Value) {
					t.Fatalf("key %q record %d: header %d is %s=%s, want %s=%s", key, i, j,
						rs[i].Headers[j].Key, rs[i].Headers[j].Value, h.Key, h.Value)
				}
			}
		}
	}
}

// kafkaGoPartition is kafka-go's Hash balancer: FNV-1a, as Sarama computes it.
func kafkaGoPartition(key []byte, n int) int {
	h := fnv.New32a()
	h.Write(key)
	p := int32(h.Sum32()) % int32(n)
	if p < 0 {
		p = -p
	}
	return int(p)
}

func TestProducePacesToTheRate(t *testing.T) {
	k := testenv.NewKafka(t)
	topic := k.Topic(t, 1)
	msgs := make([]gen.Message, 300)
	for i := range msgs {
		msgs[i] = gen.Message{Key: []byte("k"), Value: []byte("v")}
	}
	ctx := testenv.Context(t, time.Minute)
	// The first tenth of a second's worth goes at once, the rest at 1000/s.
	st, err := gen.Produce(ctx, gen.ProduceConfig{Brokers: k.Brokers, Topic: topic, Client: gen.ClientFranz, Rate: 1000}, msgs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Elapsed < 150*time.Millisecond || st.Elapsed > 10*time.Second {
		t.Fatalf("300 records at 1000/s took %s", st.Elapsed)
	}
}

func TestPrepareTopicsResets(t *testing.T) {
	k := testenv.NewKafka(t)
	topic := testenv.UniqueName(t, "t")
	ctx := testenv.Context(t, time.Minute)
	t.Cleanup(func() { k.Admin.DeleteTopics(context.Background(), topic) })

	acts, err := gen.PrepareTopics(ctx, k.Brokers, 2, false, topic)
	if err != nil || len(acts) != 1 || !acts[0].Created || acts[0].Partitions != 2 {
		t.Fatalf("create: %+v, %v", acts, err)
	}
	msgs := []gen.Message{{Key: []byte("a"), Value: []byte("1")}}
	if _, err := gen.Produce(ctx, gen.ProduceConfig{Brokers: k.Brokers, Topic: topic, Client: gen.ClientKafkaGo}, msgs, nil); err != nil {
		t.Fatal(err)
	}
	if acts, err = gen.PrepareTopics(ctx, k.Brokers, 3, false, topic); err != nil || acts[0].Created || acts[0].Partitions != 2 {
		t.Fatalf("an existing topic must be kept: %+v, %v", acts, err)
	}
	if acts, err = gen.PrepareTopics(ctx, k.Brokers, 3, true, topic); err != nil || !acts[0].Created || acts[0].Partitions != 3 {
		t.Fatalf("reset: %+v, %v", acts, err)
	}
	ends, err := k.Admin.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset != 0 {
			t.Errorf("partition %d of the reset topic ends at %d", o.Partition, o.Offset)
		}
	})
}
