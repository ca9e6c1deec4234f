package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

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
		o.Assumptions = file.For(f.tenant)
		o.AssumptionsSource = filepath.Base(f.economics) + ", default section"
		if _, ok := file.Tenants[f.tenant]; ok && f.tenant != "" {
			o.AssumptionsSource = filepath.Base(f.economics) + ", section of tenant " + f.tenant
		}
	}
	if err := o.Validate(); err != nil {
		return err
	}
	// Refuse an output that cannot be written before reading anything.
	out, err := outputTarget(f.output)
	if err != nil {
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
	write := func(w io.Writer) error { return report.WriteHTML(w, r) }
	var n int64
	switch {
	case out.stdout:
		return write(cmd.OutOrStdout())
	case out.special:
		n, err = writeFile(out.path, write)
	default:
		n, err = writeFileAtomically(out.path, write)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", textsafe.Terminal(f.output), err)
	}
	fmt.Fprintf(stderr, "wrote %s (%d KiB): closed workcycles %s, AWUs %s, token cost %s, list price %s\n",
		textsafe.Terminal(f.output), (n+1023)/1024, count(decimal.NewFromInt(r.Totals.Workcycles)), count(decimal.NewFromInt(r.Totals.AWUs)),
		usdGrouped(r.Totals.TokenCost), usdGrouped(r.Totals.ListCost))
	return nil
}

// output is where a report goes.
type output struct {
	path    string // the file to write: --output with its symbolic links resolved
	stdout  bool   // --output -
	special bool   // a device or a pipe, such as /dev/stdout: written in place, never replaced
}

// outputTarget checks --output before any query runs: a directory, a
// missing directory or an empty name is an error. A symbolic link is
// followed, so the file it points to gets the report and the link stays.
func outputTarget(name string) (output, error) {
	switch name {
	case "":
		return output{}, errors.New("--output is empty; name a file, or - for stdout")
	case "-":
		return output{stdout: true}, nil
	}
	path := name
	if resolved, err := filepath.EvalSymlinks(name); err == nil {
		path = resolved
	} else if !errors.Is(err, fs.ErrNotExist) {
		return output{}, fmt.Errorf("--output %s: %w", textsafe.Terminal(name), err)
	}
	st, err := os.Stat(path)
	switch {
	case err == nil && st.IsDir():
		return output{}, fmt.Errorf("--output %s is a directory; name a file in it", textsafe.Terminal(name))
	case err == nil && !st.Mode().IsRegular():
		return output{path: path, special: true}, nil
	case err == nil:
		return output{path: path}, nil
	case !errors.Is(err, fs.ErrNotExist):
		return output{}, fmt.Errorf("--output %s: %w", textsafe.Terminal(name), err)
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return output{}, fmt.Errorf("--output %s: directory %s does not exist", textsafe.Terminal(name), textsafe.Terminal(dir))
	}
	return output{path: path}, nil
}

// writeFile writes to a file that is not replaced, such as a device.
func writeFile(path string, write func(io.Writer) error) (int64, error) {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return 0, err
	}
	cw := &countingWriter{w: f}
	if err := write(cw); err != nil {
		f.Close()
		return 0, err
	}
	return cw.n, f.Close()
}

// usdGrouped writes an amount rounded to the cent with thousands separators.
func usdGrouped(d decimal.Decimal) string {
	whole, frac, _ := strings.Cut(d.Round(2).StringFixed(2), ".")
	sign := ""
	if strings.HasPrefix(whole, "-") {
		sign, whole = "-", whole[1:]
	}
	return sign + "$" + count(decimal.RequireFromString(whole)) + "." + frac
}

// writeFileAtomically writes path through a temporary file beside it,
// renamed over path once write succeeded and the data is synced: a
// failure leaves no partial file. A file replaced keeps its permissions;
// a new one gets 0644. It returns the bytes written.
func writeFileAtomically(path string, write func(io.Writer) error) (int64, error) {
	pf, err := renameio.NewPendingFile(path, renameio.WithPermissions(0o644), renameio.WithExistingPermissions())
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
