package source

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/awumeter/awumeter/internal/strictyaml"
	"github.com/awumeter/awumeter/internal/tlsconfig"

	"go.yaml.in/yaml/v3"

	"github.com/awumeter/awumeter/pipeline/decode"
)

// Defaults for Config; DefaultConfig returns them.
const (
	DefaultGroup            = "awumeter"
	DefaultClientID         = "awumeter"
	DefaultAutoOffsetReset  = "earliest"
	DefaultCommitInterval   = 2 * time.Second
	DefaultMaxPollRecords   = 5000
	DefaultSessionTimeout   = 45 * time.Second
	DefaultRebalanceTimeout = 60 * time.Second
	DefaultIdleAdvance      = 30 * time.Second
	// DefaultDeadLetterMaxBufferedBytes is 16 MiB: sixteen records of
	// Kafka's default 1 MiB maximum.
	DefaultDeadLetterMaxBufferedBytes = 16 << 20
	// MinDeadLetterMaxBufferedBytes is 1 MiB, Kafka's default maximum
	// record size, so that a bound never serialises ordinary letters.
	MinDeadLetterMaxBufferedBytes = 1 << 20
)

// SASL mechanisms kafka.sasl.mechanism may name.
const (
	MechanismPlain       = "PLAIN"
	MechanismSCRAMSHA256 = "SCRAM-SHA-256"
	MechanismSCRAMSHA512 = "SCRAM-SHA-512"
)

// Config is what a user writes under the kafka key. Build it from
// DefaultConfig and override fields.
type Config struct {
	// Brokers are the seed brokers, host:port. Default 127.0.0.1:9092.
	Brokers []string `yaml:"brokers"`
	// Group is the consumer group; every instance of one deployment uses
	// the same group and shares the partitions. Default "awumeter".
	Group string `yaml:"group"`
	// ClientID names this client in broker logs and quotas. Default "awumeter".
	ClientID string `yaml:"client_id"`
	// Topics are the telemetry topics, each with its wire format.
	Topics []TopicConfig `yaml:"topics"`
	// AutoOffsetReset is where a partition without a committed offset
	// starts: earliest (the default, so that a new group reads what is
	// already waiting) or latest.
	AutoOffsetReset string `yaml:"auto_offset_reset"`
	// DeadLetterTopic receives every record that cannot be decoded or is
	// refused, with its key and value untouched. Empty means such records
	// are logged, counted and skipped.
	DeadLetterTopic string `yaml:"dead_letter_topic"`
	// DeadLetterMaxBufferedBytes bounds the dead letters produced and not
	// yet acknowledged by the brokers (key, value and headers, retries
	// included), in bytes, overriding the default 16 MiB (16777216); at
	// least 1 MiB. When it is reached, polling waits until letters are
	// acknowledged: nothing is dropped and nothing more is read. A single
	// letter larger than the bound is produced alone.
	DeadLetterMaxBufferedBytes int64 `yaml:"dead_letter_max_buffered_bytes"`
	// TLS encrypts connections to the brokers.
	TLS TLSConfig `yaml:"tls"`
	// SASL authenticates to the brokers.
	SASL SASLConfig `yaml:"sasl"`
	// CommitInterval is how often acknowledged offsets are committed,
	// overriding the default 2s. Offsets are also committed on revocation
	// and at shutdown.
	CommitInterval time.Duration `yaml:"commit_interval"`
	// MaxPollRecords bounds the records processed per poll, overriding the
	// default 5000; with the sink's queue it bounds memory.
	MaxPollRecords int `yaml:"max_poll_records"`
	// SessionTimeout is the group session timeout, overriding the default 45s.
	SessionTimeout time.Duration `yaml:"session_timeout"`
	// RebalanceTimeout is how long the group waits for members to finish
	// revoking (flush and commit), overriding the default 60s.
	RebalanceTimeout time.Duration `yaml:"rebalance_timeout"`
	// IdleAdvance is how long a partition that is caught up may receive
	// nothing before its event-time watermark is moved to the wall clock,
	// so that its last workcycles close and reach ClickHouse, overriding
	// the default 30s. 0 disables it: a quiet partition's open workcycles
	// then wait for its next record.
	IdleAdvance time.Duration `yaml:"idle_advance"`
	// PartitionWorkers is how many assigned partitions are processed at
	// once, each by its own engine. 0, the default, means one per CPU the
	// process may use (GOMAXPROCS).
	PartitionWorkers int `yaml:"partition_workers"`
}

// TopicConfig is one entry of kafka.topics.
type TopicConfig struct {
	// Name is the topic.
	Name string `yaml:"name"`
	// Format is the records' wire format: json, cloudevents, otlp_proto or otlp_json.
	Format string `yaml:"format"`
	// Decode tunes the decoder; see package decode for its defaults.
	Decode decode.Config `yaml:"decode"`
	// KeyedByWorkcycle declares that every record of a workcycle is on one
	// partition of the topic, as the contract's record key (the
	// workcycle_id, hashed by one partitioner) puts it. Records of a topic
	// that is not declared keyed first pass through the re-key stage
	// (package rekey), which decodes them and produces their events keyed
	// by workcycle to the repartition topic. Unset, it is true for json and
	// cloudevents, whose producers set the key per the contract, and false
	// for otlp_proto and otlp_json: the OpenTelemetry Collector keys by
	// trace id or not at all.
	KeyedByWorkcycle *bool `yaml:"keyed_by_workcycle"`
}

