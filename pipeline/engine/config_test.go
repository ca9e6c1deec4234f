package engine

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Config)
		want   []string // substrings of the error; none for a valid config
	}{
		{"defaults are valid", func(*Config) {}, nil},
		{"zero settle delay and lateness are valid", func(c *Config) { c.SettleDelay, c.AllowedLateness = 0, 0 }, nil},
		{"negative settle delay", func(c *Config) { c.SettleDelay = -time.Second }, []string{"engine.settle_delay"}},
		{"zero idle timeout", func(c *Config) { c.IdleTimeout = 0 }, []string{"engine.idle_timeout: must be positive"}},
		{"every problem is reported", func(c *Config) { c.MaxDuration, c.AllowedLateness = 0, -1 }, []string{"engine.max_duration", "engine.allowed_lateness"}},
		{"zero corroboration window is valid", func(c *Config) { c.CorroborationWindow = 0 }, nil},
		{"negative corroboration window", func(c *Config) { c.CorroborationWindow = -time.Minute }, []string{"engine.corroboration_window: must not be negative"}},
		{"state budget at its minimum is valid", func(c *Config) { c.MaxStateBytes = MinMaxStateBytes }, nil},
		{"state budget below its minimum", func(c *Config) { c.MaxStateBytes = MinMaxStateBytes - 1 }, []string{"engine.max_state_bytes: must be at least 65536"}},
		{"unset state budget", func(c *Config) { c.MaxStateBytes = 0 }, []string{"engine.max_state_bytes"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig()
			c.change(&cfg)
			err := cfg.Validate()
			if len(c.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}
