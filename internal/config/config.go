package config

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/awumeter/awumeter/internal/logging"
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/guard"
	"github.com/awumeter/awumeter/pipeline/rekey"
	"github.com/awumeter/awumeter/pipeline/sink"
	"github.com/awumeter/awumeter/pipeline/source"
)

// DefaultShutdownTimeout bounds a graceful stop.
const DefaultShutdownTimeout = 30 * time.Second

// Config is the whole service configuration.
type Config struct {
	// Kafka is where telemetry is read and dead letters are written.
	Kafka source.Config `yaml:"kafka"`
	// ClickHouse is where rows and the events ledger are written: the
	// connection and the batch, retry, max_pending_batches and
	// insert_timeout write settings.
	ClickHouse sink.Config `yaml:"clickhouse"`
	// Engine groups events into AWUs and workcycles.
	Engine engine.Config `yaml:"engine"`
	// Guards are alert rules on workcycles, AWUs and tenants' spend, and
	// the topic their alerts go to (docs/guards.md).
	Guards guard.Config `yaml:"guards"`
	// Rekey is the re-key stage, which runs when a topic is not declared
	// kafka.topics[i].keyed_by_workcycle: the repartition topic's sizing and
	// the stage's transactions.
	Rekey rekey.Config `yaml:"rekey"`
	// Pricebook is the price book file; empty means the one shipped in the binary.
	Pricebook string `yaml:"pricebook"`
	// HTTP serves /metrics, /healthz, /readyz and optionally pprof.
	HTTP HTTPConfig `yaml:"http"`
	// Log sets the log level and format.
	Log logging.Config `yaml:"log"`
	// ShutdownTimeout bounds a graceful stop on SIGTERM or SIGINT: stop
	// fetching, flush, commit and leave the group. Default 30s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// HTTPConfig is the observability endpoint.
type HTTPConfig struct {
	// Listen is the address of /metrics, /healthz and /readyz. Default
	// ":8080"; empty disables the server.
	Listen string `yaml:"listen"`
	// Pprof serves /debug/pprof/ on the same address. Default false.
	Pprof bool `yaml:"pprof"`
	// StallTimeout: /readyz fails when a partition has records waiting
	// (lag > 0) and none was processed for this long. Default 60s.
	StallTimeout time.Duration `yaml:"stall_timeout"`
}

// Default returns every default in one place.
func Default() Config {
	return Config{
		Kafka:           source.DefaultConfig(),
		ClickHouse:      sink.DefaultConfig(),
		Engine:          engine.DefaultConfig(),
		Rekey:           rekey.DefaultConfig(),
		Guards:          guard.DefaultConfig(),
		HTTP:            HTTPConfig{Listen: ":8080", StallTimeout: 60 * time.Second},
		Log:             logging.DefaultConfig(),
		ShutdownTimeout: DefaultShutdownTimeout,
	}
}

// Validate lists every problem, each named by its key.
func (c Config) Validate() error {
	errs := []error{c.Kafka.Validate(), c.ClickHouse.Validate(), c.Engine.Validate(), c.Guards.Validate(), c.Rekey.Validate(), c.Log.Validate()}
	if c.HTTP.Listen != "" && !strings.Contains(c.HTTP.Listen, ":") {
		errs = append(errs, fmt.Errorf("http.listen: %q must be host:port or :port", c.HTTP.Listen))
	}
	if c.HTTP.StallTimeout <= 0 {
		errs = append(errs, fmt.Errorf("http.stall_timeout: must be positive, got %s", c.HTTP.StallTimeout))
	}
	for i, t := range c.Kafka.Topics {
		// Every id the decoders accept must fit in a ledger read, or its
		// workcycle could never be looked up and the partition would stop.
		if need := sink.KeyQueryBytes(c.ClickHouse.Database, t.Decode.MaxIDBytes); t.Decode.MaxIDBytes > 0 && need > c.ClickHouse.MaxQueryBytes {
			errs = append(errs, fmt.Errorf("kafka.topics[%d].decode.max_id_bytes: ids of %d bytes can make a ledger read of %d bytes, over clickhouse.max_query_bytes %d; lower one or raise the other",
				i, t.Decode.MaxIDBytes, need, c.ClickHouse.MaxQueryBytes))
		}
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("shutdown_timeout: must be positive, got %s", c.ShutdownTimeout))
	}
	return errors.Join(errs...)
}

// Problems returns Validate's problems one by one, for printing.
func Problems(err error) []string {
	if err == nil {
		return nil
	}
	var out []string
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			out = append(out, Problems(e)...)
		}
		return out
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// redacted is what secrets are shown as.
const redacted = "[redacted]"

// Redacted returns a copy with every secret replaced, safe to log or print.
func (c Config) Redacted() Config {
	if c.ClickHouse.Password != "" {
		c.ClickHouse.Password = redacted
	}
	if c.Kafka.SASL.Password != "" {
		c.Kafka.SASL.Password = redacted
	}
	c.Kafka.Topics = append([]source.TopicConfig(nil), c.Kafka.Topics...)
	c.ClickHouse.Addrs = append([]string(nil), c.ClickHouse.Addrs...)
	return c
}

// String renders the configuration as YAML, secrets redacted.
func (c Config) String() string {
	b, err := yaml.Marshal(c.Redacted())
	if err != nil {
		return "<config: " + err.Error() + ">"
	}
	return string(b)
}