// Keyed reports whether the topic is declared keyed by workcycle, applying
// the per-format default when keyed_by_workcycle is unset.
func (t TopicConfig) Keyed() bool {
	if t.KeyedByWorkcycle != nil {
		return *t.KeyedByWorkcycle
	}
	return t.Format == decode.FormatJSON || t.Format == decode.FormatCloudEvents
}

// RekeyGroup is the consumer group of the re-key stage of the deployment
// whose consumer group is group: "<group>-rekey".
func RekeyGroup(group string) string { return group + "-rekey" }

// RepartitionTopic is the internal topic the re-key stage produces to and
// the engines consume, for the deployment whose consumer group is group:
// "<group>-rekey-repartition". Its records are events in
// event.AppendBinary's encoding, keyed by RepartitionKey.
func RepartitionTopic(group string) string { return RekeyGroup(group) + "-repartition" }

// RepartitionKey is the record key of an event on the repartition topic:
// tenant_id, a NUL byte, workcycle_id. Kafka's default partitioner (murmur2
// of the key) then puts a workcycle on one partition.
func RepartitionKey(dst []byte, tenantID, workcycleID string) []byte {
	dst = append(dst, tenantID...)
	dst = append(dst, 0)
	return append(dst, workcycleID...)
}

// Keyed returns the topics declared keyed by workcycle, which the engines
// consume directly, and Unkeyed those the re-key stage consumes.
func (c Config) Keyed() []TopicConfig   { return c.topics(true) }
func (c Config) Unkeyed() []TopicConfig { return c.topics(false) }

func (c Config) topics(keyed bool) []TopicConfig {
	var out []TopicConfig
	for _, t := range c.Topics {
		if t.Keyed() == keyed {
			out = append(out, t)
		}
	}
	return out
}

// TLSConfig enables TLS to the brokers, with a client certificate for
// mutual TLS; it is the same loader as ClickHouse's (internal/tlsconfig).
type TLSConfig = tlsconfig.Config

