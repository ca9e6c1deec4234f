package statement

import (
	"testing"
	"time"
)

func TestMonthPeriod(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name       string
		month      string
		loc        *time.Location
		start, end string
		hours      int
	}{
		{"a UTC month is whole days", "2026-10", time.UTC, "2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z", 31 * 24},
		{"December ends at the next year", "2026-12", time.UTC, "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z", 31 * 24},
		// Daylight saving time starts on 8 March 2026 in New York: March
		// begins in EST (UTC-5) and ends in EDT (UTC-4), an hour short.
		{"New York March loses the hour daylight saving time takes", "2026-03", ny, "2026-03-01T05:00:00Z", "2026-04-01T04:00:00Z", 31*24 - 1},
		// It ends on 1 November 2026 at 2:00: November begins in EDT and
		// ends in EST, an hour long.
		{"New York November gains the hour daylight saving time returns", "2026-11", ny, "2026-11-01T04:00:00Z", "2026-12-01T05:00:00Z", 30*24 + 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := MonthPeriod(c.month, c.loc)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Start.Format(time.RFC3339); got != c.start {
				t.Errorf("start %s, want %s", got, c.start)
			}
			if got := p.End.Format(time.RFC3339); got != c.end {
				t.Errorf("end %s, want %s", got, c.end)
			}
			if got := int(p.End.Sub(p.Start).Hours()); got != c.hours {
				t.Errorf("%d hours, want %d", got, c.hours)
			}
			if p.Start.Location() != time.UTC || p.End.Location() != time.UTC {
				t.Error("period instants are not in UTC")
			}
			if p.Month != c.month || p.TimeZone != c.loc.String() {
				t.Errorf("month %s zone %s", p.Month, p.TimeZone)
			}
		})
	}
}

func TestMonthPeriodRejectsBadMonths(t *testing.T) {
	for _, m := range []string{"", "2026-13", "2026-1", "2026/10", "October"} {
		if _, err := MonthPeriod(m, time.UTC); err == nil {
			t.Errorf("MonthPeriod(%q) = nil error", m)
		}
	}
}

func TestPeriodNextAndPrevKeepTheZone(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	p, _ := MonthPeriod("2026-10", ny)
	next, err := p.Next()
	if err != nil {
		t.Fatal(err)
	}
	if !next.Start.Equal(p.End) || next.Month != "2026-11" || next.End.Format(time.RFC3339) != "2026-12-01T05:00:00Z" {
		t.Errorf("next = %+v", next)
	}
	prev, _ := next.Prev()
	if prev != p {
		t.Errorf("prev of next = %+v, want %+v", prev, p)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"the defaults are valid", DefaultConfig(), true},
		{"a tenant zone is valid", Config{Grace: time.Hour, TimeZone: "UTC", Tenants: map[string]TenantConfig{"acme": {TimeZone: "Europe/Berlin"}}}, true},
		{"a negative grace is refused", Config{Grace: -time.Hour, TimeZone: "UTC"}, false},
		{"an unknown default zone is refused", Config{TimeZone: "Mars/Olympus"}, false},
		{"an unknown tenant zone is refused", Config{Tenants: map[string]TenantConfig{"acme": {TimeZone: "EST5EDT6"}}}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.cfg.Validate()
			if (err == nil) != c.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, c.ok)
			}
		})
	}
}

func TestConfigLocation(t *testing.T) {
	cfg := Config{TimeZone: "Europe/Berlin", Tenants: map[string]TenantConfig{"acme": {TimeZone: "America/New_York"}, "bolt": {}}}
	for tenant, want := range map[string]string{"acme": "America/New_York", "bolt": "Europe/Berlin", "zed": "Europe/Berlin"} {
		loc, err := cfg.Location(tenant)
		if err != nil || loc.String() != want {
			t.Errorf("Location(%s) = %v, %v; want %s", tenant, loc, err, want)
		}
	}
}
