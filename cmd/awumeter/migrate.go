package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/spf13/cobra"

	"github.com/awumeter/awumeter/pipeline/migrate"
	"github.com/awumeter/awumeter/pipeline/sink"
	"github.com/awumeter/awumeter/schemas/chschema"
)

func init() {
	register(func() *cobra.Command {
		ch := sink.DefaultConfig().ClickHouseConfig
		var addrs, flavor string
		var opts migrate.Options
		var dryRun, status bool
		cmd := &cobra.Command{
			Use:   "migrate",
			Short: "Create or upgrade the ClickHouse schema",
			Long: `Applies the migrations embedded in this binary, in order, and records each
in <database>.schema_migrations. Running it again applies only what is
missing. The DDL branch (legacy for ClickHouse before 21.8, modern after) is
detected from the server unless --flavor is given, and kept for the life of
the database. The password comes from --password-file or the
AWUMETER_CLICKHOUSE_PASSWORD environment variable.`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				ch.Addrs = strings.Split(addrs, ",")
				if ch.PasswordFile == "" {
					ch.Password = os.Getenv("AWUMETER_CLICKHOUSE_PASSWORD")
				}
				opts.Database, opts.Flavor = ch.Database, chschema.Flavor(flavor)
				ctx := cmd.Context()
				conn, err := sink.Dial(ctx, ch)
				if err != nil {
					return err
				}
				defer conn.Close()
				out := cmd.OutOrStdout()
				switch {
				case status:
					return printStatus(cmd, out, opts.Database, conn)
				case dryRun:
					plan, err := migrate.Prepare(ctx, conn, opts)
					if err != nil {
						return err
					}
					return printPlan(out, plan)
				}
				// Backfills (INSERT … SELECT in 0008 and 0009) read every
				// stored row and can take minutes: one running for more
				// than two seconds is named, and its time given when done.
				var slow *time.Timer
				var announced atomic.Bool
				opts.Progress = func(p migrate.Progress) {
					step := fmt.Sprintf("%04d_%s: statement %d of %d", p.Version, p.Name, p.Statement, p.Statements)
					if !p.Done {
						announced.Store(false)
						target := insertTarget(p.SQL)
						slow = time.AfterFunc(2*time.Second, func() {
							announced.Store(true)
							fmt.Fprintf(cmd.ErrOrStderr(), "%s: writing %s ...\n", step, target)
						})
						return
					}
					if !slow.Stop() && announced.Load() {
						fmt.Fprintf(cmd.ErrOrStderr(), "%s: done in %s\n", step, p.Elapsed.Round(100*time.Millisecond))
					}
				}
				applied, err := migrate.Up(ctx, conn, opts)
				for _, a := range applied {
					fmt.Fprintf(out, "applied %04d_%s (%s)\n", a.Version, a.Name, a.Flavor)
				}
				if err != nil {
					return err
				}
				schema, err := migrate.CheckSchema(ctx, conn, opts.Database)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "database %s is at schema version %d (%s%s)\n", schema.Database, schema.Version, schema.Flavor, clusterNote(schema.Cluster))
				return nil
			},
		}
		f := cmd.Flags()
		f.StringVar(&addrs, "clickhouse", strings.Join(ch.Addrs, ","), "ClickHouse native address(es), host:port[,host:port]")
		f.StringVar(&ch.Database, "database", ch.Database, "database name")
		f.StringVar(&ch.Username, "username", ch.Username, "ClickHouse user")
		f.StringVar(&ch.PasswordFile, "password-file", "", "file holding the ClickHouse password")
		addTLSFlags(f, &ch.TLS, "")
		f.StringVar(&flavor, "flavor", "", "DDL branch: legacy or modern (default: from the server version)")
		f.StringVar(&opts.Cluster, "cluster", "", "apply the cluster variant ON CLUSTER this cluster")
		f.IntVar(&opts.EventsRetentionDays, "events-retention-days", 0, "TTL of the events ledger in days, modern servers only (0 keeps events forever)")
		f.BoolVar(&dryRun, "dry-run", false, "print the statements that would run, and change nothing")
		f.BoolVar(&status, "status", false, "list applied and pending migrations; exit status 3 when the schema does not match")
		return cmd
	})
}

// insertTarget names what a statement writes: the table of an INSERT,
// else its first word.
func insertTarget(sql string) string {
	var words []string
	for line := range strings.Lines(sql) {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "--") {
			words = append(words, strings.Fields(l)...)
		}
		if len(words) >= 3 {
			break
		}
	}
	switch {
	case len(words) >= 3 && words[0] == "INSERT" && words[1] == "INTO":
		return words[2]
	case len(words) > 0:
		return words[0] + " statement"
	}
	return "statement"
}

func clusterNote(c string) string {
	if c == "" {
		return ""
	}
	return ", cluster " + c
}

func printPlan(out io.Writer, plan migrate.Plan) error {
	fmt.Fprintf(out, "-- database %s, flavor %s%s: %d applied, %d pending\n",
		plan.Params.Database, plan.Params.Flavor, clusterNote(plan.Params.Cluster), len(plan.Applied), len(plan.Pending))
	if len(plan.Pending) == 0 {
		return nil
	}
	for _, s := range plan.Bootstrap {
		fmt.Fprintf(out, "%s;\n\n", s)
	}
	for _, step := range plan.Pending {
		fmt.Fprintf(out, "-- %04d_%s\n", step.Migration.Version, step.Migration.Name)
		for _, s := range step.Statements {
			fmt.Fprintf(out, "%s;\n\n", s)
		}
	}
	return nil
}

func printStatus(cmd *cobra.Command, out io.Writer, database string, conn driver.Conn) error {
	ctx := cmd.Context()
	applied, err := migrate.List(ctx, conn, database)
	if err != nil {
		return err
	}
	all, err := chschema.Migrations()
	if err != nil {
		return err
	}
	for _, a := range applied {
		fmt.Fprintf(out, "applied  %04d_%s  %s  %s%s\n", a.Version, a.Name, a.AppliedAt.Format(time.RFC3339), a.Flavor, clusterNote(a.Cluster))
	}
	for _, m := range all[min(len(applied), len(all)):] {
		fmt.Fprintf(out, "pending  %04d_%s\n", m.Version, m.Name)
	}
	if _, err := migrate.CheckSchema(ctx, conn, database); err != nil {
		fmt.Fprintln(cmd.ErrOrStderr(), "awumeter:", err)
		return exitCode(3)
	}
	fmt.Fprintf(out, "database %s matches this binary\n", database)
	return nil
}