// SASLConfig authenticates to the brokers; an empty mechanism disables SASL.
type SASLConfig struct {
	// Mechanism is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
	Mechanism string `yaml:"mechanism"`
	Username  string `yaml:"username"`
	// Password is never logged; prefer PasswordFile or the
	// AWUMETER_KAFKA_SASL_PASSWORD variable. Set at most one of the two.
	Password     string `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
}

// DefaultConfig returns the configuration used when the kafka key sets
// nothing. It has no topics; at least one must be configured.
func DefaultConfig() Config {
	return Config{
		Brokers:          []string{"127.0.0.1:9092"},
		Group:            DefaultGroup,
		ClientID:         DefaultClientID,
		AutoOffsetReset:  DefaultAutoOffsetReset,
		CommitInterval:   DefaultCommitInterval,
		MaxPollRecords:   DefaultMaxPollRecords,
		SessionTimeout:   DefaultSessionTimeout,
		RebalanceTimeout: DefaultRebalanceTimeout,
		IdleAdvance:      DefaultIdleAdvance,

		DeadLetterMaxBufferedBytes: DefaultDeadLetterMaxBufferedBytes,
	}
}

// DefaultTopicConfig returns a topic entry's defaults: native JSON with the
// decoder's defaults. Entries of kafka.topics start from it.
func DefaultTopicConfig() TopicConfig {
	return TopicConfig{Format: decode.FormatJSON, Decode: decode.DefaultConfig()}
}

// UnmarshalYAML starts every topic entry from DefaultTopicConfig, so that an
// entry names only what it changes. Unknown keys are errors.
// An unset keyed_by_workcycle is resolved from the format, so that a
// printed configuration shows the value in effect.
func (t *TopicConfig) UnmarshalYAML(n *yaml.Node) error {
	*t = DefaultTopicConfig()
	type plain TopicConfig
	if err := strictyaml.DecodeNode(n, (*plain)(t)); err != nil {
		return err
	}
	if t.KeyedByWorkcycle == nil {
		keyed := t.Keyed()
		t.KeyedByWorkcycle = &keyed
	}
	return nil
}

// Validate reports every invalid value, naming its YAML key.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("kafka.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if len(c.Brokers) == 0 {
		bad("brokers", "must list at least one host:port")
	}
	for i, b := range c.Brokers {
		if host, port, ok := strings.Cut(b, ":"); !ok || host == "" || port == "" {
			bad(fmt.Sprintf("brokers[%d]", i), "%q must be host:port", b)
		}
	}
	if c.Group == "" {
		bad("group", "must name the consumer group")
	} else if len(c.Unkeyed()) == 0 {
		// No re-key stage: the group names no topic.
	} else if len(RepartitionTopic(c.Group)) > maxTopicName {
		bad("group", "must be at most %d bytes, so that the internal topic %q fits Kafka's %d-byte topic names",
			maxTopicName-len(RepartitionTopic("")), RepartitionTopic(c.Group), maxTopicName)
	} else if !legalTopic(RepartitionTopic(c.Group)) {
		bad("group", "may hold only ASCII letters, digits, '.', '_' and '-', since it names the internal topic %q", RepartitionTopic(c.Group))
	}
	if c.ClientID == "" {
		bad("client_id", "must not be empty")
	}
	if len(c.Topics) == 0 {
		bad("topics", "must list at least one topic")
	}
	seen := map[string]int{}
	for i, t := range c.Topics {
		key := fmt.Sprintf("topics[%d]", i)
		if t.Name == "" {
			bad(key+".name", "must name a topic")
		} else if j, dup := seen[t.Name]; dup {
			bad(key+".name", "topic %q is already listed as kafka.topics[%d]", t.Name, j)
		} else {
			seen[t.Name] = i
		}
		if t.Name != "" && t.Name == c.DeadLetterTopic {
			bad(key+".name", "topic %q is also the dead_letter_topic", t.Name)
		}
		if t.Name != "" && c.Group != "" && t.Name == RepartitionTopic(c.Group) {
			bad(key+".name", "topic %q is the re-key stage's internal topic of group %q", t.Name, c.Group)
		}
		if err := decode.ValidateFormat(t.Format); err != nil {
			bad(key+".format", "%v", err)
		}
		if err := t.Decode.Validate(); err != nil {
			for _, e := range unjoin(err) {
				errs = append(errs, fmt.Errorf("kafka.%s.decode.%w", key, e))
			}
		}
	}
	switch c.AutoOffsetReset {
	case "earliest", "latest":
	default:
		bad("auto_offset_reset", "must be one of earliest, latest, got %q", c.AutoOffsetReset)
	}
	if err := c.TLS.Validate("kafka.tls"); err != nil {
		errs = append(errs, err)
	}
	if err := c.SASL.validate(); err != nil {
		errs = append(errs, err)
	}
	positive := func(key string, d time.Duration) {
		if d <= 0 {
			bad(key, "must be positive, got %s", d)
		}
	}
	positive("commit_interval", c.CommitInterval)
	positive("session_timeout", c.SessionTimeout)
	positive("rebalance_timeout", c.RebalanceTimeout)
	if c.IdleAdvance < 0 {
		bad("idle_advance", "must not be negative (0 disables it), got %s", c.IdleAdvance)
	}
	if c.DeadLetterMaxBufferedBytes < MinDeadLetterMaxBufferedBytes {
		bad("dead_letter_max_buffered_bytes", "must be at least %d (1 MiB), got %d", MinDeadLetterMaxBufferedBytes, c.DeadLetterMaxBufferedBytes)
	}
	if c.MaxPollRecords < 1 {
		bad("max_poll_records", "must be at least 1, got %d", c.MaxPollRecords)
	}
	if c.PartitionWorkers < 0 {
		bad("partition_workers", "must not be negative (0 means one per CPU), got %d", c.PartitionWorkers)
	}
	return errors.Join(errs...)
}

// maxTopicName is Kafka's limit on a topic name, in bytes.
const maxTopicName = 249

// legalTopic reports whether name has only the characters Kafka allows in
// a topic name.
func legalTopic(name string) bool {
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return name != "" && name != "." && name != ".."
}

// unjoin splits an errors.Join result into its parts, so that each can be
// prefixed with its key.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, unjoin(e)...)
		}
		return out
	}
	return []error{err}
}

func (s SASLConfig) validate() error {
	var errs []error
	switch s.Mechanism {
	case "":
		if s.Username != "" || s.Password != "" || s.PasswordFile != "" {
			errs = append(errs, errors.New("kafka.sasl.mechanism: must be set when a SASL username or password is"))
		}
		return errors.Join(errs...)
	case MechanismPlain, MechanismSCRAMSHA256, MechanismSCRAMSHA512:
	default:
		errs = append(errs, fmt.Errorf("kafka.sasl.mechanism: must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, got %q", s.Mechanism))
	}
	if s.Username == "" {
		errs = append(errs, errors.New("kafka.sasl.username: must be set with a SASL mechanism"))
	}
	switch {
	case s.Password != "" && s.PasswordFile != "":
		errs = append(errs, errors.New("kafka.sasl.password_file: set either kafka.sasl.password or kafka.sasl.password_file, not both"))
	case s.Password == "" && s.PasswordFile == "":
		errs = append(errs, errors.New("kafka.sasl.password: must be set with a SASL mechanism (or use kafka.sasl.password_file)"))
	}
	return errors.Join(errs...)
}
