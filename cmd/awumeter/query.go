package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/awumeter/awumeter/internal/chquery"
	"github.com/awumeter/awumeter/internal/textsafe"
	"github.com/awumeter/awumeter/schemas/chschema"
)

func init() { register(newQueryCmd) }

// queryFlags are the flags of awumeter query.
type queryFlags struct {
	list          bool
	month, tenant string
	format        string
	conn          chFlags
}

func newQueryCmd() *cobra.Command {
	var f queryFlags
	cmd := &cobra.Command{
		Use:   "query NAME",
		Short: "Run a query of the analysts' query pack",
		Long: `Run one query of the query pack (schemas/chschema/queries, embedded in the
binary) against the configured database, and print its rows.

--month and --tenant filter the queries that declare those filters (see
--list); the values are bound by the driver, never pasted into the SQL.
--month is a UTC calendar month, YYYY-MM. The same files run by hand:
clickhouse-client --database awumeter --multiquery < file.sql. The password
comes from --password-file or AWUMETER_CLICKHOUSE_PASSWORD. See
docs/clickhouse.md, "Query pack".`,
		Example: `  awumeter query --list
  awumeter query tenant_monthly_totals
  awumeter query awu_funnel --month 2026-10 --tenant acme
  awumeter query model_cost_monthly --month 2026-10 --format csv > models-2026-10.csv
  awumeter query most_expensive_workcycles --format json | jq .workcycle_id`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case f.list && len(args) > 0:
				return errors.New("--list takes no query name")
			case !f.list && len(args) != 1:
				return errors.New("name one query of the pack, or --list to see them")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.list {
				return writeQueryList(cmd.OutOrStdout())
			}
			if cmd.Flags().Changed("tenant") && f.tenant == "" {
				// An unset shell variable must not turn a per-tenant
				// export into one of every tenant.
				return errors.New("--tenant is empty; leave it out to read every tenant")
			}
			return runQuery(cmd, args[0], &f)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.list, "list", false, "list the queries of the pack, with the filters each takes")
	fl.StringVar(&f.month, "month", "", "only this UTC month, YYYY-MM")
	fl.StringVar(&f.tenant, "tenant", "", "only this tenant")
	fl.StringVar(&f.format, "format", "table", "output format: table, csv or json (one object per row)")
	f.conn.add(fl, "")
	return cmd
}

func runQuery(cmd *cobra.Command, name string, f *queryFlags) error {
	if !slices.Contains(chquery.Formats(), f.format) {
		return fmt.Errorf("--format %q: must be table, csv or json", f.format)
	}
	q, err := chschema.LoadQuery(name)
	if err != nil {
		return err
	}
	sql, args, err := q.Bind(chschema.FilterValues{chschema.FilterMonth: f.month, chschema.FilterTenant: f.tenant})
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	conn, err := f.conn.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	res, err := chquery.Run(ctx, conn, sql, args...)
	if err != nil {
		return fmt.Errorf("query %s: %w", name, err)
	}
	return chquery.Write(cmd.OutOrStdout(), f.format, res)
}

// writeQueryList prints the pack, one query a line: its name, its
// description and the filters it takes.
func writeQueryList(w io.Writer) error {
	qs, err := chschema.Queries()
	if err != nil {
		return err
	}
	width := 0
	for _, q := range qs {
		width = max(width, len(q.Name))
	}
	for _, q := range qs {
		filters := "no filters"
		if len(q.Filters) > 0 {
			flags := make([]string, len(q.Filters))
			for i, f := range q.Filters {
				flags[i] = "--" + f
			}
			filters = strings.Join(flags, " ")
		}
		fmt.Fprintf(w, "%-*s  %s [%s]\n", width, q.Name, textsafe.Terminal(q.Description), filters)
	}
	return nil
}
