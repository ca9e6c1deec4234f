package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/awumeter/awumeter/internal/config"
	"github.com/awumeter/awumeter/internal/textsafe"
	"github.com/awumeter/awumeter/pipeline/source"
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
status 1 if there is any. It names the topics the re-key stage will read
(those not keyed_by_workcycle). With --print it also prints the effective
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
				if unkeyed := cfg.Kafka.Unkeyed(); len(unkeyed) > 0 {
					names := make([]string, len(unkeyed))
					for i, t := range unkeyed {
						names[i] = t.Name
					}
					fmt.Fprintf(out, "re-keyed (not keyed_by_workcycle): %s, through topic %s in group %s\n",
						textsafe.Terminal(strings.Join(names, ", ")), textsafe.Terminal(source.RepartitionTopic(cfg.Kafka.Group)),
						textsafe.Terminal(source.RekeyGroup(cfg.Kafka.Group)))
				}
				return nil
			},
		}
		check.Flags().BoolVar(&print, "print", false, "print the effective configuration, secrets redacted")
		cfgCmd.AddCommand(check)
		return cfgCmd
	})
}
