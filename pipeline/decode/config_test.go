package decode

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   []string // substrings of the joined error; none means valid
	}{
		{"defaults are valid", func(*Config) {}, nil},
		{"zero max record bytes", func(c *Config) { c.MaxRecordBytes = 0 }, []string{"max_record_bytes: must be between 1 and 67108864, got 0"}},
		{"huge max record bytes", func(c *Config) { c.MaxRecordBytes = 1 << 30 }, []string{"max_record_bytes"}},
		{"no past window", func(c *Config) { c.TimeBounds.Past = 0 }, []string{"time_bounds.past: must be positive"}},
		{"zero token bound", func(c *Config) { c.MaxTokensPerEvent = 0 }, []string{"max_tokens_per_event: must be between 1 and 1000000000000000000, got 0"}},
		{"token bound at which two counts of one event could wrap", func(c *Config) { c.MaxTokensPerEvent = 1 << 62 }, []string{"max_tokens_per_event: must be between 1 and 1000000000000000000, got 4611686018427387904"}},
		{"largest token bound", func(c *Config) { c.MaxTokensPerEvent = 1_000_000_000_000_000_000 }, nil},
		{"negative id limit", func(c *Config) { c.MaxIDBytes = -1 }, []string{"max_id_bytes: must be between 1 and 65536, got -1"}},
		{"id limit above a ClickHouse query", func(c *Config) { c.MaxIDBytes = 300 << 10 }, []string{"max_id_bytes: must be between 1 and 65536, got 307200"}},
		{"zero label limit", func(c *Config) { c.MaxLabelBytes = 0 }, []string{"max_label_bytes: must be between 1 and 65536, got 0"}},
		{"default tenant longer than an id may be", func(c *Config) { c.OTLP.DefaultTenantID = strings.Repeat("t", 513) },
			[]string{"otlp.default_tenant_id: is 513 bytes, more than max_id_bytes 512"}},
		{"negative future window", func(c *Config) { c.TimeBounds.Future = -time.Hour }, []string{"time_bounds.future: must not be negative, got -1h0m0s"}},
		{"zero future window is allowed", func(c *Config) { c.TimeBounds.Future = 0 }, nil},
		{"every problem is reported", func(c *Config) {
			c.MaxRecordBytes = -1
			c.MaxTokensPerEvent = -1
			c.MaxIDBytes = 0
			c.MaxLabelBytes = 1 << 20
			c.TimeBounds.Past = -1
			c.OTLP.TenantAttribute = ""
			c.OTLP.AttemptAttribute = ""
		}, []string{"max_record_bytes", "max_tokens_per_event", "max_id_bytes", "max_label_bytes", "time_bounds.past", "otlp.tenant_attribute", "otlp.attempt_attribute"}},
		{"empty attribute names", func(c *Config) { c.OTLP.WorkcycleAttribute, c.OTLP.AWUAttribute = "", "" },
			[]string{"otlp.workcycle_attribute: must name an attribute", "otlp.awu_attribute"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mutate(&c)
			err := c.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("valid, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestDefaultConfigBoundsAreDocumented(t *testing.T) {
	// docs/contract.md and the JSON Schemas state these values.
	c := DefaultConfig()
	if c.MaxTokensPerEvent != 1_000_000_000 || c.MaxIDBytes != 512 || c.MaxLabelBytes != 256 {
		t.Errorf("max_tokens_per_event %d, max_id_bytes %d, max_label_bytes %d; the documented defaults are 1000000000, 512, 256",
			c.MaxTokensPerEvent, c.MaxIDBytes, c.MaxLabelBytes)
	}
}

func TestNewRejectsUnknownFormat(t *testing.T) {
	_, err := New("avro", DefaultConfig(), Settings{})
	if err == nil || err.Error() != `format: must be one of json, cloudevents, otlp_proto, otlp_json, got "avro"` {
		t.Errorf("got %v", err)
	}
	if _, err := New(FormatJSON, Config{}, Settings{}); err == nil || !strings.Contains(err.Error(), "max_record_bytes") {
		t.Errorf("zero Config accepted: %v", err)
	}
	for _, f := range Formats() {
		if _, err := New(f, DefaultConfig(), Settings{}); err != nil {
			t.Errorf("New(%q): %v", f, err)
		}
	}
}

func TestParseRFC3339MatchesTimeParse(t *testing.T) {
	for _, s := range []string{
		"2026-03-01T12:00:00Z", "2026-03-01T12:00:00.5Z", "2026-03-01T12:00:00.123456789+05:30",
		"2026-03-01T12:00:00-08:00", "2024-02-29T23:59:59.999Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59+23:59",
	} {
		want, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := parseRFC3339([]byte(s))
		if !ok || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("%s: got %v %v, want %v in UTC", s, got, ok, want)
		}
	}
	for _, s := range []string{
		"", "2026-03-01", "2026-03-01 12:00:00Z", "2026-03-01T12:00:00", "2026-03-01T12:00:00.Z",
		"2026-13-01T12:00:00Z", "2025-02-29T12:00:00Z", "2026-03-01T24:00:00Z", "2026-03-01T12:00:60Z",
		"2026-03-01T12:00:00+0100", "2026-03-01T12:00:00+24:00", "+026-03-01T12:00:00Z", "2026-03-01T12:00:00ZZ",
	} {
		if got, ok := parseRFC3339([]byte(s)); ok {
			t.Errorf("%q: accepted as %v", s, got)
		}
	}
}
