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
	DefaultEmitInterval    = 5 * time.Second
	// DefaultCorroborationWindow is half the default idle timeout: a
	// workcycle ahead of all others by less moves the watermark alone.
	DefaultCorroborationWindow = 15 * time.Minute
	// DefaultMaxStateBytes is 256 MiB per engine, that is per partition:
	// about 110,000 typical open workcycles (estimated at 2.4 KB each), and
	// 4 GiB for 16 partitions on a 24 GiB machine.
	DefaultMaxStateBytes = 256 << 20
	// MinMaxStateBytes is the smallest engine.max_state_bytes accepted.
	MinMaxStateBytes = 64 << 10
)

// Config is what a user writes under the engine key. All durations but
// EmitInterval are event time, measured against the partition's watermark,
// never the clock. Build it from DefaultConfig and override fields.
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

	// CorroborationWindow is how far one workcycle's latest event may be
	// ahead of every other workcycle's and still move the watermark by
	// itself, overriding the default 15m. Further ahead, it moves the
	// watermark only once another workcycle's events come within this of
	// it, so that one event dated far ahead (a skewed clock, a hostile
	// producer) cannot close every open workcycle early. The watermark is
	// set once two workcycles have events. Only emission timing depends on
	// it, never the rows' content.
	CorroborationWindow time.Duration `yaml:"corroboration_window"`

	// EmitInterval is how often, in processing (wall-clock) time, the
	// service emits provisional rows of open workcycles that changed since
	// they were last emitted (Engine.EmitOpen): their workcycle rows with
	// state open and the rows of their changed AWUs, so spend is visible
	// within about this plus a ClickHouse flush, and committed offsets
	// move past open workcycles. Default 5s; 0 disables provisional rows,
	// and rows then appear only when a closing rule holds. The engine
	// itself never reads a clock; the service calls EmitOpen.
	EmitInterval time.Duration `yaml:"emit_interval"`

	// MaxStateBytes is the budget, in bytes, for the state one engine (one
	// partition) holds: workcycles open or retained after emission, their
	// event ids, and the strings they use, overriding the default 256 MiB
	// (268435456); at least 65536. When an Emit finds the state over it, it
	// evicts retained workcycles, the earliest emitted first, then emits the
	// open workcycles with the oldest unemitted events early and evicts
	// them, then those emitted provisionally and unchanged since; their next events rebuild them from History and re-emit them
	// with a higher version, so final rows are unchanged. Between Emits the
	// state may exceed it by one batch of events.
	MaxStateBytes int64 `yaml:"max_state_bytes"`
}

// DefaultConfig returns the configuration used when the engine key sets nothing.
func DefaultConfig() Config {
	return Config{
		SettleDelay:     DefaultSettleDelay,
		IdleTimeout:     DefaultIdleTimeout,
		MaxDuration:     DefaultMaxDuration,
		AllowedLateness: DefaultAllowedLateness,
		ClosedRetention: DefaultClosedRetention,
		EmitInterval:    DefaultEmitInterval,

		CorroborationWindow: DefaultCorroborationWindow,
		MaxStateBytes:       DefaultMaxStateBytes,
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
	nonNegative("emit_interval", c.EmitInterval)
	nonNegative("corroboration_window", c.CorroborationWindow)
	if c.MaxStateBytes < MinMaxStateBytes {
		errs = append(errs, fmt.Errorf("engine.max_state_bytes: must be at least %d (64 KiB), got %d", MinMaxStateBytes, c.MaxStateBytes))
	}
	return errors.Join(errs...)
}
