package engine

import (
	"errors"
	"fmt"
	"time"
)

// Defaults for Config; DefaultConfig returns them.
const (
	DefaultSettleDelay     = 30 * time.Second
	DefaultIdleTimeout     = 30 * time.Minute
	DefaultMaxDuration     = 24 * time.Hour
	DefaultAllowedLateness = time.Minute
	DefaultClosedRetention = 15 * time.Minute
)

// Config is what a user writes under the engine key. All durations are
// event time, measured against the partition's watermark, never the clock.
// Build it from DefaultConfig and override fields.
type Config struct {
	// SettleDelay is how long after its completed event a workcycle waits
	// for stragglers before it is emitted, overriding the default 30s.
	SettleDelay time.Duration `yaml:"settle_delay"`

	// IdleTimeout emits a workcycle that has had no event for this long,
	// overriding the default 30m.
	IdleTimeout time.Duration `yaml:"idle_timeout"`

	// MaxDuration emits a workcycle this long after its first event even if
	// it is still busy, overriding the default 24h. Later events re-emit it.
	MaxDuration time.Duration `yaml:"max_duration"`

	// AllowedLateness is the out-of-orderness the watermark allows: the
	// watermark is the latest event time seen minus this, overriding the
	// default 1m. It delays every closing rule by as much.
	AllowedLateness time.Duration `yaml:"allowed_lateness"`

	// ClosedRetention keeps an emitted workcycle, with its event ids, in
	// memory for this long after it was emitted, so that stragglers are
	// absorbed without a History lookup, overriding the default 15m.
	ClosedRetention time.Duration `yaml:"closed_retention"`
}

// DefaultConfig returns the configuration used when the engine key sets nothing.
func DefaultConfig() Config {
	return Config{
		SettleDelay:     DefaultSettleDelay,
		IdleTimeout:     DefaultIdleTimeout,
		MaxDuration:     DefaultMaxDuration,
		AllowedLateness: DefaultAllowedLateness,
		ClosedRetention: DefaultClosedRetention,
	}
}

// Validate reports every invalid value, naming its YAML key.
func (c Config) Validate() error {
	var errs []error
	nonNegative := func(key string, d time.Duration) {
		if d < 0 {
			errs = append(errs, fmt.Errorf("engine.%s: must not be negative, got %s", key, d))
		}
	}
	positive := func(key string, d time.Duration) {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("engine.%s: must be positive, got %s", key, d))
		}
	}
	nonNegative("settle_delay", c.SettleDelay)
	positive("idle_timeout", c.IdleTimeout)
	positive("max_duration", c.MaxDuration)
	nonNegative("allowed_lateness", c.AllowedLateness)
	nonNegative("closed_retention", c.ClosedRetention)
	return errors.Join(errs...)
}
