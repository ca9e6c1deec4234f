package statement

import (
	"fmt"
	"time"
)

// monthLayout is the form of a billing month: 2026-10.
const monthLayout = "2006-01"

// Period is one billing month, [Start, End), in a tenant's time zone. Start
// and End are stored as UTC instants; with a zone that observes daylight
// saving time a month is not a whole number of 24-hour days.
type Period struct {
	Month    string    // YYYY-MM
	TimeZone string    // IANA name
	Start    time.Time // first instant, UTC
	End      time.Time // first instant of the next month, UTC
}

// MonthPeriod returns the period of month (YYYY-MM) in loc.
func MonthPeriod(month string, loc *time.Location) (Period, error) {
	m, err := time.Parse(monthLayout, month)
	if err != nil {
		return Period{}, fmt.Errorf("month %q: must be YYYY-MM, e.g. 2026-10", month)
	}
	return periodOf(m.Year(), m.Month(), loc), nil
}

func periodOf(year int, month time.Month, loc *time.Location) Period {
	start := time.Date(year, month, 1, 0, 0, 0, 0, loc)
	end := time.Date(year, month+1, 1, 0, 0, 0, 0, loc)
	return Period{
		Month:    start.Format(monthLayout),
		TimeZone: loc.String(),
		Start:    start.UTC(),
		End:      end.UTC(),
	}
}

// Contains reports whether t falls in [Start, End).
func (p Period) Contains(t time.Time) bool {
	return !t.Before(p.Start) && t.Before(p.End)
}

// location returns the period's time zone.
func (p Period) location() (*time.Location, error) { return loadZone(p.TimeZone) }

// Prev returns the month before p in the same time zone.
func (p Period) Prev() (Period, error) { return p.shift(-1) }

// Next returns the month after p in the same time zone.
func (p Period) Next() (Period, error) { return p.shift(1) }

func (p Period) shift(months int) (Period, error) {
	loc, err := p.location()
	if err != nil {
		return Period{}, err
	}
	m, err := time.Parse(monthLayout, p.Month)
	if err != nil {
		return Period{}, err
	}
	return periodOf(m.Year(), m.Month()+time.Month(months), loc), nil
}

// StatementID is the id of a tenant's statement for a month, the same for
// its draft and its closed snapshot: "<tenant_id>:<YYYY-MM>".
func StatementID(tenantID, month string) string { return tenantID + ":" + month }
