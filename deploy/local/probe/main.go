// Command probe answers whether a local stack server is ready: a Kafka broker
// that answers a metadata request, or a ClickHouse server that answers
// SELECT 1. The stack scripts poll it while servers start.
//
//	probe kafka 127.0.0.1:9092
//	probe clickhouse 127.0.0.1:9000
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: probe kafka|clickhouse ADDR")
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
