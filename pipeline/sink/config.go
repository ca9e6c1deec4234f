package sink

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/awumeter/awumeter/internal/tlsconfig"
)

// Config is what a user writes under the service's clickhouse key: the
// connection and the write settings, in one flat section.
type Config struct {
	// ClickHouseConfig is the connection: addrs, database, username,
	// password, password_file, tls and dial_timeout.
	ClickHouseConfig `yaml:",inline"`
	Batch            BatchConfig `yaml:"batch"`
	Retry            RetryConfig `yaml:"retry"`
	// MaxPendingBatches bounds the sealed batches waiting for ClickHouse;
	// when they are all waiting, Buffer.Add blocks. Default 1: while one
	// batch is written the next one waits, sealed, and a third fills, so
	// the writer never waits for rows, and each further batch would only
	// hold memory (the rows of (max_pending_batches + 2) batches are held
	// at most). 4, the earlier default, held about 150 MiB more at the
	// peak of a catch-up and was no faster.
	MaxPendingBatches int `yaml:"max_pending_batches"`
	// InsertTimeout bounds one insert attempt (and one read of the events
	// ledger); a timed-out attempt is retried. Default 60s.
	InsertTimeout time.Duration `yaml:"insert_timeout"`
	// MaxQueryBytes bounds the text of every read of the events ledger,
	// in bytes, overriding the default 200 KiB (204800); at least 16 KiB.
	// The ids of the workcycles looked up are part of the text, so lists
	// of them are split into as many queries as keep each under it. Keep
	// it below the server's max_query_size (262144 by default), which
	// refuses longer queries. A single workcycle whose ids alone exceed it
	// cannot be looked up (sink.ErrQueryTooLarge).
	MaxQueryBytes int `yaml:"max_query_bytes"`
	// RollupRefreshInterval is how often, at most, the rollup tables are
	// refreshed for the days the rows written since the last refresh
	// changed. Offsets wait for the refresh, so it adds up to this much
	// (plus the refresh) to the commit delay; a longer interval refreshes
	// a busy day less often. A refresh is also followed by a pause of at
	// least three times its duration, so that a catch-up, whose refreshes
	// cover many days, spends at most a quarter of the time refreshing.
	// Default 1s; 0 refreshes after every batch (and that pause).
	RollupRefreshInterval time.Duration `yaml:"rollup_refresh_interval"`
}

// Defaults and bounds of Config.MaxQueryBytes.
const (
	// DefaultMaxQueryBytes is 200 KiB, under ClickHouse's default
	// max_query_size of 256 KiB with room to spare.
	DefaultMaxQueryBytes = 200 << 10
	// MinMaxQueryBytes is 16 KiB: room for a query and a few ids of the
	// decoders' maximum length.
	MinMaxQueryBytes = 16 << 10
)

// ClickHouseConfig says how to reach the server. The commands that only
// connect (migrate, statement) use it alone.
type ClickHouseConfig struct {
	// Addrs are host:port pairs of the native protocol. Default 127.0.0.1:9000.
	Addrs []string `yaml:"addrs"`
	// Database defaults to awumeter.
	Database string `yaml:"database"`
	// Username defaults to "default".
	Username string `yaml:"username"`
	// Password is never logged; prefer PasswordFile. Set at most one.
	Password     string    `yaml:"password"`
	PasswordFile string    `yaml:"password_file"`
	TLS          TLSConfig `yaml:"tls"`
	// DialTimeout defaults to 10s.
	DialTimeout time.Duration `yaml:"dial_timeout"`
	// Compression of the native protocol's data blocks, both ways: lz4,
	// zstd or none. Default lz4, which makes the blocks of a catch-up
	// several times smaller for little CPU. When ClickHouse is on the same
	// host, none saves that CPU (about 7% of the service's); zstd only
	// pays on a slow link: it takes about three times lz4's CPU.
	Compression string `yaml:"compression"`
}

// The values of ClickHouseConfig.Compression.
var compressionMethods = map[string]clickhouse.CompressionMethod{
	"lz4":  clickhouse.CompressionLZ4,
	"zstd": clickhouse.CompressionZSTD,
	"none": clickhouse.CompressionNone,
}

// TLSConfig enables TLS to ClickHouse, with a client certificate for
// mutual TLS; it is the same loader as Kafka's (internal/tlsconfig).
type TLSConfig = tlsconfig.Config

// BatchConfig says when Buffer seals a batch: whichever limit comes first.
type BatchConfig struct {
	// MaxRows counts rows across all tables. Default 100,000: ClickHouse's
	// CPU per row falls steeply with the size of an insert, so fewer,
	// larger inserts leave it more for everything else.
	MaxRows int `yaml:"max_rows"`
	// MaxBytes is an estimate of the batch's size in memory, and so what
	// bounds the sink's memory: at most (max_pending_batches + 2) batches
	// are held. Default 24 MiB, which the rows of a typical catch-up reach
	// at about 70,000 rows.
	MaxBytes int `yaml:"max_bytes"`
	// FlushInterval bounds how long the first row of a batch waits, and so
	// the delay of a commit when rows come slowly. Default 1s.
	FlushInterval time.Duration `yaml:"flush_interval"`
}

