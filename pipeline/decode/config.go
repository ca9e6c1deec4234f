package decode

import (
	"errors"
	"fmt"
	"time"
)

// Defaults for Config; DefaultConfig returns them.
const (
	DefaultMaxRecordBytes = 1 << 20 // 1 MiB
	DefaultPast           = 400 * 24 * time.Hour
	DefaultFuture         = 24 * time.Hour

	// maxRecordBytesLimit keeps a configuration typo from disabling the
	// size check; Kafka's own default message limit is about 1 MiB.
	maxRecordBytesLimit = 64 << 20
)

// Config is what a user writes for one topic's decoder, under
// kafka.topics[i].decode. Build it from DefaultConfig and override fields.
type Config struct {
	// MaxRecordBytes rejects larger record values as record_too_large,
	// overriding the default 1 MiB. At most 64 MiB.
	MaxRecordBytes int `yaml:"max_record_bytes"`

	// TimeBounds rejects events whose time is too far from now.
	TimeBounds TimeBounds `yaml:"time_bounds"`

	// OTLP maps span attributes to the v1 identity fields. Only the
	// otlp_proto and otlp_json formats read it.
	OTLP OTLPConfig `yaml:"otlp"`
}

// TimeBounds is the window around now in which an event's time must fall.
type TimeBounds struct {
	// Past is how old an event may be, overriding the default 400 days (9600h).
	Past time.Duration `yaml:"past"`
	// Future is how far ahead of the clock an event may be, overriding the
	// default 1 day (24h), which absorbs producers' clock skew.
	Future time.Duration `yaml:"future"`
}

// OTLPConfig names the span or resource attributes that carry the v1 identity
// fields. A span attribute overrides a resource attribute of the same name.
type OTLPConfig struct {
	// TenantAttribute carries tenant_id, overriding the default "tenant.id".
	TenantAttribute string `yaml:"tenant_attribute"`
	// DefaultTenantID is used when no span or resource carries the tenant
	// attribute, for topics that belong to one tenant. Empty by default, in
	// which case such spans are rejected as missing_field.
	DefaultTenantID string `yaml:"default_tenant_id"`
	// WorkcycleAttribute carries workcycle_id, overriding the default
	// "awu.workcycle.id". Without it: gen_ai.conversation.id, then the trace id.
	WorkcycleAttribute string `yaml:"workcycle_attribute"`
	// AWUAttribute carries awu_id, overriding the default "awu.id". Without
	// it: gen_ai.tool.call.id, then the span id.
	AWUAttribute string `yaml:"awu_attribute"`
	// AttemptAttribute carries attempt, overriding the default "awu.attempt".
	AttemptAttribute string `yaml:"attempt_attribute"`
}

// DefaultConfig returns the configuration used when a topic sets nothing.
func DefaultConfig() Config {
	return Config{
		MaxRecordBytes: DefaultMaxRecordBytes,
		TimeBounds:     TimeBounds{Past: DefaultPast, Future: DefaultFuture},
		OTLP: OTLPConfig{
			TenantAttribute:    "tenant.id",
			WorkcycleAttribute: "awu.workcycle.id",
			AWUAttribute:       "awu.id",
			AttemptAttribute:   "awu.attempt",
		},
	}
}

// Validate reports every invalid value, naming its YAML key.
func (c Config) Validate() error {
	var errs []error
	if c.MaxRecordBytes <= 0 || c.MaxRecordBytes > maxRecordBytesLimit {
		errs = append(errs, fmt.Errorf("max_record_bytes: must be between 1 and %d, got %d", maxRecordBytesLimit, c.MaxRecordBytes))
	}
	if err := c.TimeBounds.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.OTLP.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Validate reports every invalid value, naming its YAML key.
func (b TimeBounds) Validate() error {
	var errs []error
	if b.Past <= 0 {
		errs = append(errs, fmt.Errorf("time_bounds.past: must be positive, got %s", b.Past))
	}
	if b.Future < 0 {
		errs = append(errs, fmt.Errorf("time_bounds.future: must not be negative, got %s", b.Future))
	}
	return errors.Join(errs...)
}

// Validate reports every invalid value, naming its YAML key.
func (o OTLPConfig) Validate() error {
	var errs []error
	for _, a := range []struct{ key, val string }{
		{"otlp.tenant_attribute", o.TenantAttribute},
		{"otlp.workcycle_attribute", o.WorkcycleAttribute},
		{"otlp.awu_attribute", o.AWUAttribute},
		{"otlp.attempt_attribute", o.AttemptAttribute},
	} {
		if a.val == "" {
			errs = append(errs, fmt.Errorf("%s: must name an attribute, got an empty string", a.key))
		}
	}
	return errors.Join(errs...)
}

// Settings is what code, not the user, provides to a decoder.
type Settings struct {
	// Now is the clock that time bounds are checked against; nil means
	// time.Now. Tests inject a fixed clock.
	Now func() time.Time
}
