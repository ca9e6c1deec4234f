package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/awumeter/awumeter/internal/textsafe"
	"github.com/awumeter/awumeter/pipeline/migrate"
	"github.com/awumeter/awumeter/pipeline/price"
	"github.com/awumeter/awumeter/pipeline/sink"
	"github.com/awumeter/awumeter/pipeline/statement"
)

func init() { register(newStatementCmd) }

// statementFlags are the flags of awumeter statement.
type statementFlags struct {
	month, tenant, format string
	close, force          bool
	reconcile             bool
	rollups               string
	addrs                 string
	ch                    sink.ClickHouseConfig
	grace                 time.Duration
	billing               string
	pricebook             string
	now                   string
}

func newStatementCmd() *cobra.Command {
	var f statementFlags
	f.ch = sink.DefaultConfig().ClickHouseConfig
	cmd := &cobra.Command{
		Use:   "statement",
		Short: "Monthly in-arrears statements: draft, close, reconcile and export",
		Long: `Print each tenant's statement for a calendar month in its billing time zone:
the list lines its plan bills (actions, voice actions and credits with the
Flex Credit amount, or conversations with the conversation amount), the
token cost per model, and context lines. Amounts are exact, rounded once per
line to cents half-even; the total is the sum of the billed rounded lines.

A month stays a draft until it is closed. --close freezes it into the
statements tables once its grace period has ended (--force closes earlier and
is recorded), after reconciling it with the events ledger; closing again
reports the same hash. Usage that arrives for a closed month shows up as
adjustment lines on the next open statement. --reconcile compares the
ledger, the rollups and the statement, and exits with status 3 on a
difference.

--rollups FILE computes the draft from awumeter process output instead of
ClickHouse, with the same code. See docs/finance.md.`,
		Example: `  awumeter statement --month 2026-10
  awumeter statement --month 2026-10 --tenant acme --format json
  awumeter statement --month 2026-10 --close
  awumeter statement --month 2026-10 --reconcile
  awumeter statement --month 2026-10 --format csv > statements-2026-10.csv
  awumeter process --input day.ndjson --output - --final-only | awumeter statement --month 2026-10 --rollups -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.ch.Addrs = strings.Split(f.addrs, ",")
			return runStatement(cmd, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.month, "month", "", "billing month, YYYY-MM (required)")
	fl.StringVar(&f.tenant, "tenant", "", "only this tenant (default: every tenant with usage or a closed statement)")
	fl.StringVar(&f.format, "format", "text", "output format: text, json or csv")
	fl.BoolVar(&f.close, "close", false, "close the month: write immutable snapshots after reconciling")
	fl.BoolVar(&f.force, "force", false, "with --close, close before the grace period ends (recorded on the statement)")
	fl.BoolVar(&f.reconcile, "reconcile", false, "compare the ledger, the rollups and the statement; exit status 3 on a difference")
	fl.StringVar(&f.rollups, "rollups", "", "compute drafts from this awumeter process output file (- for stdin) instead of ClickHouse")
	fl.StringVar(&f.addrs, "clickhouse", strings.Join(f.ch.Addrs, ","), "ClickHouse native address(es), host:port[,host:port]")
	fl.StringVar(&f.ch.Database, "database", f.ch.Database, "database name")
	fl.StringVar(&f.ch.Username, "username", f.ch.Username, "ClickHouse user")
	fl.StringVar(&f.ch.PasswordFile, "password-file", "", "file holding the ClickHouse password (default: $AWUMETER_CLICKHOUSE_PASSWORD)")
	fl.DurationVar(&f.grace, "grace", statement.DefaultGrace, "grace period after the month ends before it may close (overrides the billing file)")
	fl.StringVar(&f.billing, "billing", "", "billing settings YAML: grace and time zones per tenant (default: UTC for all, 48h grace)")
	fl.StringVar(&f.pricebook, "pricebook", "", "price book YAML file (default: the price book shipped in the binary)")
	fl.StringVar(&f.now, "now", "", "the current time for the grace check and the closing time, RFC 3339 (default: now)")
	_ = fl.MarkHidden("now")
	return cmd
}

func (f *statementFlags) validate() error {
	var errs []error
	if f.month == "" {
		errs = append(errs, errors.New("--month is required, e.g. --month 2026-10"))
	}
	switch f.format {
	case "text", "json", "csv":
	default:
		errs = append(errs, fmt.Errorf("--format %q: must be text, json or csv", f.format))
	}
	if f.force && !f.close {
		errs = append(errs, errors.New("--force only applies with --close"))
	}
	if f.close && f.reconcile {
		errs = append(errs, errors.New("--close already reconciles; use one of --close and --reconcile"))
	}
	if f.reconcile && f.format == "csv" {
		errs = append(errs, errors.New("--reconcile prints text or json, not csv"))
	}
	if f.rollups != "" && (f.close || f.reconcile) {
		errs = append(errs, errors.New("--close and --reconcile need ClickHouse; --rollups only computes drafts"))
	}
	return errors.Join(errs...)
}

func runStatement(cmd *cobra.Command, f *statementFlags) error {
	if err := f.validate(); err != nil {
		return err
	}
	cfg := statement.DefaultConfig()
	if f.billing != "" {
		var err error
		if cfg, err = statement.LoadConfig(f.billing); err != nil {
			return err
		}
	}
	if cmd.Flags().Changed("grace") {
		cfg.Grace = f.grace
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	now := time.Now()
	if f.now != "" {
		t, err := time.Parse(time.RFC3339, f.now)
		if err != nil {
			return fmt.Errorf("--now %q: must be an RFC 3339 time, e.g. 2026-11-03T00:00:00Z", f.now)
		}
		now = t
	}
	book, err := price.LoadOrDefault(f.pricebook)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if f.rollups != "" {
		sts, err := statementsFromRollups(cmd.InOrStdin(), f, book, cfg)
		if err != nil {
			return err
		}
		return writeStatements(out, f.format, sts)
	}

	ctx := cmd.Context()
	if f.ch.PasswordFile == "" {
		f.ch.Password = os.Getenv("AWUMETER_CLICKHOUSE_PASSWORD")
	}
	conn, err := sink.Dial(ctx, f.ch)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := migrate.CheckSchema(ctx, conn, f.ch.Database); err != nil {
		return err // it says what to run
	}
	wh, err := statement.NewWarehouse(conn, f.ch.Database)
	if err != nil {
		return err
	}
	svc, err := statement.NewService(wh, book, cfg)
	if err != nil {
		return err
	}
	if _, err := svc.Period(f.tenant, f.month); err != nil {
		return err
	}
	tenants := []string{f.tenant}
	if f.tenant == "" {
		if tenants, err = svc.Tenants(ctx, f.month); err != nil {
			return err
		}
	}

	switch {
	case f.close:
		done, err := svc.Close(ctx, tenants, f.month, statement.CloseOptions{Now: now, Force: f.force})
		if err != nil {
			return fmt.Errorf("nothing was closed:\n%w", err)
		}
		sts := make([]*statement.Statement, len(done))
		for i, c := range done {
			sts[i] = c.Statement
			if c.Already {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s was already closed at %s; nothing to do (%s)\n",
					textsafe.Terminal(c.Statement.ID), c.Statement.Closing.ClosedAt.Format(time.RFC3339), c.Statement.ContentHash)
			} else {
				forced := ""
				if c.Statement.Closing.Forced {
					forced = ", forced before the grace period ended"
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "closed %s (%s%s)\n", textsafe.Terminal(c.Statement.ID), c.Statement.ContentHash, forced)
			}
		}
		return writeStatements(out, f.format, sts)
	case f.reconcile:
		var recs []*statement.Reconciliation
		ok := true
		for _, t := range tenants {
			r, err := svc.Reconcile(ctx, t, f.month)
			if err != nil {
				return err
			}
			ok = ok && r.OK()
			recs = append(recs, r)
		}
		if f.format == "json" {
			err = statement.WriteReconciliationsJSON(out, recs)
		} else {
			err = statement.WriteReconciliationsText(out, recs)
		}
		if err != nil {
			return err
		}
		if !ok {
			return exitCode(3)
		}
		return nil
	}
	var sts []*statement.Statement
	for _, t := range tenants {
		s, err := svc.Statement(ctx, t, f.month)
		if err != nil {
			return err
		}
		sts = append(sts, s)
	}
	return writeStatements(out, f.format, sts)
}

// statementsFromRollups draws up the drafts of awumeter process output.
func statementsFromRollups(stdin io.Reader, f *statementFlags, book *price.Book, cfg statement.Config) ([]*statement.Statement, error) {
	in := stdin
	if f.rollups != "-" {
		file, err := os.Open(f.rollups)
		if err != nil {
			return nil, fmt.Errorf("cannot open rollups: %w", err)
		}
		defer file.Close()
		in = file
	}
	r, err := statement.ReadRollups(in)
	if err != nil {
		return nil, err
	}
	period := func(tenant string) (statement.Period, error) {
		loc, err := cfg.Location(tenant)
		if err != nil {
			return statement.Period{}, err
		}
		return statement.MonthPeriod(f.month, loc)
	}
	if _, err := period(f.tenant); err != nil {
		return nil, err
	}
	tenants := []string{f.tenant}
	if f.tenant == "" {
		tenants = r.Tenants(func(t string) time.Time {
			p, _ := period(t) // validated with the billing settings
			return p.End
		})
	}
	var sts []*statement.Statement
	for _, t := range tenants {
		p, err := period(t)
		if err != nil {
			return nil, err
		}
		tally, err := r.Tally(t, p)
		if err != nil {
			return nil, err
		}
		st, err := statement.Draft(t, book.PlanFor(t), tally)
		if err != nil {
			return nil, err
		}
		sts = append(sts, st)
	}
	return sts, nil
}

func writeStatements(w io.Writer, format string, sts []*statement.Statement) error {
	switch format {
	case "json":
		return statement.WriteJSON(w, sts)
	case "csv":
		return statement.WriteCSV(w, sts)
	}
	return statement.WriteText(w, sts)
}
