package sink

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/awumeter/awumeter/internal/backoff"
)

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	cases := []struct {
		name   string
		change func(*Config)
		want   []string // every key the error must name
	}{
		{"no address", func(c *Config) { c.Addrs = nil }, []string{"clickhouse.addrs"}},
		{"address without port", func(c *Config) { c.Addrs = []string{"a:1", "b"} }, []string{"clickhouse.addrs[1]"}},
		{"database with a dash", func(c *Config) { c.Database = "awu-meter" }, []string{"clickhouse.database"}},
		{"password twice", func(c *Config) { c.Password, c.PasswordFile = "x", "/f" }, []string{"clickhouse.password_file"}},
		{"tls options without tls", func(c *Config) { c.TLS.CAFile = "/ca.pem" }, []string{"clickhouse.tls.enabled"}},
		{"client certificate without tls", func(c *Config) { c.TLS.CertFile, c.TLS.KeyFile = "/c.pem", "/k.pem" }, []string{"clickhouse.tls.enabled"}},
		{"client certificate without key", func(c *Config) { c.TLS.Enabled, c.TLS.CertFile = true, "/c.pem" }, []string{"clickhouse.tls.key_file"}},
		{"unknown compression", func(c *Config) { c.Compression = "gzip" }, []string{"clickhouse.compression"}},
		{"no compression named", func(c *Config) { c.Compression = "" }, []string{"clickhouse.compression"}},
		{"zero batch limits", func(c *Config) { c.Batch = BatchConfig{} }, []string{"clickhouse.batch.max_rows", "clickhouse.batch.max_bytes", "clickhouse.batch.flush_interval"}},
		{"backoff bounds reversed", func(c *Config) { c.Retry.MaxBackoff = time.Millisecond }, []string{"clickhouse.retry.max_backoff"}},
		{"no pending batches", func(c *Config) { c.MaxPendingBatches = 0 }, []string{"clickhouse.max_pending_batches"}},
		{"no insert timeout", func(c *Config) { c.InsertTimeout = 0 }, []string{"clickhouse.insert_timeout"}},
		{"a query bound below 16 KiB", func(c *Config) { c.MaxQueryBytes = 16383 }, []string{"clickhouse.max_query_bytes"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.change(&c)
			err := c.Validate()
			if err == nil {
				t.Fatal("accepted")
			}
			for _, key := range tc.want {
				if !strings.Contains(err.Error(), key+":") {
					t.Errorf("error %q does not name %s", err, key)
				}
			}
		})
	}
}

func TestConfigStringHidesThePassword(t *testing.T) {
	c := DefaultConfig().ClickHouseConfig
	c.Password = "hunter2"
	if s := c.String(); strings.Contains(s, "hunter2") {
		t.Errorf("%q shows the password", s)
	}
}

func TestBackoffStaysWithinBounds(t *testing.T) {
	r := RetryConfig{InitialBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}
	rt := newRetrier(r, backoff.NewRand(rand.NewPCG(1, 2)))
	for n := range 20 {
		d := rt.backoff(n)
		if d < r.InitialBackoff/2 || d > r.MaxBackoff {
			t.Errorf("backoff(%d) = %s", n, d)
		}
	}
}
