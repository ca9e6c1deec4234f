// Command awumeter meters AI-agent work: it reads agent telemetry from Kafka,
// groups it into agentic work units and workcycles, prices them and writes
// rollups to ClickHouse. This package only wires stages together; it is the
// only place that exits.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/awumeter/awumeter/internal/textsafe"
)

// subcommands is filled by each command's file in init, so commands can be
// added without touching this file.
var subcommands []func() *cobra.Command

func register(f func() *cobra.Command) { subcommands = append(subcommands, f) }

// exitCode lets a command choose its exit status without calling os.Exit.
type exitCode int

func (c exitCode) Error() string { return fmt.Sprintf("exit status %d", int(c)) }

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "awumeter",
		Short:         "Meter AI-agent work: agentic work units, workcycles and their cost",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	for _, f := range subcommands {
		root.AddCommand(f())
	}
	return root
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err == nil {
		return
	}
	var code exitCode
	if errors.As(err, &code) {
		os.Exit(int(code))
	}
	// Errors may quote ids from data; keep their line breaks, escape the rest.
	fmt.Fprintln(os.Stderr, "awumeter:", textsafe.TerminalLines(err.Error()))
	os.Exit(1)
}
