package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/google/renameio/v2"
	"github.com/shopspring/decimal"
	"github.com/spf13/cobra"

	"github.com/awumeter/awumeter/internal/textsafe"
	"github.com/awumeter/awumeter/pipeline/economics"
	"github.com/awumeter/awumeter/pipeline/report"
)

func init() { register(newReportCmd) }

// reportFlags are the flags of awumeter report.
type reportFlags struct {
	month, tenant string
	output        string
	economics     string
	aiCost        string
	conn          chFlags
}

func newReportCmd() *cobra.Command {
	var f reportFlags
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Write a month's work-economics report: one self-contained HTML file with charts",
		Long: `Write the month's report as one HTML file that opens in any browser and
needs no network: cost per workcycle, list price against token cost by day,
the attempted/succeeded/validated funnel, success per tool, retry
inflation, tokens per AWU, resolution, escalation and override rates, and
the article's ROI model at the measured resolution rate R and time saved S
(docs/economics.md, "The report").

Every figure comes from the query pack, so ` + "`awumeter query NAME --month M`" + `
gives the same numbers; tables under each chart hold the exact amounts.
--economics and --ai-cost choose the ROI panel's assumptions as for
` + "`awumeter roi`" + `. The file is written whole or not at all.`,
		Example: `  awumeter report --month 2026-10 --output report.html
  awumeter report --month 2026-10 --tenant acme --economics economics.yaml --ai-cost list --output acme-2026-10.html`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("tenant") && f.tenant == "" {
				return errors.New("--tenant is empty; leave it out to report every tenant")
			}
			return runReport(cmd, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.month, "month", "", "the UTC month to report, YYYY-MM (required)")
	fl.StringVar(&f.tenant, "tenant", "", "only this tenant (default: every tenant)")
	fl.StringVar(&f.output, "output", "report.html", "HTML file to write, or - for stdout")
	fl.StringVar(&f.economics, "economics", "", "economics YAML file: the ROI model's assumptions by tenant (default: the article's)")
	fl.StringVar(&f.aiCost, "ai-cost", report.AICostConversation, "the ROI panel's AI cost per case: conversation (the assumptions'), list or token (measured per workcycle)")
	f.conn.add(fl, "")
	_ = cmd.MarkFlagRequired("month")
	return cmd
}

func runReport(cmd *cobra.Command, f *reportFlags) error {
	o := report.Options{Month: f.month, Tenant: f.tenant, AICost: f.aiCost, Assumptions: economics.DefaultAssumptions(),
		AssumptionsSource: "the article", Database: f.conn.ch.Database, Version: version}
	if f.economics != "" {
		file, err := economics.Load(f.economics)
		if err != nil {
			return err
		}
		o.Assumptions, o.AssumptionsSource = file.For(f.tenant), filepath.Base(f.economics)
	}
	if err := o.Validate(); err != nil {
		return err
	}
	ctx := cmd.Context()
	conn, err := f.conn.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	stderr := cmd.ErrOrStderr()
	r, err := report.Build(ctx, conn, o, func(q string) { fmt.Fprintf(stderr, "reading %s\n", q) })
	if err != nil {
		return err
	}
	if f.output == "-" {
		return report.WriteHTML(cmd.OutOrStdout(), r)
	}
	n, err := writeFileAtomically(f.output, func(w io.Writer) error { return report.WriteHTML(w, r) })
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s (%d KiB): %s closed workcycles, %s AWUs, token cost %s, list price %s\n",
		textsafe.Terminal(f.output), (n+1023)/1024, count(decimal.NewFromInt(r.Totals.Workcycles)), count(decimal.NewFromInt(r.Totals.AWUs)),
		usd(r.Totals.TokenCost), usd(r.Totals.ListCost))
	return nil
}

// writeFileAtomically writes path through a temporary file beside it,
// renamed over path once write succeeded and the data is synced: a
// failure leaves no partial file. It returns the bytes written.
func writeFileAtomically(path string, write func(io.Writer) error) (int64, error) {
	pf, err := renameio.NewPendingFile(path, renameio.WithPermissions(0o644))
	if err != nil {
		return 0, err
	}
	defer pf.Cleanup() // a no-op once replaced
	cw := &countingWriter{w: pf}
	if err := write(cw); err != nil {
		return 0, err
	}
	return cw.n, pf.CloseAtomicallyReplace()
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
