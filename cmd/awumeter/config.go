package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/awumeter/awumeter/internal/config"
	"github.com/awumeter/awumeter/internal/textsafe"
)

func init() {
	register(func() *cobra.Command {
		cfgCmd := &cobra.Command{
			Use:   "config",
			Short: "Inspect service configuration",
		}
		var print bool
		check := &cobra.Command{
			Use:   "check FILE",
			Short: "Validate a configuration file and list every problem",
			Long: `Check loads FILE as awumeter run would (with AWUMETER_* environment
overrides), and prints every problem, each named by its key. It exits with
status 1 if there is any. With --print it also prints the effective
configuration, secrets redacted.`,
			Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				cfg, err := config.Load(args[0], config.Sources{})
				out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
				if print {
					fmt.Fprint(out, cfg.String())
				}
				if err != nil {
					problems := config.Problems(err)
					for _, p := range problems {
						fmt.Fprintln(errOut, textsafe.Terminal(p))
					}
					fmt.Fprintf(errOut, "%s: %d problem(s)\n", textsafe.Terminal(args[0]), len(problems))
					return exitCode(1)
				}
				fmt.Fprintf(out, "%s: ok\n", textsafe.Terminal(args[0]))
				return nil
			},
		}
		check.Flags().BoolVar(&print, "print", false, "print the effective configuration, secrets redacted")
		cfgCmd.AddCommand(check)
		return cfgCmd
	})
}
