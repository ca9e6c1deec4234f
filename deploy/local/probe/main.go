// Command probe answers whether a local stack server is ready: a Kafka broker
// that answers a metadata request, or a ClickHouse server that answers
// SELECT 1. The stack scripts poll it while servers start. It also creates
// the topics a stack service writes to, since the local broker does not
// create topics on first use.
//
//	probe kafka 127.0.0.1:9092
//	probe clickhouse 127.0.0.1:9000
//	probe topics 127.0.0.1:9092 PARTITIONS TOPIC...   (creates the missing ones)
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

func main() {
	if len(os.Args) < 3 || (os.Args[1] == "topics") != (len(os.Args) >= 5) {
		fmt.Fprintln(os.Stderr, "usage: probe kafka|clickhouse ADDR, or probe topics ADDR PARTITIONS TOPIC...")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var err error
	switch os.Args[1] {
	case "kafka":
		err = probeKafka(ctx, os.Args[2])
	case "clickhouse":
		err = probeClickHouse(ctx, os.Args[2])
	case "topics":
		err = createTopics(ctx, os.Args[2], os.Args[3], os.Args[4:])
	default:
		err = fmt.Errorf("unknown server %q: want kafka or clickhouse", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		os.Exit(1)
	}
	fmt.Println("ok")
}

func probeKafka(ctx context.Context, addr string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return err
	}
	defer cl.Close()
	md, err := kadm.NewClient(cl).BrokerMetadata(ctx)
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	if len(md.Brokers) == 0 {
		return fmt.Errorf("metadata lists no brokers yet")
	}
	return nil
}

// createTopics creates those of topics that do not exist, with the given
// partition count and the broker's default replication.
func createTopics(ctx context.Context, addr, partitions string, topics []string) error {
	n, err := strconv.Atoi(partitions)
	if err != nil || n < 1 {
		return fmt.Errorf("partitions: want a positive integer, got %q", partitions)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	resps, err := adm.CreateTopics(ctx, int32(n), -1, nil, topics...)
	if err != nil {
		return err
	}
	for _, r := range resps.Sorted() {
		switch {
		case r.Err == nil:
			fmt.Printf("created topic %s (%d partitions)\n", r.Topic, n)
		case errors.Is(r.Err, kerr.TopicAlreadyExists):
		default:
			return fmt.Errorf("topic %s: %w", r.Topic, r.Err)
		}
	}
	return nil
}

func probeClickHouse(ctx context.Context, addr string) error {
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addr}, DialTimeout: 2 * time.Second})
	if err != nil {
		return err
	}
	defer conn.Close()
	var one uint8
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("SELECT 1: %w", err)
	}
	return nil
}
