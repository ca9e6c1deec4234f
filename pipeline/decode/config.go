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

	// DefaultMaxTokensPerEvent is 1,000,000,000 tokens: hundreds of times
	// the largest context window of any model, so no real call reaches it.
	DefaultMaxTokensPerEvent = 1_000_000_000
	// DefaultMaxIDBytes is 512 bytes. Real ids are far shorter: UUIDs are
	// 36 bytes, W3C trace ids 32, OpenAI and Anthropic ids (chatcmpl-…,
	// call_…, msg_…, toolu_…) under 64, CloudEvents source + " " + id
	// rarely above 200.
	DefaultMaxIDBytes = 512
	// DefaultMaxLabelBytes is 256 bytes. The longest real model names,
	// such as AWS Bedrock inference-profile ARNs, are about 100 bytes; tool
	// names are at most 64 bytes in the OpenAI and Anthropic APIs.
	DefaultMaxLabelBytes = 256

	// maxRecordBytesLimit keeps a configuration typo from disabling the
	// size check; Kafka's own default message limit is about 1 MiB.
	maxRecordBytesLimit = 64 << 20
	// maxTokensPerEventLimit is 10^18 tokens: up to nine counts of one
	// event, added in any order, still fit in int64, so no per-event sum
	// the engine computes (input + output, cache read + cache creation)
	// can wrap.
	maxTokensPerEventLimit = 1_000_000_000_000_000_000
	// maxStringBytesLimit is 64 KiB, a quarter of ClickHouse's default
	// max_query_size (256 KiB), so that one id always fits in a ledger
	// lookup.
	maxStringBytesLimit = 64 << 10
)

// Config is what a user writes for one topic's decoder, under
// kafka.topics[i].decode. Build it from DefaultConfig and override fields.
type Config struct {
	// MaxRecordBytes rejects larger record values as record_too_large,
	// overriding the default 1 MiB. At most 64 MiB.
	MaxRecordBytes int `yaml:"max_record_bytes"`

	// MaxTokensPerEvent rejects an event with any token count above it as
	// tokens_out_of_bounds, overriding the default 1,000,000,000 tokens. It
	// applies to every count of every format, deprecated OTLP attribute
	// names included. Between 1 and 10^18, which keeps every per-event sum
	// within int64.
	MaxTokensPerEvent int64 `yaml:"max_tokens_per_event"`

	// MaxIDBytes rejects an event whose event_id, tenant_id, workcycle_id,
	// awu_id, agent_id or conversation_id is longer than this many bytes
	// of UTF-8 as id_too_long, overriding the default 512 bytes. Between 1
	// and 65536.
	MaxIDBytes int `yaml:"max_id_bytes"`

	// MaxLabelBytes rejects an event whose model, provider, tool, outcome
	// or outcome_type is longer than this many bytes of UTF-8 as
	// field_too_long, overriding the default 256 bytes. Between 1 and 65536.
	MaxLabelBytes int `yaml:"max_label_bytes"`

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
	// Conventions are the GenAI span conventions the topic's spans follow,
	// tried in order (see span mapping in docs/contract.md); empty means
	// all of Conventions(), in that order.
	Conventions []Convention `yaml:"conventions"`
}

// DefaultConfig returns the configuration used when a topic sets nothing.
func DefaultConfig() Config {
	return Config{
		MaxRecordBytes:    DefaultMaxRecordBytes,
		MaxTokensPerEvent: DefaultMaxTokensPerEvent,
		MaxIDBytes:        DefaultMaxIDBytes,
		MaxLabelBytes:     DefaultMaxLabelBytes,
		TimeBounds:        TimeBounds{Past: DefaultPast, Future: DefaultFuture},
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
	if c.MaxTokensPerEvent <= 0 || c.MaxTokensPerEvent > maxTokensPerEventLimit {
		errs = append(errs, fmt.Errorf("max_tokens_per_event: must be between 1 and %d, got %d", int64(maxTokensPerEventLimit), c.MaxTokensPerEvent))
	}
	if c.MaxIDBytes <= 0 || c.MaxIDBytes > maxStringBytesLimit {
		errs = append(errs, fmt.Errorf("max_id_bytes: must be between 1 and %d, got %d", maxStringBytesLimit, c.MaxIDBytes))
	}
	if c.MaxLabelBytes <= 0 || c.MaxLabelBytes > maxStringBytesLimit {
		errs = append(errs, fmt.Errorf("max_label_bytes: must be between 1 and %d, got %d", maxStringBytesLimit, c.MaxLabelBytes))
	}
	if n := len(c.OTLP.DefaultTenantID); c.MaxIDBytes > 0 && n > c.MaxIDBytes {
		errs = append(errs, fmt.Errorf("otlp.default_tenant_id: is %d bytes, more than max_id_bytes %d", n, c.MaxIDBytes))
	}
	if err := c.TimeBounds.Validate(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, validateConventions(c.OTLP.Conventions)...)
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
