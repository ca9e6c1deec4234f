package testenv_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/awumeter/awumeter/internal/testenv"
	"github.com/segmentio/kafka-go"
	"github.com/shopspring/decimal"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Records produced by the second client must reach a franz-go group consumer
// intact, and committed offsets must survive a consumer restart.
func TestKafkaGoProducerFranzGroupConsumer(t *testing.T) {
	const n = 100_000
	k := testenv.NewKafka(t)
	topic := k.Topic(t, 4)
	group := k.Group(t)
	ctx := testenv.Context(t, 3*time.Minute)

	w := &kafka.Writer{
		Addr:         kafka.TCP(k.Brokers...),
		Topic:        topic,
		Transport:    &kafka.Transport{MetadataTopics: []string{topic}},
		Balancer:     &kafka.Hash{},
		BatchSize:    5000,
		BatchTimeout: 10 * time.Millisecond,
		RequiredAcks: kafka.RequireAll,
	}
	msgs := make([]kafka.Message, 0, 5000)
	for i := 0; i < n; i++ {
		msgs = append(msgs, kafka.Message{
			Key:   []byte("wc-" + strconv.Itoa(i%997)),
			Value: []byte(strconv.Itoa(i)),
		})
		if len(msgs) == cap(msgs) {
			if err := w.WriteMessages(ctx, msgs...); err != nil {
				t.Fatalf("kafka-go write: %v", err)
			}
			msgs = msgs[:0]
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("kafka-go close: %v", err)
	}

	seen := make([]bool, n)
	keyPartition := map[string]int32{}
	consume := func(limit int) int {
		cl, err := kgo.NewClient(
			kgo.SeedBrokers(k.Brokers...),
			kgo.ConsumerGroup(group),
			kgo.ConsumeTopics(topic),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
			kgo.DisableAutoCommit(),
			kgo.FetchMaxWait(200*time.Millisecond),
		)
		if err != nil {
			t.Fatalf("franz client: %v", err)
		}
		defer cl.Close()
		got, idle := 0, 0
		for got < limit && idle < 10 {
			pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
			fetches := cl.PollRecords(pctx, 2000)
			cancel()
			if errs := fetches.Errors(); len(errs) > 0 && !fetches.IsClientClosed() {
				for _, e := range errs {
					if e.Err != context.DeadlineExceeded {
						t.Fatalf("fetch %s/%d: %v", e.Topic, e.Partition, e.Err)
					}
				}
			}
			recs := fetches.Records()
			if len(recs) == 0 {
				idle++
				continue
			}
			idle = 0
			for _, r := range recs {
				i, err := strconv.Atoi(string(r.Value))
				if err != nil || i < 0 || i >= n {
					t.Fatalf("unexpected value %q", r.Value)
				}
				if seen[i] {
					t.Fatalf("record %d delivered twice", i)
				}
				seen[i] = true
				if p, ok := keyPartition[string(r.Key)]; ok && p != r.Partition {
					t.Fatalf("key %s found in partitions %d and %d", r.Key, p, r.Partition)
				}
				keyPartition[string(r.Key)] = r.Partition
			}
			got += len(recs)
			if err := cl.CommitRecords(ctx, recs...); err != nil {
				t.Fatalf("commit: %v", err)
			}
		}
		return got
	}

	first := consume(n / 2)
	if first < n/2 {
		t.Fatalf("first consumer read %d records, want at least %d", first, n/2)
	}
	second := consume(n)
	if first+second != n {
		t.Fatalf("consumed %d+%d records, want %d in total", first, second, n)
	}
	for i, ok := range seen {
		if !ok {
			t.Fatalf("record %d never delivered", i)
		}
	}
	if third := consume(1); third != 0 {
		t.Fatalf("a restarted consumer got %d records again after everything was committed", third)
	}
}

func TestClickHouseNativeBatchRoundTrip(t *testing.T) {
	ch := testenv.NewClickHouse(t)
	ctx := testenv.Context(t, time.Minute)
	if err := ch.Conn.Exec(ctx, `CREATE TABLE roundtrip (
		id UInt64, name String, at DateTime, amount Decimal(38, 12)
	) ENGINE = MergeTree ORDER BY id`); err != nil {
		t.Fatalf("create table: %v", err)
	}
	batch, err := ch.Conn.PrepareBatch(ctx, "INSERT INTO roundtrip (id, name, at, amount) VALUES")
	if err != nil {
		t.Fatalf("prepare batch: %v", err)
	}
	base := time.Date(2026, 10, 31, 23, 59, 59, 0, time.UTC)
	const rows = 1000
	for i := 0; i < rows; i++ {
		amount := decimal.RequireFromString(fmt.Sprintf("0.%012d", i+1))
		if err := batch.Append(uint64(i), fmt.Sprintf("row-%d", i), base.Add(time.Duration(i)*time.Second), amount); err != nil {
			t.Fatalf("append: %v", err)
		}
	}
	if err := batch.Send(); err != nil {
		t.Fatalf("send: %v", err)
	}
	var count uint64
	var total decimal.Decimal
	if err := ch.Conn.QueryRow(ctx, "SELECT count(), sum(amount) FROM roundtrip").Scan(&count, &total); err != nil {
		t.Fatalf("read back: %v", err)
	}
	// sum of 1..1000 picodollars = 500500e-12.
	if count != rows || !total.Equal(decimal.RequireFromString("0.000000500500")) {
		t.Fatalf("got %d rows summing to %s, want %d rows summing to 0.0000005005", count, total, rows)
	}
	var name string
	var at time.Time
	if err := ch.Conn.QueryRow(ctx, "SELECT name, at FROM roundtrip WHERE id = 999").Scan(&name, &at); err != nil {
		t.Fatalf("read row: %v", err)
	}
	if want := base.Add(999 * time.Second); name != "row-999" || !at.Equal(want) {
		t.Fatalf("row 999 = %q at %s, want row-999 at %s", name, at, want)
	}
}