// RetryConfig bounds the backoff between insert attempts. Retries go on
// until the context ends; only permanent errors stop them.
type RetryConfig struct {
	// InitialBackoff defaults to 100ms.
	InitialBackoff time.Duration `yaml:"initial_backoff"`
	// MaxBackoff defaults to 10s.
	MaxBackoff time.Duration `yaml:"max_backoff"`
}

// DefaultConfig returns the defaults documented on each field.
func DefaultConfig() Config {
	return Config{
		ClickHouseConfig: ClickHouseConfig{
			Addrs:       []string{"127.0.0.1:9000"},
			Database:    "awumeter",
			Username:    "default",
			DialTimeout: 10 * time.Second,
			Compression: "lz4",
		},
		Batch:             BatchConfig{MaxRows: 100_000, MaxBytes: 24 << 20, FlushInterval: time.Second},
		Retry:             RetryConfig{InitialBackoff: 100 * time.Millisecond, MaxBackoff: 10 * time.Second},
		MaxPendingBatches: 1,
		InsertTimeout:     60 * time.Second,
		MaxQueryBytes:     DefaultMaxQueryBytes,

		RollupRefreshInterval: time.Second,
	}
}

// Validate reports every problem, each named by its key.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("clickhouse.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	errs = append(errs, c.ClickHouseConfig.Validate())
	if c.Batch.MaxRows < 1 {
		bad("batch.max_rows", "must be at least 1, got %d", c.Batch.MaxRows)
	}
	if c.Batch.MaxBytes < 1024 {
		bad("batch.max_bytes", "must be at least 1024, got %d", c.Batch.MaxBytes)
	}
	if c.Batch.FlushInterval <= 0 {
		bad("batch.flush_interval", "must be positive, got %s", c.Batch.FlushInterval)
	}
	if c.Retry.InitialBackoff <= 0 {
		bad("retry.initial_backoff", "must be positive, got %s", c.Retry.InitialBackoff)
	}
	if c.Retry.MaxBackoff < c.Retry.InitialBackoff {
		bad("retry.max_backoff", "must be at least clickhouse.retry.initial_backoff (%s), got %s", c.Retry.InitialBackoff, c.Retry.MaxBackoff)
	}
	if c.MaxPendingBatches < 1 {
		bad("max_pending_batches", "must be at least 1, got %d", c.MaxPendingBatches)
	}
	if c.InsertTimeout <= 0 {
		bad("insert_timeout", "must be positive, got %s", c.InsertTimeout)
	}
	if c.MaxQueryBytes < MinMaxQueryBytes {
		bad("max_query_bytes", "must be at least %d (16 KiB), got %d", MinMaxQueryBytes, c.MaxQueryBytes)
	}
	if c.RollupRefreshInterval < 0 {
		bad("rollup_refresh_interval", "must be zero or more, got %s", c.RollupRefreshInterval)
	}
	return errors.Join(errs...)
}

// Validate reports every problem of the connection settings.
func (c ClickHouseConfig) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("clickhouse.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if len(c.Addrs) == 0 {
		bad("addrs", "must list at least one host:port")
	}
	for i, a := range c.Addrs {
		if host, port, ok := strings.Cut(a, ":"); !ok || host == "" || port == "" {
			bad(fmt.Sprintf("addrs[%d]", i), "%q must be host:port", a)
		}
	}
	if !identifier(c.Database) {
		bad("database", "%q must match [A-Za-z_][A-Za-z0-9_]*", c.Database)
	}
	if c.Password != "" && c.PasswordFile != "" {
		bad("password_file", "set either clickhouse.password or clickhouse.password_file, not both")
	}
	if c.DialTimeout <= 0 {
		bad("dial_timeout", "must be positive, got %s", c.DialTimeout)
	}
	if _, ok := compressionMethods[c.Compression]; !ok {
		bad("compression", "must be lz4, zstd or none, got %q", c.Compression)
	}
	errs = append(errs, c.TLS.Validate("clickhouse.tls"))
	return errors.Join(errs...)
}

func identifier(s string) bool {
	for i, r := range s {
		if r != '_' && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return s != ""
}

// password reads the configured secret.
func (c ClickHouseConfig) password() (string, error) {
	if c.PasswordFile == "" {
		return c.Password, nil
	}
	b, err := os.ReadFile(c.PasswordFile)
	if err != nil {
		return "", fmt.Errorf("clickhouse.password_file: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// String describes the settings without the password.
func (c ClickHouseConfig) String() string {
	secret := "none"
	switch {
	case c.PasswordFile != "":
		secret = "file " + c.PasswordFile
	case c.Password != "":
		secret = "set"
	}
	return fmt.Sprintf("clickhouse %s database=%s user=%s password=%s tls=%t",
		strings.Join(c.Addrs, ","), c.Database, c.Username, secret, c.TLS.Enabled)
}
