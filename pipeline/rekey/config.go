package rekey

import (
	"errors"
	"fmt"
	"time"
)

// Defaults for Config.
const (
	// DefaultRetention keeps repartition records 7 days, Kafka's default
	// retention: enough for an outage of the engines plus
	// engine.max_duration (24h) of open workcycles, whose records are
	// replayed from the committed offset on restart.
	DefaultRetention = 7 * 24 * time.Hour
	// DefaultTransactionTimeout is how long the brokers keep a transaction
	// open after its producer stopped answering, Kafka Streams' default.
	// A crashed instance's open transaction holds back the engines' reads
	// of the repartition partitions it wrote to until then, unless a new
	// instance with the same transactional id aborts it sooner.
	DefaultTransactionTimeout = 10 * time.Second
)

// Config is what a user writes under the rekey key. It matters only when a
// topic is not declared keyed by workcycle.
type Config struct {
	// Partitions is the repartition topic's partition count when the stage
	// creates it. 0, the default, takes the largest partition count among
	// the topics it re-keys. The count of an existing topic is never
	// changed, since that would move workcycles between partitions; a
	// non-zero value that differs from it is an error.
	Partitions int32 `yaml:"partitions"`
	// ReplicationFactor of the repartition topic when created; -1, the
	// default, takes the brokers' default.replication.factor.
	ReplicationFactor int16 `yaml:"replication_factor"`
	// Retention is the repartition topic's retention.ms when created,
	// default 168h. It must outlast the longest time the engines may be
	// behind: an outage plus engine.max_duration.
	Retention time.Duration `yaml:"retention"`
	// TransactionalID identifies this instance's transactional producer.
	// Empty, the default, derives "<group>-rekey-<hostname>-<pid>", unique
	// per process on a host (in a container, whose pid is usually 1, as
	// unique as its hostname); a fixed value per instance (e.g. a
	// StatefulSet pod name) lets a restarted instance abort its
	// predecessor's open transaction at once. Two running instances must
	// never share one: the brokers fence the older.
	TransactionalID string `yaml:"transactional_id"`
	// TransactionTimeout is the brokers' transaction.timeout.ms for this
	// producer, default 10s; at most the brokers'
	// transaction.max.timeout.ms (15 minutes by default).
	TransactionTimeout time.Duration `yaml:"transaction_timeout"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{ReplicationFactor: -1, Retention: DefaultRetention, TransactionTimeout: DefaultTransactionTimeout}
}

// Validate reports every invalid value, naming its YAML key.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("rekey.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.Partitions < 0 {
		bad("partitions", "must not be negative (0 takes the largest input topic's count), got %d", c.Partitions)
	}
	if c.ReplicationFactor == 0 || c.ReplicationFactor < -1 {
		bad("replication_factor", "must be at least 1, or -1 for the brokers' default, got %d", c.ReplicationFactor)
	}
	if c.Retention < time.Millisecond {
		bad("retention", "must be at least 1ms, got %s", c.Retention)
	}
	if c.TransactionTimeout < time.Second {
		bad("transaction_timeout", "must be at least 1s, got %s", c.TransactionTimeout)
	}
	return errors.Join(errs...)
}
