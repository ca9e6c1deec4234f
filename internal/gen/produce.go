package gen

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// Kafka clients Produce can use.
const (
	// ClientFranz is franz-go's kgo producer. Its default partitioner hashes
	// keys with murmur2, like the Java client, so a workcycle lands on the
	// same partition as a Java producer would put it.
	ClientFranz = "franz"
	// ClientKafkaGo is segmentio/kafka-go's Writer with its Hash balancer,
	// which hashes keys with FNV-1a: a workcycle still stays on one
	// partition, but not necessarily the one franz-go or Java would choose.
	ClientKafkaGo = "kafka-go"
)

// Clients returns every client name ProduceConfig accepts.
func Clients() []string { return []string{ClientFranz, ClientKafkaGo} }

// ProduceConfig says where and how fast to produce.
type ProduceConfig struct {
	// Brokers are the seed brokers, host:port.
	Brokers []string
	// Topic receives every record.
	Topic string
	// Client is ClientFranz or ClientKafkaGo.
	Client string
	// Rate paces producing to this many records per second; 0 produces as
	// fast as the broker takes them.
	Rate float64
}

// Validate reports every invalid value.
func (c ProduceConfig) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("brokers: must list at least one host:port"))
	}
	for _, b := range c.Brokers {
		if host, port, ok := strings.Cut(b, ":"); !ok || host == "" || port == "" {
			errs = append(errs, fmt.Errorf("brokers: %q must be host:port", b))
		}
	}
	if c.Topic == "" {
		errs = append(errs, errors.New("topic: must name a topic"))
	}
	if c.Client != ClientFranz && c.Client != ClientKafkaGo {
		errs = append(errs, fmt.Errorf("client: must be one of %s, got %q", strings.Join(Clients(), ", "), c.Client))
	}
	if !(c.Rate >= 0) {
		errs = append(errs, fmt.Errorf("rate: must not be negative, got %v", c.Rate))
	}
	return errors.Join(errs...)
}

// ProduceStats sums up a Produce call.
type ProduceStats struct {
	Records int64         // records acknowledged by the brokers
	Bytes   int64         // their keys, values and headers
	Elapsed time.Duration // from the first send to the last acknowledgement
}

// RecordsPerSecond is the achieved rate.
func (s ProduceStats) RecordsPerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Records) / s.Elapsed.Seconds()
}

// producer is one client library behind Produce.
type producer interface {
	// send hands the messages to the client; it may return before they
	// are acknowledged, and reports an earlier failure if there was one.
	send(ctx context.Context, msgs []Message) error
	// flush waits until everything sent is acknowledged.
	flush(ctx context.Context) error
	close()
}

// Produce sends msgs to cfg.Topic in order, paced to cfg.Rate, and waits
// until the brokers acknowledged all of them. acked, if not nil, is called
// with the number of records each time some are acknowledged, possibly from
// another goroutine.
func Produce(ctx context.Context, cfg ProduceConfig, msgs []Message, acked func(int)) (ProduceStats, error) {
	if err := cfg.Validate(); err != nil {
		return ProduceStats{}, fmt.Errorf("invalid producer configuration: %w", err)
	}
	if acked == nil {
		acked = func(int) {}
	}
	var p producer
	var err error
	if cfg.Client == ClientFranz {
		p, err = newFranzProducer(cfg, acked)
	} else {
		p = newKafkaGoProducer(cfg, acked)
	}
	if err != nil {
		return ProduceStats{}, err
	}
	defer p.close()

	chunk := 1000
	var lim *rate.Limiter
	if cfg.Rate > 0 {
		// Ten chunks a second keep the pace smooth.
		chunk = max(1, min(chunk, int(cfg.Rate/10)))
		lim = rate.NewLimiter(rate.Limit(cfg.Rate), chunk)
	}
	start := time.Now()
	var st ProduceStats
	for i := 0; i < len(msgs); i += chunk {
		part := msgs[i:min(i+chunk, len(msgs))]
		if lim != nil {
			if err := lim.WaitN(ctx, len(part)); err != nil {
				return st, fmt.Errorf("cannot produce to %s: %w", cfg.Topic, err)
			}
		}
		if err := p.send(ctx, part); err != nil {
			return st, fmt.Errorf("cannot produce to %s with %s: %w", cfg.Topic, cfg.Client, err)
		}
		for j := range part {
			st.Bytes += int64(part[j].Size())
		}
	}
	if err := p.flush(ctx); err != nil {
		return st, fmt.Errorf("cannot produce to %s with %s: %w", cfg.Topic, cfg.Client, err)
	}
	st.Records = int64(len(msgs))
	st.Elapsed = time.Since(start)
	return st, nil
}
