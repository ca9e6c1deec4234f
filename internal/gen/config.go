package gen

import (
	"errors"
	"fmt"
	"time"
)

// Config describes the telemetry to generate. Build it from DefaultConfig.
type Config struct {
	// Seed makes the output reproducible.
	Seed int64
	// Workcycles is the number of workcycles.
	Workcycles int
	// Tenants and AgentsPerTenant size the population.
	Tenants, AgentsPerTenant int
	// Start is when the first workcycle may start; workcycles start
	// uniformly over Span.
	Start time.Time
	Span  time.Duration
	// MaxAWUs bounds the AWUs per workcycle; sizes are skewed towards
	// small workcycles.
	MaxAWUs int

	// ToolRate is the share of AWUs that are tool calls (the rest are
	// prompts).
	ToolRate float64
	// RetryRate is the chance that an attempt fails and is retried, up to
	// MaxAttempts attempts. Some tools fail more often than others, around
	// this rate.
	RetryRate   float64
	MaxAttempts int
	// VoiceRate is the share of tool calls on the voice channel.
	VoiceRate float64
	// ValidateRate and RollbackRate are the chances that a succeeded tool
	// call gets a validated or a rolled_back report.
	ValidateRate, RollbackRate float64
	// UnknownModelRate is the share of model calls on a model the price
	// book does not know.
	UnknownModelRate float64
	// LongContextRate is the share of model calls above 200k input tokens.
	LongContextRate float64
	// CompleteRate is the share of workcycles with a completed event; the
	// rest go idle.
	CompleteRate float64

	// DuplicateRate is the chance that an event is delivered again.
	DuplicateRate float64
	// ConflictRate is the chance that an event's id is re-sent later with
	// different content. The first copy stands.
	ConflictRate float64
	// ReorderWindow bounds reordering: a record moves at most this many
	// positions from its place in time order.
	ReorderWindow int
	// LateRate is the share of events delivered LateDelay after their time,
	// typically after their workcycle was emitted.
	LateRate  float64
	LateDelay time.Duration
	// MalformedRate is the chance of a malformed record after each record.
	MalformedRate float64
}

// DefaultConfig returns a moderate mix of everything.
func DefaultConfig() Config {
	return Config{
		Seed:             1,
		Workcycles:       1000,
		Tenants:          3,
		AgentsPerTenant:  4,
		Start:            time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC),
		Span:             2 * time.Hour,
		MaxAWUs:          12,
		ToolRate:         0.6,
		RetryRate:        0.2,
		MaxAttempts:      4,
		VoiceRate:        0.25,
		ValidateRate:     0.3,
		RollbackRate:     0.05,
		UnknownModelRate: 0.02,
		LongContextRate:  0.01,
		CompleteRate:     0.85,
		DuplicateRate:    0.05,
		ConflictRate:     0,
		ReorderWindow:    20,
		LateRate:         0.01,
		LateDelay:        2 * time.Hour,
		MalformedRate:    0.005,
	}
}

// Validate reports every invalid value.
func (c Config) Validate() error {
	var errs []error
	positive := func(name string, v int) {
		if v <= 0 {
			errs = append(errs, fmt.Errorf("%s: must be positive, got %d", name, v))
		}
	}
	positive("workcycles", c.Workcycles)
	positive("tenants", c.Tenants)
	positive("agents per tenant", c.AgentsPerTenant)
	positive("max AWUs", c.MaxAWUs)
	positive("max attempts", c.MaxAttempts)
	if c.ReorderWindow < 0 {
		errs = append(errs, fmt.Errorf("reorder window: must not be negative, got %d", c.ReorderWindow))
	}
	if c.Span <= 0 {
		errs = append(errs, fmt.Errorf("span: must be positive, got %s", c.Span))
	}
	if c.LateDelay < 0 {
		errs = append(errs, fmt.Errorf("late delay: must not be negative, got %s", c.LateDelay))
	}
	for _, r := range []struct {
		name string
		v    float64
	}{
		{"tool rate", c.ToolRate}, {"retry rate", c.RetryRate}, {"voice rate", c.VoiceRate},
		{"validate rate", c.ValidateRate}, {"rollback rate", c.RollbackRate},
		{"unknown model rate", c.UnknownModelRate}, {"long context rate", c.LongContextRate},
		{"complete rate", c.CompleteRate}, {"duplicate rate", c.DuplicateRate},
		{"conflict rate", c.ConflictRate}, {"late rate", c.LateRate}, {"malformed rate", c.MalformedRate},
	} {
		if !(r.v >= 0 && r.v <= 1) {
			errs = append(errs, fmt.Errorf("%s: must be between 0 and 1, got %v", r.name, r.v))
		}
	}
	return errors.Join(errs...)
}
