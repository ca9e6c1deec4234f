package statement

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/awumeter/awumeter/internal/strictyaml"
)

// DefaultGrace is how long after a period ends its statement stays a draft.
const DefaultGrace = 48 * time.Hour

// Config is the billing settings file (awumeter statement --billing FILE).
//
//	grace: 48h
//	time_zone: UTC
//	tenants:
//	  acme:
//	    time_zone: America/New_York
type Config struct {
	// Grace is how long after the end of a period it may close; default 48h.
	Grace time.Duration `yaml:"grace"`
	// TimeZone is the billing time zone of tenants without their own, an
	// IANA name; default UTC.
	TimeZone string `yaml:"time_zone"`
	// Tenants holds per-tenant settings by tenant id.
	Tenants map[string]TenantConfig `yaml:"tenants"`
}

// TenantConfig is the billing settings of one tenant.
type TenantConfig struct {
	// TimeZone is the tenant's billing time zone, an IANA name such as
	// America/New_York; empty means the file's time_zone.
	TimeZone string `yaml:"time_zone"`
}

// DefaultConfig returns the settings used without a file: a 48h grace and
// UTC months for every tenant.
func DefaultConfig() Config {
	return Config{Grace: DefaultGrace, TimeZone: "UTC"}
}

// LoadConfig reads a billing settings file. Keys left out keep the values
// of DefaultConfig; an unknown key is an error.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("cannot read billing settings: %w", err)
	}
	cfg := DefaultConfig()
	if err := strictyaml.Decode(data, &cfg); err != nil && !errors.Is(err, strictyaml.ErrEmpty) {
		return Config{}, fmt.Errorf("cannot decode billing settings %s: %w", path, err)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("invalid billing settings %s:\n%w", path, err)
	}
	return cfg, nil
}

// Validate reports every problem, naming the key.
func (c Config) Validate() error {
	var errs []error
	if c.Grace < 0 {
		errs = append(errs, fmt.Errorf("grace: must be zero or more, got %s", c.Grace))
	}
	if _, err := loadZone(c.TimeZone); err != nil {
		errs = append(errs, fmt.Errorf("time_zone: %w", err))
	}
	ids := make([]string, 0, len(c.Tenants))
	for id := range c.Tenants {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if id == "" {
			errs = append(errs, errors.New("tenants: a tenant id must not be empty"))
			continue
		}
		if tz := c.Tenants[id].TimeZone; tz != "" {
			if _, err := loadZone(tz); err != nil {
				errs = append(errs, fmt.Errorf("tenants.%s.time_zone: %w", id, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Location returns the billing time zone of a tenant.
func (c Config) Location(tenantID string) (*time.Location, error) {
	tz := c.TimeZone
	if t, ok := c.Tenants[tenantID]; ok && t.TimeZone != "" {
		tz = t.TimeZone
	}
	return loadZone(tz)
}

// loadZone loads an IANA time zone; empty means UTC.
func loadZone(name string) (*time.Location, error) {
	if name == "" || name == "UTC" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q; use an IANA name such as UTC or America/New_York", name)
	}
	return loc, nil
}
