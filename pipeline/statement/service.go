package statement

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/awumeter/awumeter/pipeline/price"
)

// Service draws up, closes and reconciles statements over a Warehouse.
type Service struct {
	wh   *Warehouse
	book *price.Book
	cfg  Config
}

// NewService returns a Service pricing with book under cfg.
func NewService(wh *Warehouse, book *price.Book, cfg Config) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Service{wh: wh, book: book, cfg: cfg}, nil
}

// Period returns a tenant's period for month in its billing time zone.
func (s *Service) Period(tenantID, month string) (Period, error) {
	loc, err := s.cfg.Location(tenantID)
	if err != nil {
		return Period{}, err
	}
	return MonthPeriod(month, loc)
}

// Tenants returns the tenants that have a statement for month: those with
// usage beginning before the end of their period, or a closed statement.
func (s *Service) Tenants(ctx context.Context, month string) ([]string, error) {
	var perr error
	ids, err := s.wh.Tenants(ctx, func(tenantID string) time.Time {
		p, err := s.Period(tenantID, month)
		if err != nil {
			perr = err
		}
		return p.End
	})
	if err == nil {
		err = perr
	}
	return ids, err
}

// Statement returns a tenant's statement for month: the closed snapshot
// when the month is closed, otherwise a draft from the current rows with the
// adjustments to earlier closed months that land on it.
func (s *Service) Statement(ctx context.Context, tenantID, month string) (*Statement, error) {
	closed, err := s.wh.ClosedStatements(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	for _, c := range closed {
		if c.Period.Month == month {
			return c, nil
		}
	}
	p, err := s.Period(tenantID, month)
	if err != nil {
		return nil, err
	}
	t, err := s.wh.Tally(ctx, tenantID, p)
	if err != nil {
		return nil, err
	}
	st, err := Draft(tenantID, s.book.PlanFor(tenantID), t)
	if err != nil {
		return nil, err
	}
	adjs, err := s.adjustments(ctx, tenantID, month, closed)
	if err != nil {
		return nil, err
	}
	return st.WithAdjustments(adjs), nil
}

// adjustments returns the adjustments that land on the open statement of
// month: those of every closed month C before it whose following months up
// to month are all closed, since late data for C lands on the first open
// statement after C.
func (s *Service) adjustments(ctx context.Context, tenantID, month string, closed []*Statement) ([]Adjustment, error) {
	byMonth := map[string]*Statement{}
	for _, c := range closed {
		byMonth[c.Period.Month] = c
	}
	var chain []*Statement // newest first
	for m := prevMonth(month); byMonth[m] != nil; m = prevMonth(m) {
		chain = append(chain, byMonth[m])
	}
	var out []Adjustment
	for i := len(chain) - 1; i >= 0; i-- {
		c := chain[i]
		t, err := s.wh.Tally(ctx, tenantID, c.Period)
		if err != nil {
			return nil, err
		}
		current, err := Draft(tenantID, c.Terms, t)
		if err != nil {
			return nil, err
		}
		var earlier []Adjustment
		for _, later := range chain[:i] {
			earlier = append(earlier, later.Adjustments...)
		}
		out = append(out, Adjust(c, current, earlier)...)
	}
	return out, nil
}

func prevMonth(month string) string {
	m, err := time.Parse(monthLayout, month)
	if err != nil {
		return ""
	}
	return m.AddDate(0, -1, 0).Format(monthLayout)
}

// Reconcile compares a tenant's month in the ledger, the rollups and its
// statement.
func (s *Service) Reconcile(ctx context.Context, tenantID, month string) (*Reconciliation, error) {
	st, err := s.Statement(ctx, tenantID, month)
	if err != nil {
		return nil, err
	}
	return s.wh.reconcile(ctx, st)
}

// Errors of Close.
var (
	// ErrGracePeriod: the grace period of the month has not ended.
	ErrGracePeriod = errors.New("the grace period has not ended")
	// ErrLaterClosed: a later month of the tenant is already closed.
	ErrLaterClosed = errors.New("a later month is already closed")
	// ErrNotReconciled: the month does not reconcile with the ledger.
	ErrNotReconciled = errors.New("the month does not reconcile")
)

// CloseError explains why a tenant's month cannot close.
type CloseError struct {
	TenantID string
	Month    string
	Detail   string
	Err      error // ErrGracePeriod, ErrLaterClosed or ErrNotReconciled
}

func (e *CloseError) Error() string {
	// %q escapes the tenant id, which comes from data.
	return fmt.Sprintf("cannot close %s for tenant %q: %s: %s", e.Month, e.TenantID, e.Err, e.Detail)
}

func (e *CloseError) Unwrap() error { return e.Err }

// CloseOptions are the options of a close.
type CloseOptions struct {
	// Now is the closing time.
	Now time.Time
	// Force closes before the grace period ends; the statement records it.
	Force bool
}

// Closed is the outcome of closing one tenant's month.
type Closed struct {
	Statement *Statement
	// Already is true when the month was closed before: nothing was written
	// and Statement is the existing snapshot, with its hash.
	Already bool
	// Reconciliation is the check made before closing; nil when Already.
	Reconciliation *Reconciliation
}

// Close freezes the month of every tenant given, or of none: each one is
// checked first (grace period, order of months, reconciliation) and only if
// all pass are the new snapshots written. A tenant already closed is a no-op
// that returns the snapshot. The error joins a *CloseError per tenant that
// cannot close.
func (s *Service) Close(ctx context.Context, tenants []string, month string, opt CloseOptions) ([]Closed, error) {
	now := opt.Now.UTC().Truncate(time.Second)
	var out []Closed
	var errs []error
	for _, id := range tenants {
		c, err := s.prepareClose(ctx, id, month, now, opt.Force)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, c)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for i := range out {
		c := &out[i]
		if c.Already {
			continue
		}
		if err := s.wh.Save(ctx, c.Statement); err != nil {
			return out[:i], err
		}
		// Read back the snapshot: should another close have raced this one,
		// the earliest wins and is what is reported.
		won, err := s.wh.Closed(ctx, c.Statement.TenantID, month)
		if err != nil {
			return out[:i], err
		}
		if won == nil {
			return out[:i], fmt.Errorf("statement %s was written but cannot be read back", c.Statement.ID)
		}
		if won.ContentHash != c.Statement.ContentHash || !won.Closing.ClosedAt.Equal(c.Statement.Closing.ClosedAt) {
			c.Already = true
		}
		c.Statement = won
	}
	return out, nil
}

func (s *Service) prepareClose(ctx context.Context, tenantID, month string, now time.Time, force bool) (Closed, error) {
	closed, err := s.wh.ClosedStatements(ctx, tenantID)
	if err != nil {
		return Closed{}, err
	}
	for _, c := range closed {
		if c.Period.Month == month {
			return Closed{Statement: c, Already: true}, nil
		}
	}
	for _, c := range closed {
		if c.Period.Month > month {
			return Closed{}, &CloseError{tenantID, month, fmt.Sprintf("%s was closed at %s; months close in order",
				c.Period.Month, c.Closing.ClosedAt.Format(time.RFC3339)), ErrLaterClosed}
		}
	}
	p, err := s.Period(tenantID, month)
	if err != nil {
		return Closed{}, err
	}
	open := p.End.Add(s.cfg.Grace)
	early := now.Before(open)
	if early && !force {
		return Closed{}, &CloseError{tenantID, month, fmt.Sprintf("the period ends at %s and its %s grace period at %s; it is %s now (use --force to close early; the statement records it)",
			p.End.Format(time.RFC3339), s.cfg.Grace, open.Format(time.RFC3339), now.Format(time.RFC3339)), ErrGracePeriod}
	}
	// The cutoff is read before the rows: whatever lands after it is counted
	// as late, even if the rows below already include it.
	cutoff, err := s.wh.Cutoff(ctx, tenantID)
	if err != nil {
		return Closed{}, err
	}
	st, err := s.Statement(ctx, tenantID, month)
	if err != nil {
		return Closed{}, err
	}
	rec, err := s.wh.reconcile(ctx, st)
	if err != nil {
		return Closed{}, err
	}
	if !rec.OK() {
		return Closed{}, &CloseError{tenantID, month, "\n" + rec.Explain(), ErrNotReconciled}
	}
	st.Status = StatusClosed
	st.Closing = &Closing{ClosedAt: now, Forced: early, Grace: s.cfg.Grace, Cutoff: cutoff}
	st.ContentHash = st.Hash()
	return Closed{Statement: st, Reconciliation: rec}, nil
}
