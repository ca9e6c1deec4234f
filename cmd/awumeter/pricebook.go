package main

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/awumeter/awumeter/internal/textsafe"
	"github.com/awumeter/awumeter/pipeline/price"
)

func init() { register(newPricebookCmd) }

func newPricebookCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pricebook",
		Short: "Check, print and import price books",
		Long: `A price book holds the token prices of models and the list prices of plans.
Its format is documented in docs/pricebook.md.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newPricebookCheckCmd(), newPricebookDefaultCmd(), newPricebookImportCmd())
	return cmd
}

func newPricebookCheckCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "check FILE",
		Short: "Validate a price book and list its models",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := price.Load(args[0])
			if err != nil {
				return err
			}
			ids := b.Models()
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s: ok, %d models (%s), default plan %s\n",
				textsafe.Terminal(args[0]), len(ids), textsafe.Terminal(strings.Join(ids, ", ")), textsafe.Terminal(b.PlanFor("").Name()))
			return err
		},
	}
}

func newPricebookDefaultCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "default",
		Short: "Print the price book shipped in the binary, a starting point for your own",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := cmd.OutOrStdout().Write(price.DefaultYAML())
			return err
		},
	}
}

func newPricebookImportCmd() *cobra.Command {
	var litellm, output, effectiveFrom, include string
	cmd := &cobra.Command{
		Use:   "import --litellm FILE [--output FILE]",
		Short: "Convert LiteLLM's model_prices_and_context_window.json into a price book",
		Long: `Convert a price map in the format of LiteLLM's
model_prices_and_context_window.json into price book YAML, one model per
entry. Per-token prices become exact prices per 1M tokens, and every
*_above_<N>k_tokens, *_above_<N>m_tokens and *_above_<N>_tokens price becomes
a long-context tier above N input tokens. Entries without an input and an
output price, and entries that do not price text tokens, are skipped and
listed on stderr. So is every field of an imported entry that a price book
cannot represent (per-second, per-image, batch prices, ...), with the
model's name. Check the result, add aliases and patterns, and pass it with
--pricebook.`,
		Example: `  awumeter pricebook import --litellm model_prices_and_context_window.json \
    --include '^(gemini|claude)' --effective-from 2026-11-01 --output pricebook.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if litellm == "" {
				return fmt.Errorf("--litellm FILE is required")
			}
			opts := price.LiteLLMOptions{EffectiveFrom: time.Now().UTC().Truncate(24 * time.Hour)}
			if effectiveFrom != "" {
				t, err := time.Parse("2006-01-02", effectiveFrom)
				if err != nil {
					if t, err = time.Parse(time.RFC3339, effectiveFrom); err != nil {
						return fmt.Errorf("--effective-from must be a date like 2026-11-01 or an RFC 3339 time, not %q", effectiveFrom)
					}
				}
				opts.EffectiveFrom = t.UTC()
			}
			if include != "" {
				re, err := regexp.Compile(include)
				if err != nil {
					return fmt.Errorf("--include is not a valid regular expression: %w", err)
				}
				opts.Include = re
			}
			data, err := os.ReadFile(litellm)
			if err != nil {
				return fmt.Errorf("cannot read the LiteLLM price map: %w", err)
			}
			out, report, err := price.ImportLiteLLM(data, opts)
			if err != nil {
				return err
			}
			stderr := cmd.ErrOrStderr()
			for _, s := range report.Skipped {
				fmt.Fprintf(stderr, "skipped %q: %s\n", s.Name, textsafe.Terminal(s.Reason)) // %q escapes controls
			}
			for _, w := range report.Warnings {
				fmt.Fprintf(stderr, "warning %q: %s not imported: %s\n", w.Name, textsafe.Terminal(w.Field), textsafe.Terminal(w.Reason))
			}
			fmt.Fprintf(stderr, "imported %d models, skipped %d models and %d fields of imported models\n",
				report.Imported, len(report.Skipped), len(report.Warnings))
			return writePricebookOutput(cmd.OutOrStdout(), output, out)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&litellm, "litellm", "", "LiteLLM model_prices_and_context_window.json file (required)")
	fl.StringVar(&output, "output", "-", "where to write the price book YAML; - is stdout")
	fl.StringVar(&effectiveFrom, "effective-from", "", "effective_from of the imported prices (default today, UTC)")
	fl.StringVar(&include, "include", "", "import only the model names this regular expression matches")
	return cmd
}

// writePricebookOutput writes data to stdout when path is "-" or empty, else to the
// file at path.
func writePricebookOutput(stdout io.Writer, path string, data []byte) error {
	if path == "" || path == "-" {
		_, err := stdout.Write(data)
		return err
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("cannot write the price book: %w", err)
	}
	return nil
}
